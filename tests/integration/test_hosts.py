# SPDX-License-Identifier: Apache-2.0
"""The user side against the local AWS stand-in: `porthole hosts`,
`porthole ssh` and `porthole ssh-config` find a job's hosts from the identity
records its portholes published, and reach them with OpenSSH checking the
published host key strictly.

Each "host" is a porthole in its own sandbox (own ML_ROOT with a
resourceconfig.json naming its current_host, address from `lo`), publishing
to one stand-in, with the embedded SSH endpoint on a free loopback port.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from awsstandin.client import porthole_env  # noqa: E402
from porthole_harness import SLOW, Sandbox, wait_for  # noqa: E402
from sshutil import SSH, SshServer, make_key, pub  # noqa: E402

GROUP = "/aws/sagemaker/TrainingJobs"
JOB = "job-hosts"
WAIT = 90 if SLOW else 45


def aws_env(standin, **extra):
    env = porthole_env(standin.url)
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


class Job:
    """N hosts of one job, each a `porthole serve` with SSH, publishing."""

    def __init__(self, standin, n, job=JOB, start=True):
        self.standin = standin
        self.job = job
        self.names = [f"algo-{i + 1}" for i in range(n)]
        self.boxes = {}
        self.servers = {}
        self.user = Sandbox()  # the laptop: its own HOME, so its own known_hosts
        self.key = make_key(self.user.root / "id_user")
        if start:
            for h in self.names:
                self.start(h)

    def start(self, host, cmd=None, **env):
        sb = Sandbox()
        self.boxes[host] = sb
        sb.write_resourceconfig({"current_host": host, "hosts": self.names, "network_interface_name": "lo",
                                 "current_instance_type": "ml.g5.xlarge"})
        e = aws_env(self.standin, PORTHOLE_CLOUDWATCH="on", PORTHOLE_JOB=self.job,
                    PORTHOLE_SPOOL_DIR=str(sb.root / "spool"))
        e.update(env)
        self.servers[host] = SshServer(sb, keys=[self.key], env=e, cmd=cmd)
        return self.servers[host]

    def cli(self, *args, timeout=WAIT, **env):
        return self.user.cli(*args, env=aws_env(self.standin, **env), timeout=timeout)

    def popen(self, *args, **env):
        return self.user.spawn_cli(*args, env=aws_env(self.standin, **env))

    def ssh_opts(self):
        return ["-F", "/dev/null", "-i", str(self.key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=20"]

    def wait_listed(self, n=None):
        n = len(self.names) if n is None else n

        def check():
            r = self.cli("hosts", self.job, "--json")
            if r.returncode != 0:
                return None
            doc = json.loads(r.stdout)
            return doc if len(doc["hosts"]) >= n else None
        return wait_for(check, timeout=WAIT, interval=0.3, what=f"{n} hosts listed")

    def cleanup(self):
        for sb in self.boxes.values():
            sb.cleanup()
        self.user.cleanup()


@pytest.fixture
def standin(standin):
    # conftest's stand-in, with the training jobs' log group in place.
    standin.control.create_group(GROUP)
    return standin


@pytest.fixture
def job(standin):
    j = Job(standin, 2)
    try:
        yield j
    finally:
        j.cleanup()


def test_hosts_lists_every_host(job):
    doc = job.wait_listed()
    assert doc["job"] == JOB and doc["log_group"] == GROUP
    hosts = {h["host"]: h for h in doc["hosts"]}
    assert sorted(hosts) == ["algo-1", "algo-2"]
    for name, h in hosts.items():
        rec = job.servers[name].ready()
        assert h["ip"] == "127.0.0.1"
        assert h["port"] == rec["port"]
        assert h["host_key"] == rec["host_key"] and h["fingerprint"] == rec["fingerprint"]
        assert h["state"] == "serving" and h["status"] == "serving" and h["gone"] is False
        assert h["instance_type"] == "ml.g5.xlarge"
        assert h["log_stream"].startswith(f"{JOB}/{name}-") and h["log_stream"].endswith("/ssm")
    table = job.cli("hosts", JOB)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["HOST", "IP", "PORT", "STATE"]
    assert [ln.split()[0] for ln in lines[1:]] == ["algo-1", "algo-2"]
    assert hosts["algo-2"]["fingerprint"] in lines[2]


def test_ssh_verifies_published_key(job):
    job.wait_listed()
    r = job.cli("ssh", JOB, "algo-2", "--", *job.ssh_opts(), "echo", "hello from", "$PORTHOLE_HOST")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith("hello from"), r.stdout
    kh = job.user.home / ".cache" / "porthole" / "known_hosts"
    entries = kh.read_text().splitlines()
    assert entries == [f"{JOB}.algo-2.porthole {job.servers['algo-2'].ready()['host_key']}"]
    # The default host is algo-1; its entry joins algo-2's.
    r = job.cli("ssh", JOB, "--", *job.ssh_opts(), "true")
    assert r.returncode == 0, r.stderr
    assert len(kh.read_text().splitlines()) == 2
    # XDG_CACHE_HOME wins over HOME.
    r = job.cli("ssh", JOB, "--", *job.ssh_opts(), "true", XDG_CACHE_HOME=str(job.user.root / "xdg"))
    assert r.returncode == 0, r.stderr
    assert (job.user.root / "xdg" / "porthole" / "known_hosts").exists()


def test_ssh_refuses_a_host_whose_key_differs(job, standin):
    """A record pointing at a server with another key: ssh must refuse, not learn it."""
    job.wait_listed()
    other = make_key(job.user.root / "other_hostkey")
    rec = dict(job.servers["algo-1"].ready())
    rec.update(host="algo-3", host_key=pub(other))
    event = {"version": 1, "ts": rec["ts"], "level": "info", "event": "identity", "job": JOB,
             "host": "algo-3", "data": rec}
    logs = standin.logs_client()
    logs.create_log_stream(logGroupName=GROUP, logStreamName=f"{JOB}/algo-3-1/ssm")
    logs.put_log_events(logGroupName=GROUP, logStreamName=f"{JOB}/algo-3-1/ssm",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": json.dumps(event)}])
    r = job.cli("ssh", JOB, "algo-3", "--", *job.ssh_opts(), "echo", "SHOULD-NOT-RUN")
    assert r.returncode != 0
    assert "SHOULD-NOT-RUN" not in r.stdout
    assert "host key" in r.stderr.lower() or "identification" in r.stderr.lower(), r.stderr


def test_ssh_config_blocks_work_with_plain_ssh(job):
    job.wait_listed()
    r = job.cli("ssh-config", JOB)
    assert r.returncode == 0, r.stderr
    cfg = job.user.root / "ssh_config"
    cfg.write_text(r.stdout)
    assert f"Host {JOB}-algo-1" in r.stdout and f"Host {JOB}-algo-2" in r.stdout
    assert "StrictHostKeyChecking yes" in r.stdout and f"HostKeyAlias {JOB}.algo-2.porthole" in r.stdout
    for h in ("algo-1", "algo-2"):
        p = subprocess.run([SSH, "-F", str(cfg), "-i", str(job.key), "-o", "IdentitiesOnly=yes", "-o",
                            "BatchMode=yes", f"{JOB}-{h}", "echo", "ok"], capture_output=True, text=True,
                           env=job.user.make_env(), timeout=WAIT)
        assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr


def test_ssh_waits_for_a_host_that_starts_later(standin):
    j = Job(standin, 2, job="job-late", start=False)
    try:
        j.start("algo-1")
        p = j.popen("ssh", "job-late", "algo-2", "--wait", "2m", "--", *j.ssh_opts(), "echo", "late-ok")
        time.sleep(1)
        assert p.poll() is None, p.communicate()
        j.start("algo-2")
        # Past porthole ssh's own 2m: on a loaded machine publishing, polling
        # and the login can take a while, and if porthole gives up it says why.
        out, err = p.communicate(timeout=150)
        assert p.returncode == 0, err
        assert "late-ok" in out and "waiting up to 2m" in err
    finally:
        j.cleanup()


def readline(p, timeout):
    """The next line of p's stdout, failing (not hanging) after timeout."""
    got = []
    t = threading.Thread(target=lambda: got.append(p.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    assert got, f"no line from {p.args} within {timeout}s"
    return got[0]


def test_watch_follows_hosts_until_gone(standin):
    j = Job(standin, 1, job="job-watch", start=False)
    try:
        p = j.popen("hosts", "job-watch", "--watch", "--json")
        time.sleep(1)
        assert p.poll() is None
        j.start("algo-1")
        line = readline(p, WAIT)
        doc = json.loads(line)
        assert [h["host"] for h in doc["hosts"]] == ["algo-1"] and doc["hosts"][0]["gone"] is False
        j.boxes["algo-1"].cli_ok("release")
        d = j.servers["algo-1"].d
        d.signal(signal.SIGTERM)
        d.wait(30)
        out, err = p.communicate(timeout=WAIT)
        assert p.returncode == 0, err
        last = json.loads(out.strip().splitlines()[-1])
        assert last["hosts"][0]["gone"] is True, last
        # Gone hosts are refused with a reason, not attempted.
        r = j.cli("ssh", "job-watch", "--", *j.ssh_opts(), "true")
        assert r.returncode == 1 and "is gone" in r.stderr, r.stderr
    finally:
        j.cleanup()


def test_states_follow_the_hold(standin):
    j = Job(standin, 1, job="job-held", start=False)
    try:
        j.start("algo-1", cmd=["sh", "-c", "exit 3"], PORTHOLE_HOLD="on-failure", PORTHOLE_WINDOW="30m")

        def status():
            r = j.cli("hosts", "job-held", "--json")
            return json.loads(r.stdout)["hosts"][0] if r.returncode == 0 else None
        h = wait_for(lambda: (lambda x: x if x and x["state"] == "holding" else None)(status()),
                     timeout=WAIT, interval=0.3, what="holding")
        assert h["status"] == f"holding until {h['deadline']}" and h["deadline"].endswith("Z")
        j.boxes["algo-1"].cli_ok("release")
        assert j.servers["algo-1"].d.wait(30) == 3
        h = wait_for(lambda: (lambda x: x if x and x["gone"] else None)(status()),
                     timeout=WAIT, interval=0.3, what="gone")
        assert h["status"] == "released", h
        table = j.cli("hosts", "job-held").stdout
        assert "released" in table.splitlines()[1]
    finally:
        j.cleanup()


def test_errors_name_the_cause(standin):
    user = Sandbox()
    try:
        env = aws_env(standin)
        r = user.cli("hosts", "no-such-job", env=env, timeout=WAIT)
        assert r.returncode == 1 and "no such job no-such-job" in r.stderr, r.stderr
        # Logs, but none from porthole: the training log only.
        standin.control.create_stream(GROUP, "plain-job/algo-1-1")
        r = user.cli("hosts", "plain-job", env=env, timeout=WAIT)
        assert r.returncode == 1 and "no porthole records" in r.stderr, r.stderr
        r = user.cli("ssh", "plain-job", "--wait", "0s", env=env, timeout=WAIT)
        assert r.returncode == 1 and "no porthole records" in r.stderr, r.stderr
        r = user.cli("hosts", "x", env=aws_env(standin, PORTHOLE_LOG_GROUP="/no/such/group"), timeout=WAIT)
        assert r.returncode == 1 and "log group /no/such/group does not exist" in r.stderr, r.stderr
        r = user.cli("hosts", "x", env=aws_env(standin, AWS_SECRET_ACCESS_KEY="wrong"), timeout=WAIT)
        assert r.returncode == 1 and "FilterLogEvents" in r.stderr, r.stderr
        r = user.cli("hosts", "x", env=aws_env(standin, AWS_REGION=None), timeout=WAIT)
        assert r.returncode == 1 and "no AWS region" in r.stderr, r.stderr
        r = user.cli("hosts", env=env)
        assert r.returncode == 2 and "usage" in r.stderr
    finally:
        user.cleanup()
