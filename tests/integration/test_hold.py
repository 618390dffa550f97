# SPDX-License-Identifier: Apache-2.0
"""The hold: policies, release, extend, before-start, breakpoints, signals,
max hold, session counting, and the CLI without a porthole.

Windows are either short (1-3 s, when the test waits for them to elapse) or
long (5 m, when the test shows something ends *without* waiting for the
window): then a generous exit timeout far below the window is the evidence.
"""

import signal
import time

import pytest

from porthole_harness import PYTHON, RECORDER, SLOW, parse_iso, read_lines, stale_socket, wait_for

LONG = "5m"


def wait_script(sb, name="wait-for-go.sh", code=0):
    """A command that runs until the test creates ROOT/go, then exits code."""
    return sb.script(name, f"while [ ! -e {sb.root}/go ]; do sleep 0.05; done\nexit {code}\n")


# ---- policies ------------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 3])
def test_never_does_not_hold(sb, code):
    d = sb.run_cmd(["sh", "-c", f"exit {code}"], env={"PORTHOLE_HOLD": "never", "PORTHOLE_WINDOW": LONG})
    assert d.wait() == code, d.describe()


def test_on_failure_success_does_not_hold(sb):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "on-failure", "PORTHOLE_WINDOW": LONG})
    assert d.wait() == 0, d.describe()


def test_default_policy_is_on_failure(sb):
    d = sb.run_cmd(["sh", "-c", "exit 3"], env={"PORTHOLE_WINDOW": LONG})
    st = sb.wait_state("holding")
    assert st["hold"] == "on-failure"
    assert st["exit_code"] == 3
    sb.cli_ok("release")
    assert d.wait() == 3


def test_on_failure_failure_holds_until_release(sb):
    d = sb.run_cmd(["sh", "-c", "exit 3"], env={"PORTHOLE_HOLD": "on-failure", "PORTHOLE_WINDOW": LONG})
    st = sb.wait_state("holding")
    assert st["exit_code"] == 3
    assert [w["kind"] for w in st["waits"]] == ["after-command"]
    assert d.alive()
    r = sb.cli_ok("release")
    assert "1 wait ended" in r.stdout
    assert d.wait() == 3, d.describe()


def test_on_failure_failure_window_elapses(sb):
    d = sb.run_cmd(["sh", "-c", "exit 3"], env={"PORTHOLE_HOLD": "on-failure", "PORTHOLE_WINDOW": "2s"})
    assert d.wait() == 3, d.describe()
    assert "after-command ended (timeout)" in d.stderr


def test_always_holds_after_success(sb):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
    st = sb.wait_state("holding")
    assert st["exit_code"] == 0
    assert st["waits"][0]["kind"] == "after-command"
    sb.cli_ok("release")
    assert d.wait() == 0, d.describe()


def test_always_window_elapses(sb):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": "1s"})
    assert d.wait() == 0, d.describe()
    assert "after-command ended (timeout)" in d.stderr


# ---- release and extend --------------------------------------------------------------


def test_release_during_training_prevents_later_hold(sb):
    cmd = wait_script(sb, code=1)
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
    assert sb.status()["state"] == "training"
    r = sb.cli_ok("release")
    assert "no hold will follow" in r.stdout
    assert sb.status()["released"] is True
    sb.marker("go").touch()
    assert d.wait() == 1, d.describe()


def test_extend_moves_deadline(sb):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
    before = sb.wait_state("holding")["waits"][0]
    sb.cli_ok("extend", "10m")
    after = sb.status()["waits"][0]
    assert parse_iso(after["deadline"]) - parse_iso(before["deadline"]) >= 600 - 2
    assert after["remaining_s"] > before["remaining_s"] + 500
    assert d.alive()
    sb.cli_ok("release")
    assert d.wait() == 0


def test_extend_without_hold_fails(sb):
    cmd = wait_script(sb)
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "never"})
    r = sb.cli("extend", "10m")
    assert r.returncode == 1
    assert "nothing is holding" in r.stderr
    sb.marker("go").touch()
    assert d.wait() == 0


