# SPDX-License-Identifier: Apache-2.0
"""Cluster SSH (PORTHOLE_CLUSTER_SSH=1) on loopback, without network
namespaces: one or two "hosts", each a porthole with its own ML_ROOT and SSH
port on 127.0.0.1, publishing to the AWS stand-in.

porthole finds its home in passwd (as OpenSSH's ssh does), so each host runs
in a private mount namespace with its own directory bind-mounted over /root,
and its own /etc/hosts naming the job's hosts.  The 3-host network-namespace
bed is tests/integration/test_cluster.py.
"""

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from awsstandin.client import porthole_env  # noqa: E402
from porthole_harness import SLOW, Sandbox, children_of, porthole_bin, proc_state, wait_for  # noqa: E402
from sshutil import make_key  # noqa: E402

GROUP = "/aws/sagemaker/TrainingJobs"
WAIT = 90 if SLOW else 45

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a private mount namespace")


def gpus_here():
    return sum(1 for n in os.listdir("/dev") if re.fullmatch(r"nvidia\d+", n))


@pytest.fixture
def standin(standin):
    standin.control.create_group(GROUP)
    return standin


class Host:
    """One host of a job: a sandbox whose porthole runs with /root and
    /etc/hosts of its own."""

    def __init__(self, name, names, job, standin, etc_hosts="127.0.0.1 localhost\n"):
        self.name = name
        real = porthole_bin()
        self.sb = Sandbox()
        self.root_home = self.sb.root / "roothome"
        self.root_home.mkdir(mode=0o700)
        hosts_file = self.sb.root / "etc_hosts"
        hosts_file.write_text(etc_hosts)
        wrapper = self.sb.root / "porthole-ns"
        wrapper.write_text(
            "#!/bin/sh\n"
            f"exec unshare --mount --propagation private -- /bin/sh -c "
            f"'mount --bind {self.root_home} /root && mount --bind {hosts_file} /etc/hosts && exec \"$0\" \"$@\"' "
            f"{real} \"$@\"\n")
        wrapper.chmod(0o755)
        self.sb.bin = str(wrapper)
        self.sb.write_resourceconfig({"current_host": name, "hosts": names, "network_interface_name": "lo",
                                      "current_instance_type": "ml.g5.xlarge"})
        self.env = {
            **porthole_env(standin.url),
            "PORTHOLE_CLOUDWATCH": "on",
            "PORTHOLE_JOB": job,
            "PORTHOLE_SPOOL_DIR": str(self.sb.root / "spool"),
            "PORTHOLE_SSH": "embedded",
            "PORTHOLE_SSH_PORT": "0",
            "PORTHOLE_SSH_LISTEN": "127.0.0.1",
            "PORTHOLE_CLUSTER_SSH": "1",
            "PORTHOLE_RENDEZVOUS_TIMEOUT": "60s",
            "PORTHOLE_LOG_LEVEL": "debug",
        }
        self.d = None

    def wait_log(self, text, timeout=WAIT):
        return wait_for(lambda: text in self.d.stderr, timeout=timeout, what=f"{text!r} in {self.name}'s log")

    @property
    def ssh_dir(self):
        return self.root_home / ".ssh"

    def start(self, cmd, **env):
        e = dict(self.env)
        e.update(env)
        self.d = self.sb.run_cmd(cmd, env=e)
        return self.d.ready

    def cleanup(self):
        self.sb.cleanup()


@pytest.fixture
def hosts(standin):
    made = []

    def make(names, job, etc_hosts="127.0.0.1 localhost\n"):
        hs = [Host(n, names, job, standin, etc_hosts) for n in names]
        made.extend(hs)
        return hs
    try:
        yield make
    finally:
        for h in made:
            h.cleanup()


