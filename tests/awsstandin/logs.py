# SPDX-License-Identifier: Apache-2.0
"""CloudWatch Logs (JSON 1.1, target prefix Logs_20140328).

Operations: CreateLogGroup, DeleteLogGroup, DescribeLogGroups,
PutRetentionPolicy, CreateLogStream, DeleteLogStream, DescribeLogStreams,
PutLogEvents, GetLogEvents, FilterLogEvents.

PutLogEvents follows the documented rules (API reference, PutLogEvents):
  * batch size = sum(UTF-8 bytes of each message + 26) <= 1,048,576, else
    InvalidParameterException "Upload too large: N bytes exceeds limit of
    1048576" (whole call fails);
  * one event (message bytes + 26) <= max_event_bytes (default 262,144),
    else "Log event too large: N bytes exceeds limit of 262144";
  * at most 10,000 events (model constraint, validation message);
  * timestamps in chronological order, else "Log events in a single
    PutLogEvents request must be in chronological order.";
  * newest - oldest <= 24 h, else "The batch of log events in a single
    PutLogEvents request cannot span more than 24 hours.";
  * events more than 2 h in the future, older than 14 days, or older than
    the group's retention are rejected individually and reported in
    rejectedLogEventsInfo; the rest are stored.  tooNewLogEventStartIndex
    is inclusive (first too-new event); tooOldLogEventEndIndex and
    expiredLogEventEndIndex are exclusive ends (events before them were
    rejected), as the API reference describes;
  * sequenceToken is accepted and ignored; concurrent puts are fine;
  * a missing group/stream is ResourceNotFoundException "The specified log
    group does not exist." / "The specified log stream does not exist.".
The order of these checks on the live service is not documented; the
stand-in checks model validation, batch size, event size, order, span,
then existence, then per-event age.
"""

import base64
import bisect
import json
import re
import threading

from .jsonproto import JsonService
from .service import ServiceError

M = 10 ** 16                 # key = timestamp * M + sequence number
TOKEN_RE = re.compile(r"^([fb])/(\d{56})/s$")
MAX_KEY = 10 ** 56 - 1
RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                  1096, 1827, 2192, 2557, 2922, 3288, 3653]

GROUP_MISSING = "The specified log group does not exist."
STREAM_MISSING = "The specified log stream does not exist."


def utf8_len(text):
    return len(text.encode("utf-8", "surrogatepass"))


class LogEvent:
    __slots__ = ("key", "timestamp", "message", "ingestion_time", "event_id", "stream")

    def __init__(self, key, timestamp, message, ingestion_time, stream):
        self.key = key
        self.timestamp = timestamp
        self.message = message
        self.ingestion_time = ingestion_time
        self.stream = stream
        self.event_id = f"{key:056d}"

    def size(self, overhead=26):
        return utf8_len(self.message) + overhead

    def to_dict(self):
        return {"timestamp": self.timestamp, "message": self.message,
                "ingestionTime": self.ingestion_time}


class LogStream:
    def __init__(self, name, creation_time):
        self.name = name
        self.creation_time = creation_time
        self.events = []
        self.keys = []
        self.last_ingestion_time = None
        self.upload_sequence_token = None

    def insert(self, event):
        index = bisect.bisect_right(self.keys, event.key)
        self.keys.insert(index, event.key)
        self.events.insert(index, event)

    @property
    def first_event_timestamp(self):
        return self.events[0].timestamp if self.events else None

    @property
    def last_event_timestamp(self):
        return self.events[-1].timestamp if self.events else None


class LogGroup:
    def __init__(self, name, creation_time, kms_key_id=None, tags=None):
        self.name = name
        self.creation_time = creation_time
        self.kms_key_id = kms_key_id
        self.tags = dict(tags or {})
        self.retention_days = None
        self.streams = {}


