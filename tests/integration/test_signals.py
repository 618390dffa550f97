# SPDX-License-Identifier: Apache-2.0
"""porthole as an init, signal by signal (issue 15): every catchable signal
from 1 to 31 reaches the command's process group and none ends or stops
porthole; job control (SIGTSTP/TTIN/TTOU stop the group, SIGCONT resumes
it, a stopped command still ends on SIGTERM); stdout is the command's
alone; what the command leaves in its group is ended when porthole is not
PID 1; --ready-fd.

Most tests run twice: with porthole as PID 1 of a new PID namespace
(`unshare --pid --fork --mount-proc`) and as a plain child (subreaper mode).
"""

import fcntl
import json
import os
import pty
import select
import signal
import subprocess
import termios
import time

import pytest

from porthole_harness import (
    PYTHON,
    SLOW,
    UNSHARE,
    children_of,
    proc_cmdline,
    proc_state,
    read_lines,
    wait_for,
)

MODES = [pytest.param(True, id="pid1"), pytest.param(False, id="subreaper")]

# Every signal porthole takes over: 1..31 but SIGKILL, SIGSTOP and SIGCHLD.
CATCHABLE = [s for s in range(1, 32) if s not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD)]
JOB_CONTROL = (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
# The requirement under test, measured from the signal to porthole's exit.
WITHIN = 1.0

# Records every signal it gets (one name per line in OUT), writes its pid to
# READY once its handlers are in place, exits 42 on SIGTERM.  With
# --with-child it starts a copy of itself in its process group, recording to
# OUT.child.
RECORDER = r'''
import os, signal, subprocess, sys
out, ready = sys.argv[1], sys.argv[2]
def handler(sig, frame):
    with open(out, "a") as f:
        f.write(signal.Signals(sig).name + "\n")
    if sig == signal.SIGTERM:
        os._exit(42)
for s in range(1, 32):
    if s not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
        signal.signal(s, handler)
if len(sys.argv) > 3 and sys.argv[3] == "--with-child":
    subprocess.Popen([sys.executable, __file__, out + ".child", ready + ".child"])
with open(ready + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(ready + ".tmp", ready)
while True:
    signal.pause()
'''


@pytest.fixture(params=MODES)
def pid1(request):
    if request.param:
        request.getfixturevalue("need_unshare")
    return request.param


def name(sig: int) -> str:
    return signal.Signals(sig).name


def start_recorder(sb, pid1, with_child=True, env=None):
    rec = sb.script("recorder.py", "#!" + PYTHON + "\n" + RECORDER)
    out, ready = sb.marker("signals"), sb.marker("recorder-ready")
    args = [str(rec), str(out), str(ready)] + (["--with-child"] if with_child else [])
    d = sb.run_cmd(args, env={"PORTHOLE_HOLD": "never", **(env or {})}, pid1=pid1)
    files = [(out, ready)] + ([(sb.marker("signals.child"), sb.marker("recorder-ready.child"))] if with_child else [])
    wait_for(lambda: all(r.exists() for _, r in files), what="the recorders to install their handlers")
    # Host pids (the files hold pids of porthole's namespace when PID 1).
    pids = wait_for(lambda: recorder_pids(sb, rec, len(files)), what="the recorders' pids")
    return d, [f for f, _ in files], pids


def recorder_pids(sb, script, n):
    # python3 RECORDER ... (porthole's and unshare's command lines name it too)
    pids = [p for p in tagged(sb) if proc_cmdline(p)[1:2] == [str(script)]]
    return sorted(pids) if len(pids) == n else None


def tagged(sb):
    from porthole_harness import tagged_pids
    return tagged_pids(sb.tag)


def count(path, sig):
    return read_lines(path).count(name(sig))


@pytest.mark.parametrize("sig", CATCHABLE, ids=[name(s) for s in CATCHABLE])
def test_signal_reaches_the_command_and_porthole_survives(sb, pid1, sig):
    d, outs, pids = start_recorder(sb, pid1, with_child=False)
    if sig in JOB_CONTROL:
        # Stopped with SIGSTOP (porthole itself goes on), resumed by SIGCONT.
        d.signal(sig)
        wait_for(lambda: all(proc_state(p) == "T" for p in pids), what=f"{name(sig)} to stop the process group")
        assert d.alive() and proc_state(d.host_pid) != "T", d.describe()
        d.signal(signal.SIGCONT)
        wait_for(lambda: all(count(o, signal.SIGCONT) for o in outs) and all(proc_state(p) != "T" for p in pids),
                 what="SIGCONT to resume the process group")
    elif sig == signal.SIGTERM:
        d.signal(sig)
        assert d.wait() == 42, d.describe()
        assert all(name(sig) in read_lines(o) for o in outs)
        return
    else:
        d.signal(sig)
        wait_for(lambda: all(count(o, sig) for o in outs), what=f"{name(sig)} to reach the command")
    # porthole is still there, not stopped, and still forwards.
    assert d.alive() and proc_state(d.host_pid) not in ("T", "Z", ""), d.describe()
    d.signal(signal.SIGTERM)
    assert d.wait() == 42, d.describe()
    wait_for(lambda: all("SIGTERM" in read_lines(o) for o in outs), what="SIGTERM to reach the command")


def test_every_signal_in_turn_reaches_the_group(sb, pid1):
    """All of them to one porthole, one after the other: each reaches the
    command and the child it started (its process group), and porthole
    survives every one."""
    d, outs, pids = start_recorder(sb, pid1)
    for sig in CATCHABLE:
        if sig == signal.SIGTERM:
            continue
        before = [count(o, signal.SIGCONT) for o in outs]
        d.signal(sig)
        if sig in JOB_CONTROL:
            wait_for(lambda: all(proc_state(p) == "T" for p in pids), what=f"{name(sig)} to stop the group")
            d.signal(signal.SIGCONT)
            wait_for(lambda: all(count(o, signal.SIGCONT) > b for o, b in zip(outs, before)),
                     what=f"SIGCONT after {name(sig)}")
        elif sig == signal.SIGCONT:
            wait_for(lambda: all(count(o, sig) > b for o, b in zip(outs, before)), what="SIGCONT")
        else:
            wait_for(lambda: all(count(o, sig) for o in outs), what=f"{name(sig)} to reach the group")
        assert d.alive(), f"porthole ended on {name(sig)}\n{d.describe()}"
    d.signal(signal.SIGTERM)
    assert d.wait() == 42, d.describe()
    got = set(read_lines(outs[0]))
    assert {name(s) for s in CATCHABLE if s not in JOB_CONTROL} <= got, got


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT],
                         ids=["TERM", "INT", "HUP", "QUIT"])
