# SPDX-License-Identifier: Apache-2.0
"""Shared, thread-safe state of the stand-in: clock, configuration, credential
table, counters and the request log.

Everything the services share lives here so that the control API, the state
dump and the services all see one consistent picture.  One re-entrant lock
(``StandInState.lock``) guards all mutable state; services take it around
their reads and writes and never sleep while holding it.
"""

import base64
import copy
import datetime
import secrets
import string
import threading
import time

# Defaults.  Every value can be changed at run time through the control API
# (POST /_standin/config), so tests can tighten or loosen a rule explicitly.
DEFAULT_CONFIG = {
    "region": "us-east-1",
    "account_id": "123456789012",
    # Added to the host clock: lets a test move the stand-in's "now" to
    # provoke signature-expiry or too-old/too-new event handling.
    "clock_offset_seconds": 0.0,
    # "plain": __type is the bare code and no X-Amzn-ErrorType header, which
    # is what CloudWatch Logs sends today (captured responses carry only
    # x-amzn-RequestId, Content-Type, Content-Length and Date).
    # "namespaced": __type is "com.amazonaws.logs#Code" and the response also
    # carries "X-Amzn-ErrorType: Code:http://internal.amazon.com/coral/...",
    # the other shape AWS JSON services use; porthole must parse both.
    "error_style": "plain",
    "sigv4": {
        # CloudWatch Logs (and other Coral JSON services) allow 5 minutes of
        # skew; S3 allows 15 minutes (MaxAllowedSkewMilliseconds 900000).
        "max_skew_seconds": {"logs": 300, "s3": 900, "default": 300},
    },
    "logs": {
        "max_batch_bytes": 1048576,
        # (at most 10,000 events per call comes from the service model)
        # Size of ONE event counted like the batch: UTF-8 message bytes + 26.
        # AWS's long-standing limit (error text "Log event too large: N bytes
        # exceeds limit of 262144") is 256 KiB; newer docs say 1 MB.  We keep
        # the stricter value; set 1048576 to model the newer quota.
        "max_event_bytes": 262144,
        "event_overhead_bytes": 26,
        "max_future_ms": 2 * 3600 * 1000,
        "max_age_ms": 14 * 24 * 3600 * 1000,
        "max_batch_span_ms": 24 * 3600 * 1000,
        "max_response_bytes": 1048576,
        # Per-account, per-second quotas (CloudWatch Logs quotas page; the
        # PutLogEvents value is the one of the large regions).  Exceeding one
        # gives ThrottlingException "Rate exceeded".  Turn off with
        # rate_limits_enabled: false (or set one operation's value to 0).
        "rate_limits_enabled": True,
        "rate_limits": {
            "CreateLogGroup": 5,
            "CreateLogStream": 50,
            "DeleteLogGroup": 10,
            "DeleteLogStream": 15,
            "DescribeLogGroups": 10,
            "DescribeLogStreams": 25,
            "FilterLogEvents": 5,
            "GetLogEvents": 25,
            "PutLogEvents": 5000,
            "PutRetentionPolicy": 5,
        },
    },
    "container_credentials": {
        "path": "/v2/credentials/standin-creds",
        # When set, the Authorization header must equal this value.
        "auth_token": None,
        "expires_in": 3600,
        # Mint new credentials on every GET (otherwise the same set is served
        # until less than half of its lifetime is left, like the ECS agent
        # rotating well before expiry).
        "rotate_each_fetch": False,
        "role_arn": "arn:aws:iam::123456789012:role/standin-task-role",
    },
    "imds": {
        "role": "standin-instance-role",
        "expires_in": 21600,
        "rotate_each_fetch": False,
        # IMDSv2 only ("HttpTokens: required"); True also answers tokenless
        # IMDSv1 GETs.
        "v1_allowed": False,
        "instance_id": "i-0standin00000001",
        "availability_zone_suffix": "a",
        "instance_type": "ml.p4d.24xlarge",
        "image_id": "ami-0standin0000001",
        "private_ip": "10.0.0.10",
    },
    # Length of minted session tokens.  Real STS role tokens are long (often
    # over 1000 characters); keep them long so header handling is exercised.
    "session_token_length": 1024,
}


