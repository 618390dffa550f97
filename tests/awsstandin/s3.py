# SPDX-License-Identifier: Apache-2.0
"""S3 GetObject / HeadObject, path-style (GET /bucket/key), SigV4 "s3".

Faithful parts: SigV4 with the S3 rules (x-amz-content-sha256 required and
checked against the body, no double URI-encoding of the path, 15 minutes of
allowed clock skew), XML error bodies with S3's codes and statuses
(NoSuchKey 404, NoSuchBucket 404, AccessDenied 403, SignatureDoesNotMatch
403, InvalidAccessKeyId 403, InvalidToken 400, ExpiredToken 400,
RequestTimeTooSkewed 403, AuthorizationHeaderMalformed 400, ...), ETag /
Last-Modified / Content-Length headers, single byte ranges.

A bucket may restrict which access keys can read it (``allowed_access_keys``)
and whether they may list it: without list permission S3 answers a missing
key with 403 AccessDenied instead of 404 NoSuchKey, as the real service does.
"""

import base64
import hashlib
import re
import secrets
import threading
import urllib.parse
from xml.sax.saxutils import escape

from . import sigv4check
from .service import AwsService, ServiceError
from .wire import Response, http_date


class S3Object:
    def __init__(self, body, content_type, last_modified, metadata=None):
        self.body = body
        self.content_type = content_type or "binary/octet-stream"
        self.last_modified = last_modified
        self.etag = '"' + hashlib.md5(body).hexdigest() + '"'
        self.metadata = dict(metadata or {})


class Bucket:
    def __init__(self, name, allowed_access_keys=None, list_allowed=True):
        self.name = name
        self.objects = {}
        self.allowed_access_keys = allowed_access_keys
        self.list_allowed = list_allowed


class S3Store:
    def __init__(self, lock=None):
        self.lock = lock or threading.RLock()
        self.buckets = {}

    def clear(self):
        with self.lock:
            self.buckets.clear()

    def put_bucket(self, name, allowed_access_keys=None, list_allowed=True):
        with self.lock:
            bucket = self.buckets.get(name)
            if bucket is None:
                bucket = self.buckets[name] = Bucket(name)
            bucket.allowed_access_keys = allowed_access_keys
            bucket.list_allowed = list_allowed
            return bucket

    def put_object(self, bucket, key, body, content_type=None, last_modified=0.0,
                   metadata=None):
        with self.lock:
            b = self.buckets.get(bucket) or self.put_bucket(bucket)
            b.objects[key] = S3Object(body, content_type, last_modified, metadata)

    def snapshot(self):
        with self.lock:
            return {
                b.name: {
                    "allowed_access_keys": b.allowed_access_keys,
                    "list_allowed": b.list_allowed,
                    "objects": {
                        k: {"body_base64": base64.b64encode(o.body).decode(),
                            "content_type": o.content_type,
                            "last_modified": o.last_modified,
                            "metadata": o.metadata}
                        for k, o in b.objects.items()
                    },
                } for b in self.buckets.values()
            }

    def load(self, snapshot):
        with self.lock:
            self.buckets.clear()
            for name, doc in snapshot.items():
                self.put_bucket(name, doc.get("allowed_access_keys"),
                                doc.get("list_allowed", True))
                for key, o in doc.get("objects", {}).items():
                    self.put_object(name, key, base64.b64decode(o["body_base64"]),
                                    o.get("content_type"), o.get("last_modified", 0.0),
                                    o.get("metadata"))


_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