def test_record_files_and_status_one_host(hosts):
    (h,) = hosts(["algo-1"], "job-cl-one")
    # The user's own ~/.ssh/config, a link into their dotfiles, stays a
    # link, and their lines stay below porthole's block.
    h.ssh_dir.mkdir(mode=0o700)
    dotfiles = h.root_home / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "ssh_config").write_text("Host myhost\n  User someone\n")
    (h.ssh_dir / "config").symlink_to("../dotfiles/ssh_config")
    done = h.sb.marker("trained")
    rec = h.start(["sh", "-c", f"touch {done}; sleep 60"])

    key = rec["client_key"]
    assert re.fullmatch(r"ssh-ed25519 AAAA[A-Za-z0-9+/=]+ porthole-cluster@algo-1", key), key
    assert rec["gpus"] == gpus_here()
    wait_for(done.exists, timeout=WAIT, what="the training command")

    priv = h.ssh_dir / "porthole_cluster_ed25519"
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    assert "PRIVATE KEY" in priv.read_text()
    assert (h.ssh_dir / "porthole_cluster_ed25519.pub").read_text().strip() == key
    assert stat.S_IMODE(h.ssh_dir.stat().st_mode) == 0o700

    port = rec["port"]
    kh = (h.ssh_dir / "porthole_known_hosts").read_text().splitlines()
    assert kh == [f"[algo-1]:{port},[127.0.0.1]:{port} {rec['host_key']}"]

    assert (h.ssh_dir / "config").is_symlink()
    cfg = (h.ssh_dir / "config").read_text()
    assert stat.S_IMODE((h.ssh_dir / "config").stat().st_mode) == 0o600
    assert cfg.startswith("# BEGIN porthole cluster\n")
    block, user = cfg.split("# END porthole cluster\n")
    assert user == "Host myhost\n  User someone\n"
    assert "Host algo-1 127.0.0.1\n" in block and f"  Port {port}\n" in block
    assert "StrictHostKeyChecking yes" in block and "IdentitiesOnly yes" in block

    assert (h.sb.ml_root / "hostfile").read_text() == f"algo-1 slots={gpus_here() or 1}\n"

    st = h.sb.status()
    assert st["cluster"]["state"] == "ready" and st["cluster"]["hosts"] == 1, st
    # The key was made in the helper: PID 1 never maps libssh (unless the
    # build links it, as the sanitizer build does).
    linked = "libssh.so" in subprocess.run(["ldd", porthole_bin()], capture_output=True, text=True).stdout
    maps = Path(f"/proc/{h.d.proc.pid}/maps").read_text()
    assert linked or "/libssh.so" not in maps
    assert any("all 1 hosts published their keys" in ln for ln in h.d.stderr.splitlines())