def deep_merge(base, update):
    """Merge ``update`` into ``base`` recursively (dicts only) in place."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def iso8601(epoch_seconds):
    """2016-02-25T06:03:31Z, the format of credential Expiration fields."""
    return datetime.datetime.fromtimestamp(
        int(epoch_seconds), tz=datetime.timezone.utc
    ).strftime("%Y-%m-%dT%H:%M:%SZ")


_KEY_ALPHABET = string.ascii_uppercase + "234567"


def new_access_key(prefix="ASIA"):
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret_key():
    return base64.b64encode(secrets.token_bytes(30)).decode("ascii")[:40]


def new_session_token(length):
    raw = base64.b64encode(secrets.token_bytes(length)).decode("ascii")
    return ("IQoJb3JpZ2luX2Vj" + raw)[:length]


class Credential:
    """One entry of the credential table.

    ``session_token`` set means temporary (STS-style) credentials: requests
    must carry exactly that X-Amz-Security-Token.  ``expires_at`` (epoch
    seconds, stand-in clock) or ``expired`` make the credential expired.
    """

    def __init__(self, access_key, secret_key, session_token=None,
                 expires_at=None, expired=False, source="control"):
        self.access_key = access_key
        self.secret_key = secret_key
        self.session_token = session_token or None
        self.expires_at = expires_at
        self.expired = bool(expired)
        self.source = source

    def is_expired(self, now):
        if self.expired:
            return True
        return self.expires_at is not None and now >= self.expires_at

    def describe(self, now, include_secret=False):
        info = {
            "access_key": self.access_key,
            "temporary": self.session_token is not None,
            "expired": self.is_expired(now),
            "expires_at": self.expires_at,
            "source": self.source,
        }
        if include_secret:
            info["secret_key"] = self.secret_key
            info["session_token"] = self.session_token
        return info


class StandInState:
    """All mutable state plus the configuration."""

    def __init__(self, region="us-east-1"):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.config["region"] = region
        self.credentials = {}
        self.started_at = time.time()
        self._request_seq = 0
        self.request_log = []
        self.request_log_limit = 100000
        self.counters = {}
        self.reset_counters()
        # Filled in by the services at construction time.
        self.logs = None
        self.s3 = None
        self.faults = None
        self.issuers = {}

    # -- clock ---------------------------------------------------------
    def now(self):
        """Stand-in time in epoch seconds (host clock + configured offset)."""
        return time.time() + float(self.config.get("clock_offset_seconds", 0))

    def now_ms(self):
        return int(self.now() * 1000)

    @property
    def region(self):
        return self.config["region"]

    @property
    def account_id(self):
        return self.config["account_id"]

    # -- credentials ---------------------------------------------------
    def add_credential(self, cred):
        with self.lock:
            self.credentials[cred.access_key] = cred
        return cred

    def get_credential(self, access_key):
        with self.lock:
            return self.credentials.get(access_key)

    def mint_temporary(self, lifetime_seconds, source):
        """Create and register temporary credentials (what STS would hand to
        the container-credentials endpoint or IMDS)."""
        now = self.now()
        cred = Credential(
            access_key=new_access_key("ASIA"),
            secret_key=new_secret_key(),
            session_token=new_session_token(
                int(self.config.get("session_token_length", 1024))),
            expires_at=now + float(lifetime_seconds),
            source=source,
        )
        return self.add_credential(cred)

    # -- counters and request log -------------------------------------
    def reset_counters(self):
        with self.lock:
            self.counters = {
                "requests": {},          # "service:Operation" -> count
                "responses": {},         # "service:Operation:status" -> count
                "errors": {},            # error code -> count
                "faults_applied": {},    # fault type -> count
                "events_stored": 0,
                "events_stored_by_stream": {},  # "group/stream" -> count
                "events_rejected": {"tooNew": 0, "tooOld": 0, "expired": 0},
                "rejected_requests": [],  # {operation, code, message}
                "internal_errors": 0,
            }

    def record(self, service, operation, status, error_code=None,
               message=None, fault=None, access_key=None, extra=None):
        """Append one request to the log and bump the counters."""
        with self.lock:
            self._request_seq += 1
            key = f"{service}:{operation}"
            c = self.counters
            c["requests"][key] = c["requests"].get(key, 0) + 1
            rkey = f"{key}:{status}"
            c["responses"][rkey] = c["responses"].get(rkey, 0) + 1
            if error_code:
                c["errors"][error_code] = c["errors"].get(error_code, 0) + 1
                if len(c["rejected_requests"]) >= 10000:
                    del c["rejected_requests"][:1000]
                c["rejected_requests"].append({
                    "seq": self._request_seq,
                    "service": service,
                    "operation": operation,
                    "status": status,
                    "code": error_code,
                    "message": message,
                })
            if fault:
                c["faults_applied"][fault] = c["faults_applied"].get(fault, 0) + 1
            entry = {
                "seq": self._request_seq,
                "time": self.now(),
                "service": service,
                "operation": operation,
                "status": status,
                "error": error_code,
                "message": message,
                "fault": fault,
                "access_key": access_key,
            }
            if extra:
                entry.update(extra)
            self.request_log.append(entry)
            if len(self.request_log) > self.request_log_limit:
                del self.request_log[: len(self.request_log) // 10]
            return entry

    def count_internal_error(self):
        with self.lock:
            self.counters["internal_errors"] += 1
