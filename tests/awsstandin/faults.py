# SPDX-License-Identifier: Apache-2.0
"""Fault injection: tests queue faults that hit the next N matching requests.

A fault matches on service ("logs", "s3", "imds", "container_credentials"
or "*") and operation name ("PutLogEvents", "GetObject", "GetCredentials",
... or "*").  Faults are tried in the order they were added; a request
consumes at most one fault.

Types:
  throttle        AWS throttling error (Logs: 400 ThrottlingException
                  "Rate exceeded"; S3: 503 SlowDown; IMDS/container: 429)
  unavailable     server error (Logs: 500 ServiceUnavailableException;
                  S3: 500 InternalError; IMDS/container: 500)
  reset_before    close the connection with a TCP RST before the request is
                  processed: no response, nothing stored
  reset_after     process the request (events ARE stored), then reset the
                  connection instead of answering
  delay           sleep ``seconds`` and then answer normally; ``phase``
                  "before" (default) sleeps before processing, "after"
                  processes first and sleeps before answering
  expired_token   answer as if the credentials had expired
                  (Logs: 400 ExpiredTokenException; S3: 400 ExpiredToken)
  stream_deleted  (Logs) delete the log stream named in the request (or the
                  fault's group/stream) before processing, so the request
                  itself gets ResourceNotFoundException
  access_denied   (Logs, SSM) 400 AccessDeniedException, as IAM answers a call no
                  policy allows

``group`` and ``stream``: a stream_deleted fault deletes that stream (else
the request's).  Any other fault given a group or a stream hits only
requests naming that logGroupName / logStreamName, as an IAM policy can
allow or deny an action on one log group's or log stream's ARN (e.g.
access_denied for PutLogEvents on one stream while the others still work).
``access_key``: the fault hits only requests signed with that access key,
as a policy attached to one principal would (tests that give each host
credentials of its own use it to single a host out).
"""

import itertools
import threading

FAULT_TYPES = (
    "throttle",
    "unavailable",
    "reset_before",
    "reset_after",
    "delay",
    "expired_token",
    "stream_deleted",
    "access_denied",
)


class FaultSpecError(ValueError):
    pass


class Fault:
    _ids = itertools.count(1)

    def __init__(self, type, service="*", operation="*", count=1, seconds=0.0,
                 phase="before", group=None, stream=None, access_key=None):
        if type not in FAULT_TYPES:
            raise FaultSpecError(f"unknown fault type {type!r}; one of {FAULT_TYPES}")
        if count is not None and int(count) < 1:
            raise FaultSpecError("count must be >= 1 (or null for unlimited)")
        if phase not in ("before", "after"):
            raise FaultSpecError("phase must be 'before' or 'after'")
        if type == "delay" and float(seconds) <= 0:
            raise FaultSpecError("delay needs seconds > 0")
        self.id = next(Fault._ids)
        self.type = type
        self.service = service or "*"
        self.operation = operation or "*"
        self.remaining = None if count is None else int(count)
        self.seconds = float(seconds or 0)
        self.phase = phase
        self.group = group
        self.stream = stream
        self.access_key = access_key
        self.applied = 0

    def matches(self, service, operation, params=None, access_key=None):
        if not (self.service in ("*", service) and self.operation in ("*", operation)):
            return False
        if self.access_key is not None and access_key != self.access_key:
            return False
        if self.type == "stream_deleted":
            return True
        params = params or {}
        return ((self.group is None or params.get("logGroupName") == self.group)
                and (self.stream is None or params.get("logStreamName") == self.stream))

    def describe(self):
        return {
            "id": self.id,
            "type": self.type,
            "service": self.service,
            "operation": self.operation,
            "remaining": self.remaining,
            "seconds": self.seconds,
            "phase": self.phase,
            "group": self.group,
            "stream": self.stream,
            "access_key": self.access_key,
            "applied": self.applied,
        }


class FaultBook:
    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []

    def add(self, spec):
        allowed = {"type", "service", "operation", "count", "seconds", "phase",
                   "group", "stream", "access_key"}
        unknown = set(spec) - allowed
        if unknown:
            raise FaultSpecError(f"unknown fault fields: {sorted(unknown)}")
        if "type" not in spec:
            raise FaultSpecError("fault needs a 'type'")
        fault = Fault(**spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, service, operation, params=None, access_key=None):
        """Consume one use of the first matching fault, or return None."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(service, operation, params, access_key):
                    fault.applied += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def list(self):
        with self._lock:
            return [f.describe() for f in self._faults]

    def clear(self):
        with self._lock:
            self._faults.clear()
