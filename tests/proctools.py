# SPDX-License-Identifier: Apache-2.0
"""Process helpers shared by the demo, the lifecycle tests and the bench:
everything a run starts lives in sessions it created (start_new_session), and
is found and ended by session id, whatever its parent became."""

import os
import signal
import time
from pathlib import Path


def session_pids(sid):
    """Live (non-zombie) processes whose session id is sid."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        # After the command name: state ppid pgrp session ...
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(d))
    return pids


def kill_session(sid, term_grace=2.0, kill_grace=2.0):
    """SIGTERM, then SIGKILL, every process in session sid."""
    for sig, grace in ((signal.SIGTERM, term_grace), (signal.SIGKILL, kill_grace)):
        pids = session_pids(sid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while session_pids(sid) and time.monotonic() < deadline:
            time.sleep(0.02)


def kill_namespace_run(proc, pid1, wait: float = 60.0):
    """End a run started in its own session whose PID 1 (as the host sees
    it) is pid1: SIGKILL that init, so every process in its namespace goes,
    and the session's group; then reap proc."""
    if proc.poll() is None:
        if pid1:
            try:  # the namespace's init: every process in it goes too
                os.kill(pid1, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        proc.wait(timeout=wait)
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired; nothing more to do
        pass
