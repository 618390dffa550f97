# SPDX-License-Identifier: Apache-2.0
"""AWS JSON 1.1 protocol (X-Amz-Target dispatch) with model validation.

A JsonService is registered under its target prefix ("Logs_20140328" for
CloudWatch Logs; "AmazonSSM" would be SSM).  The input of every request is
checked against botocore's own service model:

* JSON that does not parse, or a member of the wrong JSON type, is a
  SerializationException (Coral rejects it while deserializing, before any
  validation).  Type checking uses botocore.validate.ParamValidator.
* Members the model does not know are IGNORED, as AWS JSON services do
  (clients must be able to send newer fields to older servers); a JSON null
  is the same as an absent member.
* The constraints botocore's client-side validator skips but the service
  enforces (required, min/max length, min/max value, pattern, enum) produce
  Coral's "N validation error(s) detected: Value ... at '...' failed to
  satisfy constraint: ..." message.  CloudWatch Logs sends it with code
  InvalidParameterException (captured from the live service); other JSON
  services use ValidationException, hence ``validation_error_code``.
"""

import functools
import json
import re
import threading

import botocore.session
from botocore.validate import ParamValidator

from . import sigv4check
from .service import AwsService, ServiceError
from .wire import Response, http_date, request_id

_MODEL_LOCK = threading.Lock()
_MODELS = {}


def service_model(name):
    with _MODEL_LOCK:
        if name not in _MODELS:
            _MODELS[name] = botocore.session.get_session().get_service_model(name)
        return _MODELS[name]


JSON_CONTENT_TYPES = ("application/x-amz-json-1.1", "application/x-amz-json-1.0")

_JAVA_TYPE = {
    "string": "String", "integer": "Integer", "long": "Long", "boolean": "Boolean",
    "double": "Double", "float": "Float", "list": "List", "map": "Map",
    "structure": "Structure", "timestamp": "Date", "blob": "ByteBuffer",
}


def _reject_constant(name):
    # Python's json accepts NaN/Infinity; JSON (and AWS) does not.
    raise ValueError(f"invalid JSON token {name}")


_INT_RANGES = {"integer": (-2 ** 31, 2 ** 31 - 1), "long": (-2 ** 63, 2 ** 63 - 1)}


def _json_kind(value):
    if isinstance(value, bool):
        return "BOOLEAN_VALUE"
    if isinstance(value, (int, float)):
        return "NUMBER_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, dict):
        return "START_OBJECT"
    return type(value).__name__


def _lookup(params, botocore_path):
    """Follow a botocore validator path like '.logEvents[3].timestamp'."""
    value = params
    for part in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", botocore_path):
        key, index = part
        try:
            value = value[int(index)] if index else value[key]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return value


def _shape_at(shape, botocore_path):
    for part in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", botocore_path):
        key, index = part
        if index:
            shape = shape.member
        elif shape.type_name == "map":
            shape = shape.value
        else:
            shape = shape.members[key]
    return shape


def strip_nulls(value, shape):
    """Drop JSON nulls from structures: Coral treats null like absent."""
    if shape.type_name == "structure" and isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            member = shape.members.get(key)
            out[key] = strip_nulls(item, member) if member is not None else item
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [strip_nulls(v, shape.member) if v is not None else v for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: strip_nulls(v, shape.value) if v is not None else v
                for k, v in value.items()}
    return value


def type_errors(params, shape):
    """Serialization-level problems (wrong JSON types), via botocore's validator."""
    problems = []
    report = ParamValidator().validate(params, shape)
    for error_type, name, additional in report._errors:
        if error_type == "invalid type":
            try:
                member_shape = _shape_at(shape, name)
            except (KeyError, AttributeError):
                member_shape = None     # e.g. a map key path
            problems.append((name, additional.get("param"), member_shape))
    # JSON true/false is not a number, but Python's bool is an int subclass,
    # so botocore's check lets it through.
    def walk(value, sh, path):
        if sh.type_name in ("integer", "long", "double", "float") and isinstance(value, bool):
            problems.append((path, value, sh))
        elif (sh.type_name in _INT_RANGES and isinstance(value, int)
              and not _INT_RANGES[sh.type_name][0] <= value <= _INT_RANGES[sh.type_name][1]):
            problems.append((path, value, sh))
        elif sh.type_name == "structure" and isinstance(value, dict):
            for key, item in value.items():
                if key in sh.members and item is not None:
                    walk(item, sh.members[key], f"{path}.{key}")
        elif sh.type_name == "list" and isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, sh.member, f"{path}[{i}]")
    walk(params, shape, "")
    return problems


def _utf16_length(text):
    # Coral's length constraints count Java chars (UTF-16 code units).
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def render_value(value, shape=None, limit=2000):
    """Java-toString-like rendering of a value for validation messages."""
    def rec(v, sh):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return v
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, list):
            inner = sh.member if sh is not None and sh.type_name == "list" else None
            return "[" + ", ".join(rec(x, inner) for x in v) + "]"
        if isinstance(v, dict):
            if sh is not None and sh.type_name == "structure":
                parts = [f"{k}={rec(x, sh.members.get(k))}" for k, x in v.items()
                         if k in sh.members]
                return f"{sh.name}({', '.join(parts)})"
            return "{" + ", ".join(f"{k}={rec(x, None)}" for k, x in v.items()) + "}"
        return str(v)
    text = rec(value, shape)
    if len(text) > limit:
        # AWS prints the whole value; we cut it to keep messages readable.
        text = text[:limit] + "..."
    return text