def test_extend_bad_duration(sb):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
    sb.wait_state("holding")
    r = sb.cli("extend", "soon")
    assert r.returncode == 2
    assert "soon" in r.stderr
    sb.cli_ok("release")
    assert d.wait() == 0


# ---- before-start --------------------------------------------------------------------


def test_hold_before_waits_for_continue(sb):
    cmd = sb.script("train.sh", f"touch {sb.root}/started\nexit 0\n")
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD_BEFORE": "1", "PORTHOLE_WINDOW": LONG, "PORTHOLE_HOLD": "never"})
    assert d.ready["state"] == "waiting-before-start"
    assert d.ready["deadline"] is not None
    st = sb.status()
    assert st["state"] == "waiting-before-start"
    assert [w["kind"] for w in st["waits"]] == ["before-start"]
    time.sleep(0.5)  # a chance for a wrongly started command to show itself
    assert not sb.marker("started").exists()
    r = sb.cli_ok("continue")
    assert "1 wait ended" in r.stdout
    wait_for(sb.marker("started").exists, what="the command to start after continue")
    assert d.wait() == 0, d.describe()


def test_hold_before_window_elapses_then_starts(sb):
    cmd = sb.script("train.sh", f"touch {sb.root}/started\nexit 4\n")
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD_BEFORE": "1", "PORTHOLE_WINDOW": "2s", "PORTHOLE_HOLD": "never"})
    assert d.ready["state"] == "waiting-before-start"
    assert d.wait() == 4, d.describe()
    assert sb.marker("started").exists()


def test_hold_before_release_starts_command_without_after_hold(sb):
    cmd = sb.script("train.sh", f"touch {sb.root}/started\nexit 1\n")
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD_BEFORE": "1", "PORTHOLE_WINDOW": LONG, "PORTHOLE_HOLD": "always"})
    sb.cli_ok("release")
    assert d.wait() == 1, d.describe()
    assert sb.marker("started").exists()


def test_continue_with_nothing_waiting_fails(sb):
    cmd = wait_script(sb)
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "never"})
    r = sb.cli("continue")
    assert r.returncode == 1
    assert "nothing to continue" in r.stderr
    sb.marker("go").touch()
    assert d.wait() == 0


# ---- breakpoints ---------------------------------------------------------------------


def breakpoint_script(sb, name="epoch-3", extra=""):
    return sb.script(
        "train.sh",
        f"""touch {sb.root}/before-bp
porthole breakpoint {name} {extra} 2>{sb.root}/bp.err || exit 9
touch {sb.root}/after-bp
exit 0
""",
    )


def wait_breakpoint(sb, name):
    def check():
        st = sb.status_or_none()
        return st if st and any(w["kind"] == "breakpoint" and w["name"] == name for w in st["waits"]) else None

    return wait_for(check, what=f"breakpoint {name} in status")


def test_breakpoint_continue(sb):
    cmd = breakpoint_script(sb)
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "never", "PORTHOLE_WINDOW": LONG})
    st = wait_breakpoint(sb, "epoch-3")
    assert st["state"] == "training"
    assert sb.marker("before-bp").exists()
    assert not sb.marker("after-bp").exists()
    text = sb.cli_ok("status").stdout
    assert "epoch-3" in text
    r = sb.cli("continue", "other-name")
    assert r.returncode == 1
    assert not sb.marker("after-bp").exists()
    r = sb.cli_ok("continue", "epoch-3")
    assert "1 wait ended" in r.stdout
    assert d.wait() == 0, d.describe()
    assert sb.marker("after-bp").exists()
    assert "ended (continue)" in sb.marker("bp.err").read_text()


def test_breakpoint_timeout(sb):
    cmd = breakpoint_script(sb, "quick", "--timeout 1s")
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "never", "PORTHOLE_WINDOW": LONG})
    assert d.wait() == 0, d.describe()
    assert sb.marker("after-bp").exists()
    assert "ended (timeout)" in sb.marker("bp.err").read_text()


def test_breakpoint_release(sb):
    cmd = breakpoint_script(sb)
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
    wait_breakpoint(sb, "epoch-3")
    sb.cli_ok("release")
    # the breakpoint ends, and no hold follows the command
    assert d.wait() == 0, d.describe()
    assert sb.marker("after-bp").exists()
    assert "ended (release)" in sb.marker("bp.err").read_text()


