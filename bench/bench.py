#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""porthole benchmarks: figures, not tests.

    make bench                         (or)
    PORTHOLE_BIN=build/std/porthole /usr/bin/python3 bench/bench.py

Each section measures something and returns rows (figure, value, goal, met);
the table at the end says which goals were met.  A missed goal is reported,
never fatal: the exit status is 0 unless the benchmark itself could not run.

Sections (SECTIONS below):

  wrapper  porthole's own cost while a `sleep` "trains" under it:
           - CPU ticks (utime+stime, /proc/PID/stat) from the ready line to
             the end of the command; goal 0
           - VmRSS and VmHWM (/proc/PID/status) at the end; goal < 4 MiB
           - time from exec to the ready record (read from --ready-fd),
             median of runs of a no-op command with PORTHOLE_HOLD=never and
             the SSH endpoint on; goal < 10 ms (no network)
           - `porthole run -- true` end to end (spawn to reaped), side by
             side with tini (`tini -s -- true`) and dumb-init (`dumb-init
             true`) in the same run, interleaved, none of them PID 1; goal:
             porthole's median within 1.5x tini's
  static   the static binary (make static, or PORTHOLE_STATIC_BIN): its size
           (goal <= 6 MiB), then the wrapper and ssh sections again with it,
           beside the dynamic build's figures
  ssh      the embedded SSH server against OpenSSH's sshd and dropbear on
           loopback (bench/ssh_bench.py, which prints its own comparison
           table): connect+auth+`true` latency, `ssh cat` and `sftp get`
           throughput, the listener's idle RSS and idle CPU ticks
  cloudwatch  100,000 warning events through the AWS stand-in
           (bench/cw_bench.py): wall time, requests (PutLogEvents batches),
           porthole's RSS; then requests made over an idle minute; goal 0
  image-size  what porthole adds to an image (bench/image_size.py, also
           `make image-size`): the bytes of dockerfiles/debian's porthole
           layer and of its runtime libraries, against openssh-server's
           installed size; goal < 1/4.  Builds with podman (root, a few minutes)
  cluster  PORTHOLE_CLUSTER_SSH rendezvous in a 3- and a 16-host job in
           network namespaces (bench/cluster_bench.py, needs root): time from
           the last host's start until every host's training command started
           and algo-1 reached every other host over ssh, against the stand-in's
           own latency (median FilterLogEvents round trip); goal < 2 s beyond it

Environment:
  PORTHOLE_BIN   the binary (default: build/std/porthole, then PATH)
  BENCH_SECONDS  how long the command "trains" (default 60)
  BENCH_RUNS     startup runs (default 20; the side-by-side start takes 3x as many)
  BENCH_ONLY     comma-separated section names to run (default: all)
  BENCH_CW_IDLE  the cloudwatch section's idle period in seconds (60)
  BENCH_IDLE_SECONDS, BENCH_SSH_RUNS, BENCH_SSH_MIB, BENCH_SSH_XFER_RUNS
                 the ssh section's idle period (30), latency runs (30),
                 transfer size (512) and transfer runs (3)
  BENCH_CLUSTER_HOSTS, BENCH_CLUSTER_RUNS
                 the cluster section's job sizes (3,16) and runs per size (2)