class LogsStore:
    """All log groups, streams and events."""

    def __init__(self, lock=None):
        # Normally the stand-in's single state lock (one lock, no ordering
        # problems between the store and the counters).
        self.lock = lock or threading.RLock()
        self.groups = {}
        self._seq = 0

    def next_key(self, timestamp):
        self._seq += 1
        return timestamp * M + self._seq

    def clear(self):
        with self.lock:
            self.groups.clear()

    # Helpers for the control API and the state dump.
    def ensure_stream(self, group, stream, now_ms):
        with self.lock:
            g = self.groups.get(group)
            if g is None:
                g = self.groups[group] = LogGroup(group, now_ms)
            if stream is not None and stream not in g.streams:
                g.streams[stream] = LogStream(stream, now_ms)
            return g

    def events(self, group, stream):
        with self.lock:
            g = self.groups.get(group)
            if g is None or stream not in g.streams:
                return None
            return [e.to_dict() for e in g.streams[stream].events]

    def snapshot(self):
        with self.lock:
            out = {}
            for g in self.groups.values():
                out[g.name] = {
                    "creationTime": g.creation_time,
                    "retentionInDays": g.retention_days,
                    "kmsKeyId": g.kms_key_id,
                    "tags": g.tags,
                    "streams": {
                        s.name: {
                            "creationTime": s.creation_time,
                            "lastIngestionTime": s.last_ingestion_time,
                            "events": [e.to_dict() for e in s.events],
                        } for s in g.streams.values()
                    },
                }
            return out

    def load(self, snapshot):
        with self.lock:
            self.groups.clear()
            for gname, gdoc in snapshot.items():
                g = LogGroup(gname, gdoc["creationTime"], gdoc.get("kmsKeyId"),
                             gdoc.get("tags"))
                g.retention_days = gdoc.get("retentionInDays")
                for sname, sdoc in gdoc.get("streams", {}).items():
                    s = LogStream(sname, sdoc["creationTime"])
                    s.last_ingestion_time = sdoc.get("lastIngestionTime")
                    for e in sdoc.get("events", []):
                        s.insert(LogEvent(self.next_key(e["timestamp"]), e["timestamp"],
                                          e["message"], e["ingestionTime"], sname))
                    g.streams[sname] = s
                self.groups[gname] = g


def _opaque_token(doc):
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_opaque_token(token):
    try:
        padded = token + "=" * (-len(token) % 4)
        doc = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(doc, dict):
            return doc
    except (ValueError, TypeError):
        pass
    raise ServiceError("InvalidParameterException", "The specified nextToken is invalid.")


def _token_int(token, field):
    value = _read_opaque_token(token).get(field)
    if not isinstance(value, int) or value < 0:
        raise ServiceError("InvalidParameterException", "The specified nextToken is invalid.")
    return value


def compile_filter_pattern(pattern):
    """Term filter patterns: `a b` (all), `"a b"` (phrase), `?a ?b` (any),
    `-a` (exclude).  Matching is a case-sensitive substring match.  JSON
    (`{ $.x = ... }`) and space-delimited (`[a, b]`) patterns are not
    implemented."""
    text = (pattern or "").strip()
    if not text:
        return lambda message: True
    if text[0] in "{[":
        raise ServiceError(
            "InvalidParameterException",
            "The stand-in implements only term filter patterns, not JSON or "
            "space-delimited ones.")
    terms = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        prefix = ""
        if text[i] in "?-" and i + 1 < len(text) and not text[i + 1].isspace():
            prefix = text[i]
            i += 1
        if i < len(text) and text[i] == '"':
            j = i + 1
            buf = []
            while j < len(text) and text[j] != '"':
                if text[j] == "\\" and j + 1 < len(text):
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= len(text):
                raise ServiceError("InvalidParameterException",
                                   "Invalid filter pattern: unterminated quote")
            terms.append((prefix, "".join(buf)))
            i = j + 1
        else:
            j = i
            while j < len(text) and not text[j].isspace():
                j += 1
            terms.append((prefix, text[i:j]))
            i = j
    required = [t for p, t in terms if p == ""]
    optional = [t for p, t in terms if p == "?"]
    excluded = [t for p, t in terms if p == "-"]

    def match(message):
        if any(t in message for t in excluded):
            return False
        if not all(t in message for t in required):
            return False
        if optional and not any(t in message for t in optional):
            return False
        return True

    return match