def test_stopped_command_ends_on_terminating_signal(sb, pid1, sig):
    """A stopped command acts on SIGTERM (INT, HUP, QUIT): porthole sends
    SIGCONT after it, so `docker stop` does not wait for SIGKILL."""
    d = sb.run_cmd(["sleep", "1000"], env={"PORTHOLE_HOLD": "never"}, pid1=pid1)
    cmd = wait_for(lambda: next((p for p in children_of(d.host_pid) if proc_cmdline(p)[:1] == ["sleep"]), None),
                   what="the command")
    os.kill(cmd, signal.SIGSTOP)
    wait_for(lambda: proc_state(cmd) == "T", what="the command to stop")
    t0 = time.monotonic()
    d.signal(sig)
    assert d.wait() == 128 + sig, d.describe()
    if sig == signal.SIGTERM:
        assert time.monotonic() - t0 < WITHIN, f"{time.monotonic() - t0:.2f}s from SIGTERM to exit"


# ---- a terminal ----------------------------------------------------------------


def spawn_on_pty(sb, argv, env):
    """argv on a new pty as its controlling terminal; (Popen, master fd)."""
    master, slave = pty.openpty()

    def ctty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    p = subprocess.Popen(argv, env=sb.make_env(env), stdin=slave, stdout=slave, stderr=slave, cwd=str(sb.root),
                         start_new_session=True, preexec_fn=ctty)
    sb._procs.append(p)
    os.close(slave)
    return p, master


def drain(master, text, want, timeout):
    """Read the pty into text until want is in it."""
    deadline = time.monotonic() + timeout
    while want not in text[0]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {want!r} on the terminal after {timeout:.0f}s:\n{text[0]}")
        r, _, _ = select.select([master], [], [], left)
        if r:
            try:
                text[0] += os.read(master, 65536).decode(errors="replace")
            except OSError:
                pass


