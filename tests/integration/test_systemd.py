# SPDX-License-Identifier: Apache-2.0
"""porthole under systemd (Type=notify): READY=1, STATUS=, WATCHDOG=1 and
STOPPING=1 on a NOTIFY_SOCKET the test owns; nothing when it is unset;
socket activation of the SSH endpoint (LISTEN_FDS); and the unit files pass
`systemd-analyze verify`."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from porthole_harness import wait_for
from sshutil import SSH, TIMEOUT, make_key, pub

UNIT_DIR = Path(__file__).resolve().parents[2] / "packaging" / "systemd"
LONG = "5m"


class Notify:
    """The service manager's end: a datagram socket collecting messages."""

    def __init__(self, sb):
        self.path = sb.root / "notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.setblocking(False)
        self.msgs: list[str] = []

    def drain(self) -> list[str]:
        while True:
            try:
                self.msgs.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.msgs

    def wait(self, pred, what: str, timeout: float = 20.0) -> str:
        """The first message (from the start) that satisfies pred."""
        def find():
            for m in self.drain():
                if pred(m):
                    return m
            return None
        return wait_for(find, timeout=timeout, what=what)

    def statuses(self) -> list[str]:
        return [ln[len("STATUS="):] for m in self.drain() for ln in m.split("\n") if ln.startswith("STATUS=")]

    def close(self):
        self.sock.close()


@pytest.fixture
def notify(sb):
    n = Notify(sb)
    yield n
    n.close()


def test_ready_status_stopping(sb, notify):
    d = sb.start(["serve"], env={"NOTIFY_SOCKET": str(notify.path)}, wait_ready=False)
    ready = notify.wait(lambda m: "READY=1" in m.split("\n"), "READY=1")
    # Ready means answering: the control socket is up, the record printed.
    st = sb.status()
    assert st["state"] == "serving"
    assert d.ready_record() is not None
    assert "STATUS=serving; 0 sessions" in ready.split("\n")

    att = sb.spawn_cli("attach")
    notify.wait(lambda m: m == "STATUS=serving; 1 session", "STATUS with the attached session")
    att.terminate()
    att.wait(timeout=10)
    wait_for(lambda: notify.statuses()[-1] == "serving; 0 sessions", what="STATUS after detaching")

    assert not any("STOPPING=1" in m for m in notify.drain())
    d.signal(signal.SIGTERM)
    notify.wait(lambda m: "STOPPING=1" in m.split("\n"), "STOPPING=1")
    assert d.wait() == 0, d.describe()
    # Nothing but the protocol's own variables.
    for m in notify.drain():
        for ln in m.split("\n"):
            assert ln.split("=", 1)[0] in ("READY", "STATUS", "STOPPING"), m


def test_status_names_hold_and_deadline(sb, notify):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"NOTIFY_SOCKET": str(notify.path), "PORTHOLE_HOLD": "always",
                                                "PORTHOLE_WINDOW": LONG})
    st = sb.wait_state("holding")
    deadline = st["waits"][0]["deadline"]
    notify.wait(lambda m: m == f"STATUS=holding; 0 sessions; after-command until {deadline}",
                "STATUS with the hold's deadline")
    att = sb.spawn_cli("attach")
    notify.wait(lambda m: m == "STATUS=holding; 1 session; after-command held by sessions",
                "STATUS held by the session")
    att.terminate()
    att.wait(timeout=10)
    sb.cli_ok("release")
    notify.wait(lambda m: "STOPPING=1" in m.split("\n"), "STOPPING=1 after release")
    assert d.wait() == 0, d.describe()