"""

import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from proctools import kill_session  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Row:
    figure: str
    value: str
    goal: str = ""
    met: bool | None = None  # None: no goal, or not measured


class Context:
    """What every section gets: the binary, a scratch tree, a clean environment."""

    def __init__(self, porthole):
        self.porthole = porthole
        self.tmp = Path(tempfile.mkdtemp(prefix="porthole-bench-"))
        self.sids = []

    def ml_root(self, name, iface="lo"):
        """A minimal /opt/ml: one host, the address from `iface` (no route or DNS lookups)."""
        ml = self.tmp / name / "ml"
        (ml / "input" / "config").mkdir(parents=True)
        (ml / "output").mkdir()
        (ml / "input" / "config" / "resourceconfig.json").write_text(json.dumps(
            {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": iface}))
        return ml

    def env(self, name, **extra):
        """porthole's environment for one run: its own ML_ROOT, socket and conf, none of the caller's PORTHOLE_*."""
        e = {k: v for k, v in os.environ.items() if not k.startswith("PORTHOLE_")}
        conf = self.tmp / name / "porthole.conf"
        ml = self.ml_root(name) if not (self.tmp / name / "ml").exists() else self.tmp / name / "ml"
        conf.write_text("")
        e.update(PORTHOLE_ML_ROOT=str(ml), PORTHOLE_CONTROL_SOCKET=str(self.tmp / name / "control.sock"),
                 PORTHOLE_CONFIG=str(conf))
        e.update(extra)
        return e

    def spawn(self, argv, env, **kw):
        p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, start_new_session=True, **kw)
        self.sids.append(p.pid)
        return p

    def cleanup(self):
        for sid in self.sids:
            kill_session(sid)
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---- /proc helpers ---------------------------------------------------------

def cpu_ticks(pid):
    """utime + stime of pid itself (not its children), in clock ticks."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


def proc_status(pid):
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, val = line.partition(":")
        out[key] = val.strip()
    return out


def kib(text):
    return int(text.split()[0])  # "1234 kB"


def spawn_ready(argv, env, timeout=10):
    """Spawn porthole with --ready-fd on a pipe; (pid, seconds from spawn to
    the JSON ready record)."""
    r, w = os.pipe()
    try:
        os.set_inheritable(w, True)
        argv = [argv[0], argv[1], "--ready-fd", str(w)] + argv[2:]
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=quiet_fds())
        os.close(w)
        w = -1
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in buf:
            ready, _, _ = select.select([r], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(r, 65536) if ready else b""
            if not chunk:
                raise RuntimeError("porthole wrote no ready record on --ready-fd")
            buf += chunk
        took = time.perf_counter() - t0
        if not buf.startswith(b'{"porthole":"ready"'):
            raise RuntimeError(f"not a ready record on --ready-fd: {buf[:80]!r}")
        return pid, took
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def quiet_fds():
    """posix_spawn file actions: stdin, stdout and stderr on /dev/null."""
    return [(os.POSIX_SPAWN_OPEN, fd, "/dev/null", os.O_RDWR, 0) for fd in (0, 1, 2)]


def run_once(argv, env):
    """Seconds from spawning argv to reaping it (stdio on /dev/null)."""
    t0 = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, env, file_actions=quiet_fds())
    _, status = os.waitpid(pid, 0)
    took = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    return took


def fmt_ms(sec):
    return f"{sec * 1000:.2f} ms"


# ---- sections --------------------------------------------------------------

