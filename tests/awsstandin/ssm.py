# SPDX-License-Identifier: Apache-2.0
"""Systems Manager (JSON 1.1, target prefix AmazonSSM): the part of the API a
container that registers itself as a hybrid managed instance uses.

Operations: CreateActivation, DescribeActivations, DeleteActivation,
AddTagsToResource, RemoveTagsFromResource, ListTagsForResource,
DeregisterManagedInstance, DescribeInstanceInformation.

Registration itself (ssm:RegisterManagedInstance) is an internal API the
agent calls with its activation and an RSA key; it is not in botocore's
model.  The agent test double (tests/ssmagent) registers through the control
API instead (POST /_standin/ssm/register {code, id}), which applies the same
rules the service documents: the activation must exist, match its code, not
be expired and have registrations left.

What follows AWS's documentation:
  * activations: ActivationId is a UUID, ActivationCode 20 characters;
    RegistrationLimit defaults to 1, ExpirationDate to 24 h and at most 30
    days ahead ("ExpirationDate" in the past or too far is a
    ValidationException); IamRole is required (model);
  * the activation's Tags are copied to the nodes that register with it;
  * managed instance ids are mi- and 17 hex digits; resource type
    ManagedInstance; an unknown id is InvalidResourceId (tags) or
    InvalidInstanceId (deregistration, describe filters);
  * DescribeInstanceInformation: MaxResults 5..50 (model), filters
    InstanceIds, PingStatus, ResourceType, ActivationIds and tag:<key>.
Simplified: no pagination tokens, no ping-status ageing (a registered node is
Online until deregistered), one account.
"""

import datetime
import secrets
import threading
import uuid

from .jsonproto import JsonService
from .service import ServiceError

MAX_EXPIRY_SECONDS = 30 * 24 * 3600
DEFAULT_EXPIRY_SECONDS = 24 * 3600


def _epoch(value):
    """A timestamp member as botocore sends it (epoch number) or ISO text."""
    if isinstance(value, (int, float)):
        return float(value)
    try:
        text = str(value).replace("Z", "+00:00")
        return datetime.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ServiceError("SerializationException", f"Could not parse timestamp {value!r}",
                           message_key="Message")


class SsmStore:
    def __init__(self, lock=None):
        self.lock = lock or threading.RLock()
        self.activations = {}
        self.instances = {}
        self.deregistered = []

    def clear(self):
        with self.lock:
            self.activations.clear()
            self.instances.clear()
            self.deregistered.clear()

    def snapshot(self):
        with self.lock:
            return {
                "activations": {k: dict(v) for k, v in self.activations.items()},
                "instances": {k: dict(v) for k, v in self.instances.items()},
                "deregistered": list(self.deregistered),
            }

    def register(self, code, activation_id, now, name=None):
        """What RegisterManagedInstance does; returns the new mi- id."""
        with self.lock:
            act = self.activations.get(activation_id)
            if act is None or act["ActivationCode"] != code:
                raise ServiceError("InvalidActivation", "Activation ID or code is not valid.")
            if act["ExpirationDate"] <= now:
                act["Expired"] = True
                raise ServiceError("InvalidActivation", "Activation has expired.")
            if act["RegistrationsCount"] >= act["RegistrationLimit"]:
                raise ServiceError("InvalidActivation",
                                   "Activation has reached its registration limit.")
            act["RegistrationsCount"] += 1
            instance_id = "mi-" + secrets.token_hex(9)[:17]
            self.instances[instance_id] = {
                "InstanceId": instance_id,
                "PingStatus": "Online",
                "ResourceType": "ManagedInstance",
                "ActivationId": activation_id,
                "IamRole": act["IamRole"],
                "Name": name or act.get("DefaultInstanceName") or "",
                "RegistrationDate": now,
                "LastPingDateTime": now,
                "Tags": dict(act["Tags"]),
            }
            return instance_id