def test_watchdog_pings(sb, notify):
    d = sb.start(["serve"], env={"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "200000"}, wait_ready=False)
    notify.wait(lambda m: "READY=1" in m.split("\n"), "READY=1")
    t0 = time.monotonic()
    # sd-event pings at a quarter to a half of WATCHDOG_USEC.
    wait_for(lambda: sum(m == "WATCHDOG=1" for m in notify.drain()) >= 5, timeout=5, what="5 watchdog pings")
    assert time.monotonic() - t0 < 3
    d.signal(signal.SIGTERM)
    assert d.wait() == 0, d.describe()


def test_watchdog_for_another_pid_is_not_ours(sb, notify):
    # WATCHDOG_PID names the process meant; any other stays silent.
    d = sb.start(["serve"], env={"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "200000",
                                 "WATCHDOG_PID": str(os.getpid())}, wait_ready=False)
    notify.wait(lambda m: "READY=1" in m.split("\n"), "READY=1")
    time.sleep(1)
    assert not any(m == "WATCHDOG=1" for m in notify.drain())
    d.signal(signal.SIGTERM)
    assert d.wait() == 0, d.describe()


def test_without_notify_socket_nothing_happens(sb, notify):
    d = sb.start(["serve"], env={"NOTIFY_SOCKET": None, "WATCHDOG_USEC": "200000"})
    att = sb.spawn_cli("attach")
    wait_for(lambda: sb.status()["sessions"] == 1, what="attached")
    att.terminate()
    att.wait(timeout=10)
    time.sleep(0.5)
    d.signal(signal.SIGTERM)
    assert d.wait() == 0, d.describe()
    assert notify.drain() == []
    assert d.error_lines() == [], d.stderr


def start_activated(sb, lsock, env):
    """`porthole serve` with lsock as fd 3, LISTEN_FDS=1 and LISTEN_PID its
    own pid (known only in the child: the shell's $$ survives exec)."""
    lfd = lsock.fileno()
    out, err = sb.root / "activated.stdout", sb.root / "activated.stderr"
    with open(out, "wb") as o, open(err, "wb") as e:
        p = subprocess.Popen(["sh", "-c", 'LISTEN_PID=$$ exec "$0" serve', sb.bin], env=sb.make_env(env),
                             stdin=subprocess.DEVNULL, stdout=o, stderr=e, cwd=str(sb.root),
                             start_new_session=True, pass_fds=(3,), preexec_fn=lambda: os.dup2(lfd, 3))
    sb._procs.append(p)

    def record():
        # On stderr, with porthole's other lines; stdout stays empty.
        for ln in err.read_text(errors="replace").splitlines():
            if ln.startswith("{") and json.loads(ln).get("porthole") == "ready":
                return json.loads(ln)
        assert p.poll() is None, err.read_text()
        return None
    return p, wait_for(record, what="the ready record"), err


def test_socket_activation(sb, notify):
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    port = lsock.getsockname()[1]
    key = make_key(sb.root / "id_test")
    p, rec, err = start_activated(sb, lsock, {
        "PORTHOLE_SSH": "embedded",
        # Would fail if porthole bound it: the passed socket wins.
        "PORTHOLE_SSH_LISTEN": "192.0.2.1",
        "PORTHOLE_AUTHORIZED_KEYS": pub(key),
        "LISTEN_FDS": "1",
        "NOTIFY_SOCKET": str(notify.path),
    })
    lsock.close()  # porthole holds its own copy now
    assert rec["port"] == port, err.read_text()
    notify.wait(lambda m: "READY=1" in m.split("\n"), "READY=1")
    kh = sb.root / "known_hosts"
    kh.write_text(f"[127.0.0.1]:{port} {rec['host_key']}\n")
    r = subprocess.run([SSH, "-F", "/dev/null", "-o", f"UserKnownHostsFile={kh}", "-o", "StrictHostKeyChecking=yes",
                        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20",
                        "-i", str(key), "-p", str(port), "root@127.0.0.1",
                        "echo hi ${LISTEN_FDS-unset} ${LISTEN_PID-unset}"],
                       capture_output=True, env=sb.make_env(), timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr.decode() + err.read_text()
    # The shells porthole starts do not inherit the activation.
    assert r.stdout.decode().strip() == "hi unset unset"
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 0, err.read_text()


def test_socket_activation_for_another_pid_is_ignored(sb):
    # LISTEN_PID names someone else: the fds are not ours, SSH binds its own.
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    d = sb.start(["serve"], env={"PORTHOLE_SSH": "embedded", "PORTHOLE_SSH_PORT": "0",
                                 "PORTHOLE_SSH_LISTEN": "127.0.0.1", "PORTHOLE_AUTHORIZED_KEYS": "",
                                 "LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid())})
    assert d.ready["port"] not in (None, lsock.getsockname()[1])
    lsock.close()
    d.signal(signal.SIGTERM)
    assert d.wait() == 0, d.describe()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze")
def test_unit_files_verify(tmp_path, porthole_path):
    for unit in sorted(UNIT_DIR.glob("porthole.*")):
        # verify wants ExecStart= to exist: point it at the binary under test.
        text = unit.read_text().replace("/usr/bin/porthole", porthole_path)
        (tmp_path / unit.name).write_text(text)
    units = sorted(str(p) for p in tmp_path.iterdir())
    assert units, f"no unit files in {UNIT_DIR}"
    r = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
