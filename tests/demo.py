#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""porthole demo: a simulated 2-host SageMaker training job that fails.

    make demo                          (or)
    PORTHOLE_BIN=build/std/porthole /usr/bin/python3 tests/demo.py

A temporary /opt/ml says this container is algo-1 of a 2-host job
(algo-1, algo-2).  The job's `train` script prints a few epochs, pauses at
`porthole breakpoint epoch-2`, and then fails with status 3.  It runs as
SageMaker would run an image whose ENTRYPOINT is porthole:

    porthole run -- train          (PORTHOLE_HOLD=on-failure, window 2m
                                    from the porthole_window hyperparameter)

porthole's SSH endpoint listens on a free loopback port (PORTHOLE_SSH_PORT=0)
and accepts a throwaway Ed25519 key the demo makes; the demo pins the host
key from the ready record in a known_hosts file and prints the `ssh` line to
paste (sessions run as porthole's user).  Without a terminal it runs that ssh
itself with a command that shows the training job's environment.

On a terminal, the demo tells you what to type in another terminal
(`porthole status`, `porthole continue epoch-2`, `porthole release`) and
waits for you.  Without a terminal on stdin (CI, `make demo | ...`), or with
DEMO_AUTO=1, it types those commands itself.  Either way it ends with
porthole's exit status (3, the command's) and the failure file, and removes
its temporary tree and every process it started.

The demo is a list of steps (STEPS below); later features (CloudWatch) add
theirs to it.  Exit status: 0 when everything happened as described.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proctools import kill_session  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SSH = shutil.which("ssh", path="/usr/bin:/bin") or "/usr/bin/ssh"
SSH_KEYGEN = shutil.which("ssh-keygen", path="/usr/bin:/bin") or "/usr/bin/ssh-keygen"
# What the automatic SSH step runs in its session: the training job's environment.
SSH_DEMO_COMMAND = ('echo "$(id -un)@$(hostname): job $TRAINING_JOB_NAME, ML root $PORTHOLE_ML_ROOT"; '
                    'porthole status')
STEP_TIMEOUT = 30  # seconds any automatic step may wait for porthole

TRAIN_SCRIPT = r"""#!/bin/sh
# A stand-in for a SageMaker training script: a few epochs, a breakpoint,
# then a failure.  It calls the porthole CLI directly (no lifecycle/porthole.sh).
epochs=$(sed -n 's/.*"epochs": *"\([0-9]*\)".*/\1/p' "$PORTHOLE_ML_ROOT/input/config/hyperparameters.json")
echo "train: starting ${epochs:-3} epochs"
loss=90
epoch=1
while [ "$epoch" -le "${epochs:-3}" ]; do
	sleep 0.3
	loss=$((loss * 6 / 10))
	echo "train: epoch $epoch loss 0.$loss"
	if [ "$epoch" -eq 2 ]; then
		porthole breakpoint epoch-2 || echo "train: (no porthole; going on)"
	fi
	if [ "$epoch" -eq 3 ]; then
		echo "train: RuntimeError: CUDA out of memory (simulated)" >&2
		exit 3
	fi
	epoch=$((epoch + 1))
done
"""


class DemoFailed(Exception):
    pass


def find_porthole():
    b = os.environ.get("PORTHOLE_BIN")
    if b:
        return str(Path(b).resolve())
    for cand in (REPO / "build" / "std" / "porthole", REPO / "agent" / "porthole"):
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return shutil.which("porthole")