class LogsService(JsonService):
    name = "logs"
    signing_name = "logs"
    target_prefix = "Logs_20140328"
    model_name = "logs"
    error_namespace = "com.amazonaws.logs"
    validation_error_code = "InvalidParameterException"
    operations = {
        "CreateLogGroup": "create_log_group",
        "DeleteLogGroup": "delete_log_group",
        "DescribeLogGroups": "describe_log_groups",
        "PutRetentionPolicy": "put_retention_policy",
        "CreateLogStream": "create_log_stream",
        "DeleteLogStream": "delete_log_stream",
        "DescribeLogStreams": "describe_log_streams",
        "PutLogEvents": "put_log_events",
        "GetLogEvents": "get_log_events",
        "FilterLogEvents": "filter_log_events",
    }

    def __init__(self, state):
        super().__init__(state)
        self.store = state.logs

    @property
    def cfg(self):
        return self.state.config["logs"]

    # -- helpers -------------------------------------------------------
    def skip_required(self, operation, params):
        if params.get("logGroupIdentifier") is not None:
            # Newer API versions accept logGroupIdentifier (name or ARN)
            # instead of logGroupName; this botocore model predates that.
            if params.get("logGroupName") is not None:
                raise ServiceError(
                    "InvalidParameterException",
                    "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
            return ("logGroupName",)
        return ()

    def call_operation(self, operation, params, verified):
        with self.store.lock:
            self._last_put_log = {}
            result = getattr(self, self.operations[operation])(params, verified)
            return result, self._last_put_log

    def _group_name(self, params):
        if params.get("logGroupName") is not None:
            return params["logGroupName"]
        ident = params.get("logGroupIdentifier", "")
        if ident.startswith("arn:"):
            # arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]
            parts = ident.split(":")
            if len(parts) >= 7 and parts[5] == "log-group":
                return parts[6]
            raise ServiceError("InvalidParameterException",
                               "The specified logGroupIdentifier is not valid.")
        return ident

    def _group(self, params):
        group = self.store.groups.get(self._group_name(params))
        if group is None:
            raise ServiceError("ResourceNotFoundException", GROUP_MISSING)
        return group

    def _stream(self, group, name):
        stream = group.streams.get(name)
        if stream is None:
            raise ServiceError("ResourceNotFoundException", STREAM_MISSING)
        return stream

    def _arn(self, group_name, stream_name=None):
        base = f"arn:aws:logs:{self.state.region}:{self.state.account_id}:log-group:{group_name}"
        if stream_name is None:
            return base
        return f"{base}:log-stream:{stream_name}"

    def apply_stream_deleted(self, fault, operation, params):
        group = fault.group or (params or {}).get("logGroupName")
        stream = fault.stream or (params or {}).get("logStreamName")
        with self.store.lock:
            g = self.store.groups.get(group)
            if g is not None and stream in g.streams:
                del g.streams[stream]

    # -- groups --------------------------------------------------------
    def create_log_group(self, params, verified):
        name = params["logGroupName"]
        if name in self.store.groups:
            raise ServiceError("ResourceAlreadyExistsException",
                               "The specified log group already exists")
        self.store.groups[name] = LogGroup(name, self.state.now_ms(),
                                           params.get("kmsKeyId"), params.get("tags"))
        return None

    def delete_log_group(self, params, verified):
        name = params["logGroupName"]
        if name not in self.store.groups:
            raise ServiceError("ResourceNotFoundException", GROUP_MISSING)
        del self.store.groups[name]
        return None

    def put_retention_policy(self, params, verified):
        days = params["retentionInDays"]
        if days not in RETENTION_DAYS:
            raise ServiceError(
                "InvalidParameterException",
                f"1 validation error detected: Value '{days}' at 'retentionInDays' "
                "failed to satisfy constraint: Member must satisfy enum value set: ["
                + ", ".join(str(d) for d in RETENTION_DAYS) + "]")
        self._group(params).retention_days = days
        return None

    def describe_log_groups(self, params, verified):
        prefix = params.get("logGroupNamePrefix")
        pattern = params.get("logGroupNamePattern")
        if prefix is not None and pattern is not None:
            raise ServiceError(
                "InvalidParameterException",
                "LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive "
                "parameters.")
        names = sorted(self.store.groups)
        if prefix is not None:
            names = [n for n in names if n.startswith(prefix)]
        if pattern:
            names = [n for n in names if pattern.lower() in n.lower()]
        offset = 0
        if params.get("nextToken") is not None:
            offset = _token_int(params["nextToken"], "o")
        limit = params.get("limit", 50)
        page = names[offset:offset + limit]
        out = []
        for n in page:
            g = self.store.groups[n]
            doc = {
                "logGroupName": g.name,
                "creationTime": g.creation_time,
                "metricFilterCount": 0,
                "arn": self._arn(g.name) + ":*",
                "logGroupArn": self._arn(g.name),
                "storedBytes": sum(utf8_len(e.message) for s in g.streams.values()
                                   for e in s.events),
            }
            if g.retention_days is not None:
                doc["retentionInDays"] = g.retention_days
            if g.kms_key_id:
                doc["kmsKeyId"] = g.kms_key_id
            out.append(doc)
        result = {"logGroups": out}
        if offset + limit < len(names):
            result["nextToken"] = _opaque_token({"o": offset + limit})
        return result

    # -- streams -------------------------------------------------------
    def create_log_stream(self, params, verified):
        group = self._group(params)
        name = params["logStreamName"]
        if name in group.streams:
            raise ServiceError("ResourceAlreadyExistsException",
                               "The specified log stream already exists")
        group.streams[name] = LogStream(name, self.state.now_ms())
        return None

    def delete_log_stream(self, params, verified):
        group = self._group(params)
        self._stream(group, params["logStreamName"])
        del group.streams[params["logStreamName"]]
        return None

    def describe_log_streams(self, params, verified):
        group = self._group(params)
        prefix = params.get("logStreamNamePrefix")
        order_by = params.get("orderBy", "LogStreamName")
        if prefix is not None and order_by == "LastEventTime":
            raise ServiceError("InvalidParameterException",
                               "Cannot order by LastEventTime with a logStreamNamePrefix.")
        streams = list(group.streams.values())
        if prefix is not None:
            streams = [s for s in streams if s.name.startswith(prefix)]
        if order_by == "LastEventTime":
            streams.sort(key=lambda s: (s.last_event_timestamp or 0, s.name))
        else:
            streams.sort(key=lambda s: s.name)
        if params.get("descending"):
            streams.reverse()
        offset = 0
        if params.get("nextToken") is not None:
            offset = _token_int(params["nextToken"], "o")
        limit = params.get("limit", 50)
        out = []
        for s in streams[offset:offset + limit]:
            doc = {
                "logStreamName": s.name,
                "creationTime": s.creation_time,
                "arn": self._arn(group.name, s.name),
                # Deprecated by AWS in 2019: always reported as 0.
                "storedBytes": 0,
            }
            if s.events:
                doc["firstEventTimestamp"] = s.first_event_timestamp
                doc["lastEventTimestamp"] = s.last_event_timestamp
            if s.last_ingestion_time is not None:
                doc["lastIngestionTime"] = s.last_ingestion_time
            if s.upload_sequence_token is not None:
                doc["uploadSequenceToken"] = s.upload_sequence_token
            out.append(doc)
        result = {"logStreams": out}
        if offset + limit < len(streams):
            result["nextToken"] = _opaque_token({"o": offset + limit})
        return result

    # -- events --------------------------------------------------------
    def put_log_events(self, params, verified):
        cfg = self.cfg
        overhead = cfg["event_overhead_bytes"]
        events = params["logEvents"]
        sizes = [utf8_len(e["message"]) + overhead for e in events]
        total = sum(sizes)
        if total > cfg["max_batch_bytes"]:
            raise ServiceError(
                "InvalidParameterException",
                f"Upload too large: {total} bytes exceeds limit of {cfg['max_batch_bytes']}")
        for size in sizes:
            if size > cfg["max_event_bytes"]:
                raise ServiceError(
                    "InvalidParameterException",
                    f"Log event too large: {size} bytes exceeds limit of "
                    f"{cfg['max_event_bytes']}")
        stamps = [e["timestamp"] for e in events]
        if any(b < a for a, b in zip(stamps, stamps[1:])):
            raise ServiceError(
                "InvalidParameterException",
                "Log events in a single PutLogEvents request must be in chronological order.")
        if stamps[-1] - stamps[0] > cfg["max_batch_span_ms"]:
            raise ServiceError(
                "InvalidParameterException",
                "The batch of log events in a single PutLogEvents request cannot span "
                "more than 24 hours.")
        group = self._group(params)
        stream = self._stream(group, params["logStreamName"])

        now = self.state.now_ms()
        too_new_start = bisect.bisect_right(stamps, now + cfg["max_future_ms"])
        too_old_end = bisect.bisect_left(stamps, now - cfg["max_age_ms"])
        expired_end = 0
        if group.retention_days is not None:
            expired_end = bisect.bisect_left(
                stamps, now - group.retention_days * 86400 * 1000)
        first_kept = max(too_old_end, expired_end)
        accepted = events[first_kept:too_new_start] if first_kept < too_new_start else []

        for e in accepted:
            stream.insert(LogEvent(self.store.next_key(e["timestamp"]), e["timestamp"],
                                   e["message"], now, stream.name))

        rejected = {}
        if too_new_start < len(events):
            rejected["tooNewLogEventStartIndex"] = too_new_start
        if too_old_end > 0:
            rejected["tooOldLogEventEndIndex"] = too_old_end
        if expired_end > too_old_end:
            rejected["expiredLogEventEndIndex"] = expired_end

        with self.state.lock:
            c = self.state.counters
            c["events_stored"] += len(accepted)
            key = f"{group.name}/{stream.name}"
            c["events_stored_by_stream"][key] = (
                c["events_stored_by_stream"].get(key, 0) + len(accepted))
            c["events_rejected"]["tooNew"] += len(events) - too_new_start
            c["events_rejected"]["tooOld"] += too_old_end
            c["events_rejected"]["expired"] += max(0, expired_end - too_old_end)
        self._last_put_log = {"events_received": len(events),
                              "events_accepted": len(accepted),
                              "group": group.name, "stream": stream.name}

        result = {}
        if accepted:
            stream.last_ingestion_time = now
            stream.upload_sequence_token = f"{self.store.next_key(0):056d}"
            # No token comes back when every event was rejected.
            result["nextSequenceToken"] = stream.upload_sequence_token
        if rejected:
            result["rejectedLogEventsInfo"] = rejected
        return result

    def _page(self, events, limit, from_end):
        """Up to ``limit`` events and max_response_bytes (at least one)."""
        budget = self.cfg["max_response_bytes"]
        overhead = self.cfg["event_overhead_bytes"]
        page, used = [], 0
        seq = reversed(events) if from_end else events
        for e in seq:
            size = e.size(overhead)
            if len(page) >= limit or (page and used + size > budget):
                break
            page.append(e)
            used += size
        if from_end:
            page.reverse()
        return page

    def get_log_events(self, params, verified):
        group = self._group(params)
        stream = self._stream(group, params["logStreamName"])
        limit = params.get("limit", 10000)
        lo = params["startTime"] * M if params.get("startTime") is not None else 0
        hi = params["endTime"] * M if params.get("endTime") is not None else MAX_KEY + 1
        token = params.get("nextToken")
        if token is not None:
            match = TOKEN_RE.match(token)
            if match is None:
                raise ServiceError("InvalidParameterException",
                                   "The specified nextToken is invalid.")
            direction, boundary = match.group(1), int(match.group(2))
            if direction == "f":
                lo = max(lo, boundary + 1)      # events after the boundary
            else:
                hi = min(hi, boundary)          # events before the boundary
        else:
            direction = "f" if params.get("startFromHead") else "b"
            boundary = None
        i = bisect.bisect_left(stream.keys, lo)
        j = bisect.bisect_left(stream.keys, hi) if hi <= MAX_KEY else len(stream.keys)
        page = self._page(stream.events[i:j], limit, from_end=(direction == "b"))
        if page:
            forward = f"f/{page[-1].key:056d}/s"
            backward = f"b/{page[0].key:056d}/s"
        elif token is not None and direction == "f":
            # End of the stream: the same forward token comes back.
            forward = token
            backward = f"b/{min(boundary + 1, MAX_KEY):056d}/s"
        elif token is not None:
            backward = token
            forward = f"f/{max(boundary - 1, 0):056d}/s"
        else:
            forward = f"f/{max(lo - 1, 0):056d}/s"
            backward = f"b/{min(lo, MAX_KEY):056d}/s"
        return {
            "events": [e.to_dict() for e in page],
            "nextForwardToken": forward,
            "nextBackwardToken": backward,
        }

    def filter_log_events(self, params, verified):
        group = self._group(params)
        names = params.get("logStreamNames")
        prefix = params.get("logStreamNamePrefix")
        if names is not None and prefix is not None:
            raise ServiceError(
                "InvalidParameterException",
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
        if names is not None:
            streams = [group.streams[n] for n in names if n in group.streams]
        elif prefix is not None:
            streams = [s for s in group.streams.values() if s.name.startswith(prefix)]
        else:
            streams = list(group.streams.values())
        match = compile_filter_pattern(params.get("filterPattern"))
        start = params.get("startTime")
        end = params.get("endTime")
        after_key = -1
        if params.get("nextToken") is not None:
            after_key = _token_int(params["nextToken"], "k")
        selected = []
        for s in streams:
            for e in s.events:
                if e.key <= after_key:
                    continue
                if start is not None and e.timestamp < start:
                    continue
                # Documented: events with a timestamp LATER than endTime are
                # not returned, so endTime itself is included.
                if end is not None and e.timestamp > end:
                    continue
                if match(e.message):
                    selected.append(e)
        selected.sort(key=lambda e: e.key)
        page = self._page(selected, params.get("limit", 10000), from_end=False)
        result = {
            "events": [
                {"logStreamName": e.stream, "timestamp": e.timestamp,
                 "message": e.message, "ingestionTime": e.ingestion_time,
                 "eventId": e.event_id}
                for e in page
            ],
            # Deprecated by AWS; now always an empty list.
            "searchedLogStreams": [],
        }
        if len(page) < len(selected):
            result["nextToken"] = _opaque_token({"k": page[-1].key})
        return result