# ---- signals -------------------------------------------------------------------------


@pytest.mark.parametrize("pid1", [pytest.param(False, id="subreaper"), pytest.param(True, id="pid1")])
def test_sigterm_during_hold_ends_it_within_a_second(sb, pid1, request):
    if pid1:
        request.getfixturevalue("need_unshare")
    d = sb.run_cmd(["sh", "-c", "exit 5"], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG}, pid1=pid1)
    d.host_pid
    sb.wait_state("holding")
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    rc = d.wait()
    elapsed = time.monotonic() - t0
    assert rc == 5, d.describe()
    assert elapsed < 1.0, f"porthole took {elapsed:.2f}s to end the hold after SIGTERM"


def test_sigterm_before_start_exits_143_without_running_command(sb):
    cmd = sb.script("train.sh", f"touch {sb.root}/started\nexit 0\n")
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD_BEFORE": "1", "PORTHOLE_WINDOW": LONG})
    assert sb.status()["state"] == "waiting-before-start"
    d.signal(signal.SIGTERM)
    assert d.wait() == 143, d.describe()
    time.sleep(0.3)
    assert not sb.marker("started").exists()


def test_sigterm_while_training_is_forwarded_and_no_hold_follows(sb):
    rec = sb.script("recorder.py", "#!" + PYTHON + "\n" + RECORDER)
    out, ready = sb.marker("signals"), sb.marker("recorder-ready")
    d = sb.run_cmd([str(rec), str(out), str(ready)], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
    wait_for(ready.exists, what="the recorder to install its handlers")
    d.signal(signal.SIGTERM)
    assert d.wait() == 42, d.describe()
    assert read_lines(out) == ["SIGTERM"]


def test_sigterm_kills_default_command_no_hold(sb):
    cmd = wait_script(sb)
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
    assert sb.status()["state"] == "training"
    d.signal(signal.SIGTERM)
    assert d.wait() == 143, d.describe()


# ---- max hold and sessions -----------------------------------------------------------


def test_max_hold_bounds_the_window(sb):
    d = sb.run_cmd(["sh", "-c", "exit 6"],
                   env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": "30s", "PORTHOLE_MAX_HOLD": "2s"})
    # ends on its own long before the 30 s window
    assert d.wait(timeout=20) == 6, d.describe()


def test_max_hold_bounds_a_held_session(sb):
    cmd = wait_script(sb, code=6)
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": "30s",
                                    "PORTHOLE_IDLE_GRACE": "30s", "PORTHOLE_MAX_HOLD": "3s"})
    att = sb.spawn_cli("attach")
    wait_for(lambda: sb.status()["sessions"] == 1, what="the attach session")
    sb.marker("go").touch()
    # the session would keep the hold forever; max hold ends it
    assert d.wait(timeout=20) == 6, d.describe()
    att.wait(timeout=20)


def test_attach_session_keeps_hold_then_idle_grace(sb):
    cmd = wait_script(sb)
    grace = 4
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": "1s",
                                    "PORTHOLE_IDLE_GRACE": f"{grace}s", "PORTHOLE_MAX_HOLD": "5m"})
    a1 = sb.spawn_cli("attach")
    a2 = sb.spawn_cli("attach")
    wait_for(lambda: sb.status()["sessions"] == 2, what="two attach sessions")
    sb.marker("go").touch()
    st = sb.wait_state("holding")
    time.sleep(2.5)  # well past the 1 s window
    assert d.alive(), d.describe()
    st = sb.status()
    assert st["state"] == "holding"
    assert st["waits"][0]["held_by_sessions"] is True

    a1.send_signal(signal.SIGINT)
    a1.wait(timeout=20)
    wait_for(lambda: sb.status()["sessions"] == 1, what="one session left")
    time.sleep(1.5)
    assert d.alive(), "one session is still connected; the hold must go on"
    assert sb.status()["waits"][0]["held_by_sessions"] is True

    t_detach = time.time()
    a2.send_signal(signal.SIGINT)
    a2.wait(timeout=20)
    st = sb.status()
    assert st["state"] == "holding", "the hold must last the idle grace after the last session ends"
    assert st["sessions"] == 0
    w = st["waits"][0]
    assert w["held_by_sessions"] is False
    deadline = parse_iso(w["deadline"])
    assert deadline >= t_detach + grace - 1.5
    assert deadline <= time.time() + grace + 1.5
    assert d.wait() == 0, d.describe()


