# SPDX-License-Identifier: Apache-2.0
"""lifecycle/porthole.sh, sourced by a train script from bash and from dash.

Each test gets its own ML_ROOT and control socket, and runs every process it
starts in a session of its own; teardown kills every process left in those
sessions (porthole serve is double-forked by porthole_start, so it is not a
child of anything here, but it stays in the session).

    PORTHOLE_BIN=build/std/porthole /usr/bin/python3 -m pytest -q tests/lifecycle
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIB = REPO / "lifecycle" / "porthole.sh"

sys.path.insert(0, str(REPO / "tests"))
from proctools import kill_session, session_pids  # noqa: E402


def _porthole_bin():
    b = os.environ.get("PORTHOLE_BIN")
    if b:
        return str(Path(b).resolve())
    for cand in (REPO / "build" / "std" / "porthole", REPO / "agent" / "porthole"):
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return shutil.which("porthole")


PORTHOLE = _porthole_bin()
SHELLS = [pytest.param(shutil.which(s), id=s) for s in ("bash", "dash") if shutil.which(s)]
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"

pytestmark = pytest.mark.skipif(not PORTHOLE, reason="no porthole binary (set PORTHOLE_BIN or run make)")


# ---- process bookkeeping -------------------------------------------------

def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode() for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.03)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# ---- fixtures ------------------------------------------------------------

class Env:
    """A temp ML_ROOT, control socket and PATH, and the processes started in it."""

    def __init__(self, root):
        self.root = root
        self.ml = root / "ml"
        (self.ml / "input" / "config").mkdir(parents=True)
        (self.ml / "output").mkdir()
        self.sock = str(root / "ctl.sock")
        self.bindir = root / "bin"
        self.bindir.mkdir()
        (self.bindir / "porthole").symlink_to(PORTHOLE)
        self.sids = []
        self.procs = []
        base = {k: v for k, v in os.environ.items() if not k.startswith("PORTHOLE_")}
        base.update(
            PORTHOLE_ML_ROOT=str(self.ml),
            PORTHOLE_CONTROL_SOCKET=self.sock,
            PORTHOLE_CONFIG=str(root / "porthole.conf"),
            PATH=f"{self.bindir}:{SYSTEM_PATH}",
        )
        (root / "porthole.conf").write_text("# empty\n")
        self.env = base

    def without_porthole(self):
        """The environment with no porthole anywhere: not on PATH, no PORTHOLE_BIN."""
        env = dict(self.env)
        env["PATH"] = SYSTEM_PATH
        if shutil.which("porthole", path=SYSTEM_PATH):  # installed system-wide: hide it
            tools = self.root / "toolbin"
            tools.mkdir(exist_ok=True)
            for tool in ("sleep", "sh"):
                if not (tools / tool).exists():
                    (tools / tool).symlink_to(shutil.which(tool))
            env["PATH"] = str(tools)
        return env

    def cli(self, *args, timeout=10, env=None):
        return subprocess.run([PORTHOLE, *args], env=env or self.env, capture_output=True, text=True,
                              timeout=timeout)

    def status(self):
        r = self.cli("status", "--json")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def waits(self):
        s = self.status()
        return s["waits"] if s else []

    def spawn(self, argv, env=None, name="proc"):
        out = open(self.root / f"{name}.{len(self.procs)}.out", "w+")
        err = open(self.root / f"{name}.{len(self.procs)}.err", "w+")
        p = subprocess.Popen(argv, env=env or self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             start_new_session=True, cwd=self.root)
        p.out, p.err = out, err
        self.sids.append(p.pid)
        self.procs.append(p)
        return p

    def script(self, shell, body, env=None, name="train"):
        """Run a train script that sources the library under `set -eu`."""
        path = self.root / f"{name}.sh"
        path.write_text(f"set -eu\n. {LIB}\n{body}\n")
        return self.spawn([shell, str(path)], env=env, name=name)

    def cleanup(self):
        for sid in self.sids:
            kill_session(sid)
        for p in self.procs:
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            p.out.close()
            p.err.close()


def text(f):
    f.flush()
    f.seek(0)
    return f.read()


def finish(p, timeout=15):
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"script still running after {timeout}s\nstdout:\n{text(p.out)}\nstderr:\n{text(p.err)}")
    return rc, text(p.out), text(p.err)


def porthole_processes(sid):
    """Pids of porthole daemons (run, serve; not the CLI) in session sid, by executable whatever the path used."""
    real = os.path.realpath(PORTHOLE)
    out = []
    for pid in session_pids(sid):
        try:
            if os.readlink(f"/proc/{pid}/exe") == real and cmdline(pid)[1:2] in (["run"], ["serve"]):
                out.append(pid)
        except OSError:
            pass
    return out


@pytest.fixture
def env():
    # A short path of our own: AF_UNIX paths are limited to 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="porthole-lc-"))
    e = Env(root)
    try:
        yield e
    finally:
        e.cleanup()
        shutil.rmtree(root, ignore_errors=True)


shells = pytest.mark.parametrize("shell", SHELLS)


# ---- the library itself --------------------------------------------------

def test_library_has_no_bashisms():
    for shell in ("dash", "bash"):
        if shutil.which(shell):
            r = subprocess.run([shell, "-n", str(LIB)], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck not installed (apt-get install shellcheck)")
    r = subprocess.run(["shellcheck", "-s", "sh", str(LIB)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# ---- porthole_start / porthole_stop --------------------------------------

@shells
def test_start_is_idempotent_and_stop_stops_it(env, shell):
    p = env.script(shell, """