class Demo:
    def __init__(self, porthole, auto):
        self.porthole = porthole
        self.auto = auto
        self.tmp = Path(tempfile.mkdtemp(prefix="porthole-demo-"))
        self.ml = self.tmp / "opt" / "ml"
        self.bin = self.tmp / "bin"
        self.sock = self.tmp / "run" / "control.sock"
        self.ssh_key = self.tmp / "ssh" / "id_ed25519"
        self.known_hosts = self.tmp / "ssh" / "known_hosts"
        self.proc = None
        self.lock = threading.Lock()
        self.reader = None
        self.ready = None
        self.rc = None
        self.n = 0
        # porthole sees only its own settings: none of the caller's PORTHOLE_*
        # (PORTHOLE_BIN is the Makefile's, not a porthole setting).
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PORTHOLE_")}
        self.env.update(
            PATH=f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            PORTHOLE_ML_ROOT=str(self.ml),
            PORTHOLE_CONTROL_SOCKET=str(self.sock),
            PORTHOLE_CONFIG=str(self.tmp / "porthole.conf"),
            PORTHOLE_HOLD="on-failure",
            TRAINING_JOB_NAME="porthole-demo",
        )

    # ---- output -------------------------------------------------------

    def say(self, text=""):
        with self.lock:
            print(text, flush=True)

    def heading(self, title):
        self.n += 1
        self.say(f"\n== {self.n}. {title}")

    def _pump(self):
        """Show what porthole and the training print, as it comes."""
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith('{"porthole":"ready"'):
                try:
                    self.ready = json.loads(line)
                except ValueError:
                    pass
                if len(line) > 100:
                    line = line[:96] + " ...}"
            self.say(f"  | {line}")

    # ---- porthole ---------------------------------------------------------

    def cli(self, *args, show=True):
        if show:
            self.say(f"  $ porthole {' '.join(args)}")
        r = subprocess.run([self.porthole, *args], env=self.env, capture_output=True, text=True, timeout=10)
        if show:
            for line in (r.stdout + r.stderr).rstrip("\n").splitlines():
                self.say(f"    {line}")
        return r

    def status(self):
        r = self.cli("status", "--json", show=False)
        try:
            return json.loads(r.stdout) if r.returncode == 0 else None
        except ValueError:
            return None

    def wait_until(self, what, pred, timeout=STEP_TIMEOUT):
        """Poll porthole's status until pred(status) holds.  None if porthole ended first."""
        deadline = time.monotonic() + timeout if timeout else None
        while deadline is None or time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return None
            st = self.status()
            if st and pred(st):
                return st
            time.sleep(0.1)
        raise DemoFailed(f"porthole did not reach \"{what}\" within {timeout}s")

    def wait_exit(self, timeout):
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DemoFailed(f"porthole still running {timeout}s after it should have ended") from None
        self.reader.join(timeout=2)
        return self.rc

    # ---- steps ------------------------------------------------------------

    def step_fake_job(self):
        self.heading("A fake SageMaker job: 2 hosts, this container is algo-1")
        cfg = self.ml / "input" / "config"
        cfg.mkdir(parents=True)
        (self.ml / "output").mkdir()
        (self.ml / "model").mkdir()
        self.sock.parent.mkdir(mode=0o700)
        (self.tmp / "porthole.conf").write_text("# the demo's (empty) conf file\n")
        (cfg / "resourceconfig.json").write_text(json.dumps({
            "current_host": "algo-1",
            "current_instance_type": "ml.g5.xlarge",
            "current_group_name": "homogeneousCluster",
            "hosts": ["algo-1", "algo-2"],
            "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": "ml.g5.xlarge",
                                 "hosts": ["algo-1", "algo-2"]}],
            "network_interface_name": "lo",
        }, indent=2))
        # The SageMaker Python SDK JSON-encodes every hyperparameter value.
        hyper = {"epochs": json.dumps("3"), "porthole_window": json.dumps("2m")}
        (cfg / "hyperparameters.json").write_text(json.dumps(hyper, indent=2))
        self.bin.mkdir()
        (self.bin / "porthole").symlink_to(self.porthole)
        (self.bin / "train").write_text(TRAIN_SCRIPT)
        (self.bin / "train").chmod(0o755)
        self.say(f"  {self.ml}/input/config/resourceconfig.json: algo-1 of algo-1, algo-2 (interface lo)")
        self.say(f"  {self.ml}/input/config/hyperparameters.json: {json.dumps(hyper)}")
        self.say(f"  {self.bin}/train: 3 epochs, `porthole breakpoint epoch-2`, then exit 3")

    def ssh_setup(self):
        """A throwaway client key for porthole's SSH endpoint, on a free loopback port."""
        self.ssh_key.parent.mkdir(mode=0o700)
        subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "porthole-demo", "-f", str(self.ssh_key)],
                       check=True, stdin=subprocess.DEVNULL)
        self.env.update(
            PORTHOLE_SSH="embedded",
            PORTHOLE_SSH_PORT="0",
            PORTHOLE_SSH_LISTEN="127.0.0.1",
            PORTHOLE_AUTHORIZED_KEYS=Path(str(self.ssh_key) + ".pub").read_text().strip(),
        )

    def step_start(self):
        self.heading("porthole run -- train   (ENTRYPOINT; PORTHOLE_HOLD=on-failure)")
        self.ssh_setup()
        self.proc = subprocess.Popen([self.porthole, "run", "--", "train"], env=self.env, cwd=self.tmp,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + STEP_TIMEOUT
        while self.ready is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise DemoFailed("porthole did not print its ready line")
            time.sleep(0.02)
        r = self.ready
        self.say(f"  ready: job {r['job']}, host {r['host']} of {', '.join(r['hosts'])}, ip {r['ip']}, "
                 f"hold {r['hold']}, window {r['window_s']}s (from the porthole_window hyperparameter)")
        if not self.auto:
            self.say("\n  In another terminal, type:\n"
                     f"    export PORTHOLE_CONTROL_SOCKET={self.sock} PATH={self.bin}:$PATH\n"
                     "    porthole status              # state, breakpoints, deadlines\n"
                     "    porthole continue epoch-2    # let the training go on from its breakpoint\n"
                     "    porthole release             # end the hold after the failure\n"
                     "  Each wait also ends by itself after the 2m window.  Ctrl-C here stops the demo.")

    def step_ssh(self):
        self.heading("SSH into the running job (porthole's embedded SSH server)")
        r = self.ready
        if not r.get("port") or not r.get("host_key"):
            raise DemoFailed(f"no SSH endpoint in the ready record: port {r.get('port')!r}")
        port = int(r["port"])
        self.known_hosts.write_text(f"[127.0.0.1]:{port} {r['host_key']}\n")
        self.say(f"  ready record: ssh port {port}, host key {r['fingerprint']}")
        self.say(f"  {self.ssh_key}: a throwaway client key (PORTHOLE_AUTHORIZED_KEYS)")
        self.say(f"  {self.known_hosts}: [127.0.0.1]:{port} {r['host_key'].split()[0]} ... (from the ready record)")
        argv = [SSH, "-p", str(port), "-i", str(self.ssh_key), "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "StrictHostKeyChecking=yes", "root@127.0.0.1"]
        self.say("  To log in (sessions run as porthole's own user, root here):")
        self.say("    " + " ".join(["ssh", *argv[1:]]))
        if not self.auto:
            return
        # BatchMode/IdentitiesOnly: never prompt, and offer only the demo's key.
        run = argv[:-1] + ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10", argv[-1]]
        self.say(f"  $ ssh ... root@127.0.0.1 '{SSH_DEMO_COMMAND}'")
        try:
            p = subprocess.run([*run, SSH_DEMO_COMMAND], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise DemoFailed(f"ssh did not finish within {STEP_TIMEOUT}s") from None
        for line in (p.stdout + p.stderr).rstrip("\n").splitlines():
            self.say(f"    {line}")
        if p.returncode != 0:
            raise DemoFailed(f"ssh exited {p.returncode}")
        if "porthole-demo" not in p.stdout:
            raise DemoFailed("the SSH session did not see the job's environment (TRAINING_JOB_NAME)")

    def step_breakpoint(self):
        self.heading("The training pauses at `porthole breakpoint epoch-2`")

        def at_bp(st):
            return any(w["kind"] == "breakpoint" and w["name"] == "epoch-2" for w in st["waits"])

        if not self.wait_until("breakpoint epoch-2", at_bp):
            raise DemoFailed("porthole ended before the breakpoint")
        if self.auto:
            self.cli("status")
            self.cli("continue", "epoch-2")
        else:
            self.say("  waiting for you: `porthole continue epoch-2` (or 2m)")
            self.wait_until("continue", lambda st: not at_bp(st), timeout=None)

    def step_hold(self):
        self.heading("The training fails; porthole holds the container (on-failure)")
        st = self.wait_until("holding", lambda st: st["state"] == "holding")
        if st is None and self.auto:
            raise DemoFailed("porthole did not hold after the failure")
        if st is None:
            self.say("  porthole ended without holding (a `porthole release` ends this hold and any later one)")
        elif self.auto:
            time.sleep(0.2)  # let the failure's messages show first
            self.cli("status")
            self.cli("release")
        else:
            self.say("  waiting for you: `porthole status`, then `porthole release` (or 2m)")
        self.wait_exit(timeout=30 if self.auto else 300)

    def step_result(self):
        self.heading("Result")
        failure = self.ml / "output" / "failure"
        text = failure.read_text().strip() if failure.exists() else None
        self.say(f"  porthole exit status: {self.rc} (the training command's)")
        self.say(f"  {failure}: {text!r}" if text else f"  {failure}: (none)")
        if self.rc != 3:
            raise DemoFailed(f"expected exit status 3, got {self.rc}")
        if not text:
            raise DemoFailed("porthole wrote no failure file")

    STEPS = ("step_fake_job", "step_start", "step_ssh", "step_breakpoint", "step_hold", "step_result")

    # ---- run / clean up --------------------------------------------------

    def run(self):
        for name in self.STEPS:
            getattr(self, name)()

    def cleanup(self):
        if self.proc is not None:
            kill_session(self.proc.pid, term_grace=3.0)
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            if self.reader:
                self.reader.join(timeout=2)
            if self.proc.stdout:
                self.proc.stdout.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    porthole = find_porthole()
    if not porthole:
        print("demo: no porthole binary; run `make` or set PORTHOLE_BIN", file=sys.stderr)
        return 2
    auto = os.environ.get("DEMO_AUTO") == "1" or not sys.stdin.isatty()
    demo = Demo(porthole, auto)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    print(f"porthole demo ({'automatic' if auto else 'interactive'}; porthole {porthole}; temp {demo.tmp})",
          flush=True)
    try:
        demo.run()
    except DemoFailed as e:
        demo.say(f"\ndemo FAILED: {e}")
        return 1
    except KeyboardInterrupt:
        demo.say("\ndemo interrupted; cleaning up")
        return 130
    finally:
        demo.cleanup()
    demo.say("\ndemo done: porthole held the failed job for debugging, and the job still ended with its own "
             "status and failure file.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
