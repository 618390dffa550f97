# SPDX-License-Identifier: Apache-2.0
"""Helpers for porthole's integration tests: a hermetic sandbox per test, the
daemon as a subprocess (optionally as PID 1 of a new PID namespace), the CLI,
and cleanup that kills everything a test started, even when it fails.

Nothing here knows porthole's internals: it only starts the real binary,
reads its stdout/stderr (its ready record and its own lines are on stderr,
stdout is the command's) and talks to it through its own CLI.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from readyrecord import ready_record_in  # noqa: E402

PYTHON = "/usr/bin/python3"
UNSHARE = shutil.which("unshare", path="/usr/bin:/bin") or "/usr/bin/unshare"

# Generous waits: the sanitizer build starts and answers slower.  These are
# upper bounds for "eventually", never assertions about speed.
SLOW = os.environ.get("PORTHOLE_SAN", "") not in ("", "0")
READY_TIMEOUT = 60.0 if SLOW else 30.0
EXIT_TIMEOUT = 60.0 if SLOW else 30.0
CLI_TIMEOUT = 60.0 if SLOW else 30.0
# wait_for's and wait_state's default: something that happens "soon", on a
# shared, loaded machine.
WAIT_TIMEOUT = 60.0 if SLOW else 30.0

# A non-PORTHOLE_ variable every process of one sandbox inherits, so teardown
# finds (and kills) whatever the test started, wherever it was reparented.
TAG_VAR = "PH_ITEST_TAG"

# Sanitizer knobs are passed through when set; nothing else leaks in.
PASSTHROUGH = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "ASAN_SYMBOLIZER_PATH")


def porthole_bin() -> str:
    b = os.environ.get("PORTHOLE_BIN")
    if b:
        return b
    here = Path(__file__).resolve().parents[2]
    for cand in (here / "build" / "std" / "porthole", here / "agent" / "porthole"):
        if cand.exists():
            return str(cand)
    raise RuntimeError("set PORTHOLE_BIN to the porthole binary")


def wait_for(pred: Callable[[], object], timeout: float = WAIT_TIMEOUT, interval: float = 0.05, what: str = "condition"):
    """Poll pred until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - keep polling, report at the end
            last_exc = e
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout:.0f}s waiting for {what}"
            if last_exc is not None:
                msg += f" (last error: {last_exc!r})"
            raise AssertionError(msg)
        time.sleep(interval)


def parse_iso(ts: str) -> float:
    """'2026-11-23T10:50:48Z' -> epoch seconds."""
    return _dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc).timestamp()


# ---- /proc -------------------------------------------------------------------


def _proc_status(pid: int) -> dict[str, str]:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def proc_state(pid: int) -> str:
    return _proc_status(pid).get("State", "")[:1]


def proc_ppid(pid: int) -> int:
    return int(_proc_status(pid).get("PPid", "0") or 0)


def proc_cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def all_pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def zombie_children(ppid: int) -> list[int]:
    """Host pids of processes in state Z whose parent is ppid."""
    res = []
    for pid in all_pids():
        st = _proc_status(pid)
        if st.get("State", "").startswith("Z") and st.get("PPid") == str(ppid):
            res.append(pid)
    return res


def children_of(pid: int) -> list[int]:
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    kids += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return kids


def tagged_pids(tag: str) -> list[int]:
    needle = f"{TAG_VAR}={tag}".encode()
    res = []
    for pid in all_pids():
        if pid == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            res.append(pid)
    return res


def kill_tagged(tag: str, exclude: set[int] = frozenset()) -> None:
    for _ in range(100):
        live = [p for p in tagged_pids(tag) if p not in exclude and proc_state(p) not in ("Z", "")]
        if not live:
            return
        for p in live:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)


# ---- the daemon ----------------------------------------------------------------


