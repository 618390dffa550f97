# SPDX-License-Identifier: Apache-2.0
"""SSH over Session Manager from a laptop: `porthole ssh JOB algo-N --via
ssm|auto` and `porthole ssh-config JOB --via ssm` use OpenSSH's ProxyCommand
with `aws ssm start-session --document-name AWS-StartSSHSession`, and the
published host key is still checked at the other end of the tunnel.

`aws` here is a stand-in on PATH (below) that checks its arguments and
relays stdin/stdout to the container's SSH port on loopback, as
session-manager-plugin would.  The records that carry the SSM target are
the hosts' own, republished with an `ssm` member (and, for the fallback,
an address that refuses: 127.0.0.2, where nothing listens)."""

import json
import os
import subprocess
import time

import pytest

from porthole_harness import Sandbox
from sshutil import SSH, make_key, pub
from test_hosts import GROUP, JOB, WAIT, Job, aws_env, standin  # noqa: F401

REGION = "us-west-2"

STANDIN_AWS = r'''#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A stand-in for `aws ssm start-session`: checks the arguments, then relays
# stdin/stdout to STANDIN_SSM_ADDR as the Session Manager tunnel would.
import os, select, socket, sys
want = os.environ["STANDIN_SSM_EXPECT"].split("|")
with open(os.environ["STANDIN_SSM_LOG"], "a") as f:
    f.write("|".join(sys.argv[1:]) + "\n")
if sys.argv[1:] != want:
    sys.stderr.write("stand-in aws: unexpected arguments %r, want %r\n" % (sys.argv[1:], want))
    sys.exit(252)
if os.environ.get("STANDIN_SSM_DENY"):
    sys.stderr.write("\nAn error occurred (AccessDeniedException) when calling the StartSession operation: "
                     "User: arn:aws:iam::123456789012:user/me is not authorized to perform: ssm:StartSession "
                     "on resource: arn:aws:ssm:us-west-2:123456789012:document/AWS-StartSSHSession\n")
    sys.exit(254)
host, port = os.environ["STANDIN_SSM_ADDR"].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
fds = [0, s.fileno()]
while fds:
    r, _, _ = select.select(fds, [], [])
    if 0 in r:
        b = os.read(0, 65536)
        if b:
            s.sendall(b)
        else:
            s.shutdown(socket.SHUT_WR)
            fds.remove(0)
    if s.fileno() in r:
        b = s.recv(65536)
        if not b:
            break
        os.write(1, b)
'''


def target_of(host):
    return f"sagemaker-training-job:{JOB}_{host}"


class Laptop:
    """The user's side: PATH with the stand-in aws (and a session-manager-plugin)."""

    def __init__(self, job: Job, standin):
        self.job = job
        self.standin = standin
        self.bin = job.user.root / "laptop-bin"
        self.bin.mkdir()
        (self.bin / "aws").write_text(STANDIN_AWS)
        (self.bin / "session-manager-plugin").write_text("#!/bin/sh\nexit 0\n")
        for f in ("aws", "session-manager-plugin"):
            os.chmod(self.bin / f, 0o755)
        self.log = job.user.root / "aws.log"

    def env(self, host="algo-1", port=None, **extra):
        port = port or self.job.servers[host].ready()["port"]
        e = {
            "PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "STANDIN_SSM_EXPECT": "|".join(["ssm", "start-session", "--target", target_of(host), "--document-name",
                                             "AWS-StartSSHSession", "--parameters", f"portNumber={port}",
                                             "--region", REGION]),
            "STANDIN_SSM_ADDR": f"127.0.0.1:{port}",
            "STANDIN_SSM_LOG": str(self.log),
        }
        e.update(extra)
        return e

    def calls(self):
        return self.log.read_text().splitlines() if self.log.exists() else []


def publish(standin, rec, host, **changes):
    """Publish another identity record for host: rec with changes."""
    rec = dict(rec)
    rec.update(changes, host=host)
    event = {"version": 1, "ts": rec["ts"], "level": "info", "event": "identity", "job": JOB, "host": host,
             "data": rec}
    logs = standin.logs_client()
    stream = f"{JOB}/{host}-9/ssm"
    try:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    except Exception:
        pass
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream,
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": json.dumps(event)}])


def ssm_member(host):
    return {"mode": "remote-debug", "state": "remote-debug", "target": target_of(host),
            "command": f"aws ssm start-session --target {target_of(host)} --region {REGION}", "region": REGION}


@pytest.fixture
def job1(standin):
    j = Job(standin, 1)
    try:
        yield j
    finally:
        j.cleanup()


def wait_target(job, host, **want):
    def check():
        doc = job.wait_listed()
        h = next(h for h in doc["hosts"] if h["host"] == host)
        return h if h["ssm_target"] == target_of(host) and all(h[k] == v for k, v in want.items()) else None
    from porthole_harness import wait_for
    return wait_for(check, timeout=WAIT, interval=0.3, what=f"{host}'s SSM target listed")


