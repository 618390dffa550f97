#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""CloudWatch publisher benchmark (figures, not a test).

Starts the AWS stand-in and `porthole serve` publishing to it, has porthole
log 100,000 warnings (the hidden control command {"cmd":"log"}), and prints:
  - wall time until CloudWatch (the stand-in) stored all of them,
  - requests made (PutLogEvents, CreateLogStream, all),
  - porthole's peak RSS (VmHWM),
  - requests during an idle period afterwards (must be 0).

    PORTHOLE_BIN=build/std/porthole /usr/bin/python3 bench/cw_bench.py [--events N] [--idle SECONDS]
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import controlclient  # noqa: E402
from awsstandin.client import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, StandinProcess  # noqa: E402

GROUP = "/aws/sagemaker/TrainingJobs"
STREAM = "bench/algo-1-0/ssm"


def control(sock, req):
    reply = controlclient.call(sock, req, timeout=600)
    if not reply.get("ok"):
        raise RuntimeError(reply)


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--idle", type=float, default=60.0)
    args = ap.parse_args()
    binary = os.environ.get("PORTHOLE_BIN") or os.path.join(HERE, "..", "build", "std", "porthole")
    tmp = tempfile.mkdtemp(prefix="cwbench-")
    standin = StandinProcess()
    standin.start()
    proc = None
    try:
        standin.control.create_group(GROUP)
        sock = os.path.join(tmp, "control.sock")
        env = {
            "PATH": "/usr/bin:/bin", "HOME": tmp,
            "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": standin.url,
            "AWS_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
            "AWS_EC2_METADATA_DISABLED": "true",
            "PORTHOLE_CLOUDWATCH": "on", "PORTHOLE_LOG_STREAM": STREAM, "PORTHOLE_JOB": "bench",
            "PORTHOLE_SPOOL_DIR": os.path.join(tmp, "spool"), "PORTHOLE_CONTROL_SOCKET": sock,
            "PORTHOLE_ML_ROOT": os.path.join(tmp, "ml"), "PORTHOLE_CONFIG": "/dev/null", "PORTHOLE_SSH": "off",
        }
        with open(os.path.join(tmp, "stderr"), "wb") as err:
            proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 30
        while not os.path.exists(sock):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("porthole did not start")
            time.sleep(0.02)

        def stored():
            return standin.control.counters().get("events_stored", 0)

        while stored() < 1:  # the ready event: stream created, connection warm
            time.sleep(0.05)
        base = stored()
        mark = standin.control.requests()["last_seq"]
        rss_before = vm(proc.pid, "VmRSS")
        t0 = time.monotonic()
        chunk = 10000
        for i in range(0, args.events, chunk):
            control(sock, {"cmd": "log", "msg": f"bench warning {i // chunk}", "count": min(chunk, args.events - i)})
        t_logged = time.monotonic() - t0
        while stored() < base + args.events:
            if time.monotonic() - t0 > 600:
                raise RuntimeError(f"only {stored() - base} of {args.events} events stored after 600 s")
            time.sleep(0.01)
        wall = time.monotonic() - t0
        reqs = standin.control.requests(since=mark)["requests"]
        puts = [r for r in reqs if r.get("operation") == "PutLogEvents"]
        print(f"events:               {args.events}")
        print(f"wall time:            {wall:.2f} s  ({args.events / wall:,.0f} events/s; logging alone {t_logged:.2f} s)")
        print(f"requests:             {len(reqs)} total, {len(puts)} PutLogEvents "
              f"({args.events / max(1, len(puts)):,.0f} events per call), "
              f"{sum(1 for r in reqs if r.get('status') != 200)} failed")
        print(f"porthole RSS:         {rss_before / 1024:.1f} MiB before, peak (VmHWM) "
              f"{vm(proc.pid, 'VmHWM') / 1024:.1f} MiB")
        time.sleep(0.5)
        mark = standin.control.requests()["last_seq"]
        time.sleep(args.idle)
        idle = standin.control.requests(since=mark)["requests"]
        print(f"idle {args.idle:.0f} s:            {len(idle)} requests")
        spool = os.path.join(tmp, "spool")
        print(f"spool after:          {sum(os.path.getsize(os.path.join(spool, f)) for f in os.listdir(spool))} bytes")
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        standin.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