def test_ctrl_z_on_a_tty_then_sigterm(sb, pid1):
    """Ctrl-Z stops the command (the terminal's foreground group); SIGTERM to
    porthole then ends the job with 143 within a second."""
    argv = [sb.bin, "run", "--hold", "never", "--", "sleep", "1000"]
    if pid1:
        argv = [UNSHARE, "--pid", "--fork", "--mount-proc", "--kill-child", "--"] + argv
    p, master = spawn_on_pty(sb, argv, {})
    try:
        text = [""]
        drain(master, text, '"porthole":"ready"', 60 if SLOW else 30)
        top = p.pid
        porthole = wait_for(lambda: children_of(top)[0] if pid1 and children_of(top) else (top if not pid1 else None),
                            what="porthole's pid")
        cmd = wait_for(lambda: next((c for c in children_of(porthole) if proc_cmdline(c)[:1] == ["sleep"]), None),
                       what="the command")
        # The command's group holds the terminal: ^Z is for it.
        wait_for(lambda: os.tcgetpgrp(master) == os.getpgid(cmd), what="the command to get the terminal")
        os.write(master, b"\x1a")
        wait_for(lambda: proc_state(cmd) == "T", what="Ctrl-Z to stop the command")
        assert p.poll() is None and proc_state(porthole) != "T"
        t0 = time.monotonic()
        os.kill(porthole, signal.SIGTERM)
        rc = p.wait(timeout=60)
        took = time.monotonic() - t0
        assert rc == 143, text[0]
        assert took < WITHIN, f"{took:.2f}s from SIGTERM to exit"
    finally:
        os.close(master)


# ---- output --------------------------------------------------------------------


def test_stdout_is_the_commands_alone(sb, pid1):
    """porthole's lines (the ready record, SSH's, the command's exit) are on
    stderr; stdout holds exactly what the command wrote."""
    env = {"PORTHOLE_HOLD": "never", "PORTHOLE_SSH": "embedded", "PORTHOLE_SSH_PORT": "0",
           "PORTHOLE_SSH_LISTEN": "127.0.0.1"}
    d = sb.run_cmd(["sh", "-c", "echo data"], env=env, pid1=pid1)
    assert d.wait() == 0, d.describe()
    assert d.stdout == "data\n", d.describe()
    assert d.ready_record()["port"], d.describe()
    assert "training command exited with status 0" in d.stderr


def test_ready_fd(sb):
    """--ready-fd N: the JSON record on fd N, which is closed afterwards and
    not passed to the command."""
    r, w = os.pipe()
    try:
        p = subprocess.Popen([sb.bin, "run", "--ready-fd", str(w), "--hold", "never", "--",
                              "sh", "-c", f"echo data; [ -e /proc/self/fd/{w} ] && echo leaked; exit 0"],
                             env=sb.make_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, pass_fds=(w,), cwd=str(sb.root), start_new_session=True)
        sb._procs.append(p)
        os.close(w)
        w = -1
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        # EOF after one line: porthole closed it, and the command never had it.
        text = b""
        while chunk := os.read(r, 65536):
            text += chunk
        lines = text.decode().splitlines()
        assert len(lines) == 1, text
        rec = json.loads(lines[0])
        assert rec["porthole"] == "ready" and rec["pid"] == p.pid
        assert out == b"data\n", (out, err)
        assert b'"porthole":"ready"' in err
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_ready_fd_not_open(sb):
    r = sb.cli("run", "--ready-fd", "57", "--", "true")
    assert r.returncode == 2
    assert "--ready-fd 57" in r.stderr


def test_own_sigpipe_is_not_forwarded(sb):
    """porthole writing to a closed stderr gets SIGPIPE from the kernel; that
    one is porthole's, not the command's."""
    rec = sb.script("recorder.py", "#!" + PYTHON + "\n" + RECORDER)
    out, ready = sb.marker("signals"), sb.marker("recorder-ready")
    rd, wr = os.pipe()
    p = subprocess.Popen([sb.bin, "run", "--hold", "never", "--", str(rec), str(out), str(ready)],
                         env=sb.make_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=wr,
                         cwd=str(sb.root), start_new_session=True)
    sb._procs.append(p)
    os.close(wr)
    try:
        wait_for(ready.exists, what="the recorder")
        os.close(rd)
        rd = -1
        # Each of these makes porthole say something (on the closed pipe).
        for _ in range(3):
            n = read_lines(out).count("SIGCONT")
            os.kill(p.pid, signal.SIGTSTP)
            os.kill(p.pid, signal.SIGCONT)
            wait_for(lambda: read_lines(out).count("SIGCONT") > n, what="SIGCONT to reach the command")
        os.kill(p.pid, signal.SIGTERM)
        assert p.wait(timeout=60) == 42
        assert "SIGPIPE" not in read_lines(out), read_lines(out)
    finally:
        if rd >= 0:
            os.close(rd)