def test_attach_session_counts_in_status(sb):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
    sb.wait_state("holding")
    assert sb.status()["sessions"] == 0
    a = sb.spawn_cli("attach")
    wait_for(lambda: sb.status()["sessions"] == 1, what="the attach session")
    a.send_signal(signal.SIGINT)
    a.wait(timeout=20)
    wait_for(lambda: sb.status()["sessions"] == 0, what="the session to end")
    sb.cli_ok("release")
    assert d.wait() == 0


# ---- serve + hold --------------------------------------------------------------------


def test_serve_hold_release(sb):
    d = sb.start(["serve"], env={"PORTHOLE_WINDOW": LONG})
    assert d.ready["state"] == "serving"
    h = sb.spawn_cli("hold")
    wait_for(lambda: any(w["kind"] == "after-command" for w in sb.status()["waits"]), what="the hold in status")
    assert h.poll() is None
    sb.cli_ok("release")
    out, err = h.communicate(timeout=20)
    assert h.returncode == 0
    assert "ended (release)" in err
    d.signal(signal.SIGTERM)
    assert d.wait() == 0


@pytest.mark.parametrize("args", [["--window", "2s"], ["--window=2s"]], ids=["space", "equals"])
def test_serve_hold_window(sb, args):
    """`porthole hold --window D` holds for D, not for the daemon's window."""
    d = sb.start(["serve"], env={"PORTHOLE_WINDOW": "30m"})
    h = sb.spawn_cli("hold", *args)
    st = wait_for(lambda: (lambda s: s if s["waits"] else None)(sb.status()), what="the hold in status")
    assert st["waits"][0]["remaining_s"] <= 2, f"hold --window ignored: {st['waits']}"
    out, err = h.communicate(timeout=20)
    assert h.returncode == 0
    assert "ended (timeout)" in err
    d.signal(signal.SIGTERM)
    assert d.wait() == 0


# ---- no porthole ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "--json"],
        ["release"],
        ["extend", "10m"],
        ["continue"],
        ["continue", "epoch-1"],
        ["breakpoint", "epoch-1"],
        ["hold"],
        ["attach"],
    ],
    ids=lambda a: " ".join(a),
)
@pytest.mark.parametrize("stale", [False, True], ids=["no-socket", "stale-socket"])
def test_cli_without_porthole(sb, args, stale):
    if stale:
        stale_socket(sb.sock)
    r = sb.cli(*args)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "no porthole is running" in r.stderr
    assert str(sb.sock) in r.stderr
    assert r.stdout == ""


# ---- more hold rules -----------------------------------------------------------------


def test_session_keeps_before_start_hold(sb):
    cmd = sb.script("train.sh", f"touch {sb.root}/started\nexit 0\n")
    # The session must be attached before the window ends, which counts from
    # porthole's start: long enough for a slow CLI on a loaded machine.
    window = 20 if SLOW else 10
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD_BEFORE": "1", "PORTHOLE_WINDOW": f"{window}s",
                                    "PORTHOLE_IDLE_GRACE": "1s", "PORTHOLE_HOLD": "never"})
    a = sb.spawn_cli("attach")
    wait_for(lambda: sb.status()["sessions"] == 1, what="the attach session")
    assert not sb.marker("started").exists(), "the window ended before the session was attached"
    # 1 s past the window (the deadline is given to the second)
    time.sleep(max(0.0, parse_iso(d.ready["deadline"]) + 2.0 - time.time()))
    st = sb.status()
    assert st["state"] == "waiting-before-start", st
    assert not sb.marker("started").exists()
    a.send_signal(signal.SIGINT)
    a.wait(timeout=20)
    # the last session ended: after the idle grace the command starts
    assert d.wait() == 0, d.describe()
    assert sb.marker("started").exists()


