#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Cluster rendezvous benchmark (figures, not a test).

For a job of 3 and of 16 hosts in network namespaces (tests/netbed.py), with
`PORTHOLE_CLUSTER_SSH=1` and the AWS stand-in on the bridge:

  - all hosts but the last are started and have published (ready record);
  - t0: the last host's porthole is started;
  - every host's training command writes the time it started (it starts only
    after that host's rendezvous); algo-1's then ssh-es to every other host,
    retrying until each answers, and writes the time the last one did;
  - "all hosts reachable" = the latest of those times - t0.

Also measured: the stand-in's own latency (median FilterLogEvents round trip,
botocore, from the root namespace, spaced to stay inside the API's 5/s quota),
and the FilterLogEvents and GetLogEvents calls the job made (the leader
searches the records, the others read its roster) and how many were
throttled.  The goal: all reachable within 2 s beyond the stand-in's latency.

    PORTHOLE_BIN=build/std/porthole /usr/bin/python3 bench/cluster_bench.py [--hosts 3,16] [--runs N]

bench.py's `cluster` section calls run() (BENCH_CLUSTER_HOSTS, BENCH_CLUSTER_RUNS).
"""

import argparse
import math
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import netbed  # noqa: E402

GOAL_S = 2.0
REACH_TIMEOUT_S = 120


def train_script(run, hosts, is_first):
    """The training command: note when it started; on algo-1, reach every other host."""
    out = run.output
    reach = ""
    if is_first:
        others = " ".join(h for h in hosts if h != run.name)
        reach = f'''
for h in {others}; do
  ( end=$(( $(date +%s) + {REACH_TIMEOUT_S} ))
    until ssh -o BatchMode=yes -o ConnectTimeout=10 "$h" true 2>>"$OUT/reach.err"; do
      [ "$(date +%s)" -lt "$end" ] || {{ echo "$h" >> "$OUT/unreachable"; exit 1; }}
      sleep 0.05
    done ) &
done
wait
date +%s.%N > "$OUT/reached"
'''
    p = run.root / "train.sh"
    p.write_text(f'''#!/bin/sh
OUT="{out}"
date +%s.%N > "$OUT/started"
{reach}
exec sleep 3600
''')
    p.chmod(0o755)
    return p


def read_time(p):
    try:
        return float(p.read_text().strip())
    except (OSError, ValueError):
        return None


def filter_latency(bed, job, samples=15):
    """Median and spread of FilterLogEvents round trips as porthole makes them (same prefix and pattern)."""
    client = bed.standin.logs_client()
    times = []
    tries = 0
    while len(times) < samples and tries < samples * 4:
        tries += 1
        t = time.perf_counter()
        try:
            client.filter_log_events(logGroupName=netbed.LOG_GROUP, logStreamNamePrefix=f"{job}/",
                                     filterPattern="?host_key ?hold_end")
        except Exception as e:  # noqa: BLE001 - a throttled probe is not a latency sample
            if "Throttling" not in str(e):
                raise
            time.sleep(1.0)
            continue
        times.append(time.perf_counter() - t)
        time.sleep(0.25)  # the 5/s quota
    if not times:
        raise RuntimeError("every FilterLogEvents probe was throttled")
    return statistics.median(times), min(times), max(times)


def wait_published(run, timeout=120):
    """Until the host's identity record (with its client key) is in CloudWatch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e.get("event") in ("ready", "identity") for e in run.events()):
            return
        if not run.alive():
            raise RuntimeError(f"porthole on {run.name} exited:\n{run.describe()}")
        time.sleep(0.1)
    raise RuntimeError(f"{run.name} published nothing in {timeout} s:\n{run.describe()}")