def bench_wrapper(ctx):
    """porthole run around a sleeping command: idle CPU, memory, startup time."""
    seconds = float(os.environ.get("BENCH_SECONDS", "60"))
    runs = int(os.environ.get("BENCH_RUNS", "20"))
    rows = []

    # 1. Startup: exec to the ready record, a no-op command, no hold, SSH on
    # (a port of its own, on loopback).
    env = ctx.env("startup", PORTHOLE_HOLD="never", PORTHOLE_SSH_PORT="0", PORTHOLE_SSH_LISTEN="127.0.0.1")
    true = shutil.which("true") or "/bin/true"
    times = []
    for _ in range(runs):
        pid, took = spawn_ready([ctx.porthole, "run", "--", true], env)
        times.append(took)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"porthole run -- true exited {os.waitstatus_to_exitcode(status)}")
    med = statistics.median(times)
    rows.append(Row(f"exec to ready record, median of {runs} (`run -- true`, hold never, SSH on)", fmt_ms(med),
                    "< 10 ms", med < 0.010))
    rows.append(Row("  min / max", f"{fmt_ms(min(times))} / {fmt_ms(max(times))}"))

    # 1b. End to end, side by side with the other inits, interleaved so a
    # busy moment costs them all alike.
    inits = {"porthole": [ctx.porthole, "run", "--", true]}
    for name, argv in (("tini", ["tini", "-s", "--", true]), ("dumb-init", ["dumb-init", true])):
        if shutil.which(argv[0]):
            inits[name] = [shutil.which(argv[0])] + argv[1:]
        else:
            rows.append(Row(f"  {name}: not installed (Debian package {name}; make deps)", "-"))
    inits["true alone"] = [true]
    e2e = {name: [] for name in inits}
    for _ in range(3 * runs):
        for name, argv in inits.items():
            e2e[name].append(run_once(argv, env))
    med = {name: statistics.median(v) for name, v in e2e.items()}
    for name in inits:
        rows.append(Row(f"`{name if name == 'true alone' else name + ' … true'}` end to end, median of {3 * runs}",
                        fmt_ms(med[name])))
    if "tini" in med:
        ratio = med["porthole"] / med["tini"]
        rows.append(Row("  porthole / tini", f"{ratio:.2f}x", "<= 1.5x", ratio <= 1.5))
    if "dumb-init" in med:
        rows.append(Row("  porthole / dumb-init", f"{med['porthole'] / med['dumb-init']:.2f}x"))

    # 2. A command that "trains" for `seconds`: porthole's own cost meanwhile.
    env = ctx.env("idle", PORTHOLE_HOLD="never")
    sleep = shutil.which("sleep") or "/bin/sleep"
    print(f"  wrapper: `porthole run -- sleep {seconds:g}` (BENCH_SECONDS to change) ...", flush=True)
    t0 = time.monotonic()
    r, w = os.pipe()
    p = ctx.spawn([ctx.porthole, "run", "--ready-fd", str(w), "--", sleep, f"{seconds:g}"], env,
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(w,))
    os.close(w)
    with os.fdopen(r, "rb") as f:
        if not f.readline().startswith(b'{"porthole":"ready"'):
            raise RuntimeError("porthole wrote no ready record on --ready-fd")
    ticks0 = cpu_ticks(p.pid)
    ctx0 = proc_status(p.pid)
    # Sample just before the command ends, while porthole still waits for it.
    time.sleep(max(0.0, seconds - (time.monotonic() - t0) - 0.3))
    ticks1 = cpu_ticks(p.pid)
    st = proc_status(p.pid)
    if p.wait(timeout=seconds + 10) != 0:
        raise RuntimeError(f"porthole run -- sleep exited {p.returncode}")
    idle = ticks1 - ticks0
    wakeups = (int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])
               - int(ctx0["voluntary_ctxt_switches"]) - int(ctx0["nonvoluntary_ctxt_switches"]))
    rss, hwm = kib(st["VmRSS"]), kib(st["VmHWM"])
    rows.append(Row(f"CPU ticks after ready, {seconds:g} s command (1 tick = {1000 // CLK_TCK} ms)", str(idle), "0",
                    idle == 0))
    rows.append(Row("  CPU ticks up to the ready line", str(ticks0)))
    rows.append(Row("  context switches after ready", str(wakeups)))
    rows.append(Row("VmRSS at the end", f"{rss / 1024:.2f} MiB", "< 4 MiB", rss * 1024 < 4 * MIB))
    rows.append(Row("VmHWM (peak RSS)", f"{hwm / 1024:.2f} MiB", "< 4 MiB", hwm * 1024 < 4 * MIB))
    rows.append(Row("  RssAnon / RssFile",
                    f"{kib(st['RssAnon']) / 1024:.2f} / {kib(st['RssFile']) / 1024:.2f} MiB"))
    return rows