porthole_start
first=$porthole_started_pid
porthole_start
echo "pids $first $porthole_started_pid"
porthole_breakpoint started 30s
porthole_stop
echo "stopped [$porthole_started_pid]"
exit 0
""")
    waits = wait_for(lambda: [w for w in env.waits() if w["name"] == "started"], what="breakpoint started")
    assert waits[0]["kind"] == "breakpoint"
    serves = [pid for pid in porthole_processes(p.pid) if cmdline(pid)[1:2] == ["serve"]]
    assert len(serves) == 1, f"expected one porthole serve, got {[cmdline(x) for x in serves]}"
    serve = serves[0]
    st = env.status()
    assert st["state"] == "serving" and st["pid"] == serve
    # Not the script's child: a bare `wait` in the script must not wait for it.
    with open(f"/proc/{serve}/stat") as f:
        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    assert ppid != p.pid

    assert env.cli("continue", "started").returncode == 0
    rc, out, err = finish(p)
    assert rc == 0, err
    assert f"pids {serve} {serve}" in out
    assert "stopped []" in out
    assert not any(pid == serve for pid in session_pids(p.pid)), "porthole serve still running after porthole_stop"
    assert env.status() is None, "a porthole still answers after porthole_stop"
    # The ready record went to the script's stderr (the job's log), not to
    # its stdout, which is the script's own.
    assert '"porthole":"ready"' in err
    assert '"porthole":"ready"' not in out
    assert "porthole.sh:" not in err, err
    # PORTHOLE_BIN is the library's; it must not reach porthole as a setting.
    assert "unknown setting" not in err


@shells
def test_start_finds_porthole_bin(env, shell):
    e = env.without_porthole()
    e["PORTHOLE_BIN"] = PORTHOLE
    p = env.script(shell, """
porthole_start
echo "pid [$porthole_started_pid]"
porthole_stop
""", env=e)
    rc, out, err = finish(p)
    assert rc == 0, err
    assert "pid []" not in out and '"porthole":"ready"' in err
    assert "unknown setting PORTHOLE_BIN" not in err, err


@shells
def test_start_does_nothing_when_porthole_already_answers(env, shell):
    serve = env.spawn([PORTHOLE, "serve"], name="serve")
    wait_for(env.status, what="the test's porthole serve")
    p = env.script(shell, """