def test_release_ends_later_breakpoints(sb):
    cmd = sb.script(
        "train.sh",
        f"""while [ ! -e {sb.root}/go ]; do sleep 0.05; done
porthole breakpoint late 2>{sb.root}/bp.err || exit 9
touch {sb.root}/after-bp
exit 0
""",
    )
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
    assert sb.status()["state"] == "training"
    sb.cli_ok("release")
    sb.marker("go").touch()
    assert d.wait() == 0, d.describe()
    assert sb.marker("after-bp").exists()


def test_continue_without_name_ends_every_breakpoint(sb):
    cmd = sb.script(
        "train.sh",
        f"""porthole breakpoint a 2>/dev/null && touch {sb.root}/after-a &
porthole breakpoint b 2>/dev/null && touch {sb.root}/after-b &
wait
exit 0
""",
    )
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "never", "PORTHOLE_WINDOW": LONG})
    wait_for(lambda: sorted(w["name"] for w in sb.status()["waits"]) == ["a", "b"], what="two breakpoints")
    r = sb.cli_ok("continue")
    assert "2 waits ended" in r.stdout
    assert d.wait() == 0, d.describe()
    assert sb.marker("after-a").exists() and sb.marker("after-b").exists()


def test_extend_cannot_pass_max_hold(sb):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": "30s",
                                                "PORTHOLE_MAX_HOLD": "4s"})
    sb.wait_state("holding")
    sb.cli("extend", "1h")
    assert d.wait(timeout=20) == 0, d.describe()


def test_sigterm_ends_hold_even_with_sessions(sb):
    cmd = wait_script(sb, code=5)
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
    a = sb.spawn_cli("attach")
    wait_for(lambda: sb.status()["sessions"] == 1, what="the attach session")
    sb.marker("go").touch()
    assert sb.wait_state("holding")["waits"][0]["held_by_sessions"] is True
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    rc = d.wait()
    elapsed = time.monotonic() - t0
    assert rc == 5, d.describe()
    assert elapsed < 1.0, f"porthole took {elapsed:.2f}s to end the hold after SIGTERM"
    a.wait(timeout=20)


def test_sigterm_during_breakpoint_no_hold(sb):
    cmd = breakpoint_script(sb)
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
    wait_breakpoint(sb, "epoch-3")
    d.signal(signal.SIGTERM)
    # forwarded to the command's group (the script and its `porthole breakpoint`); no hold follows
    assert d.wait() == 143, d.describe()
    assert not sb.marker("after-bp").exists()


def test_control_socket_flag(sb):
    other = sb.root / "other" / "ctl.sock"
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG},
                   settings=["--control-socket", str(other)])
    r = sb.cli("status", "--json", "--control-socket", str(other))
    assert r.returncode == 0, r.stderr
    r = sb.cli("status", env={"PORTHOLE_CONTROL_SOCKET": str(other)})
    assert r.returncode == 0, r.stderr
    assert sb.cli("status").returncode == 1  # nothing on the environment's socket
    sb.cli_ok("release", f"--control-socket={other}")
    assert d.wait() == 0


def test_release_ends_hold_with_sessions(sb):
    cmd = wait_script(sb, code=2)
    d = sb.run_cmd([str(cmd)], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
    a = sb.spawn_cli("attach")
    wait_for(lambda: sb.status()["sessions"] == 1, what="the attach session")
    sb.marker("go").touch()
    sb.wait_state("holding")
    sb.cli_ok("release")
    assert d.wait() == 2, d.describe()
    a.wait(timeout=20)


@pytest.mark.parametrize("case", ["no-porthole", "bad-duration", "nothing-to-continue"])
def test_cli_errors_use_error_prefix(sb, case):
    """The issue: stderr messages look like "porthole: error: ..."."""
    d = None
    if case == "no-porthole":
        r = sb.cli("status")
    else:
        d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": LONG})
        sb.wait_state("holding")
        r = sb.cli("extend", "soon") if case == "bad-duration" else sb.cli("continue")
    assert r.returncode != 0
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert lines, "expected an error message"
    assert all(l.startswith("porthole: error: ") for l in lines), r.stderr
    if d:
        sb.cli_ok("release")
        assert d.wait() == 0