def bench_ssh(ctx):
    """The embedded SSH server against OpenSSH and dropbear (bench/ssh_bench.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import ssh_bench

    return [Row(*r) for r in ssh_bench.run(ctx.porthole, ctx.tmp / "ssh")]


def bench_cloudwatch(ctx):
    """100,000 warnings through the AWS stand-in, then 60 s idle (bench/cw_bench.py)."""
    idle = os.environ.get("BENCH_CW_IDLE", "60")
    r = subprocess.run([sys.executable, str(Path(__file__).resolve().parent / "cw_bench.py"), "--idle", idle],
                       env={**os.environ, "PORTHOLE_BIN": str(ctx.porthole)}, capture_output=True, text=True,
                       timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"cw_bench.py failed ({r.returncode}): {r.stderr[-2000:]}")
    rows = []
    for line in r.stdout.splitlines():
        if ":" not in line:
            continue
        name, value = (x.strip() for x in line.split(":", 1))
        goal, met = "", None
        if name.startswith("idle"):
            goal, met = "0 requests", value.startswith("0 ")
        rows.append(Row(name, value, goal, met))
    return rows


def bench_image_size(ctx):
    """What porthole adds to an image, against openssh-server (bench/image_size.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import image_size

    print("  image-size: building dockerfiles/debian and two apt probes with podman ...", flush=True)
    table, notes = image_size.run()
    for n in notes:
        print("  " + n)
    return [Row(*r) for r in table]


def bench_cluster(ctx):
    """Cluster rendezvous in network namespaces (bench/cluster_bench.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import cluster_bench

    return [Row(*r) for r in cluster_bench.run(ctx.porthole)]


def static_binary():
    b = os.environ.get("PORTHOLE_STATIC_BIN")
    cand = Path(b) if b else REPO / "build" / "static" / "porthole"
    return str(cand.resolve()) if cand.is_file() else None


def bench_static(ctx):
    """The static binary (make static), measured like the dynamic one in the
    same run: its size, then the wrapper and ssh sections again."""
    static = static_binary()
    if not static:
        return [Row("static binary", "not built (make static, or set PORTHOLE_STATIC_BIN)")]
    size = os.stat(static).st_size
    rows = [Row("static: stripped size of the one file", f"{size / MIB:.2f} MiB", "<= 6 MiB", size <= 6 * MIB),
            Row("  dynamic build, for comparison (needs its libraries)", f"{os.stat(ctx.porthole).st_size / MIB:.2f} MiB")]
    sctx = Context(static)
    try:
        rows += [Row("static: " + r.figure.lstrip(), r.value, r.goal, r.met) for r in bench_wrapper(sctx)]
        rows += [Row("static: " + r.figure.lstrip(), r.value, r.goal, r.met) for r in bench_ssh(sctx)]
    finally:
        sctx.cleanup()
    return rows


SECTIONS = [
    ("wrapper", bench_wrapper),
    ("ssh", bench_ssh),
    ("static", bench_static),
    ("cloudwatch", bench_cloudwatch),
    ("image-size", bench_image_size),
    ("cluster", bench_cluster),
]


# ---- report ----------------------------------------------------------------

def print_table(results):
    headers = ("figure", "value", "goal", "result")
    table = []
    for section, rows in results:
        table.append((f"[{section}]", "", "", ""))
        for r in rows:
            result = "" if r.met is None else ("met" if r.met else "MISSED")
            table.append((r.figure, r.value, r.goal, result))
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for t in table:
        print("  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip())


def find_porthole():
    b = os.environ.get("PORTHOLE_BIN")
    if b:
        return str(Path(b).resolve())
    cand = REPO / "build" / "std" / "porthole"
    return str(cand) if cand.is_file() else shutil.which("porthole")


def main():
    porthole = find_porthole()
    if not porthole or not os.access(porthole, os.X_OK):
        print("bench: no porthole binary; run `make` or set PORTHOLE_BIN", file=sys.stderr)
        return 2
    sys.stdout.reconfigure(line_buffering=True)
    only = {s for s in os.environ.get("BENCH_ONLY", "").split(",") if s}
    version = subprocess.run([porthole, "version"], capture_output=True, text=True).stdout.strip()
    print(f"porthole bench: {version} ({porthole}); {os.cpu_count()} CPUs; {os.uname().release}")

    results, failed = [], []
    ctx = Context(porthole)
    try:
        for name, fn in SECTIONS:
            if only and name not in only:
                continue
            try:
                results.append((name, fn(ctx)))
            except Exception as e:  # a broken section must not hide the others
                results.append((name, [Row(f"section failed: {e}", "-")]))
                failed.append(name)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        ctx.cleanup()

    print()
    print_table(results)
    missed = [r.figure.strip() for _, rows in results for r in rows if r.met is False]
    print()
    if missed:
        print(f"{len(missed)} goal(s) missed: " + "; ".join(missed))
    else:
        print("all goals met")
    if failed:
        print("sections that could not run: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
