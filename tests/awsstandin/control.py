# SPDX-License-Identifier: Apache-2.0
"""Test control API under /_standin/ (not AWS; unsigned; JSON in and out).

    GET    /_standin/health
    GET    /_standin/config                 POST /_standin/config  (deep merge)
    GET    /_standin/credentials[?secrets=1]
    POST   /_standin/credentials            {access_key, secret_key,
                                             session_token?, expired?,
                                             expires_in? | expires_at?}
    POST   /_standin/credentials/expire     {access_key}
    DELETE /_standin/credentials?access_key=AK
    POST   /_standin/s3/buckets             {bucket, allowed_access_keys?,
                                             list_allowed?}
    POST   /_standin/s3/objects             {bucket, key, body | body_base64,
                                             content_type?, metadata?}
    GET    /_standin/faults                 POST /_standin/faults {fault spec}
    DELETE /_standin/faults
    GET    /_standin/counters
    GET    /_standin/requests[?since=SEQ&service=S&operation=OP]
    GET    /_standin/logs                   (groups, streams, event counts)
    POST   /_standin/logs/groups            {group, retention_days?}
    POST   /_standin/logs/streams           {group, stream}
    DELETE /_standin/logs/streams?group=G&stream=S
    GET    /_standin/logs/events?group=G&stream=S
    POST   /_standin/reset                  {credentials?: bool, config?: bool}
    GET    /_standin/state                  (everything, as dumped on stop)
    GET    /_standin/ssm                    (activations, instances, deregistered)
    POST   /_standin/ssm/register           {code, id, name?} -> {instance_id}
                                            (RegisterManagedInstance, for the
                                            amazon-ssm-agent test double)

Control requests are not counted and not in the request log.
"""

import base64
import copy
import json

from .faults import FaultSpecError
from .service import ServiceError
from .state import Credential, deep_merge
from .wire import Response

PREFIX = "/_standin/"


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _body(request):
    if not request.body:
        return {}
    try:
        doc = json.loads(request.body.decode("utf-8"))
    except ValueError as exc:
        raise ControlError(400, f"body is not JSON: {exc}")
    if not isinstance(doc, dict):
        raise ControlError(400, "body must be a JSON object")
    return doc


def _need(doc, *names):
    missing = [n for n in names if doc.get(n) in (None, "")]
    if missing:
        raise ControlError(400, f"missing field(s): {', '.join(missing)}")


