# SPDX-License-Identifier: Apache-2.0
"""The Session Manager endpoint (PORTHOLE_SSM) against the AWS stand-in's SSM
service and the amazon-ssm-agent test double (tests/ssmagent)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from awsstandin.client import (  # noqa: E402
    DEFAULT_ACCESS_KEY,
    DEFAULT_SECRET_KEY,
    logs_client,
)
from porthole_harness import SLOW, children_of, wait_for  # noqa: E402

AGENT = Path(__file__).resolve().parents[1] / "ssmagent" / "amazon-ssm-agent"
GROUP = "/aws/sagemaker/TrainingJobs"
STREAM = "job-ssm/algo-1-test/ssm"
JOB = "job-ssm"
WAIT = 90 if SLOW else 45


@pytest.fixture
def standin(standin):
    # conftest's stand-in, with the training jobs' log group in place.
    standin.control.create_group(GROUP)
    return standin


def ssm_env(sb, standin, **extra):
    root = sb.root / "ssmroot"
    env = {
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": standin.url,
        "AWS_ENDPOINT_URL_SSM": standin.url,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
        "PORTHOLE_CLOUDWATCH": "on",
        "PORTHOLE_SPOOL_DIR": str(sb.root / "spool"),
        "PORTHOLE_JOB": JOB,
        "PORTHOLE_LOG_STREAM": STREAM,
        "PORTHOLE_SSM": "register",
        "PORTHOLE_SSM_AGENT": str(AGENT),
        "PORTHOLE_SSM_ROLE": "porthole-ssm",
        "PORTHOLE_SSM_LOG_DIR": str(root / "var/log/amazon/ssm"),
        "SSMAGENT_DOUBLE_ROOT": str(root),
    }
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def events(standin):
    try:
        evs = standin.control.events(GROUP, STREAM)
    except Exception:  # noqa: BLE001 - stream not there yet
        return []
    return [json.loads(e["message"]) for e in evs]


def wait_event(standin, name, n=1, pred=lambda e: True):
    def got():
        evs = [e for e in events(standin) if e.get("event") == name and pred(e)]
        return evs if len(evs) >= n else None
    return wait_for(got, timeout=WAIT, what=f"{n} '{name}' event(s) in CloudWatch")


def ssm_state(standin):
    return standin.control.call("GET", "ssm")


def agent_pid(d):
    """The agent double porthole runs (its child named amazon-ssm-agen[t])."""
    def find():
        for pid in children_of(d.host_pid):
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "amazon-ssm-agen":
                    return pid
            except OSError:
                pass
        return None
    return wait_for(find, timeout=WAIT, what="the running agent")


def test_register_tag_publish_deregister(sb, standin):
    d = sb.run_cmd(["sleep", "600"], env=ssm_env(sb, standin), settings=["--hold", "never"])
    assert d.ready["ssm"]["mode"] == "register"
    reg = wait_event(standin, "ssm_registered")[0]
    mi = reg["data"]["instance_id"]
    assert mi.startswith("mi-") and len(mi) == 20
    assert reg["data"]["command"] == f"aws ssm start-session --target {mi} --region us-east-1"
    # The activation: one registration, expiring soon, tagged with job and host.
    act = next(iter(ssm_state(standin)["activations"].values()))
    assert act["RegistrationLimit"] == 1 and act["IamRole"] == "porthole-ssm"
    assert act["ExpirationDate"] - time.time() < 2 * 3600
    assert act["Tags"]["job"] == JOB
    # Tagged by porthole too.
    wait_for(lambda: ssm_state(standin)["instances"][mi]["Tags"].get("porthole"), timeout=WAIT,
             what="the porthole tag")
    tags = ssm_state(standin)["instances"][mi]["Tags"]
    assert tags["job"] == JOB and tags["host"] == d.ready["host"]
    # The identity record carries the target.
    ident = wait_event(standin, "identity",
                       pred=lambda e: (e["data"].get("ssm") or {}).get("target") == mi)[0]
    assert ident["data"]["ssm"]["state"] == "online"
    assert ident["data"]["ssm"]["command"].startswith("aws ssm start-session --target mi-")
    pid = agent_pid(d)
    assert "Successfully registered" not in Path(f"/proc/{pid}/cmdline").read_text()

    d.signal(signal.SIGTERM)
    assert d.wait(30) == 128 + signal.SIGTERM   # the training command's status
    assert ssm_state(standin)["deregistered"] == [mi]
    assert mi not in ssm_state(standin)["instances"]
    # Deregistered before the final flush: the event made it to CloudWatch.
    assert [e for e in events(standin) if e.get("event") == "ssm_deregistered"]
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_agent_crash_restarted_with_backoff_and_error_shipped(sb, standin):
    # An activation made beforehand and given to porthole (no CreateActivation).
    ssm = logs_client(standin.url, service="ssm", region="us-east-1")
    act = ssm.create_activation(IamRole="given-role", RegistrationLimit=1)
    env = ssm_env(sb, standin, PORTHOLE_SSM_ROLE=None, PORTHOLE_SSM_ACTIVATION_CODE=act["ActivationCode"],
                  PORTHOLE_SSM_ACTIVATION_ID=act["ActivationId"], SSMAGENT_DOUBLE_CRASHES="2")
    d = sb.run_cmd(["sleep", "600"], env=env, settings=["--hold", "never"])
    exits = wait_event(standin, "ssm_agent_exit", 2)
    assert [e["data"]["restart_in_s"] for e in exits[:2]] == [1, 2]
    assert "exited with status 2" in exits[0]["msg"]
    # The third run stays up.
    wait_event(standin, "ssm_registered")
    # The agent's error line, from errors.log and its console, shipped once per crash.
    crash = wait_event(standin, "ssm_agent", 2, pred=lambda e: "test double crash" in e["msg"])
    assert len([e for e in events(standin) if e.get("event") == "ssm_agent"
                and "test double crash" in e["msg"]]) == 2
    assert crash[0]["level"] == "error" and crash[0]["data"]["agent_level"] == "ERROR"
    assert "[CoreManager @ coremanager.go.173]" in crash[0]["data"]["line"]
    # Readable with the AWS CLI, as a person would.
    cli = [json.loads(e["message"]) for e in standin.aws_get_log_events(GROUP, STREAM)]
    assert any(e.get("event") == "ssm_agent" and "test double crash" in e["msg"] for e in cli)
    # The code is never shown.
    assert act["ActivationCode"] not in d.stderr
    d.signal(signal.SIGTERM)
    d.wait(30)
    assert len(ssm_state(standin)["deregistered"]) == 1


def test_create_activation_denied_training_runs(sb, standin):
    standin.control.add_fault("access_denied", service="ssm", operation="CreateActivation")
    marker = sb.marker("trained")
    d = sb.run_cmd(["sh", "-c", f"sleep 1; touch {marker}"], env=ssm_env(sb, standin),
                   settings=["--hold", "never"])
    assert d.wait(30) == 0
    assert marker.exists()
    err = "\n".join(d.error_lines())
    assert "CreateActivation" in err and "AccessDeniedException" in err
    assert "iam:PassRole" in err and "iam:PassedToService = ssm.amazonaws.com" in err
    assert "ssm:CreateActivation" in err
    assert [e for e in events(standin) if e.get("event") == "ssm_error"]
    assert ssm_state(standin)["instances"] == {}


def test_agent_missing_says_how_to_install(sb):
    marker = sb.marker("trained")
    d = sb.run_cmd(["touch", str(marker)], env={"PORTHOLE_SSM": "register", "PORTHOLE_SSM_ROLE": "r",
                                                "PORTHOLE_CLOUDWATCH": "off"},
                   settings=["--hold", "never"])
    assert d.wait(30) == 0 and marker.exists()
    err = "\n".join(d.error_lines())
    assert "amazon-ssm-agent is not in the image" in err and "Dockerfile" in err
    assert d.ready["ssm"]["state"] == "failed"


def test_registration_failure_shows_agent_message(sb, standin):
    env = ssm_env(sb, standin, PORTHOLE_SSM_ROLE=None, PORTHOLE_SSM_ACTIVATION_CODE="x" * 20,
                  PORTHOLE_SSM_ACTIVATION_ID="00000000-0000-0000-0000-000000000000")
    d = sb.run_cmd(["sleep", "2"], env=env, settings=["--hold", "never"])
    assert d.wait(30) == 0
    err = "\n".join(d.error_lines())
    assert "registration failed" in err and "Activation ID or code is not valid" in err
    assert "x" * 20 not in d.stderr


def test_remote_debug_detected_publishes_sagemaker_target(sb):
    sb.write_resourceconfig({"current_host": "algo-2", "hosts": ["algo-1", "algo-2"],
                             "network_interface_name": "lo"})
    # What SageMaker's remote debug leaves in the container: its own agent running.
    fake = sb.root / "injected" / "amazon-ssm-agent"
    fake.parent.mkdir()
    shutil.copy("/bin/sleep", fake)
    injected = subprocess.Popen([str(fake), "600"], env=sb.make_env())
    try:
        d = sb.run_cmd(["sleep", "1"], env={"PORTHOLE_SSM": "auto", "PORTHOLE_CLOUDWATCH": "off",
                                            "PORTHOLE_JOB": JOB, "AWS_REGION": "us-west-2",
                                            "PORTHOLE_SSM_ROLE": "would-register"},
                       settings=["--hold", "never"])
        ssm = d.ready["ssm"]
        assert ssm["mode"] == "remote-debug"
        assert ssm["target"] == f"sagemaker-training-job:{JOB}_algo-2"
        assert ssm["command"] == f"aws ssm start-session --target sagemaker-training-job:{JOB}_algo-2 --region us-west-2"
        assert d.wait(30) == 0
        # It stays out of the way: no registration of its own.
        assert "-register" not in d.stderr and "CreateActivation" not in d.stderr
    finally:
        injected.kill()
        injected.wait()


def start_with_agent(sb, standin, go, pid1=False):
    """A training command that fails (exit 3) once go exists, under porthole
    with the agent double registered and ready for sessions; (porthole, the
    agent's pid)."""
    cmd = ["sh", "-c", f"while [ ! -e {go} ]; do sleep 0.1; done; exit 3"]
    d = sb.run_cmd(cmd, env=ssm_env(sb, standin, PORTHOLE_CLOUDWATCH="off"), pid1=pid1,
                   settings=["--hold", "on-failure", "--window", "1s", "--idle-grace", "2s"])
    # After registration: before it, the child is `amazon-ssm-agent -register`.
    wait_for(lambda: "registered as managed instance" in d.stderr or None, timeout=WAIT, what="registration")
    pid = agent_pid(d)
    agent_log = sb.root / "ssmroot/var/log/amazon/ssm/amazon-ssm-agent.log"
    wait_for(lambda: "waiting for sessions" in agent_log.read_text() or None, timeout=WAIT,
             what="the agent double's signal handlers")
    return d, pid


def test_session_worker_keeps_hold(sb, standin):
    go = sb.marker("go")
    # As in a container where it can be: PID 1 of a PID namespace of its own.
    pid1 = os.geteuid() == 0 and shutil.which("unshare", path="/usr/bin:/bin") is not None
    d, pid = start_with_agent(sb, standin, go, pid1=pid1)
    os.kill(pid, signal.SIGUSR1)        # the double starts one ssm-session-worker
    wait_for(lambda: "Session Manager session started" in d.stderr or None, timeout=WAIT,
             what="the session counted")
    go.touch()
    time.sleep(4)                       # window 1 s, idle grace 2 s: held by the session only
    assert d.alive(), d.describe()
    assert json.loads(sb.cli_ok("status", "--json").stdout)["sessions"] == 1
    os.kill(pid, signal.SIGUSR2)        # the session ends
    wait_for(lambda: "Session Manager session ended" in d.stderr or None, timeout=WAIT,
             what="the session end")
    assert d.wait(30) == 3


def test_workers_outside_porthole_are_not_counted(sb, standin, tmp_path):
    # On a node, another agent's sessions (HyperPod's own, another job's) are
    # not porthole's: a process named ssm-session-worker that porthole did not
    # start, here in the test's own process tree, is not a session.
    stray_bin = tmp_path / "ssm-session-worker"
    shutil.copy("/bin/sleep", stray_bin)
    stray = subprocess.Popen([str(stray_bin), "600"])
    try:
        go = sb.marker("go")
        d, pid = start_with_agent(sb, standin, go)
        assert Path(f"/proc/{stray.pid}/comm").read_text().strip() == "ssm-session-wor"
        os.kill(pid, signal.SIGUSR1)        # the double starts its one worker; the scan sees both
        wait_for(lambda: "Session Manager session started" in d.stderr or None, timeout=WAIT,
                 what="the agent's session counted")
        assert json.loads(sb.cli_ok("status", "--json").stdout)["sessions"] == 1
        assert f"ssm-session-worker {stray.pid}" not in d.stderr
        os.kill(pid, signal.SIGUSR2)        # the agent's session ends; the stray runs on
        wait_for(lambda: "Session Manager session ended" in d.stderr or None, timeout=WAIT,
                 what="the session end")
        go.touch()
        # Nothing holds now: the window (1 s) and idle grace end, with the stray still running.
        assert d.wait(30) == 3
        assert stray.poll() is None
    finally:
        stray.kill()
        stray.wait()