# Java's Unicode classes, which some models use inside character classes
# (SSM's tag keys: [\p{L}\p{Z}\p{N}_.:/=+\-@]*), written out for Python's re
# (approximately: the common scripts' letters, digits and spaces).
_JAVA_CLASSES = {
    r"\p{L}": "a-zA-Z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u3040-\u30ff\u4e00-\u9fff",
    r"\p{N}": "0-9\u0660-\u0669",
    r"\p{Z}": " \u00a0\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
}


@functools.lru_cache(maxsize=None)
def _pattern(pattern):
    if "\\p{" not in pattern:
        return re.compile(pattern, re.ASCII | re.DOTALL)
    for java, python in _JAVA_CLASSES.items():
        pattern = pattern.replace(java, python)
    return re.compile(pattern, re.DOTALL)


def constraint_violations(params, shape):
    """[(path, value, shape, constraint text)] for AWS-side model rules."""
    out = []

    def check(value, sh, path):
        meta = sh.metadata
        t = sh.type_name
        if t == "structure":
            for name, member in sh.members.items():
                mpath = f"{path}.{name}" if path else name
                item = value.get(name) if isinstance(value, dict) else None
                if item is None:
                    if name in sh.required_members:
                        out.append((mpath, None, member, "Member must not be null"))
                    continue
                check(item, member, mpath)
            return
        if t in ("list", "map"):
            size = len(value)
            if "min" in meta and size < meta["min"]:
                out.append((path, value, sh,
                            f"Member must have length greater than or equal to {meta['min']}"))
            if "max" in meta and size > meta["max"]:
                out.append((path, value, sh,
                            f"Member must have length less than or equal to {meta['max']}"))
            if t == "list":
                for i, item in enumerate(value):
                    if item is not None:
                        check(item, sh.member, f"{path}.{i + 1}.member")
            else:
                for key, item in value.items():
                    if item is not None:
                        check(item, sh.value, f"{path}.{key}")
            return
        if t == "string":
            size = _utf16_length(value)
            if "min" in meta and size < meta["min"]:
                out.append((path, value, sh,
                            f"Member must have length greater than or equal to {meta['min']}"))
            if "max" in meta and size > meta["max"]:
                out.append((path, value, sh,
                            f"Member must have length less than or equal to {meta['max']}"))
            pattern = meta.get("pattern")
            if pattern is not None and _pattern(pattern).fullmatch(value) is None:
                out.append((path, value, sh,
                            f"Member must satisfy regular expression pattern: {pattern}"))
            if "enum" in meta and value not in meta["enum"]:
                out.append((path, value, sh,
                            "Member must satisfy enum value set: [" + ", ".join(meta["enum"]) + "]"))
            return
        if t in ("integer", "long", "double", "float"):
            if "min" in meta and value < meta["min"]:
                out.append((path, value, sh,
                            f"Member must have value greater than or equal to {meta['min']}"))
            if "max" in meta and value > meta["max"]:
                out.append((path, value, sh,
                            f"Member must have value less than or equal to {meta['max']}"))

    check(params, shape, "")
    return out


def format_violations(violations):
    items = []
    for path, value, shape, constraint in violations:
        shown = "null" if value is None else f"'{render_value(value, shape)}'"
        items.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")
    n = len(items)
    return f"{n} validation error{'s' if n != 1 else ''} detected: " + "; ".join(items)


