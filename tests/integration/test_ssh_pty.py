# SPDX-License-Identifier: Apache-2.0
"""Interactive sessions: `ssh -tt` driven from a Python pty, as a person at a
terminal would use it: the prompt, stty size following window changes,
Ctrl-C, and `exit` carrying its status back."""

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time

import pytest

from porthole_harness import proc_cmdline, tagged_pids, wait_for
from sshutil import SshServer, make_key, no_sanitizer_reports, pub  # noqa: F401


class Terminal:
    """ssh -tt on a pty of our own."""

    def __init__(self, srv: SshServer, rows=24, cols=80, key=None, cmd=(), tty_flag="-tt"):
        argv = srv.ssh_argv(*cmd, key=key, extra=[tty_flag])
        env = srv.env()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(argv[0], argv, env)
        self.resize(rows, cols)
        self.buf = b""
        self.done = False
        # Sandbox.cleanup kills the group of each of its _procs (a pty.fork
        # child leads its own session) and calls communicate().
        srv.sb._procs.append(self)

    def resize(self, rows, cols):
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def send(self, s: str):
        os.write(self.fd, s.encode())

    def expect(self, needle: str, timeout=20.0) -> str:
        end = time.monotonic() + timeout
        while needle.encode() not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {needle!r} on the terminal within {timeout}s; got:\n{self.buf!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"terminal closed before {needle!r}; got:\n{self.buf!r}")
                self.buf += chunk
        i = self.buf.index(needle.encode()) + len(needle)
        seen, self.buf = self.buf[:i], self.buf[i:]
        return seen.decode(errors="replace")

    def run(self, cmd: str, timeout=20.0, eol="\r") -> str:
        """Type cmd; return its output up to a marker we echo after it.
        Enter is \r on a remote pty; without one, \n (no line discipline
        there to turn \r into \n)."""
        tag = f"D{time.monotonic_ns() % 1000000}"
        self.send(f"{cmd}; echo {tag[0]}''{tag[1:]}{eol}")
        out = self.expect(tag, timeout)
        return out

    def wait(self, timeout=20.0) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                os.read(self.fd, 65536)
            except OSError:
                pass
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.done = True
                return os.waitstatus_to_exitcode(st)
            time.sleep(0.05)
        raise AssertionError("ssh did not exit")

    def communicate(self, timeout=None):
        if not self.done:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.done = True
        try:
            os.close(self.fd)
        except OSError:
            pass


@pytest.fixture
def term_srv(sb):
    return SshServer(sb)


def test_interactive_shell(term_srv):
    t = Terminal(term_srv, rows=24, cols=80)
    t.run("echo hello", timeout=30)
    out = t.run("tty; echo TERM=$TERM; echo SSH_TTY=$SSH_TTY")
    assert "/dev/pts/" in out and "TERM=" in out and "SSH_TTY=/dev/pts/" in out
    out = t.run("stty size")
    assert "24 80" in out
    t.send("exit 7\r")
    assert t.wait() == 7


def test_window_change_follows(term_srv):
    t = Terminal(term_srv, rows=24, cols=80)
    assert "24 80" in t.run("stty size", timeout=30)
    t.resize(50, 132)
    # ssh notices SIGWINCH and sends window-change; give it a moment.
    deadline = time.monotonic() + 10
    while True:
        out = t.run("stty size")
        if "50 132" in out:
            break
        assert time.monotonic() < deadline, out
        time.sleep(0.1)
    t.send("exit\r")
    assert t.wait() == 0


def test_ctrl_c_interrupts(term_srv):
    t = Terminal(term_srv)
    t.run("true", timeout=30)
    t.send("sleep 100; echo NOT''REACHED\r")
    # Ctrl-C while the sleep runs (a ^C still in the input queue would only
    # discard the line): the session's processes carry the sandbox's tag.
    sb = term_srv.sb
    wait_for(lambda: any(proc_cmdline(p) == ["sleep", "100"] for p in tagged_pids(sb.tag)), timeout=30,
             what="the sleep to run")
    start = time.monotonic()
    t.send("\x03")
    out = t.run("echo after", timeout=10)
    assert time.monotonic() - start < 5
    assert "NOTREACHED" not in out
    t.send("exit 0\r")
    assert t.wait() == 0


def test_login_shell_is_used(term_srv):
    t = Terminal(term_srv)
    out = t.run("echo $0", timeout=30)
    assert "-" in out.split("echo $0")[-1]  # argv[0] "-bash": a login shell
    t.send("exit\r")
    assert t.wait() == 0


def test_exec_with_pty(term_srv):
    t = Terminal(term_srv, cmd=("tty; stty size; exit 5",))
    t.expect("/dev/pts/", timeout=30)
    t.expect("24 80")
    assert t.wait() == 5


def test_no_pty_option(sb):
    key = make_key(sb.root / "id_nopty")
    srv = SshServer(sb, keys=[key], authorized=f"no-pty {pub(key)}")
    # A shell from a terminal: ssh asks for a pty (-t would make the refusal
    # fatal), is refused, and the shell runs on pipes.
    t = Terminal(srv, tty_flag="-oRequestTTY=auto")
    t.expect("PTY allocation request failed", timeout=30)
    out = t.run("tty", eol="\n")
    assert "not a tty" in out
    t.send("exit 4\n")
    assert t.wait() == 4
    srv.wait_log("pty refused (no-pty on the key)")