def test_ssh_via_ssm(job1, standin):
    lap = Laptop(job1, standin)
    rec = job1.servers["algo-1"].ready()
    publish(standin, rec, "algo-1", ssm=ssm_member("algo-1"))
    wait_target(job1, "algo-1")
    r = job1.cli("ssh", JOB, "algo-1", "--via", "ssm", "--", *job1.ssh_opts(), "echo", "through", "ssm",
                 **lap.env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "through ssm"
    assert len(lap.calls()) == 1


def test_auto_falls_back_from_a_dead_ip(job1, standin):
    lap = Laptop(job1, standin)
    rec = job1.servers["algo-1"].ready()
    publish(standin, rec, "algo-1", ip="127.0.0.2", ssm=ssm_member("algo-1"))
    wait_target(job1, "algo-1", ip="127.0.0.2")
    r = job1.cli("ssh", JOB, "algo-1", "--via", "auto", "--", *job1.ssh_opts(), "true", **lap.env())
    assert r.returncode == 0, r.stderr
    assert "127.0.0.2 port" in r.stderr and "going through Session Manager" in r.stderr, r.stderr
    assert len(lap.calls()) == 1
    # The default is auto too.
    r = job1.cli("ssh", JOB, "--", *job1.ssh_opts(), "true", **lap.env())
    assert r.returncode == 0, r.stderr
    assert len(lap.calls()) == 2
    # A live IP is used directly.
    publish(standin, rec, "algo-1", ssm=ssm_member("algo-1"))
    wait_target(job1, "algo-1", ip="127.0.0.1")
    r = job1.cli("ssh", JOB, "--", *job1.ssh_opts(), "true", **lap.env())
    assert r.returncode == 0, r.stderr
    assert len(lap.calls()) == 2


def test_ssh_config_via_ssm_with_plain_ssh(job1, standin):
    lap = Laptop(job1, standin)
    rec = job1.servers["algo-1"].ready()
    publish(standin, rec, "algo-1", ip="127.0.0.2", ssm=ssm_member("algo-1"))
    wait_target(job1, "algo-1", ip="127.0.0.2")
    r = job1.cli("ssh-config", JOB, "--via", "ssm", **lap.env())
    assert r.returncode == 0, r.stderr
    assert "ProxyCommand aws ssm start-session --target " + target_of("algo-1") in r.stdout, r.stdout
    assert "HostName" not in r.stdout and "StrictHostKeyChecking yes" in r.stdout
    cfg = job1.user.root / "ssh_config"
    cfg.write_text(r.stdout)
    p = subprocess.run([SSH, "-F", str(cfg), "-i", str(job1.key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                        f"{JOB}-algo-1", "echo", "ok"], capture_output=True, text=True,
                       env=job1.user.make_env(lap.env()), timeout=WAIT)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr
    assert len(lap.calls()) == 1


def test_host_key_mismatch_through_the_tunnel_is_refused(job1, standin):
    lap = Laptop(job1, standin)
    rec = job1.servers["algo-1"].ready()
    other = make_key(job1.user.root / "other_hostkey")
    publish(standin, rec, "algo-1", host_key=pub(other), ssm=ssm_member("algo-1"))
    wait_target(job1, "algo-1", host_key=pub(other))
    r = job1.cli("ssh", JOB, "algo-1", "--via", "ssm", "--", *job1.ssh_opts(), "echo", "SHOULD-NOT-RUN",
                 **lap.env())
    assert r.returncode != 0
    assert "SHOULD-NOT-RUN" not in r.stdout
    assert "host key" in r.stderr.lower() or "identification" in r.stderr.lower(), r.stderr
    assert len(lap.calls()) == 1  # it did go through the tunnel


def test_errors_say_what_is_missing(job1, standin):
    lap = Laptop(job1, standin)
    job1.wait_listed()
    # No target published (Session Manager off).
    r = job1.cli("ssh", JOB, "--via", "ssm", "--", "true", **lap.env())
    assert r.returncode == 1 and "no Session Manager target" in r.stderr, r.stderr
    assert "remote debug" in r.stderr and "PORTHOLE_SSM" in r.stderr
    rec = job1.servers["algo-1"].ready()
    publish(standin, rec, "algo-1", ssm=ssm_member("algo-1"))
    wait_target(job1, "algo-1")
    # No aws, no plugin.
    empty = job1.user.root / "empty"
    empty.mkdir()
    r = job1.cli("ssh", JOB, "--via", "ssm", "--", "true", **lap.env(PATH=f"{empty}:/usr/bin:/bin"))
    if not os.path.exists("/usr/bin/aws") and not os.path.exists("/bin/aws"):
        assert r.returncode == 1 and "`aws` is not on PATH" in r.stderr, r.stderr
    os.unlink(lap.bin / "session-manager-plugin")
    r = job1.cli("ssh", JOB, "--via", "ssm", "--", "true", **lap.env())
    assert r.returncode == 1 and "session-manager-plugin" in r.stderr, r.stderr
    (lap.bin / "session-manager-plugin").write_text("#!/bin/sh\nexit 0\n")
    os.chmod(lap.bin / "session-manager-plugin", 0o755)
    # StartSession denied: the IAM action is named.
    r = job1.cli("ssh", JOB, "--via", "ssm", "--", *job1.ssh_opts(), "true", **lap.env(STANDIN_SSM_DENY="1"))
    assert r.returncode == 255, r.stderr
    assert "AccessDeniedException" in r.stderr and "ssm:StartSession" in r.stderr, r.stderr
    assert "AWS-StartSSHSession" in r.stderr and "docs/iam.md" in r.stderr, r.stderr


def test_via_must_be_known(standin):
    """--via takes three words."""
    user = Sandbox()
    try:
        r = user.cli("ssh", JOB, "--via", "bogus", env=aws_env(standin))
        assert r.returncode == 2 and "--via takes ip, ssm or auto" in r.stderr, r.stderr
    finally:
        user.cleanup()