def one_run(bed, n, k, log):
    names = bed.host_names[:n]
    job = f"bench-{n}-{k}"
    runs = bed.new_runs(job, hosts=names)
    env = {"PORTHOLE_CLUSTER_SSH": "1", "PORTHOLE_RENDEZVOUS_TIMEOUT": "5m", "PORTHOLE_HOLD": "never",
           "PORTHOLE_SSH": "embedded"}
    mark = bed.standin.control.requests()["last_seq"]
    scripts = {h: train_script(r, names, h == "algo-1") for h, r in runs.items()}
    last = names[-1]
    for h in names[:-1]:
        runs[h].start(["run", "--", str(scripts[h])], env)
    for h in names[:-1]:
        wait_published(runs[h])
    time.sleep(1.0)  # let the early hosts settle into waiting
    t0 = time.time()
    runs[last].start(["run", "--", str(scripts[last])], env)
    a1 = runs["algo-1"]
    deadline = time.monotonic() + REACH_TIMEOUT_S + 120
    while True:
        started = {h: read_time(r.output / "started") for h, r in runs.items()}
        reached = read_time(a1.output / "reached")
        if all(started.values()) and reached:
            break
        dead = [h for h, r in runs.items() if not r.alive()]
        if dead:
            raise RuntimeError(f"porthole exited on {dead}:\n{runs[dead[0]].describe()}")
        if time.monotonic() > deadline:
            missing = [h for h, v in started.items() if not v]
            raise RuntimeError(f"{n} hosts: not all reachable in time (no training start on {missing}; "
                               f"algo-1 reached all: {bool(reached)})\n{runs[missing[0] if missing else 'algo-1'].describe()}")
        time.sleep(0.05)
    if (a1.output / "unreachable").exists():
        raise RuntimeError(f"algo-1 could not reach {(a1.output / 'unreachable').read_text().split()}: "
                           f"{(a1.output / 'reach.err').read_text()[-2000:]}")
    rdv = max(started.values()) - t0
    total = max(max(started.values()), reached) - t0
    reqs = bed.standin.control.requests(since=mark, operation="FilterLogEvents")["requests"]
    throttled = sum(1 for q in reqs if q.get("error") == "ThrottlingException")
    gets = bed.standin.control.requests(since=mark, operation="GetLogEvents")["requests"]
    get_throttled = sum(1 for q in gets if q.get("error") == "ThrottlingException")
    bed.stop_runs()  # quiet: no host polls while the stand-in's own latency is measured
    time.sleep(1.0)
    lat = filter_latency(bed, job)
    log(f"  cluster: {n} hosts, run {k}: rendezvous {rdv:.2f} s, all reachable {total:.2f} s, "
        f"FilterLogEvents {len(reqs)} ({throttled} throttled), GetLogEvents {len(gets)} ({get_throttled} throttled), "
        f"stand-in median {lat[0] * 1000:.1f} ms")
    return {"rdv": rdv, "total": total, "filter_calls": len(reqs), "throttled": throttled,
            "get_calls": len(gets), "get_throttled": get_throttled, "lat": lat}


def measure(porthole, sizes=(3, 16), runs=2, log=print):
    res = {}
    with netbed.NetBed(hosts=max(sizes), outsider=False, porthole=porthole) as bed:
        for n in sizes:
            res[n] = [one_run(bed, n, k, log) for k in range(1, runs + 1)]
    return res


def rows(res):
    out = []
    for n, rs in res.items():
        total = statistics.median(r["total"] for r in rs)
        rdv = statistics.median(r["rdv"] for r in rs)
        lat = statistics.median(r["lat"][0] for r in rs)
        beyond = total - lat
        out.append((f"{n} hosts: last host's start to all reachable (median of {len(rs)})", f"{total:.2f} s"))
        out.append((f"  {n} hosts: to every host's rendezvous done", f"{rdv:.2f} s"))
        out.append((f"  {n} hosts: stand-in latency, median FilterLogEvents round trip",
                    f"{lat * 1000:.1f} ms (min {min(r['lat'][1] for r in rs) * 1000:.1f}, "
                    f"max {max(r['lat'][2] for r in rs) * 1000:.1f})"))
        out.append((f"{n} hosts: beyond the stand-in's latency", f"{beyond:.2f} s", f"< {GOAL_S:g} s",
                    beyond < GOAL_S))
        # After the last record is in, the leader needs one FilterLogEvents call (5/s quota) to see
        # it, and each other host one GetLogEvents call (25/s) to read the leader's roster: n - 1
        # calls span ceil((n - 1)/25) one-second windows, the floor for reading alone, whatever
        # porthole does.  (Before the roster, every host needed a FilterLogEvents call:
        # ceil(n/5) windows.)
        out.append((f"  {n} hosts: floor set by the quotas (one FilterLogEvents, then one GetLogEvents per other host)",
                    f"{max(0, math.ceil((n - 1) / 25) - 1):.2f} s"))
        out.append((f"  {n} hosts: FilterLogEvents calls per run / throttled",
                    " ".join(f"{r['filter_calls']}/{r['throttled']}" for r in rs)))
        out.append((f"  {n} hosts: GetLogEvents calls per run / throttled",
                    " ".join(f"{r.get('get_calls', 0)}/{r.get('get_throttled', 0)}" for r in rs)))
    return out


def run(porthole, sizes=None, runs=None, log=lambda s: print(s, flush=True)):
    """bench.py's `cluster` section: (figure, value[, goal, met]) tuples."""
    if sizes is None:
        sizes = tuple(int(x) for x in os.environ.get("BENCH_CLUSTER_HOSTS", "3,16").split(",") if x)
    if runs is None:
        runs = int(os.environ.get("BENCH_CLUSTER_RUNS", "2"))
    why = netbed.available()
    if why:  # not a failure of the benchmark: this machine cannot host the bed
        return [(f"skipped: no network namespaces here ({why})", "-")]
    return rows(measure(porthole, sizes, runs, log))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hosts", default="3,16", help="comma-separated job sizes (default 3,16)")
    ap.add_argument("--runs", type=int, default=2, help="runs per size (default 2)")
    a = ap.parse_args()
    b = os.environ.get("PORTHOLE_BIN") or str(HERE.parent / "build" / "std" / "porthole")
    porthole = str(Path(b).resolve()) if os.path.exists(b) else shutil.which("porthole")
    res = run(porthole, tuple(int(x) for x in a.hosts.split(",") if x), a.runs)
    for r in res:
        print(f"{r[0]}: {r[1]}" + (f"  (goal {r[2]}: {'met' if r[3] else 'MISSED'})" if len(r) > 2 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
