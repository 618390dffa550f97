# SPDX-License-Identifier: Apache-2.0
"""The request pipeline every signed AWS service in the stand-in shares.

    identify operation -> authenticate (SigV4) -> parse body -> fault
    injection -> rate limit -> validate + execute -> log

Subclasses (jsonproto.JsonService for CloudWatch Logs and, later, SSM;
s3.S3Service) supply the protocol-specific pieces.
"""

import collections
import sys
import threading
import time
import traceback

from . import sigv4check
from .wire import Response


class ServiceError(Exception):
    """An error the service answers with (rendered by the protocol)."""

    def __init__(self, code, message=None, status=400, **extra):
        super().__init__(message or code)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra


class AwsService:
    #: short service id used in counters, the request log and fault matching
    name = "aws"
    #: SigV4 signing name (credential scope service)
    signing_name = "aws"
    is_s3 = False

    def __init__(self, state):
        self.state = state
        self._rate_lock = threading.Lock()
        self._rate_windows = collections.defaultdict(collections.deque)

    # -- hooks for subclasses -----------------------------------------
    def identify(self, request):
        """Return the operation name (raise ServiceError if unknown)."""
        raise NotImplementedError

    def parse(self, request, operation):
        """Return the parsed input (raise ServiceError if malformed)."""
        return None

    def execute(self, request, operation, params, verified):
        raise NotImplementedError

    def error_response(self, error, operation=None):
        """Render a ServiceError in the service's wire format."""
        raise NotImplementedError

    def auth_error(self, failure):
        """Map a sigv4check.AuthFailure to a ServiceError."""
        raise NotImplementedError

    def fault_error(self, fault_type):
        """ServiceError for throttle / unavailable / expired_token faults."""
        raise NotImplementedError

    def apply_stream_deleted(self, fault, operation, params):
        """Side effect of a stream_deleted fault (services that have streams)."""

    # -- shared pipeline ----------------------------------------------
    def max_skew(self):
        skews = self.state.config["sigv4"]["max_skew_seconds"]
        return skews.get(self.name, skews.get("default", 300))

    def authenticate(self, request):
        return sigv4check.verify(
            request,
            service=self.signing_name,
            region=self.state.region,
            lookup_credential=self.state.get_credential,
            now=self.state.now(),
            max_skew_seconds=self.max_skew(),
            s3=self.is_s3,
        )

    def rate_limited(self, operation):
        cfg = self.state.config.get(self.name, {})
        if not cfg.get("rate_limits_enabled", True):
            return False
        limits = cfg.get("rate_limits") or {}
        limit = limits.get(operation)
        if not limit:
            return False
        now = time.monotonic()
        with self._rate_lock:
            window = self._rate_windows[operation]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= limit:
                return True
            window.append(now)
            return False

    def handle(self, request):
        operation = "Unknown"
        access_key = None
        fault = None
        response = None
        params = None
        try:
            try:
                operation = self.identify(request)
                try:
                    verified = self.authenticate(request)
                except sigv4check.AuthFailure as failure:
                    access_key = failure.details.get("access_key")
                    raise self.auth_error(failure)
                access_key = verified.access_key
                params = self.parse(request, operation)

                fault = self.state.faults.take(self.name, operation, params, access_key)
                if fault is not None:
                    if fault.type == "reset_before":
                        response = Response.dropped()
                        return response
                    if fault.type in ("throttle", "unavailable", "expired_token", "access_denied"):
                        raise self.fault_error(fault.type)
                    if fault.type == "delay" and fault.phase == "before":
                        time.sleep(fault.seconds)
                    if fault.type == "stream_deleted":
                        self.apply_stream_deleted(fault, operation, params)

                if self.rate_limited(operation):
                    raise self.fault_error("throttle")

                response = self.execute(request, operation, params, verified)
            except ServiceError as err:
                response = self.error_response(err, operation)
            if fault is not None:
                if fault.type == "reset_after":
                    # Processed (whatever the outcome); the answer is lost.
                    processed = response
                    response = Response.dropped()
                    response.extra_log = dict(processed.extra_log)
                    response.extra_log["processed_status"] = processed.status
                    if processed.error_code:
                        response.extra_log["processed_error"] = processed.error_code
                elif fault.type == "delay" and fault.phase == "after":
                    response.delay_after = fault.seconds
            return response
        except Exception:  # a bug in the stand-in: make it loud
            self.state.count_internal_error()
            traceback.print_exc(file=sys.stderr)
            response = self.error_response(
                ServiceError("InternalFailure",
                             "The stand-in hit an internal error (see its stderr).",
                             status=500),
                operation)
            return response
        finally:
            if response is not None:
                fault_type = fault.type if fault is not None else None
                response.fault = fault_type
                self.state.record(
                    self.name, operation,
                    "reset" if response.drop else response.status,
                    error_code=response.error_code,
                    message=response.error_message,
                    fault=fault_type,
                    access_key=access_key,
                    extra=self.logged_params(params, response.extra_log) or None,
                )

    def logged_params(self, params, extra):
        """The request log's extra fields: the response's, and the stream the
        request named (as CloudTrail records requestParameters), so tests can
        tell which stream a GetLogEvents or PutLogEvents was for, answered or not."""
        out = dict(extra or {})
        if isinstance(params, dict) and isinstance(params.get("logStreamName"), str):
            out.setdefault("logStreamName", params["logStreamName"])
        return out
