# SPDX-License-Identifier: Apache-2.0
"""PID 1 duties: reaping, signal forwarding, exit statuses, exec failures.

Every test runs twice: with porthole as PID 1 of a new PID namespace
(`unshare --pid --fork --mount-proc`) and as a plain child (subreaper mode).
"""

import signal

import pytest

from porthole_harness import (
    PYTHON,
    RECORDER,
    proc_cmdline,
    proc_ppid,
    read_lines,
    tagged_pids,
    wait_for,
    zombie_children,
)

MODES = [pytest.param(True, id="pid1"), pytest.param(False, id="subreaper")]


@pytest.fixture(params=MODES)
def pid1(request):
    if request.param:
        request.getfixturevalue("need_unshare")
    return request.param


def test_ready_pid(sb, pid1):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "never"}, pid1=pid1)
    if pid1:
        assert d.ready["pid"] == 1
    else:
        assert d.ready["pid"] == d.proc.pid
    assert d.wait() == 0


def test_orphaned_grandchildren_are_reaped(sb, pid1):
    """Double-forked grandchildren end up with porthole and are reaped, both
    while the command runs and while porthole holds after it."""
    orphan = sb.script("ph-orphan", 'sleep "$1"\ntouch "$2"\n', in_bin=True)
    root = sb.root
    cmd = sb.script(
        "make-orphans.sh",
        f"""
for i in 1 2 3 4 5; do
  sh -c '{orphan} 0.2 {root}/early-'$i' >/dev/null 2>&1 &'
done
for i in 1 2 3; do
  sh -c '{orphan} 4 {root}/late-'$i' >/dev/null 2>&1 &'
done
# wait until the early ones have died, so they die while the command runs
# (each of them: they need not finish in the order they were started)
for i in 1 2 3 4 5; do
  while [ ! -e {root}/early-$i ]; do sleep 0.05; done
done
touch {root}/command-done
exit 0
""",
    )
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": "5m"}, pid1=pid1)
    P = d.host_pid
    wait_for(lambda: sb.marker("command-done").exists(), what="the command to make its orphans")

    def late_orphans():
        return [p for p in tagged_pids(sb.tag) if any("ph-orphan" in a for a in proc_cmdline(p)) and
                any("/late-" in a for a in proc_cmdline(p))]

    # The late grandchildren are orphans now: their parent must be porthole.
    wait_for(lambda: late_orphans() and all(proc_ppid(p) == P for p in late_orphans()),
             what="orphans to be reparented to porthole")
    st = sb.wait_state("holding")
    assert st["exit_code"] == 0

    for i in range(1, 6):
        assert sb.marker(f"early-{i}").exists()
    wait_for(lambda: all(sb.marker(f"late-{i}").exists() for i in (1, 2, 3)), what="the late orphans to finish")
    wait_for(lambda: not late_orphans() or all(not proc_cmdline(p) for p in late_orphans()),
             what="late orphans to exit")
    # Reaping happens on SIGCHLD; give it a moment, but zombies must not stay.
    wait_for(lambda: zombie_children(P) == [], timeout=10, what=f"no zombie children of porthole ({zombie_children(P)})")
    assert d.alive(), "porthole should still be holding"
    assert sb.status()["state"] == "holding"

    sb.cli_ok("release")
    assert d.wait() == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1])
def test_signal_reaches_command(sb, pid1, sig):
    rec = sb.script("recorder.py", "#!" + PYTHON + "\n" + RECORDER)
    out, ready = sb.marker("signals"), sb.marker("recorder-ready")
    d = sb.run_cmd([str(rec), str(out), str(ready)], env={"PORTHOLE_HOLD": "never"}, pid1=pid1)
    wait_for(ready.exists, what="the recorder to install its handlers")
    d.signal(sig)
    wait_for(lambda: sig.name in read_lines(out), what=f"{sig.name} to reach the command")
    if sig != signal.SIGTERM:
        assert d.alive()
        d.signal(signal.SIGTERM)
    assert d.wait() == 42, d.describe()
    assert read_lines(out)[-1] == "SIGTERM"