class JsonService(AwsService):
    """Base for AWS JSON 1.1 services dispatched by X-Amz-Target."""

    target_prefix = None
    model_name = None
    error_namespace = None        # e.g. "com.amazonaws.logs"
    validation_error_code = "ValidationException"
    #: operation name -> method name on the subclass
    operations = {}

    def __init__(self, state):
        super().__init__(state)
        self.model = service_model(self.model_name)

    # -- protocol ------------------------------------------------------
    def identify(self, request):
        content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type not in JSON_CONTENT_TYPES:
            # AWS's front end does not route such a request to the service at
            # all; it answers 404 with an HTML page.
            raise ServiceError("UnknownOperationException",
                               f"Unsupported Content-Type {content_type!r}",
                               status=404, html=True)
        target = request.header("X-Amz-Target") or ""
        prefix, _, operation = target.rpartition(".")
        if prefix != self.target_prefix or operation not in self.operations:
            raise ServiceError("UnknownOperationException", None)
        return operation

    def parse(self, request, operation):
        body = request.body or b""
        if not body.strip():
            params = {}
        else:
            try:
                params = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
            except (UnicodeDecodeError, ValueError) as exc:
                raise ServiceError("SerializationException",
                                   f"Could not parse request body as JSON: {exc}",
                                   message_key="Message")
        if not isinstance(params, dict):
            raise ServiceError("SerializationException",
                               "Start of structure or map expected.",
                               message_key="Message")
        shape = self.model.operation_model(operation).input_shape
        if shape is None:
            return {}
        params = strip_nulls(params, shape)
        problems = type_errors(params, shape)
        if problems:
            name, value, sh = problems[0]
            if isinstance(value, dict):
                msg = "Start of structure or map found where not expected."
            elif isinstance(value, list):
                msg = "Start of list found where not expected"
            elif sh is None:
                msg = f"{_json_kind(value)} can not be converted to the expected type"
            elif isinstance(value, int) and not isinstance(value, bool) \
                    and sh.type_name in _INT_RANGES:
                java = _JAVA_TYPE[sh.type_name]
                msg = f"Numeric value ({value}) out of range of {java.lower()}"
            else:
                java = _JAVA_TYPE.get(sh.type_name, sh.type_name)
                article = "an" if java[0] in "AEIOU" else "a"
                msg = f"{_json_kind(value)} can not be converted to {article} {java}"
            raise ServiceError("SerializationException", msg, message_key="Message")
        return params

    def validate(self, operation, params, skip_required=()):
        shape = self.model.operation_model(operation).input_shape
        if shape is None:
            return
        violations = [v for v in constraint_violations(params, shape)
                      if not (v[3] == "Member must not be null" and v[0] in skip_required)]
        if violations:
            raise ServiceError(self.validation_error_code, format_violations(violations))

    def skip_required(self, operation, params):
        """Required members that may be absent for this request."""
        return ()

    def call_operation(self, operation, params, verified):
        """Run the operation; returns (result, extra request-log fields)."""
        return getattr(self, self.operations[operation])(params, verified), {}

    def execute(self, request, operation, params, verified):
        self.validate(operation, params, self.skip_required(operation, params))
        result, extra = self.call_operation(operation, params, verified)
        response = self.json_response(result)
        response.extra_log = extra
        return response

    # -- rendering -----------------------------------------------------
    def json_response(self, result, status=200):
        headers = [("x-amzn-RequestId", request_id()),
                   ("Date", http_date(self.state.now()))]
        if result is None:
            # Operations without output answer 200 with an empty body.
            return Response(status, b"", headers=headers,
                            content_type="application/x-amz-json-1.1")
        body = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
        return Response(status, body, headers=headers,
                        content_type="application/x-amz-json-1.1")

    def error_response(self, error, operation=None):
        headers = [("x-amzn-RequestId", request_id()),
                   ("Date", http_date(self.state.now()))]
        if error.extra.get("html"):
            body = ("<!DOCTYPE html>\n<html><head><title>Page Not Found</title></head>"
                    "<body>Page Not Found</body></html>")
            return Response(error.status, body, headers=headers,
                            content_type="text/html",
                            error_code=error.code, error_message=error.message)
        type_name = error.code
        if self.state.config.get("error_style") == "namespaced":
            namespace = error.extra.get("namespace") or self.error_namespace
            type_name = f"{namespace}#{error.code}"
            headers.append(("X-Amzn-ErrorType",
                            f"{error.code}:http://internal.amazon.com/coral/{namespace}/"))
        doc = {"__type": type_name}
        if error.message is not None:
            doc[error.extra.get("message_key", "message")] = error.message
        for key, value in error.extra.items():
            if key not in ("html", "namespace", "message_key"):
                doc[key] = value
        body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
        return Response(error.status, body, headers=headers,
                        content_type="application/x-amz-json-1.1",
                        error_code=error.code, error_message=error.message)

    # -- auth and faults -----------------------------------------------
    _CORAL = "com.amazon.coral.service"

    def auth_error(self, failure):
        kind = failure.kind
        if kind == sigv4check.MISSING:
            code = "MissingAuthenticationTokenException"
        elif kind in (sigv4check.INCOMPLETE, sigv4check.BAD_DATE):
            code = "IncompleteSignatureException"
        elif kind in (sigv4check.UNKNOWN_KEY, sigv4check.INVALID_TOKEN):
            code = "UnrecognizedClientException"
        elif kind == sigv4check.EXPIRED_TOKEN:
            code = "ExpiredTokenException"
        else:
            code = "InvalidSignatureException"
        # Captured CloudWatch Logs answers for these are HTTP 400 (not 403):
        # InvalidSignatureException (bad signature, "Signature expired"),
        # UnrecognizedClientException, IncompleteSignatureException.
        return ServiceError(code, failure.message, status=400, namespace=self._CORAL)

    def fault_error(self, fault_type):
        if fault_type == "throttle":
            return ServiceError("ThrottlingException", "Rate exceeded", status=400,
                                namespace=self._CORAL)
        if fault_type == "unavailable":
            return ServiceError("ServiceUnavailableException",
                                "The server failed to process the request", status=500)
        if fault_type == "expired_token":
            return ServiceError("ExpiredTokenException",
                                "The security token included in the request is expired",
                                status=400, namespace=self._CORAL)
        if fault_type == "access_denied":
            return ServiceError("AccessDeniedException",
                                "User is not authorized to perform this action", status=400)
        raise ValueError(fault_type)