porthole_start
echo "pid [$porthole_started_pid]"
porthole_breakpoint mine 30s
porthole_stop
echo done
""")
    wait_for(lambda: [w for w in env.waits() if w["name"] == "mine"], what="breakpoint mine")
    assert porthole_processes(p.pid) == [], "porthole_start started a second porthole"
    assert len(env.cli("status").stdout) and env.status()["pid"] == serve.pid
    env.cli("continue", "mine")
    rc, out, err = finish(p)
    assert rc == 0, err
    assert "pid []" in out and "done" in out
    # porthole_stop stops only what porthole_start started.
    assert serve.poll() is None
    assert env.status()["pid"] == serve.pid


@shells
def test_start_under_porthole_run_entrypoint(env, shell):
    """ENTRYPOINT ["porthole", "run", "--", "train"]: the library must not start another."""
    path = env.root / "train.sh"
    path.write_text(f"""set -eu
. {LIB}
porthole_start
echo "pid [$porthole_started_pid]"
porthole_breakpoint in-run 30s
porthole_stop
exit 4
""")
    e = dict(env.env, PORTHOLE_HOLD="never")
    run = env.spawn([PORTHOLE, "run", "--", shell, str(path)], env=e, name="run")
    wait_for(lambda: [w for w in env.waits() if w["name"] == "in-run"], what="breakpoint in-run")
    assert porthole_processes(run.pid) == [run.pid], "porthole_start started a porthole beside porthole run"
    assert env.status()["state"] == "training"
    env.cli("continue", "in-run")
    rc, out, err = finish(run)
    assert rc == 4, err
    assert "pid []" in out


@shells
def test_bare_wait_in_script_does_not_wait_for_porthole(env, shell):
    p = env.script(shell, """
porthole_start
sleep 0.2 &
wait
echo waited
porthole_stop
""")
    rc, out, err = finish(p, timeout=10)
    assert rc == 0 and "waited" in out, err


# ---- porthole_breakpoint / porthole_hold_here ----------------------------

@shells
def test_breakpoint_blocks_until_continue(env, shell):
    p = env.script(shell, """
porthole_start
echo epoch-1
porthole_breakpoint epoch-1 5m
echo after-epoch-1
porthole_stop
exit 0
""")
    waits = wait_for(lambda: [w for w in env.waits() if w["name"] == "epoch-1"], what="breakpoint epoch-1")
    assert waits[0]["kind"] == "breakpoint"
    assert 280 <= waits[0]["remaining_s"] <= 300, waits  # the TIMEOUT argument
    time.sleep(0.5)
    assert p.poll() is None and "after-epoch-1" not in text(p.out), "porthole_breakpoint did not block"
    # Continuing another name does not release it.
    assert env.cli("continue", "other").returncode != 0
    time.sleep(0.2)
    assert p.poll() is None
    r = env.cli("continue", "epoch-1")
    assert r.returncode == 0, r.stderr
    rc, out, err = finish(p)
    assert rc == 0, err
    assert out.index("epoch-1\n") < out.index("after-epoch-1")


@shells
def test_unnamed_breakpoint(env, shell):
    p = env.script(shell, """
porthole_start
porthole_breakpoint "" 5m
echo after-unnamed
porthole_stop
""")
    waits = wait_for(lambda: env.waits(), what="the unnamed breakpoint")
    assert waits[0]["kind"] == "breakpoint" and waits[0]["name"] is None
    assert env.cli("continue").returncode == 0
    rc, out, err = finish(p)
    assert rc == 0 and "after-unnamed" in out, err


@shells
def test_breakpoint_timeout_goes_on(env, shell):
    p = env.script(shell, """
porthole_start
porthole_breakpoint short 1s
echo after-short
porthole_stop
""")
    rc, out, err = finish(p, timeout=10)
    assert rc == 0 and "after-short" in out, err
    assert "ended (timeout)" in err


@shells
def test_hold_here_holds_until_release(env, shell):
    p = env.script(shell, """
porthole_start
echo training-done
porthole_hold_here
echo after-hold
porthole_breakpoint after-release 5m
echo after-breakpoint
porthole_stop
exit 0
""")
    waits = wait_for(lambda: env.waits(), what="the hold")
    assert waits[0]["kind"] == "after-command"
    time.sleep(0.5)
    assert p.poll() is None and "after-hold" not in text(p.out), "porthole_hold_here did not hold"
    r = env.cli("release")
    assert r.returncode == 0, r.stderr
    # After a release nothing holds any more: the breakpoint goes on at once.
    rc, out, err = finish(p)
    assert rc == 0, err
    assert "after-hold" in out and "after-breakpoint" in out


@shells
def test_hold_here_window_is_honoured(env, shell):
    p = env.script(shell, """
