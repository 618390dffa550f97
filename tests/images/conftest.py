# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the image tests: one private podman store per session, the
debootstrap base imported once, and the Dockerfiles built once from it.

Run: make dist-check   (or /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/images)
Needs root, podman, debootstrap (tests/images/rootfs.sh), unshare, ssh.
PORTHOLE_IMAGE_TIMINGS=FILE appends the measured wall times there.
"""

import os
import shutil
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from imagerun import make_key  # noqa: E402
from podman_store import REPO, Store  # noqa: E402

DEBIAN = "localhost/porthole-test:debian"
EXAMPLE = "localhost/porthole-test:example-python"
TIMINGS: dict[str, float] = {}


def _need_tools():
    missing = [t for t in ("podman", "unshare", "ssh", "sftp", "ssh-keygen", "debootstrap", "mount")
               if not shutil.which(t, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    if os.geteuid() != 0:
        pytest.fail("the image tests need root (podman import/build, unshare, chroot, mount)")
    if missing:
        pytest.fail(f"the image tests need {', '.join(missing)} (make deps installs them)")


@pytest.fixture(scope="session")
def store():
    _need_tools()
    t0 = time.monotonic()
    s = Store()
    try:
        yield s
    finally:
        s.cleanup()
        s.timings["store total (incl. cleanup)"] = time.monotonic() - t0
        TIMINGS.update(s.timings)


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        report = "image test wall times: " + ", ".join(f"{k} {v:.1f}s" for k, v in TIMINGS.items())
        terminalreporter.write_line(report)
        out = os.environ.get("PORTHOLE_IMAGE_TIMINGS")
        if out:
            with open(out, "a") as f:
                f.write(report + "\n")


@pytest.fixture(scope="session")
def base(store):
    return store.import_base()


@pytest.fixture(scope="session")
def debian_image(store, base):
    return store.build(DEBIAN, REPO / "dockerfiles" / "debian" / "Dockerfile", REPO, {"BASE_IMAGE": base})


@pytest.fixture(scope="session")
def example_image(store, debian_image):
    return store.build(EXAMPLE, None, REPO / "dockerfiles" / "example-python", {"BASE_IMAGE": debian_image})


STATIC = "localhost/porthole-test:static"
STATIC_USER = "localhost/porthole-test:static-user"


@pytest.fixture(scope="session")
def static_image(store):
    """dockerfiles/static built from `make static`'s build/static (its
    .dockerignore sends only the binary)."""
    binary = REPO / "build" / "static" / "porthole"
    if not binary.is_file():
        pytest.fail(f"{binary} is missing: run `make static` first (make dist-check does)")
    return store.build(STATIC, REPO / "dockerfiles" / "static" / "Dockerfile", binary.parent)


@pytest.fixture(scope="session")
def static_user_image(store, base, static_image, tmp_path_factory):
    """What the README tells a user to write: their own image plus one COPY
    --from the static image, and porthole as the ENTRYPOINT."""
    ctx = tmp_path_factory.mktemp("static-user")
    (ctx / "Dockerfile").write_text(
        "ARG BASE_IMAGE\n"
        f"FROM {static_image} AS porthole\n"
        "FROM ${BASE_IMAGE}\n"
        "COPY --from=porthole /porthole /usr/local/bin/porthole\n"
        'ENTRYPOINT ["porthole", "run", "--"]\n'
        'CMD ["sh", "-c", "echo static-training-ran; exit 3"]\n')
    return store.build(STATIC_USER, None, ctx, {"BASE_IMAGE": base})


@pytest.fixture(scope="session")
def client_key(tmp_path_factory):
    return make_key(tmp_path_factory.mktemp("keys") / "id_ed25519")


@pytest.fixture
def runs():
    """Start runs through this list; each is cleaned up, pass or fail."""
    started = []
    try:
        yield started
    finally:
        for r in started:
            r.cleanup()
