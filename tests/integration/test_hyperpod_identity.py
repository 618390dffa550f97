# SPDX-License-Identifier: Apache-2.0
"""A HyperPod node: `porthole serve` reads the cluster's resource_config.json,
finds itself by address (the sample names 127.0.0.1, an address of every
machine), announces job = cluster, host = instance name, and publishes to the
cluster's log group in the AWS stand-in, whose region comes from the
cluster ARN.  Then `porthole hosts CLUSTER` (the laptop side) lists the node.
"""

import json
import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from awsstandin.client import StandinProcess, porthole_env  # noqa: E402
from porthole_harness import SLOW, Sandbox, wait_for  # noqa: E402

REGION = "us-west-2"
CLUSTER = "ml-cluster"
CLUSTER_ID = "abc123def456"
ARN = f"arn:aws:sagemaker:{REGION}:123456789012:cluster/{CLUSTER_ID}"
GROUP = f"/aws/sagemaker/Clusters/{CLUSTER}/{CLUSTER_ID}"
STREAM = f"{CLUSTER}/worker-group-1/worker-group-1-2/porthole"
WAIT = 90 if SLOW else 45

RESOURCE_CONFIG = {
    "ClusterConfig": {"ClusterArn": ARN, "ClusterName": CLUSTER},
    "InstanceGroups": [
        {"Name": "controller-machine", "InstanceType": "ml.c5.xlarge",
         "Instances": [{"InstanceName": "controller-machine-1", "CustomerIpAddress": "203.0.113.10",
                        "InstanceId": "i-0123456789abcdef0"}]},
        {"Name": "worker-group-1", "InstanceType": "ml.g5.8xlarge",
         "Instances": [{"InstanceName": "worker-group-1-1", "CustomerIpAddress": "203.0.113.21"},
                       {"InstanceName": "worker-group-1-2", "CustomerIpAddress": "127.0.0.1"}]},
    ],
}


@pytest.fixture
def standin():
    """A stand-in that only accepts requests signed for the cluster's region."""
    s = StandinProcess(region=REGION)
    s.start()
    try:
        yield s
    finally:
        s.cleanup()


def node_env(sb, standin, **extra):
    # No AWS_REGION and no PORTHOLE_CLOUDWATCH: both come from the node.
    env = porthole_env(standin.url, region=None)
    env["PORTHOLE_SPOOL_DIR"] = str(sb.root / "spool")
    env.update(extra)
    return env


def write_node_config(sb, obj=RESOURCE_CONFIG):
    p = sb.ml_root / "config" / "resource_config.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return p


def records(standin, group=GROUP, stream=STREAM):
    try:
        return [json.loads(e["message"]) for e in standin.control.events(group, stream)]
    except Exception:  # noqa: BLE001 - the stream is not there yet
        return []


def test_node_identity_and_cluster_log_group(sb, standin):
    standin.control.create_group(GROUP)
    write_node_config(sb)
    d = sb.start(["serve"], env=node_env(sb, standin))
    r = d.ready
    assert r["platform"] == "hyperpod"
    assert r["job"] == CLUSTER
    assert r["host"] == "worker-group-1-2"
    assert r["hosts"] == ["controller-machine-1", "worker-group-1-1", "worker-group-1-2"]
    assert r["instance_group"] == "worker-group-1"
    assert r["instance_type"] == "ml.g5.8xlarge"
    assert r["cluster_arn"] == ARN
    assert r["region"] == REGION
    assert r["interface"] == "lo" and r["ip"] == "127.0.0.1"
    assert r["sagemaker"] is False
    assert r["log_group"] == GROUP and r["log_stream"] == STREAM
    assert "job ml-cluster, host worker-group-1-2 (3 hosts)" in d.ready_line()

    # The identity record reaches the cluster's group, signed for its region.
    got = wait_for(lambda: [x for x in records(standin) if x.get("event") == "ready"] or None,
                   timeout=WAIT, what="the ready event in the cluster's log group")
    assert got[0]["job"] == CLUSTER and got[0]["host"] == "worker-group-1-2"
    assert got[0]["data"]["instance_group"] == "worker-group-1"
    assert list(standin.control.call("GET", "logs")["groups"]) == [GROUP]

    # The laptop side finds the node under the cluster's name.
    user_env = node_env(sb, standin, AWS_REGION=REGION, PORTHOLE_LOG_GROUP=GROUP)
    r = sb.cli("hosts", CLUSTER, "--json", env=user_env, timeout=WAIT)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [h["host"] for h in doc["hosts"]] == ["worker-group-1-2"]
    assert doc["hosts"][0]["ip"] == "127.0.0.1"

    d.signal(signal.SIGTERM)
    assert d.wait() == 0
    assert d.error_lines() == []