class ControlApi:
    def __init__(self, standin):
        self.standin = standin
        self.state = standin.state
        self.routes = {
            ("GET", "health"): self.health,
            ("GET", "config"): self.get_config,
            ("POST", "config"): self.set_config,
            ("GET", "credentials"): self.list_credentials,
            ("POST", "credentials"): self.add_credentials,
            ("POST", "credentials/expire"): self.expire_credentials,
            ("DELETE", "credentials"): self.delete_credentials,
            ("POST", "s3/buckets"): self.put_bucket,
            ("POST", "s3/objects"): self.put_object,
            ("GET", "faults"): self.list_faults,
            ("POST", "faults"): self.add_fault,
            ("DELETE", "faults"): self.clear_faults,
            ("GET", "counters"): self.counters,
            ("GET", "requests"): self.requests,
            ("GET", "logs"): self.logs_summary,
            ("POST", "logs/groups"): self.logs_group,
            ("POST", "logs/streams"): self.logs_stream,
            ("DELETE", "logs/streams"): self.logs_delete_stream,
            ("GET", "logs/events"): self.logs_events,
            ("POST", "reset"): self.reset,
            ("GET", "state"): self.dump,
            ("GET", "ssm"): self.ssm_summary,
            ("POST", "ssm/register"): self.ssm_register,
        }

    def handle(self, request):
        route = request.path[len(PREFIX):].strip("/")
        handler = self.routes.get((request.method, route))
        try:
            if handler is None:
                raise ControlError(404, f"no control route {request.method} {request.path}")
            result = handler(request)
            return Response.json(200, result)
        except ControlError as err:
            return Response.json(err.status, {"error": err.message})
        except (FaultSpecError, ValueError, TypeError, KeyError) as err:
            return Response.json(400, {"error": f"{type(err).__name__}: {err}"})

    # -- handlers ------------------------------------------------------
    def health(self, request):
        return {"ok": True, "url": self.standin.url, "region": self.state.region,
                "now": self.state.now()}

    def get_config(self, request):
        with self.state.lock:
            return copy.deepcopy(self.state.config)

    def set_config(self, request):
        doc = _body(request)
        with self.state.lock:
            deep_merge(self.state.config, doc)
            if "container_credentials" in doc:
                self.state.issuers["container"].reset()
            if "imds" in doc:
                self.state.issuers["imds"].reset()
            return copy.deepcopy(self.state.config)

    def list_credentials(self, request):
        secrets = request.query_value("secrets") in ("1", "true")
        now = self.state.now()
        with self.state.lock:
            return {"credentials": [c.describe(now, include_secret=secrets)
                                    for c in self.state.credentials.values()]}

    def add_credentials(self, request):
        doc = _body(request)
        _need(doc, "access_key", "secret_key")
        expires_at = doc.get("expires_at")
        if doc.get("expires_in") is not None:
            expires_at = self.state.now() + float(doc["expires_in"])
        cred = Credential(doc["access_key"], doc["secret_key"],
                          doc.get("session_token"), expires_at,
                          doc.get("expired", False))
        self.state.add_credential(cred)
        return cred.describe(self.state.now())

    def expire_credentials(self, request):
        doc = _body(request)
        _need(doc, "access_key")
        cred = self.state.get_credential(doc["access_key"])
        if cred is None:
            raise ControlError(404, "unknown access key")
        cred.expired = True
        return cred.describe(self.state.now())

    def delete_credentials(self, request):
        key = request.query_value("access_key")
        with self.state.lock:
            if self.state.credentials.pop(key, None) is None:
                raise ControlError(404, "unknown access key")
        return {"deleted": key}

    def put_bucket(self, request):
        doc = _body(request)
        _need(doc, "bucket")
        self.state.s3.put_bucket(doc["bucket"], doc.get("allowed_access_keys"),
                                 doc.get("list_allowed", True))
        return {"bucket": doc["bucket"]}

    def put_object(self, request):
        doc = _body(request)
        _need(doc, "bucket", "key")
        if doc.get("body_base64") is not None:
            body = base64.b64decode(doc["body_base64"])
        else:
            body = str(doc.get("body", "")).encode("utf-8")
        self.state.s3.put_object(doc["bucket"], doc["key"], body,
                                 doc.get("content_type"), self.state.now(),
                                 doc.get("metadata"))
        return {"bucket": doc["bucket"], "key": doc["key"], "size": len(body)}

    def list_faults(self, request):
        return {"faults": self.state.faults.list()}

    def add_fault(self, request):
        fault = self.state.faults.add(_body(request))
        return fault.describe()

    def clear_faults(self, request):
        self.state.faults.clear()
        return {"faults": []}

    def counters(self, request):
        with self.state.lock:
            return copy.deepcopy(self.state.counters)

    def requests(self, request):
        since = int(request.query_value("since", "0"))
        service = request.query_value("service")
        operation = request.query_value("operation")
        with self.state.lock:
            entries = [dict(e) for e in self.state.request_log if e["seq"] > since
                       and (service is None or e["service"] == service)
                       and (operation is None or e["operation"] == operation)]
            last = self.state.request_log[-1]["seq"] if self.state.request_log else 0
        return {"requests": entries, "last_seq": last, "now": self.state.now()}

    def logs_summary(self, request):
        with self.state.lock:
            return {"groups": {
                g.name: {"retentionInDays": g.retention_days,
                         "streams": {s.name: len(s.events) for s in g.streams.values()}}
                for g in self.state.logs.groups.values()}}

    def logs_group(self, request):
        doc = _body(request)
        _need(doc, "group")
        with self.state.lock:
            group = self.state.logs.ensure_stream(doc["group"], None, self.state.now_ms())
            if "retention_days" in doc:
                group.retention_days = doc["retention_days"]
        return {"group": doc["group"]}

    def logs_stream(self, request):
        doc = _body(request)
        _need(doc, "group", "stream")
        self.state.logs.ensure_stream(doc["group"], doc["stream"], self.state.now_ms())
        return {"group": doc["group"], "stream": doc["stream"]}

    def logs_delete_stream(self, request):
        group, stream = request.query_value("group"), request.query_value("stream")
        with self.state.lock:
            g = self.state.logs.groups.get(group)
            if g is None or g.streams.pop(stream, None) is None:
                raise ControlError(404, "no such group/stream")
        return {"deleted": f"{group}/{stream}"}

    def logs_events(self, request):
        group, stream = request.query_value("group"), request.query_value("stream")
        events = self.state.logs.events(group, stream)
        if events is None:
            raise ControlError(404, "no such group/stream")
        return {"events": events}

    def reset(self, request):
        doc = _body(request)
        self.standin.reset(credentials=bool(doc.get("credentials")),
                           config=bool(doc.get("config")))
        return {"reset": True}

    def dump(self, request):
        return self.standin.snapshot()

    def ssm_summary(self, request):
        return self.state.ssm.snapshot()

    def ssm_register(self, request):
        doc = _body(request)
        _need(doc, "code", "id")
        try:
            instance_id = self.state.ssm.register(doc["code"], doc["id"], self.state.now(),
                                                  doc.get("name"))
        except ServiceError as err:
            raise ControlError(400, f"{err.code}: {err.message}")
        return {"instance_id": instance_id}