porthole_start
porthole_hold_here 45s
porthole_stop
""")
    waits = wait_for(lambda: env.waits(), what="the hold")
    env.cli("release")
    finish(p)
    assert 30 <= waits[0]["remaining_s"] <= 45, waits


# ---- without porthole -----------------------------------------------------

@shells
def test_missing_porthole_script_runs_to_completion(env, shell):
    t0 = time.monotonic()
    p = env.script(shell, """
echo step-1
porthole_start
echo step-2
porthole_breakpoint epoch-1 5m
echo step-3
porthole_hold_here 5m
echo step-4
porthole_stop
echo step-5
exit 7
""", env=env.without_porthole())
    rc, out, err = finish(p)
    assert rc == 7, err
    assert out.split() == ["step-1", "step-2", "step-3", "step-4", "step-5"]
    assert time.monotonic() - t0 < 5
    lines = err.strip().splitlines()
    # One clear message per function that needed porthole; porthole_stop is silent.
    assert len(lines) == 3, err
    assert all(line.startswith("porthole.sh: ") and "porthole not found" in line for line in lines), err
    assert "training goes on without porthole" in lines[0]
    assert "breakpoint epoch-1 skipped" in lines[1]
    assert "hold skipped" in lines[2]


@shells
def test_bad_porthole_bin(env, shell):
    e = env.without_porthole()
    e["PORTHOLE_BIN"] = str(env.root / "nonexistent")
    p = env.script(shell, "porthole_start\nporthole_breakpoint x\necho ran\nexit 3", env=e)
    rc, out, err = finish(p)
    assert rc == 3 and "ran" in out
    assert "PORTHOLE_BIN=" in err and "is not an executable file" in err


@shells
def test_porthole_not_running_breakpoint_and_hold_go_on(env, shell):
    p = env.script(shell, """
porthole_breakpoint nobody 5m
porthole_hold_here 5m
porthole_stop
echo ran
exit 0
""")
    rc, out, err = finish(p, timeout=5)
    assert rc == 0 and "ran" in out, err
    assert "no porthole is running here" in err  # porthole's own reason
    assert "porthole.sh: breakpoint nobody skipped" in err
    assert "porthole.sh: hold skipped" in err


def _fake_porthole(env, serve_body):
    fake = env.root / "fakebin" / "porthole"
    fake.parent.mkdir()
    fake.write_text(f"""#!/bin/sh
case "$1" in
status) echo "porthole: no porthole is running here" >&2; exit 1 ;;
serve) {serve_body} ;;
esac
exit 2
""")
    fake.chmod(0o755)
    e = env.without_porthole()
    e["PORTHOLE_BIN"] = str(fake)
    return e


@shells
def test_porthole_serve_that_dies_at_once(env, shell):
    e = _fake_porthole(env, 'echo "porthole: error: broken" >&2; exit 1')
    t0 = time.monotonic()
    p = env.script(shell, "porthole_start\necho \"pid [$porthole_started_pid]\"\nporthole_stop\nexit 5", env=e)
    rc, out, err = finish(p)
    assert rc == 5, err
    assert time.monotonic() - t0 < 4
    assert "pid []" in out
    assert "serve exited at once" in err and "training goes on without porthole" in err


@shells
def test_porthole_serve_that_never_answers_is_bounded(env, shell):
    e = _fake_porthole(env, "exec sleep 60")
    t0 = time.monotonic()
    p = env.script(shell, """
porthole_start
echo "pid [$porthole_started_pid]"
porthole_stop
echo stopped
""", env=e)
    rc, out, err = finish(p, timeout=20)
    took = time.monotonic() - t0
    assert rc == 0, err
    assert 4 <= took < 12, took
    assert "does not answer" in err and "after 5s" in err
    assert "pid []" not in out and "stopped" in out
    # porthole_stop ended the fake serve.
    assert not [pid for pid in session_pids(p.pid) if "sleep" in " ".join(cmdline(pid))]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