class Porthole:
    """A running `porthole run|serve`, its output captured to files."""

    def __init__(self, sandbox: "Sandbox", args: list[str], env: dict[str, str], pid1: bool, name: str,
                 container_argv: list[str] | None = None, cwd: str | None = None, merged: bool = False):
        self.sb = sandbox
        self.args = args
        self.pid1 = pid1
        # merged: stdout and stderr in one file, as a container's log has them.
        self.out_path = sandbox.root / (f"{name}.log" if merged else f"{name}.stdout")
        self.err_path = self.out_path if merged else sandbox.root / f"{name}.stderr"
        # container_argv: the whole command line as a container runtime
        # would exec it (argv[0] looked up on PATH), instead of the binary's path.
        argv = list(container_argv) if container_argv else [sandbox.bin] + args
        if pid1:
            argv = [UNSHARE, "--pid", "--fork", "--mount-proc", "--kill-child", "--"] + argv
        with open(self.out_path, "wb") as out, open(os.devnull if merged else self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT if merged else err,
                cwd=cwd or str(sandbox.root),
                start_new_session=True,
            )
        self._host_pid = None if pid1 else self.proc.pid
        self.ready: dict | None = None

    # -- output
    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def error_lines(self) -> list[str]:
        return [l for l in self.stderr.splitlines() if l.startswith("porthole: error:")]

    # porthole's own lines, the ready record among them, are on stderr;
    # stdout is the command's alone.
    def ready_record(self) -> dict | None:
        return ready_record_in(self.stderr)

    def ready_line(self) -> str:
        """The human line of the ready record (the line before the JSON one)."""
        lines = self.stderr.splitlines()
        for i, line in enumerate(lines):
            if i and line.startswith('{"porthole":"ready"'):
                return lines[i - 1]
        raise AssertionError(f"no ready record on stderr:\n{self.stderr}")

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> dict:
        def check():
            r = self.ready_record()
            # Read again once it has exited: it may have printed the record
            # and exited between the read and the poll.
            if r is None and self.proc.poll() is not None and (r := self.ready_record()) is None:
                raise AssertionError(
                    f"porthole exited ({self.proc.returncode}) before it was ready\n"
                    f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
                )
            return r

        deadline = time.monotonic() + timeout
        while True:
            r = check()
            if r is not None:
                self.ready = r
                return r
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"no ready record after {timeout:.0f}s\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
                )
            time.sleep(0.02)

    # -- process
    @property
    def host_pid(self) -> int:
        """porthole's pid as seen from here (the child of unshare when PID 1)."""
        if self._host_pid is None:
            def child():
                if self.proc.poll() is not None:
                    raise AssertionError("unshare exited before its child could be found")
                kids = children_of(self.proc.pid)
                return kids[0] if kids else None

            self._host_pid = wait_for(child, timeout=READY_TIMEOUT, what="unshare's child")
        return self._host_pid

    def signal(self, sig: int) -> None:
        os.kill(self.host_pid, sig)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float = EXIT_TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"porthole still running after {timeout:.0f}s\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
            ) from None

    def describe(self) -> str:
        return f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"


_known_cache: dict[str, set[str]] = {}


def known_settings(bin_path: str) -> set[str]:
    """The PORTHOLE_* settings this binary knows (from `porthole config --json`)."""
    if bin_path not in _known_cache:
        r = subprocess.run(
            [bin_path, "config", "--json"],
            env={"PATH": "/usr/bin:/bin", "PORTHOLE_CONFIG": "/dev/null", "PORTHOLE_ML_ROOT": "/nonexistent-ml-root"},
            capture_output=True, text=True, timeout=CLI_TIMEOUT,
        )
        try:
            _known_cache[bin_path] = {k for k in json.loads(r.stdout) if k.startswith("PORTHOLE_")}
        except ValueError:
            _known_cache[bin_path] = set()
    return _known_cache[bin_path]


