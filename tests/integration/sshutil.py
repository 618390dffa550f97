# SPDX-License-Identifier: Apache-2.0
"""Helpers for the SSH endpoint's integration tests: a porthole with SSH on a
free loopback port, client keys, and the real OpenSSH client (ssh, scp,
sftp) pinned to the host key porthole published in its ready record.

Every client process runs with the sandbox's tag in its environment, so the
sandbox's cleanup kills it too, pass or fail.
"""

from __future__ import annotations

import hashlib
import os

import pytest
import shutil
import subprocess
import time
from pathlib import Path

from porthole_harness import SLOW, WAIT_TIMEOUT, Sandbox, children_of, wait_for

SSH = shutil.which("ssh", path="/usr/bin:/bin") or "/usr/bin/ssh"
SCP = shutil.which("scp", path="/usr/bin:/bin") or "/usr/bin/scp"
SFTP = shutil.which("sftp", path="/usr/bin:/bin") or "/usr/bin/sftp"
KEYGEN = shutil.which("ssh-keygen", path="/usr/bin:/bin") or "/usr/bin/ssh-keygen"
SSHD = "/usr/sbin/sshd"
OPENSSH_SFTP_SERVER = "/usr/lib/openssh/sftp-server"

TIMEOUT = 120.0 if SLOW else 60.0


def make_key(path: Path, kind: str = "ed25519") -> Path:
    """A new passphrase-less client key; returns the private key's path."""
    subprocess.run([KEYGEN, "-q", "-t", kind, "-N", "", "-C", f"test-{path.name}", "-f", str(path)], check=True)
    return path


def pub(key: Path) -> str:
    return Path(str(key) + ".pub").read_text().strip()


def sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class SshServer:
    """A porthole (`serve` by default) with its SSH endpoint on 127.0.0.1."""

    def __init__(self, sb: Sandbox, keys: list[Path] | None = None, env: dict | None = None,
                 cmd: list[str] | None = None, authorized: str | None = None, wait: bool = True,
                 container_prefix: list[str] | None = None, pid1: bool = False):
        """container_prefix: run `porthole serve` as PID 1 behind this argv
        (e.g. a shell that mounts something first), as a container would.
        pid1: `porthole run` as the init of a PID namespace of its own, whose
        processes all die with it, as in a container."""
        self.sb = sb
        default = sb.root / "id_test"
        self.key = keys[0] if keys else (default if default.exists() else make_key(default))
        all_keys = keys or [self.key]
        e = {
            "PORTHOLE_SSH": "embedded",  # the sandbox turns SSH off by default
            "PORTHOLE_SSH_PORT": "0",
            "PORTHOLE_SSH_LISTEN": "127.0.0.1",
            "PORTHOLE_AUTHORIZED_KEYS": authorized if authorized is not None else "\n".join(pub(k) for k in all_keys),
            "PORTHOLE_LOG_LEVEL": "debug",
        }
        e.update(env or {})
        sb.__dict__.setdefault("ssh_servers", []).append(self)
        if container_prefix is not None:
            self.d = sb.start_container([*container_prefix, "porthole", "serve"], env=e, wait_ready=wait)
        elif cmd is None:
            self.d = sb.start(["serve"], env=e, wait_ready=wait)
        else:
            self.d = sb.run_cmd(cmd, env=e, wait_ready=wait, pid1=pid1)
        self.known_hosts = sb.root / "known_hosts"
        if wait:
            self.ready()

    def ready(self) -> dict:
        r = self.d.ready or self.d.wait_ready()
        assert r.get("port"), f"no SSH port in the ready record: {r}\n{self.d.describe()}"
        self.port = int(r["port"])
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {r['host_key']}\n")
        return r

    # -- clients
    def opts(self, key: Path | None = None, extra: list[str] = ()) -> list[str]:
        # ssh keeps the first value of an option: extra goes first, so it can override.
        return [
            *extra,
            "-F", "/dev/null",
            "-o", f"UserKnownHostsFile={self.known_hosts}",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=20",
            "-i", str(key or self.key),
        ]

    def env(self) -> dict:
        return self.sb.make_env()

    def ssh_argv(self, *cmd: str, key: Path | None = None, extra: list[str] = ()) -> list[str]:
        return [SSH, *self.opts(key, extra), "-p", str(self.port), "root@127.0.0.1", *cmd]

    def ssh(self, *cmd: str, key: Path | None = None, extra: list[str] = (), input: bytes | None = None,
            stdin=None, stdout=subprocess.PIPE, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
        return subprocess.run(self.ssh_argv(*cmd, key=key, extra=extra), input=input, stdin=stdin,
                              stdout=stdout, stderr=subprocess.PIPE, env=self.env(), timeout=timeout)

    def popen(self, *cmd: str, key: Path | None = None, extra: list[str] = (), **kw) -> subprocess.Popen:
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(self.ssh_argv(*cmd, key=key, extra=extra), env=self.env(), start_new_session=True, **kw)
        self.sb._procs.append(p)
        return p

    def scp(self, *args: str, legacy: bool = False, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
        argv = [SCP, *self.opts(), "-P", str(self.port), *(["-O"] if legacy else []), *args]
        return subprocess.run(argv, capture_output=True, env=self.env(), timeout=timeout)

    def sftp(self, batch: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
        argv = [SFTP, *self.opts(), "-P", str(self.port), "-b", "-", "root@127.0.0.1"]
        return subprocess.run(argv, input=batch.encode(), capture_output=True, env=self.env(), timeout=timeout)

    # -- the server's side
    def wait_log(self, needle: str, timeout: float = WAIT_TIMEOUT) -> str:
        return wait_for(lambda: needle in self.d.stderr and self.d.stderr, timeout=timeout,
                        what=f"{needle!r} in porthole's log")

    def session_pids(self) -> list[int]:
        """The connection processes: porthole's children running porthole."""
        exe = os.path.realpath(self.sb.bin)
        out = []
        for c in children_of(self.d.host_pid):
            try:
                if os.path.realpath(f"/proc/{c}/exe") == exe:
                    out.append(c)
            except OSError:
                pass
        return out


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "SUMMARY: UndefinedBehavior")


@pytest.fixture(autouse=True)
def no_sanitizer_reports(sb):
    """After each test: no sanitizer report from porthole or any process it
    forked (they share its stderr).  Import this into a test module."""
    yield
    for srv in sb.__dict__.get("ssh_servers", []):
        err = srv.d.stderr
        bad = [m for m in SANITIZER_MARKS if m in err]
        assert not bad, f"sanitizer report in porthole's stderr:\n{err}"


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    def gone():
        try:
            with open(f"/proc/{pid}/status") as f:
                return "State:\tZ" in f.read()
        except OSError:
            return True
    wait_for(gone, timeout=timeout, what=f"process {pid} to end")


def wait_port_closed(port: int, timeout: float = 10.0) -> None:
    import socket

    def closed():
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
            return False
        except OSError:
            return True
        finally:
            s.close()
    wait_for(closed, timeout=timeout, what=f"port {port} to close")


def sleep_until(pred, timeout: float, interval: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())
