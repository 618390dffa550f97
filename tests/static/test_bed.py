# SPDX-License-Identifier: Apache-2.0
"""Self-tests of the static binary's test bed, with no porthole at all: the
roots, a command as PID 1 inside each, DNS from dnsmasq in the bed, and
cleanup that leaves nothing behind.  (test_static_roots.py holds the
acceptance tests proper; this module passes before the static binary exists.)

Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/static/test_bed.py
"""

from __future__ import annotations

import os
import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import netbed  # noqa: E402
from conftest import need_bed  # noqa: E402
from dnsmasqbed import query_a  # noqa: E402
from porthole_harness import wait_for  # noqa: E402
from rootbed import RootRun, hosts_file  # noqa: E402
from staticbed import ENDPOINT_NAME, StaticBed  # noqa: E402

ROOTS = ["bullseye", "bookworm", "trixie", "busybox"]
PROBE = ('echo "pid=$$"; echo "host=$(hostname)"; test -c /dev/null && echo null-ok; '
         'test -e /dev/pts/ptmx && echo pts-ok; grep -q "^proc /proc" /proc/mounts && echo proc-ok; '
         'ls /proc | grep -c "^[0-9]"')


def in_root(workdir: Path) -> list[int]:
    """Host pids of processes whose root directory is under workdir."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.readlink(f"/proc/{d}/root").startswith(str(workdir)):
                    out.append(int(d))
            except OSError:
                pass
    return out


def mounts_under(workdir: Path) -> list[str]:
    with open("/proc/self/mounts") as f:
        return [ln for ln in f if f" {workdir}" in ln]


@pytest.fixture(scope="module")
def tar():
    need_bed()
    from rootbed import root_tarball
    return lambda name: root_tarball(name)


@pytest.mark.parametrize("name", ROOTS)
def test_a_command_is_pid_1_of_the_root_and_goes_with_cleanup(tar, name, tmp_path):
    # A daemon that left the process group and ignores SIGTERM must go too.
    script = PROBE + '; (trap "" TERM; setsid sleep 600 >/dev/null 2>&1 &); echo started; exec sleep 600'
    run = RootRun(tar(name), None, ["-c", script], {}, tmp_path / "run", hostname="algo-7", exe="/bin/sh")
    try:
        run.start()
        wait_for(lambda: "started" in run.stdout or not run.alive(), timeout=120, what="the probe")
        out = run.stdout.split()
        assert out[:5] == ["pid=1", "host=algo-7", "null-ok", "pts-ok", "proc-ok"], run.describe()
        assert int(out[5]) < 10, f"the root's /proc shows the host's processes\n{run.describe()}"
        wait_for(lambda: len(in_root(run.root)) >= 2, timeout=60, what="PID 1 (sleep) and the escaped sleep")
        assert not mounts_under(tmp_path), "the root's mounts leaked into the host's mount namespace"
    finally:
        run.cleanup()
    assert not tmp_path.joinpath("run").exists()
    wait_for(lambda: not in_root(tmp_path), timeout=30, what="every process of the root to end")


def test_exit_code_of_pid_1_is_the_runs(tar, tmp_path):
    run = RootRun(tar("busybox"), None, ["-c", "exit 42"], {}, tmp_path / "run", exe="/bin/sh")
    try:
        assert run.start().wait_exit(timeout=120) == 42
    finally:
        run.cleanup()


@pytest.fixture(scope="module")
def staticbed(tmp_path_factory):
    need_bed()
    with StaticBed(hosts=2, porthole=None, tmp=tmp_path_factory.mktemp("bed")) as b:
        yield b


def test_dnsmasq_answers_the_bed_and_nothing_else(staticbed):
    b = staticbed
    for name, addr in b.names().items():
        assert query_a(b.dns.address, name) == (0, [addr]), name
    assert query_a(b.dns.address, f"nosuch.{ENDPOINT_NAME}")[0] == 3  # NXDOMAIN, not forwarded
    assert query_a(b.dns.address, "deb.debian.org")[1] == []  # no upstream
    assert ("A", "algo-2", b.netbed.bridge_ip) in b.dns.queries(), b.dns.queries()


@pytest.mark.parametrize("name", ["bookworm", "busybox"])
def test_a_root_in_a_host_namespace_resolves_through_dnsmasq_and_reaches_the_https_standin(
        tar, staticbed, name, tmp_path):
    b = staticbed
    node = b.host("algo-1")
    # Debian: getent through glibc's NSS; busybox: its own resolver (nslookup).
    look = ("getent hosts algo-2 " + ENDPOINT_NAME) if name != "busybox" else (
        f"nslookup algo-2 {b.dns.address}; nslookup {ENDPOINT_NAME} {b.dns.address}")
    run = RootRun(tar(name), None, ["-c", look], {}, tmp_path / "run", bed=b.netbed, node=node, exe="/bin/sh",
                  files={"etc/hosts": hosts_file({}), "etc/resolv.conf": b.resolv_conf()})
    try:
        rc = run.start().wait_exit(timeout=120)
        assert rc == 0, run.describe()
        for n in ("algo-2", ENDPOINT_NAME):
            assert b.names()[n] in run.stdout, run.describe()
            assert any(q[1] == n and q[2] == node.ip for q in b.dns.queries()), (n, b.dns.queries())
    finally:
        run.cleanup()
    # The stand-in over HTTPS, by name, from the host namespace of the bed (curl, the test CA).
    r = b.netbed.exec(node, ["curl", "-sS", "--max-time", "30", "--cacert", str(b.ca.ca),
                             "--resolve", f"{ENDPOINT_NAME}:{b.standin.port}:{b.netbed.bridge_ip}",
                             f"{b.endpoint_url}/_standin/health"])
    assert r.returncode == 0 and json.loads(r.stdout)["ok"] is True, r


def test_the_acceptance_module_fails_without_a_binary():
    env = {k: v for k, v in os.environ.items() if k != "PORTHOLE_STATIC_BIN"}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        os.path.join(os.path.dirname(__file__), "test_static_roots.py"), "-k", "static_executable"],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "PORTHOLE_STATIC_BIN is not set" in r.stdout, r.stdout[-2000:]
    assert " skipped" not in r.stdout.splitlines()[-1], r.stdout[-500:]


def test_staticbed_teardown_leaves_nothing(tmp_path):
    need_bed()
    with StaticBed(hosts=1, porthole=None, tmp=tmp_path / "bed") as b:
        prefix, dns = b.netbed.prefix, b.dns.proc
        assert netbed.leftovers(prefix)["namespaces"]
    assert netbed.leftovers(prefix) == {"namespaces": [], "links": [], "netns_dirs": [], "registry": []}
    assert dns.poll() is not None