def test_two_hosts_reach_each_other(hosts):
    a, b = hosts(["algo-1", "algo-2"], "job-cl-two")
    out_a, out_b = a.sb.marker("from-a"), b.sb.marker("from-b")
    ssh = "ssh -o BatchMode=yes -o ConnectTimeout=20"
    # Each host's training command logs in to the other by name, checked
    # strictly against what the other published; no key from the test.
    a.start(["sh", "-c", f"{ssh} algo-2 'echo $PORTHOLE_ML_ROOT' > {out_a} 2>&1; sleep 60"])
    b.start(["sh", "-c", f"{ssh} algo-1 'echo $PORTHOLE_ML_ROOT' > {out_b} 2>&1; sleep 60"])
    wait_for(lambda: out_a.exists() and out_a.read_text(), timeout=WAIT, what="algo-1's ssh to algo-2")
    wait_for(lambda: out_b.exists() and out_b.read_text(), timeout=WAIT, what="algo-2's ssh to algo-1")
    assert out_a.read_text().strip() == str(b.sb.ml_root), out_a.read_text()
    assert out_b.read_text().strip() == str(a.sb.ml_root), out_b.read_text()
    for h in (a, b):
        assert (h.sb.ml_root / "hostfile").read_text().splitlines() == [
            f"algo-{i} slots={gpus_here() or 1}" for i in (1, 2)]
        assert h.sb.status()["cluster"]["state"] == "ready"
    # An unknown key is still refused: cluster SSH trusts the published keys only.
    stranger = make_key(a.sb.root / "stranger")
    r = subprocess.run(["ssh", "-F", "/dev/null", "-i", str(stranger), "-o", "IdentitiesOnly=yes",
                        "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                        "-o", "UserKnownHostsFile=/dev/null", "-p", str(b.d.ready["port"]), "root@127.0.0.1",
                        "true"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 255 and "Permission denied" in r.stderr, r.stderr


def test_early_login_is_held_not_refused(hosts):
    # algo-1 has waited a while, so its polls have slowed down; algo-2 then
    # starts, finds algo-1's record at once and logs in to algo-1 before
    # algo-1 has polled again.  algo-1 holds that login until its own
    # rendezvous has algo-2's key, instead of refusing it.
    a, b = hosts(["algo-1", "algo-2"], "job-cl-early")
    out = b.sb.marker("from-b")
    a.start(["sleep", "60"])
    time.sleep(3)
    b.start(["sh", "-c", f"ssh -o BatchMode=yes algo-1 true; echo $? > {out}; sleep 60"])
    wait_for(lambda: out.exists() and out.read_text().strip(), timeout=WAIT, what="algo-2's ssh to algo-1")
    assert out.read_text().strip() == "0", a.d.stderr + b.d.stderr
    # The connection's process reports the login on a pipe that algo-1's
    # porthole reads and logs in its own time: maybe after the client is done.
    wait_for(lambda: [ln for ln in a.d.stderr.splitlines() if "logged in" in ln and "porthole-cluster@algo-2" in ln],
             timeout=WAIT, what="algo-2's login in algo-1's log")


def test_rendezvous_timeout_training_still_starts(hosts):
    a, _ = hosts(["algo-1", "algo-2"], "job-cl-timeout")
    done = a.sb.marker("trained")
    # Long enough for porthole to publish its own record and read it back
    # (status then says 1 of 2) on a loaded machine before it gives up.
    rdv = 20 if SLOW else 10
    t0 = time.monotonic()
    a.start(["sh", "-c", f"touch {done}; sleep 60"], PORTHOLE_RENDEZVOUS_TIMEOUT=f"{rdv}s")
    assert a.sb.status()["state"] == "waiting-before-start"
    # While waiting, status says how far the rendezvous got: itself, 1 of 2.
    wait_for(lambda: a.sb.status()["cluster"] == {"state": "rendezvous", "hosts": 1, "of": 2}, timeout=rdv,
             what="status showing 1 of 2 hosts")
    wait_for(done.exists, timeout=WAIT, what="the training command after the timeout")
    assert time.monotonic() - t0 >= rdv - 0.5
    errs = [ln for ln in a.d.error_lines() if "PORTHOLE_RENDEZVOUS_TIMEOUT" in ln]
    assert len(errs) == 1 and "algo-2" in errs[0], a.d.stderr
    st = a.sb.status()
    assert st["cluster"] == {"state": "failed", "hosts": 1, "of": 2, "trust": "keys", "reason": "timeout"}, st
    # What is known is written: algo-1's own entry.
    assert (a.ssh_dir / "porthole_known_hosts").read_text().startswith("[algo-1]:")
    assert (a.sb.ml_root / "hostfile").read_text() == f"algo-1 slots={gpus_here() or 1}\n"


def test_leader_never_publishes_times_out_naming_it(hosts):
    # algo-1, the leader that would write the roster, never comes: algo-2
    # reads no roster, and times out as it would without one, naming algo-1.
    _, b = hosts(["algo-1", "algo-2"], "job-cl-noleader")
    done = b.sb.marker("trained")
    b.start(["sh", "-c", f"touch {done}; sleep 60"], PORTHOLE_RENDEZVOUS_TIMEOUT="3s")
    wait_for(done.exists, timeout=WAIT, what="the training command after the timeout")
    errs = [ln for ln in b.d.error_lines() if "PORTHOLE_RENDEZVOUS_TIMEOUT" in ln]
    assert len(errs) == 1 and "cluster SSH: algo-1 published no" in errs[0], b.d.stderr
    st = b.sb.status()
    assert st["cluster"] == {"state": "failed", "hosts": 1, "of": 2, "trust": "keys", "reason": "timeout"}, st
    assert (b.ssh_dir / "porthole_known_hosts").read_text().startswith("[algo-2]:")
    assert (b.sb.ml_root / "hostfile").read_text() == f"algo-2 slots={gpus_here() or 1}\n"


def test_roster_read_back_with_the_aws_cli(hosts, standin):
    # Two hosts: algo-1, the leader, writes one roster event to
    # JOB/porthole-roster in the job's log group; the real aws CLI reads it
    # back with both hosts' current records, and algo-2 read that stream.
    a, b = hosts(["algo-1", "algo-2"], "job-cl-roster")
    mark = standin.control.requests()["last_seq"]
    ra = a.start(["sleep", "60"])
    rb = b.start(["sleep", "60"])
    for h in (a, b):
        wait_for(lambda: h.sb.status()["cluster"]["state"] == "ready", timeout=WAIT,
                 what=f"{h.name}'s rendezvous")
    events = standin.aws_get_log_events(GROUP, "job-cl-roster/porthole-roster")
    assert len(events) == 1, events
    roster = json.loads(events[0]["message"])
    assert roster["porthole"] == "roster" and roster["job"] == "job-cl-roster" and roster["leader"] == "algo-1"
    by_host = {e["host"]: e for e in roster["hosts"]}
    assert sorted(by_host) == ["algo-1", "algo-2"], roster
    for name, rec in (("algo-1", ra), ("algo-2", rb)):
        e = by_host[name]
        assert (e["ip"], e["port"], e["host_key"], e["client_key"], e["gpus"]) == (
            rec["ip"], rec["port"], rec["host_key"], rec["client_key"], rec["gpus"]), (e, rec)
        assert e["record_ms"] > 0
    gets = standin.control.requests(since=mark, operation="GetLogEvents")["requests"]
    assert gets and all(q["logStreamName"] == "job-cl-roster/porthole-roster" for q in gets), gets


def test_exited_host_still_counts_as_published(hosts):
    # algo-1 gives up first, trains and exits; its last record (state
    # exiting) still carries its client key, so algo-2, still waiting,
    # names only the host that never came.
    a, b, _ = hosts(["algo-1", "algo-2", "algo-3"], "job-cl-exited")
    a.start(["true"], PORTHOLE_RENDEZVOUS_TIMEOUT="2s", PORTHOLE_HOLD="never")
    b.start(["sleep", "60"], PORTHOLE_RENDEZVOUS_TIMEOUT="8s")
    assert a.d.wait() == 0
    b.wait_log("PORTHOLE_RENDEZVOUS_TIMEOUT")
    errs = [ln for ln in b.d.error_lines() if "PORTHOLE_RENDEZVOUS_TIMEOUT" in ln]
    assert len(errs) == 1 and "cluster SSH: algo-3 published no" in errs[0], b.d.stderr


def test_cloudwatch_unreadable_training_still_starts(hosts, standin):
    (h,) = hosts(["algo-1"], "job-cl-denied")
    standin.control.add_fault("access_denied", service="logs", operation="FilterLogEvents", count=100)
    done = h.sb.marker("trained")
    h.start(["sh", "-c", f"touch {done}; sleep 60"])
    wait_for(done.exists, timeout=WAIT, what="the training command")
    errs = [ln for ln in h.d.error_lines() if "cluster SSH" in ln]
    assert len(errs) == 1, h.d.stderr
    assert "logs:FilterLogEvents" in errs[0] and "training starts" in errs[0], errs[0]
    st = h.sb.status()
    assert st["cluster"]["state"] == "failed" and st["cluster"]["reason"] == "cloudwatch", st
    assert not (h.ssh_dir / "porthole_known_hosts").exists()


def test_throttling_is_not_unreadable(hosts, standin):
    # Throttled polls (the quota is shared by the whole job) only slow the
    # rendezvous down; they are no reason to give up on it.
    (h,) = hosts(["algo-1"], "job-cl-throttle")
    standin.control.add_fault("throttle", service="logs", operation="FilterLogEvents", count=6)
    done = h.sb.marker("trained")
    h.start(["sh", "-c", f"touch {done}; sleep 60"])
    wait_for(done.exists, timeout=WAIT, what="the training command")
    assert h.sb.status()["cluster"]["state"] == "ready", h.d.stderr
    assert not [ln for ln in h.d.error_lines() if "cluster SSH" in ln], h.d.stderr
    assert not standin.control.faults(), "the throttling was not exercised"


def test_network_trust_fallback(hosts, standin):
    # CloudWatch denied, PORTHOLE_CLUSTER_TRUST=network: the job's hosts'
    # addresses (here algo-1 -> 127.0.0.1 in this host's /etc/hosts) may log
    # in with any key; the setting is needed, keys mode refuses the same key.
    (h,) = hosts(["algo-1"], "job-cl-net", etc_hosts="127.0.0.1 localhost algo-1\n")
    standin.control.add_fault("access_denied", service="logs", operation="FilterLogEvents", count=100)
    done = h.sb.marker("trained")
    h.start(["sh", "-c", f"touch {done}; sleep 60"], PORTHOLE_CLUSTER_TRUST="network")
    wait_for(done.exists, timeout=WAIT, what="the training command")
    warns = [ln for ln in h.d.stderr.splitlines() if "PORTHOLE_CLUSTER_TRUST=network" in ln and "WARN" in ln.upper()]
    assert warns, h.d.stderr
    st = h.sb.status()
    assert st["cluster"]["state"] == "ready" and st["cluster"]["trust"] == "network", st
    cfg = (h.ssh_dir / "config").read_text()
    assert "Host algo-* 127.0.0.1\n" in cfg and "StrictHostKeyChecking accept-new" in cfg
    stranger = make_key(h.sb.root / "stranger")
    r = subprocess.run(["ssh", "-F", "/dev/null", "-i", str(stranger), "-o", "IdentitiesOnly=yes",
                        "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                        "-o", "UserKnownHostsFile=/dev/null", "-p", str(h.d.ready["port"]), "root@127.0.0.1",
                        "echo in"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "in", r.stderr


def test_no_client_key_training_still_starts(hosts):
    # ~/.ssh cannot be made: one error naming it, no key in the record, the
    # training starts at once.
    (h,) = hosts(["algo-1"], "job-cl-nokey")
    h.ssh_dir.write_text("not a directory")
    done = h.sb.marker("trained")
    rec = h.start(["sh", "-c", f"touch {done}; sleep 60"])
    assert rec["client_key"] is None
    wait_for(done.exists, timeout=WAIT, what="the training command")
    errs = [ln for ln in h.d.error_lines() if "cluster SSH" in ln]
    assert len(errs) == 1 and "/root/.ssh is not a directory" in errs[0], errs
    assert "training starts" in errs[0]
    assert h.sb.status()["cluster"] == {"state": "failed", "hosts": 0, "of": 1, "trust": "keys", "reason": "setup"}


def test_outside_sagemaker_is_a_warning(standin):
    sb = Sandbox()
    try:
        done = sb.marker("trained")
        d = sb.run_cmd(["sh", "-c", f"touch {done}"], env={"PORTHOLE_CLUSTER_SSH": "1"})
        wait_for(done.exists, timeout=WAIT, what="the training command")
        assert d.ready["client_key"] is None
        assert any("PORTHOLE_CLUSTER_SSH=1 outside a SageMaker training job" in ln for ln in d.stderr.splitlines())
        assert not d.error_lines(), d.stderr
    finally:
        sb.cleanup()


def test_sigterm_during_rendezvous(hosts):
    # SageMaker stops a job whose hosts never all came up: porthole ends as
    # before any command started, and takes its helper with it.
    a, _ = hosts(["algo-1", "algo-2"], "job-cl-term")
    done = a.sb.marker("trained")
    a.start(["sh", "-c", f"touch {done}"])
    assert a.sb.status()["cluster"]["state"] == "rendezvous"
    pid = a.d.proc.pid
    helpers = children_of(pid)
    assert helpers, "no helper process"
    a.d.signal(15)
    assert a.d.wait() == 143
    assert not done.exists()
    for h in helpers:
        wait_for(lambda: proc_state(h) in ("", "Z"), timeout=10, what="the helper's end")