class Sandbox:
    """A temporary directory with a fake ML_ROOT, a control socket path and a
    clean environment.  Everything started through it is killed at cleanup."""

    def __init__(self, bin_path: str | None = None):
        # Short path: a UNIX socket path must fit in 108 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="ph-", dir="/tmp"))
        self.bin = bin_path or porthole_bin()
        self.tag = uuid.uuid4().hex
        self.ml_root = self.root / "ml"
        self.config_dir = self.ml_root / "input" / "config"
        self.config_dir.mkdir(parents=True)
        (self.ml_root / "output").mkdir()
        self.sock = self.root / "ctl" / "control.sock"
        self.conf = self.root / "porthole.conf"
        self.conf.write_text("")
        self.home = self.root / "home"
        self.home.mkdir()
        self.bindir = self.root / "bin"
        self.bindir.mkdir()
        # `porthole` on the command's PATH, so training scripts can call the CLI.
        os.symlink(self.bin, self.bindir / "porthole")
        self.path = f"{self.bindir}:/usr/sbin:/usr/bin:/sbin:/bin"
        self.env = {
            "PATH": self.path,
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "PORTHOLE_ML_ROOT": str(self.ml_root),
            "PORTHOLE_CONTROL_SOCKET": str(self.sock),
            "PORTHOLE_CONFIG": str(self.conf),
            TAG_VAR: self.tag,
        }
        for k in PASSTHROUGH:
            if k in os.environ:
                self.env[k] = os.environ[k]
        # These tests are not about the SSH endpoint: keep it from binding
        # port 22 in every test (a test that wants it sets PORTHOLE_SSH).
        # Only when this build knows the setting, or it would be an error.
        if "PORTHOLE_SSH" in known_settings(self.bin):
            self.env["PORTHOLE_SSH"] = "off"
        self._daemons: list[Porthole] = []
        self._procs: list[subprocess.Popen] = []
        self._n = 0

    # -- files
    @property
    def failure_file(self) -> Path:
        return self.ml_root / "output" / "failure"

    @property
    def hyperparameters(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    @property
    def resourceconfig(self) -> Path:
        return self.config_dir / "resourceconfig.json"

    def write_hyperparameters(self, obj) -> None:
        self.hyperparameters.write_text(obj if isinstance(obj, str) else json.dumps(obj))

    def write_resourceconfig(self, obj) -> None:
        self.resourceconfig.write_text(obj if isinstance(obj, str) else json.dumps(obj))

    def script(self, name: str, body: str, executable: bool = True, in_bin: bool = False) -> Path:
        """Write a script (a '#!' line is added when body has none)."""
        p = (self.bindir if in_bin else self.root) / name
        if not body.startswith("#!"):
            body = "#!/bin/sh\n" + body
        p.write_text(body)
        p.chmod(0o755 if executable else 0o644)
        return p

    def marker(self, name: str) -> Path:
        return self.root / name

    def make_env(self, extra: dict[str, str] | None = None, drop: Iterable[str] = ()) -> dict[str, str]:
        env = dict(self.env)
        for k in drop:
            env.pop(k, None)
        for k, v in (extra or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    # -- processes
    def start(self, args: list[str], env: dict[str, str] | None = None, pid1: bool = False,
              wait_ready: bool = True, merged: bool = False) -> Porthole:
        """Start `porthole ARGS...` (e.g. ["run", "--", "sh", "-c", "exit 0"]).
        merged: its stdout and stderr go to one file, as in a container's log."""
        self._n += 1
        d = Porthole(self, list(args), self.make_env(env), pid1, f"porthole{self._n}", merged=merged)
        self._daemons.append(d)
        if wait_ready:
            d.wait_ready()
        return d

    def start_container(self, argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None,
                        wait_ready: bool = True) -> Porthole:
        """Exec argv as PID 1 the way a container runtime runs ENTRYPOINT+CMD
        (or SageMaker's ContainerEntrypoint+ContainerArguments): argv[0] is
        found on PATH, which holds the sandbox's `porthole`."""
        self._n += 1
        d = Porthole(self, argv[1:], self.make_env(env), True, f"porthole{self._n}", container_argv=argv, cwd=cwd)
        self._daemons.append(d)
        if wait_ready:
            d.wait_ready()
        return d

    def run_cmd(self, cmd: list[str], env: dict[str, str] | None = None, pid1: bool = False,
                settings: list[str] = (), wait_ready: bool = True, merged: bool = False) -> Porthole:
        """`porthole run [SETTINGS] -- CMD...`"""
        return self.start(["run", *settings, "--", *cmd], env=env, pid1=pid1, wait_ready=wait_ready, merged=merged)

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.bin, *args],
            env=self.make_env(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=str(self.root),
        )

    def cli_ok(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        r = self.cli(*args, env=env)
        assert r.returncode == 0, f"porthole {' '.join(args)} failed ({r.returncode}): {r.stderr}"
        return r

    def spawn_cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """A long-running CLI command (attach, breakpoint, hold) in the background."""
        p = subprocess.Popen(
            [self.bin, *args],
            env=self.make_env(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=str(self.root),
            start_new_session=True,
            # Tests stop these with SIGINT, as Ctrl-C would; a runner started in
            # the background (`cmd &`) passes SIGINT down ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self._procs.append(p)
        return p

    def status(self, env: dict[str, str] | None = None) -> dict:
        r = self.cli("status", "--json", env=env)
        assert r.returncode == 0, f"porthole status failed ({r.returncode}): {r.stderr}"
        return json.loads(r.stdout)

    def status_or_none(self) -> dict | None:
        r = self.cli("status", "--json")
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def wait_state(self, state: str, timeout: float = WAIT_TIMEOUT) -> dict:
        box = {}

        def check():
            s = self.status_or_none()
            box["last"] = s
            return s if s and s.get("state") == state else None

        try:
            return wait_for(check, timeout=timeout, what=f"state {state}")
        except AssertionError as e:
            raise AssertionError(f"{e}; last status: {box.get('last')}") from None

    def config(self, *flags: str, env: dict[str, str] | None = None) -> tuple[dict, subprocess.CompletedProcess]:
        r = self.cli("config", *flags, "--json", env=env)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout), r

    # -- cleanup
    def cleanup(self) -> None:
        # Leaves first, while porthole is alive to reap them (it is their
        # reaper, PID 1 or subreaper): killed orphans must not end up as
        # zombies of the host's init.  Then porthole, then unshare.
        daemons = {d.proc.pid for d in self._daemons}
        inner = {k for d in self._daemons if d.pid1 for k in children_of(d.proc.pid)}
        kill_tagged(self.tag, exclude=daemons | inner)
        for pid in inner:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for d in self._daemons:
            try:
                os.killpg(d.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        for p in self._procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        kill_tagged(self.tag)
        for d in self._daemons:
            try:
                d.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for p in self._procs:
            try:
                p.communicate(timeout=10)
            except (subprocess.TimeoutExpired, ValueError):
                pass
        shutil.rmtree(self.root, ignore_errors=True)


# A training command that records the signals it gets, one name per line, and
# exits 42 on SIGTERM.  With --with-child it also starts a copy of itself (in
# the same process group) recording to OUT.child.
RECORDER = r'''
import os, signal, subprocess, sys, time
out, ready = sys.argv[1], sys.argv[2]
names = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"]
def handler(sig, frame):
    with open(out, "a") as f:
        f.write(signal.Signals(sig).name + "\n")
    if sig == signal.SIGTERM:
        os._exit(42)
for n in names:
    signal.signal(getattr(signal, n), handler)
if len(sys.argv) > 3 and sys.argv[3] == "--with-child":
    subprocess.Popen([sys.executable, __file__, out + ".child", ready + ".child"])
open(ready, "w").close()
while True:
    signal.pause()
'''


def read_lines(p: Path) -> list[str]:
    try:
        return p.read_text().split()
    except OSError:
        return []


def stale_socket(path: Path) -> None:
    """Leave a socket file nobody listens on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()


def make_unreadable_file(path: Path) -> None:
    """Something root cannot read as a file: a directory in its place."""
    if path.exists():
        path.unlink()
    path.mkdir()
    assert stat.S_ISDIR(path.stat().st_mode)