class SsmService(JsonService):
    name = "ssm"
    signing_name = "ssm"
    target_prefix = "AmazonSSM"
    model_name = "ssm"
    error_namespace = "com.amazonaws.ssm"
    validation_error_code = "ValidationException"
    operations = {
        "CreateActivation": "create_activation",
        "DescribeActivations": "describe_activations",
        "DeleteActivation": "delete_activation",
        "AddTagsToResource": "add_tags",
        "RemoveTagsFromResource": "remove_tags",
        "ListTagsForResource": "list_tags",
        "DeregisterManagedInstance": "deregister",
        "DescribeInstanceInformation": "describe_instance_information",
    }

    def __init__(self, state):
        super().__init__(state)
        self.store = state.ssm

    def fault_error(self, fault_type):
        if fault_type == "access_denied":
            # The wording IAM uses when a policy does not allow the call.
            return ServiceError(
                "AccessDeniedException",
                f"User: arn:aws:sts::{self.state.account_id}:assumed-role/standin/session is not "
                "authorized to perform: ssm:CreateActivation because no identity-based policy "
                "allows the ssm:CreateActivation action", status=400)
        return super().fault_error(fault_type)

    # -- activations ---------------------------------------------------
    def create_activation(self, params, verified):
        now = self.state.now()
        expires = now + DEFAULT_EXPIRY_SECONDS
        if "ExpirationDate" in params:
            expires = _epoch(params["ExpirationDate"])
            if expires <= now or expires > now + MAX_EXPIRY_SECONDS:
                raise ServiceError("ValidationException",
                                   "ExpirationDate must be in the future and at most 30 days ahead.")
        activation_id = str(uuid.uuid4())
        code = secrets.token_urlsafe(15)[:20]
        with self.store.lock:
            self.store.activations[activation_id] = {
                "ActivationId": activation_id,
                "ActivationCode": code,
                "IamRole": params["IamRole"],
                "Description": params.get("Description", ""),
                "DefaultInstanceName": params.get("DefaultInstanceName", ""),
                "RegistrationLimit": params.get("RegistrationLimit", 1),
                "RegistrationsCount": 0,
                "ExpirationDate": expires,
                "Expired": False,
                "CreatedDate": now,
                "Tags": {t["Key"]: t["Value"] for t in params.get("Tags", [])},
            }
        return {"ActivationId": activation_id, "ActivationCode": code}

    def describe_activations(self, params, verified):
        with self.store.lock:
            acts = []
            for act in self.store.activations.values():
                out = {k: v for k, v in act.items() if k not in ("ActivationCode", "Tags")}
                out["Tags"] = [{"Key": k, "Value": v} for k, v in act["Tags"].items()]
                acts.append(out)
        return {"ActivationList": acts}

    def delete_activation(self, params, verified):
        with self.store.lock:
            if self.store.activations.pop(params["ActivationId"], None) is None:
                raise ServiceError("InvalidActivationId", "Activation ID is not valid.")
        return {}

    # -- tags ----------------------------------------------------------
    def _instance_for(self, params):
        if params["ResourceType"] != "ManagedInstance":
            raise ServiceError("InvalidResourceType",
                               "The stand-in only models ResourceType ManagedInstance.")
        inst = self.store.instances.get(params["ResourceId"])
        if inst is None:
            raise ServiceError("InvalidResourceId", "The resource ID is not valid. Verify the ID "
                               "and try again.")
        return inst

    def add_tags(self, params, verified):
        with self.store.lock:
            inst = self._instance_for(params)
            for tag in params["Tags"]:
                inst["Tags"][tag["Key"]] = tag["Value"]
        return {}

    def remove_tags(self, params, verified):
        with self.store.lock:
            inst = self._instance_for(params)
            for key in params["TagKeys"]:
                inst["Tags"].pop(key, None)
        return {}

    def list_tags(self, params, verified):
        with self.store.lock:
            inst = self._instance_for(params)
            return {"TagList": [{"Key": k, "Value": v} for k, v in inst["Tags"].items()]}

    # -- instances -----------------------------------------------------
    def deregister(self, params, verified):
        with self.store.lock:
            inst = self.store.instances.pop(params["InstanceId"], None)
            if inst is None:
                raise ServiceError("InvalidInstanceId", "Instance Id is not valid.")
            self.store.deregistered.append(params["InstanceId"])
        return {}

    def describe_instance_information(self, params, verified):
        filters = {}
        for f in params.get("InstanceInformationFilterList", []):
            filters[f["key"]] = f["valueSet"]
        for f in params.get("Filters", []):
            filters[f["Key"]] = f["Values"]
        with self.store.lock:
            out = []
            for inst in self.store.instances.values():
                if not self._matches(inst, filters):
                    continue
                info = {k: v for k, v in inst.items() if k != "Tags"}
                out.append(info)
        if "InstanceIds" in filters and not out:
            raise ServiceError("InvalidInstanceId", "Instance Id is not valid.")
        return {"InstanceInformationList": out}

    @staticmethod
    def _matches(inst, filters):
        for key, values in filters.items():
            if key.startswith("tag:"):
                if inst["Tags"].get(key[4:]) not in values:
                    return False
            elif key == "InstanceIds":
                if inst["InstanceId"] not in values:
                    return False
            elif key == "ActivationIds":
                if inst["ActivationId"] not in values:
                    return False
            elif key in ("PingStatus", "ResourceType"):
                if inst[key] not in values:
                    return False
        return True