def test_configured_group_and_stream_win(sb, standin):
    standin.control.create_group("/ops/porthole")
    write_node_config(sb)
    d = sb.start(["serve"], env=node_env(sb, standin, PORTHOLE_LOG_GROUP="/ops/porthole",
                                         PORTHOLE_LOG_STREAM="nodes/w2"))
    assert d.ready["log_group"] == "/ops/porthole" and d.ready["log_stream"] == "nodes/w2"
    wait_for(lambda: [x for x in records(standin, "/ops/porthole", "nodes/w2") if x.get("event") == "ready"] or None,
             timeout=WAIT, what="the ready event in the configured group")
    d.signal(signal.SIGTERM)
    assert d.wait() == 0


def test_cloudwatch_off_on_a_node(sb, standin):
    write_node_config(sb)
    d = sb.start(["serve"], env=node_env(sb, standin, PORTHOLE_CLOUDWATCH="off"))
    assert d.ready["platform"] == "hyperpod" and d.ready["log_group"] is None
    d.signal(signal.SIGTERM)
    assert d.wait() == 0
    assert standin.control.call("GET", "logs")["groups"] == {}


def test_not_in_the_cluster(sb, standin):
    # No instance has an address of this machine: one error naming the file,
    # then the hostname as the host, still publishing to the cluster's group.
    cfg = json.loads(json.dumps(RESOURCE_CONFIG))
    cfg["InstanceGroups"][1]["Instances"][1]["CustomerIpAddress"] = "203.0.113.22"
    path = write_node_config(sb, cfg)
    d = sb.start(["serve"], env=node_env(sb, standin, PORTHOLE_CLOUDWATCH="off"))
    r = d.ready
    assert r["platform"] == "hyperpod" and r["job"] == CLUSTER
    assert r["host"] == os.uname().nodename and r["instance_group"] is None
    assert r["host"] in r["hosts"] and len(r["hosts"]) == 4
    d.signal(signal.SIGTERM)
    assert d.wait() == 0
    errs = d.error_lines()
    assert len(errs) == 1 and str(path) in errs[0] and "CustomerIpAddress" in errs[0], errs


def test_malformed_file_falls_back(sb, standin):
    path = write_node_config(sb, '{"ClusterConfig": {"ClusterName": ')
    d = sb.start(["serve"], env=node_env(sb, standin))
    r = d.ready
    assert r["platform"] == "none" and r["job"] == "local" and r["log_group"] is None
    d.signal(signal.SIGTERM)
    assert d.wait() == 0
    errs = d.error_lines()
    assert len(errs) == 1 and str(path) in errs[0] and "malformed JSON" in errs[0], errs


def test_resource_config_path_variable(standin):
    # $SAGEMAKER_RESOURCE_CONFIG_PATH names the file, as on_create.sh is given it.
    sb = Sandbox()
    try:
        other = sb.root / "rc.json"
        other.write_text(json.dumps(RESOURCE_CONFIG))
        d = sb.start(["serve"], env=node_env(sb, standin, PORTHOLE_CLOUDWATCH="off",
                                             SAGEMAKER_RESOURCE_CONFIG_PATH=str(other)))
        assert d.ready["host"] == "worker-group-1-2"
        d.signal(signal.SIGTERM)
        assert d.wait() == 0
    finally:
        sb.cleanup()