def test_every_forwarded_signal_reaches_the_process_group(sb, pid1):
    rec = sb.script("recorder.py", "#!" + PYTHON + "\n" + RECORDER)
    out, ready = sb.marker("signals"), sb.marker("recorder-ready")
    child_out = sb.marker("signals.child")
    d = sb.run_cmd([str(rec), str(out), str(ready), "--with-child"], env={"PORTHOLE_HOLD": "never"}, pid1=pid1)
    wait_for(lambda: ready.exists() and sb.marker("recorder-ready.child").exists(),
             what="the recorder and its child to install their handlers")
    for sig in (signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, signal.SIGINT):
        d.signal(sig)
        wait_for(lambda: sig.name in read_lines(out) and sig.name in read_lines(child_out),
                 what=f"{sig.name} to reach the command and its child")
    assert d.alive()
    d.signal(signal.SIGTERM)
    assert d.wait() == 42, d.describe()
    wait_for(lambda: "SIGTERM" in read_lines(child_out), what="SIGTERM to reach the command's child")


@pytest.mark.parametrize(
    "shell, expected",
    [
        ("exit 0", 0),
        ("exit 1", 1),
        ("exit 2", 2),
        ("exit 255", 255),
        ("kill -TERM $$", 143),
        ("kill -KILL $$", 137),
    ],
    ids=["0", "1", "2", "255", "TERM", "KILL"],
)
def test_exit_status(sb, pid1, shell, expected):
    d = sb.run_cmd(["sh", "-c", shell], env={"PORTHOLE_HOLD": "never"}, pid1=pid1)
    assert d.wait() == expected, d.describe()


def test_missing_command_127(sb, pid1):
    d = sb.run_cmd(["no-such-training-command"], env={"PORTHOLE_HOLD": "never"}, pid1=pid1)
    assert d.wait() == 127
    assert "no-such-training-command" in d.stderr
    assert any("no-such-training-command" in l for l in d.error_lines()), d.stderr


def test_missing_command_by_path_127(sb, pid1):
    missing = str(sb.root / "nothere" / "train")
    d = sb.run_cmd([missing], env={"PORTHOLE_HOLD": "never"}, pid1=pid1)
    assert d.wait() == 127
    assert any(missing in l for l in d.error_lines()), d.stderr


def test_not_executable_126(sb, pid1):
    f = sb.script("not-executable.sh", "exit 0\n", executable=False)
    d = sb.run_cmd([str(f)], env={"PORTHOLE_HOLD": "never"}, pid1=pid1)
    assert d.wait() == 126
    assert any(str(f) in l for l in d.error_lines()), d.stderr


def test_not_executable_on_path_126(sb, pid1):
    sb.script("notexec-train", "exit 0\n", executable=False, in_bin=True)
    d = sb.run_cmd(["notexec-train"], env={"PORTHOLE_HOLD": "never"}, pid1=pid1)
    assert d.wait() == 126
    assert any("notexec-train" in l for l in d.error_lines()), d.stderr


def test_train_found_on_path(sb, pid1):
    sb.script("train", f'echo "$@" > {sb.root}/train-ran\nexit 7\n', in_bin=True)
    d = sb.run_cmd(["train", "a", "b"], env={"PORTHOLE_HOLD": "never"}, pid1=pid1)
    assert d.wait() == 7, d.describe()
    assert sb.marker("train-ran").read_text().strip() == "a b"


def test_command_without_double_dash(sb, pid1):
    sb.script("train", f"touch {sb.root}/train-ran\nexit 0\n", in_bin=True)
    d = sb.start(["run", "train"], env={"PORTHOLE_HOLD": "never"}, pid1=pid1)
    assert d.wait() == 0, d.describe()
    assert sb.marker("train-ran").exists()
