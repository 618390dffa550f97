# SPDX-License-Identifier: Apache-2.0
"""Identity and the ready record: job, host, hosts, instance type, IP, region."""

import json
import socket

import pytest

ARN = "arn:aws:sagemaker:eu-west-2:123456789012:training-job/my-job-2026"

RESOURCECONFIG = {
    "current_host": "algo-1",
    "current_instance_type": "ml.g5.2xlarge",
    "current_group_name": "homogeneousCluster",
    "hosts": ["algo-1", "algo-2"],
    "instance_groups": [
        {"instance_group_name": "homogeneousCluster", "instance_type": "ml.g5.2xlarge",
         "hosts": ["algo-1", "algo-2"]}
    ],
    "network_interface_name": "lo",
}


def ready_lines(d):
    """The human line and the JSON line, in order (on stderr)."""
    lines = d.stderr.splitlines()
    for i, l in enumerate(lines):
        if l.startswith("{") and json.loads(l).get("porthole") == "ready":
            return lines[i - 1] if i else "", json.loads(l)
    raise AssertionError(d.stderr)


def test_sagemaker_two_hosts(sb):
    sb.write_resourceconfig(RESOURCECONFIG)
    d = sb.run_cmd(["sh", "-c", "exit 0"],
                   env={"PORTHOLE_HOLD": "never", "TRAINING_JOB_NAME": "my-job-2026", "TRAINING_JOB_ARN": ARN})
    r = d.ready
    assert r["porthole"] == "ready"
    assert r["schema"] == 1
    assert r["job"] == "my-job-2026"
    assert r["job_arn"] == ARN
    assert r["host"] == "algo-1"
    assert r["hosts"] == ["algo-1", "algo-2"]
    assert r["instance_type"] == "ml.g5.2xlarge"
    assert r["instance_group"] == "homogeneousCluster"
    assert r["interface"] == "lo"
    assert r["ip"] == "127.0.0.1"
    assert r["region"] == "eu-west-2"
    assert r["sagemaker"] is True
    assert "port" in r
    assert r["hold"] == "never"
    assert r["state"] == "training"
    assert "deadline" in r and r["deadline"] is None
    assert r["window_s"] == 1800
    assert r["pid"] == d.proc.pid
    human, _ = ready_lines(d)
    assert "ready" in human and "my-job-2026" in human and "algo-1" in human and "127.0.0.1" in human
    assert "2 hosts" in human
    assert d.wait() == 0
    assert d.error_lines() == []


def test_status_carries_identity(sb):
    sb.write_resourceconfig(RESOURCECONFIG)
    d = sb.run_cmd(["sh", "-c", "exit 0"],
                   env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": "5m", "TRAINING_JOB_NAME": "my-job-2026"})
    st = sb.wait_state("holding")
    assert st["job"] == "my-job-2026"
    assert st["host"] == "algo-1"
    assert st["ip"] == "127.0.0.1"
    sb.cli_ok("release")
    assert d.wait() == 0


def test_aws_region_beats_arn(sb):
    sb.write_resourceconfig(RESOURCECONFIG)
    d = sb.run_cmd(["sh", "-c", "exit 0"],
                   env={"PORTHOLE_HOLD": "never", "TRAINING_JOB_ARN": ARN, "AWS_REGION": "us-east-1"})
    assert d.ready["region"] == "us-east-1"
    assert d.wait() == 0


def test_hold_before_ready_record_has_deadline(sb):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD_BEFORE": "1", "PORTHOLE_WINDOW": "5m"})
    assert d.ready["state"] == "waiting-before-start"
    assert isinstance(d.ready["deadline"], str) and d.ready["deadline"].endswith("Z")
    sb.cli_ok("continue")
    assert d.wait() == 0


def test_outside_sagemaker(sb):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "never"})
    r = d.ready
    assert r["host"] == socket.gethostname()
    assert r["hosts"] == [socket.gethostname()]
    assert r["job"] == "local"
    assert r["job_arn"] is None
    assert r["instance_type"] is None
    assert r["region"] is None
    assert r["sagemaker"] is False
    assert d.wait() == 0
    assert d.error_lines() == []


def test_outside_sagemaker_porthole_job(sb):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "never", "PORTHOLE_JOB": "my-experiment"})
    assert d.ready["job"] == "my-experiment"
    assert d.ready["host"] == socket.gethostname()
    assert d.wait() == 0


def test_porthole_job_hyperparameter(sb):
    sb.write_hyperparameters({"porthole_job": '"from-hyper"'})
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "never"})
    assert d.ready["job"] == "from-hyper"
    assert d.wait() == 0


def test_training_job_name_outside_resourceconfig(sb):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "never", "TRAINING_JOB_NAME": "tj"})
    assert d.ready["job"] == "tj"
    assert d.wait() == 0


def test_current_host_not_in_hosts_is_added(sb):
    sb.write_resourceconfig({"current_host": "algo-3", "hosts": ["algo-1", "algo-2"], "network_interface_name": "lo"})
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "never"})
    assert d.ready["host"] == "algo-3"
    assert "algo-3" in d.ready["hosts"]
    assert d.wait() == 0
    assert len(d.error_lines()) == 1 and "algo-3" in d.error_lines()[0]


@pytest.mark.parametrize(
    "content",
    ['{"current_host": ', '["algo-1"]', '{"hosts": ["algo-1"]}', '{"current_host": 7, "hosts": ["algo-1"]}'],
    ids=["malformed", "not-object", "no-current-host", "current-host-not-string"],
)
def test_bad_resourceconfig_fallback(sb, content):
    sb.write_resourceconfig(content)
    d = sb.run_cmd(["sh", "-c", "exit 3"], env={"PORTHOLE_HOLD": "never", "TRAINING_JOB_NAME": "tj"})
    assert d.ready["host"] == socket.gethostname()
    assert d.ready["job"] == "tj"
    assert d.ready["sagemaker"] is False
    assert d.wait() == 3
    errs = d.error_lines()
    assert len(errs) == 1 and "resourceconfig.json" in errs[0], d.stderr


def test_unreadable_resourceconfig_fallback(sb):
    sb.resourceconfig.mkdir()
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "never"})
    assert d.ready["host"] == socket.gethostname()
    assert d.wait() == 0
    errs = d.error_lines()
    assert len(errs) == 1 and "resourceconfig.json" in errs[0], d.stderr


def test_ready_record_comes_before_command_output(sb):
    """In the log a container runtime keeps (stdout and stderr together) the
    ready record comes first."""
    d = sb.run_cmd(["sh", "-c", "echo hello-from-train"], env={"PORTHOLE_HOLD": "never"}, merged=True)
    assert d.wait() == 0
    lines = d.stdout.splitlines()
    assert "hello-from-train" in lines
    ready_at = next(i for i, l in enumerate(lines) if l.startswith("{") and '"porthole":"ready"' in l)
    assert ready_at < lines.index("hello-from-train")