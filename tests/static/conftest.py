# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the static binary's acceptance tests (issue 12).

Run:
    PORTHOLE_STATIC_BIN=$PWD/build/static/porthole \\
        /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/static

Settings (environment):
    PORTHOLE_STATIC_BIN            the binary under test (required: without it every test fails)
    PORTHOLE_STATIC_EXTRA_PACKAGES Debian packages added to every Debian root, e.g. a dynamic
                                   binary's libraries to prove the bed with it (not for acceptance)
    PORTHOLE_STATIC_CLUSTER_SUITE  the root of the cluster job (default bullseye)
    PORTHOLE_ROOTFS_CACHE          where rootfs.sh caches the roots (/var/cache/porthole-tests)

Needs root, debootstrap, dnsmasq (dnsmasq-base), openssl, iproute2, util-linux, the OpenSSH
client and /usr/bin/aws; the first run builds the roots (about a minute each).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "integration"))

import dnsmasqbed  # noqa: E402
import netbed  # noqa: E402
import rootbed  # noqa: E402
from sshutil import make_key  # noqa: E402
from staticbed import StaticBed  # noqa: E402

TOOLS = ("debootstrap", "ip", "unshare", "mount", "tar", "ssh", "sftp", "ssh-keygen", "openssl", "readelf")


def need_bed() -> None:
    """Fail (never skip) when the bed cannot be built here."""
    if os.geteuid() != 0:
        pytest.fail("tests/static needs root (namespaces, mounts, chroot)")
    missing = [t for t in TOOLS if not shutil.which(t, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    for why in (netbed.available(), dnsmasqbed.available()):
        if why:
            missing.append(why)
    if not os.access("/usr/bin/aws", os.X_OK):
        missing.append("/usr/bin/aws (awscli)")
    if missing:
        pytest.fail(f"tests/static needs {', '.join(missing)} (make deps; apt-get install dnsmasq-base)")


@pytest.fixture(scope="session")
def static_bin() -> str:
    b = os.environ.get("PORTHOLE_STATIC_BIN")
    if not b:
        pytest.fail("PORTHOLE_STATIC_BIN is not set: these are the acceptance tests of the static binary "
                    "(issue 12); build it (make static -> build/static/porthole) and set "
                    "PORTHOLE_STATIC_BIN to its path")
    if not os.access(b, os.X_OK):
        pytest.fail(f"PORTHOLE_STATIC_BIN={b} is not an executable file")
    return os.path.abspath(b)


def extra_packages() -> tuple[str, ...]:
    return tuple(os.environ.get("PORTHOLE_STATIC_EXTRA_PACKAGES", "").split())


@pytest.fixture(scope="session")
def root_tar():
    """root_tar(name, packages=()) -> the cached tarball of a root (built the first time)."""
    need_bed()

    def get(name: str, packages: tuple[str, ...] = ()) -> Path:
        if name != "busybox":
            packages = tuple(packages) + extra_packages()
        return rootbed.root_tarball(name, tuple(sorted(set(packages))))
    return get


@pytest.fixture(scope="session")
def client_key(tmp_path_factory) -> Path:
    return make_key(tmp_path_factory.mktemp("keys") / "id_ed25519")


@pytest.fixture(scope="module")
def bed(static_bin, tmp_path_factory):
    """3 job hosts, the HTTPS stand-in, dnsmasq; for a whole module."""
    need_bed()
    with StaticBed(hosts=3, porthole=static_bin, tmp=tmp_path_factory.mktemp("staticbed")) as b:
        yield b


def pytest_terminal_summary(terminalreporter):
    if rootbed.TIMINGS:
        terminalreporter.write_line("root tarballs (rootfs.sh, cached after the first build): " + ", ".join(
            f"{k} {v:.1f}s" for k, v in rootbed.TIMINGS.items()))
