# SPDX-License-Identifier: Apache-2.0
"""Self-tests of the stand-in's SSM service (ssm.py)."""

import time

import botocore.exceptions
import pytest

from .client import StandinProcess, aws_cli, logs_client


@pytest.fixture(scope="module")
def standin():
    proc = StandinProcess()
    proc.start()
    try:
        yield proc
    finally:
        proc.cleanup()


@pytest.fixture
def ssm(standin):
    standin.control.reset(credentials=True, config=True)
    return logs_client(standin.url, service="ssm", region=standin.region)


def register(standin, act):
    return standin.control.call("POST", "ssm/register",
                                {"code": act["ActivationCode"], "id": act["ActivationId"]})


def test_activation_register_tag_describe_deregister(standin, ssm):
    act = ssm.create_activation(IamRole="ssm-role", RegistrationLimit=1,
                                ExpirationDate=time.time() + 3600,
                                Tags=[{"Key": "job", "Value": "j"}])
    assert len(act["ActivationCode"]) == 20
    mi = register(standin, act)["instance_id"]
    assert mi.startswith("mi-") and len(mi) == 20
    # The limit is 1: a second node cannot use the activation.
    with pytest.raises(Exception) as exc:
        register(standin, act)
    assert "registration limit" in str(exc.value)

    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=mi,
                             Tags=[{"Key": "host", "Value": "algo-1"}])
    tags = {t["Key"]: t["Value"] for t in
            ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=mi)["TagList"]}
    assert tags == {"job": "j", "host": "algo-1"}
    info = ssm.describe_instance_information(
        Filters=[{"Key": "tag:host", "Values": ["algo-1"]}])["InstanceInformationList"]
    assert [i["InstanceId"] for i in info] == [mi] and info[0]["PingStatus"] == "Online"

    ssm.deregister_managed_instance(InstanceId=mi)
    assert standin.control.call("GET", "ssm")["deregistered"] == [mi]
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        ssm.deregister_managed_instance(InstanceId=mi)
    assert exc.value.response["Error"]["Code"] == "InvalidInstanceId"


def test_model_validation_and_access_denied_fault(standin, ssm):
    bad = logs_client(standin.url, service="ssm", region=standin.region, validate=False)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        bad.deregister_managed_instance(InstanceId="mi-1")
    err = exc.value.response["Error"]
    assert err["Code"] == "ValidationException" and "InstanceId" in err["Message"]

    standin.control.add_fault("access_denied", service="ssm", operation="CreateActivation")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        ssm.create_activation(IamRole="ssm-role")
    err = exc.value.response["Error"]
    assert err["Code"] == "AccessDeniedException" and "ssm:CreateActivation" in err["Message"]
    assert ssm.create_activation(IamRole="ssm-role")["ActivationId"]


def test_aws_cli_signature(standin, ssm):
    act = ssm.create_activation(IamRole="ssm-role")
    mi = register(standin, act)["instance_id"]
    out = aws_cli(standin.url, ["ssm", "describe-instance-information", "--filters",
                                f"Key=InstanceIds,Values={mi}"])
    code, doc, err = out
    assert code == 0, err
    assert [i["InstanceId"] for i in doc["InstanceInformationList"]] == [mi]