class S3Service(AwsService):
    name = "s3"
    signing_name = "s3"
    is_s3 = True

    def __init__(self, state):
        super().__init__(state)
        self.store = state.s3

    def identify(self, request):
        if request.method == "HEAD":
            return "HeadObject"
        if request.method == "GET":
            bucket, _, key = request.raw_path.lstrip("/").partition("/")
            return "GetObject" if key else "ListObjects"
        return f"{request.method}Object"

    def parse(self, request, operation):
        bucket, _, key = request.raw_path.lstrip("/").partition("/")
        return {"bucket": urllib.parse.unquote(bucket), "key": urllib.parse.unquote(key)}

    def execute(self, request, operation, params, verified):
        if operation not in ("GetObject", "HeadObject"):
            raise ServiceError("NotImplemented",
                               "A header you provided implies functionality that is "
                               "not implemented", status=501)
        bucket_name, key = params["bucket"], params["key"]
        with self.store.lock:
            bucket = self.store.buckets.get(bucket_name)
            if bucket is None:
                raise ServiceError("NoSuchBucket", "The specified bucket does not exist",
                                   status=404, BucketName=bucket_name)
            allowed = bucket.allowed_access_keys
            if allowed is not None and verified.access_key not in allowed:
                raise ServiceError("AccessDenied", "Access Denied", status=403)
            obj = bucket.objects.get(key)
            if obj is None:
                if not bucket.list_allowed:
                    raise ServiceError("AccessDenied", "Access Denied", status=403)
                raise ServiceError("NoSuchKey", "The specified key does not exist.",
                                   status=404, Key=key)
            body = obj.body
            headers = self._common_headers() + [
                ("Last-Modified", http_date(obj.last_modified)),
                ("ETag", obj.etag),
                ("Accept-Ranges", "bytes"),
            ]
            headers += [(f"x-amz-meta-{k}", v) for k, v in obj.metadata.items()]
            content_type = obj.content_type

        status = 200
        range_header = request.header("Range")
        if range_header is not None:
            span = self._parse_range(range_header, len(body))
            if span == "unsatisfiable":
                raise ServiceError("InvalidRange", "The requested range is not satisfiable",
                                   status=416, RangeRequested=range_header,
                                   ActualObjectSize=str(len(body)))
            if span is not None:
                first, last = span
                headers.append(("Content-Range", f"bytes {first}-{last}/{len(body)}"))
                body = body[first:last + 1]
                status = 206
        response = Response(status, body, headers=headers, content_type=content_type)
        response.head_only = operation == "HeadObject"
        return response

    @staticmethod
    def _parse_range(value, size):
        match = _RANGE_RE.match(value.strip())
        if match is None:
            return None          # S3 ignores ranges it cannot parse
        first, last = match.groups()
        if first == "" and last == "":
            return None
        if first == "":
            length = int(last)
            if length == 0:
                return "unsatisfiable"
            return max(0, size - length), size - 1
        first = int(first)
        last = size - 1 if last == "" else min(int(last), size - 1)
        if first >= size or first > last:
            return "unsatisfiable"
        return first, last

    def _common_headers(self):
        return [
            ("x-amz-request-id", secrets.token_hex(8).upper()),
            ("x-amz-id-2", base64.b64encode(secrets.token_bytes(48)).decode()),
            ("Date", http_date(self.state.now())),
            ("Server", "AmazonS3"),
        ]

    def error_response(self, error, operation=None):
        headers = self._common_headers()
        request_id = headers[0][1]
        host_id = headers[1][1]
        parts = [f"<Code>{escape(error.code)}</Code>",
                 f"<Message>{escape(error.message or '')}</Message>"]
        for key, value in error.extra.items():
            parts.append(f"<{key}>{escape(str(value))}</{key}>")
        parts.append(f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId>")
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
                + "".join(parts) + "</Error>")
        response = Response(error.status, body, headers=headers,
                            content_type="application/xml",
                            error_code=error.code, error_message=error.message)
        # HEAD errors carry no body (the status says it all).
        response.head_only = operation == "HeadObject"
        return response

    def auth_error(self, failure):
        k = failure.kind
        d = failure.details
        if k == sigv4check.MISSING:
            return ServiceError("AccessDenied", "Access Denied", status=403)
        if k == sigv4check.INCOMPLETE:
            return ServiceError("AuthorizationHeaderMalformed",
                                d.get("s3_message", failure.message), status=400)
        if k == sigv4check.WRONG_REGION:
            return ServiceError(
                "AuthorizationHeaderMalformed",
                f"The authorization header is malformed; the region "
                f"'{d['scope_region']}' is wrong; expecting '{d['expected_region']}'",
                status=400, Region=d["expected_region"])
        if k == sigv4check.WRONG_SERVICE:
            return ServiceError(
                "AuthorizationHeaderMalformed",
                f"The authorization header is malformed; incorrect service "
                f"\"{d['scope_service']}\". This endpoint belongs to \"s3\".",
                status=400)
        if k in (sigv4check.SCOPE_DATE, sigv4check.WRONG_TERMINATOR):
            return ServiceError("AuthorizationHeaderMalformed",
                                "The authorization header is malformed; " + failure.message,
                                status=400)
        if k == sigv4check.BAD_DATE:
            return ServiceError("AccessDenied",
                                "AWS authentication requires a valid Date or x-amz-date header",
                                status=403)
        if k in (sigv4check.SIGNATURE_EXPIRED, sigv4check.SIGNATURE_NOT_YET_CURRENT):
            return ServiceError(
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                status=403, RequestTime=d.get("request_time"),
                ServerTime=d.get("server_time"),
                MaxAllowedSkewMilliseconds=str(int(self.max_skew() * 1000)))
        if k == sigv4check.UNKNOWN_KEY:
            return ServiceError(
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                status=403, AWSAccessKeyId=d.get("access_key"))
        if k == sigv4check.INVALID_TOKEN:
            return ServiceError("InvalidToken",
                                "The provided token is malformed or otherwise invalid.",
                                status=400)
        if k == sigv4check.EXPIRED_TOKEN:
            return ServiceError("ExpiredToken", "The provided token has expired.", status=400)
        if k == sigv4check.MISSING_CONTENT_SHA:
            return ServiceError("InvalidRequest", failure.message, status=400)
        if k == sigv4check.CONTENT_SHA_MISMATCH:
            return ServiceError("XAmzContentSHA256Mismatch", failure.message, status=400,
                                ClientComputedContentSHA256=d.get("client_sha"),
                                S3ComputedContentSHA256=d.get("server_sha"))
        extra = {"AWSAccessKeyId": d.get("access_key")}
        if "string_to_sign" in d:
            extra.update(StringToSign=d["string_to_sign"],
                         SignatureProvided=d["signature_provided"],
                         CanonicalRequest=d["canonical_request"])
        return ServiceError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you "
            "provided. Check your key and signing method.",
            status=403, **extra)

    def fault_error(self, fault_type):
        if fault_type == "throttle":
            return ServiceError("SlowDown", "Please reduce your request rate.", status=503)
        if fault_type == "unavailable":
            return ServiceError("InternalError",
                                "We encountered an internal error. Please try again.",
                                status=500)
        if fault_type == "expired_token":
            return ServiceError("ExpiredToken", "The provided token has expired.", status=400)
        raise ValueError(fault_type)