# ---- what the command leaves behind (not PID 1) ------------------------------


def leftover_pid(sb, name_):
    return wait_for(lambda: int(sb.marker(name_).read_text()) if sb.marker(name_).exists() and
                    sb.marker(name_).read_text().strip() else None, what=f"{name_}")


def gone(pid, what):
    """pid ended (or is some other process now)."""
    return proc_state(pid) in ("", "Z") or what not in " ".join(proc_cmdline(pid))


def test_leftover_group_ends_with_porthole(sb):
    """Not PID 1: the command's background process gets SIGTERM when porthole
    ends, so nothing outlives it."""
    cmd = f"sleep 1000 & echo $! > {sb.marker('bg')}.tmp; mv {sb.marker('bg')}.tmp {sb.marker('bg')}; exit 3"
    d = sb.run_cmd(["sh", "-c", cmd], env={"PORTHOLE_HOLD": "never"})
    assert d.wait() == 3, d.describe()
    bg = leftover_pid(sb, "bg")
    wait_for(lambda: gone(bg, "sleep"), timeout=5, what="the background sleep to be gone")
    assert "sending SIGTERM to what is left of its process group" in d.stderr


def test_leftover_ignoring_sigterm_gets_sigkill(sb):
    """One that ignores SIGTERM gets SIGKILL within the exit budget
    (PORTHOLE_FLUSH_TIMEOUT; SIGKILL at half of it)."""
    cmd = (f"sh -c 'trap \"\" TERM; echo $$ > {sb.marker('bg')}.tmp; mv {sb.marker('bg')}.tmp {sb.marker('bg')}; "
           f"while :; do sleep 1; done' & "
           f"while [ ! -e {sb.marker('bg')} ]; do sleep 0.05; done; exit 0")
    d = sb.run_cmd(["sh", "-c", cmd], env={"PORTHOLE_HOLD": "never", "PORTHOLE_FLUSH_TIMEOUT": "4"})
    bg = leftover_pid(sb, "bg")
    assert d.wait() == 0, d.describe()
    assert gone(bg, "trap"), f"the leftover {bg} outlived porthole"
    assert "sending SIGKILL to its process group" in d.stderr, d.stderr


def test_leftover_group_stays_during_a_hold(sb):
    """While a hold keeps porthole for debugging, what the command left runs
    on; when the hold ends, it is ended."""
    cmd = f"sleep 1000 & echo $! > {sb.marker('bg')}.tmp; mv {sb.marker('bg')}.tmp {sb.marker('bg')}; exit 1"
    d = sb.run_cmd(["sh", "-c", cmd], env={"PORTHOLE_HOLD": "on-failure", "PORTHOLE_WINDOW": "5m"})
    bg = leftover_pid(sb, "bg")
    sb.wait_state("holding")
    assert not gone(bg, "sleep"), "the leftover was ended during the hold"
    sb.cli_ok("release")
    assert d.wait() == 1, d.describe()
    wait_for(lambda: gone(bg, "sleep"), timeout=5, what="the background sleep to be gone after the hold")


def test_pid1_leaves_nothing_either(sb, need_unshare):
    """As PID 1 the kernel ends the rest of the container with porthole."""
    cmd = f"sleep 1000 & echo $! > {sb.marker('bg')}.tmp; mv {sb.marker('bg')}.tmp {sb.marker('bg')}; exit 0"
    d = sb.run_cmd(["sh", "-c", cmd], env={"PORTHOLE_HOLD": "never"}, pid1=True)
    assert d.wait() == 0, d.describe()
    assert not [p for p in tagged(sb) if "sleep" in " ".join(proc_cmdline(p)) and proc_state(p) not in ("", "Z")]
