# SPDX-License-Identifier: Apache-2.0
"""Credential sources: the container credentials endpoint and IMDSv2.

Both hand out temporary credentials minted into the stand-in's credential
table, so the keys they return really work against the Logs and S3
endpoints of the same stand-in, and really expire (ExpiredTokenException)
when their Expiration passes on the stand-in clock.

Container credentials (what AWS_CONTAINER_CREDENTIALS_FULL_URI points at):
  GET <path>  ->  200 {"AccessKeyId","SecretAccessKey","Token","Expiration",
                       "RoleArn"}
  With an auth token configured the Authorization header must equal it:
  missing -> 401, wrong -> 403, body {"code": ..., "message": ...}.

IMDSv2 (what AWS_EC2_METADATA_SERVICE_ENDPOINT points at):
  PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds 1..21600
      (missing or out of range -> 400; X-Forwarded-For present -> 403)
  GET /latest/meta-data/... and /latest/dynamic/instance-identity/document
      with X-aws-ec2-metadata-token (missing, unknown or expired -> 401,
      unless v1_allowed)
"""

import json
import secrets
import sys
import time
import traceback

from .state import iso8601
from .wire import Response, http_date


class CredentialIssuer:
    """Serves one current set of temporary credentials, rotating it like the
    real providers do: a new set once less than half the lifetime is left
    (or on every fetch when rotate_each_fetch is set)."""

    def __init__(self, state, config_key, source):
        self.state = state
        self.config_key = config_key
        self.source = source
        self.current = None
        self.issued = 0

    def reset(self):
        with self.state.lock:
            self.current = None

    def fetch(self):
        cfg = self.state.config[self.config_key]
        lifetime = float(cfg["expires_in"])
        with self.state.lock:
            now = self.state.now()
            cred = self.current
            if (cfg.get("rotate_each_fetch") or cred is None or cred.is_expired(now)
                    or cred.expires_at - now < lifetime / 2):
                cred = self.state.mint_temporary(lifetime, self.source)
                self.current = cred
                self.issued += 1
            return cred


class PlainEndpoint:
    """Unsigned HTTP endpoint with fault injection and request logging."""

    name = "plain"

    def __init__(self, state):
        self.state = state

    def identify(self, request):
        raise NotImplementedError

    def process(self, request, operation):
        raise NotImplementedError

    def fault_response(self, fault_type):
        if fault_type == "throttle":
            return self.text(429, "Too Many Requests", error="TooManyRequests")
        if fault_type == "unavailable":
            return self.text(500, "Internal Server Error", error="InternalServerError")
        return self.text(400, f"fault {fault_type} does not apply here",
                         error="UnsupportedFault")

    def text(self, status, body, content_type="text/plain", error=None, headers=None):
        hdrs = [("Date", http_date(self.state.now()))] + list(headers or [])
        message = None
        if error is not None:
            message = error if content_type == "text/html" else body
        return Response(status, body, headers=hdrs, content_type=content_type,
                        error_code=error, error_message=message)

    def handle(self, request):
        operation = "Unknown"
        response = None
        fault_type = None
        try:
            operation = self.identify(request)
            fault = self.state.faults.take(self.name, operation)
            if fault is not None:
                fault_type = fault.type
                if fault.type == "reset_before":
                    response = Response.dropped()
                    return response
                if fault.type in ("throttle", "unavailable", "expired_token",
                                  "stream_deleted"):
                    response = self.fault_response(fault.type)
                    return response
                if fault.type == "delay" and fault.phase == "before":
                    time.sleep(fault.seconds)
            response = self.process(request, operation)
            if fault is not None:
                if fault.type == "reset_after":
                    response = Response.dropped()
                elif fault.type == "delay" and fault.phase == "after":
                    response.delay_after = fault.seconds
            return response
        except Exception:
            self.state.count_internal_error()
            traceback.print_exc(file=sys.stderr)
            response = self.text(500, "stand-in internal error", error="InternalError")
            return response
        finally:
            if response is not None:
                response.fault = fault_type
                self.state.record(self.name, operation,
                                  "reset" if response.drop else response.status,
                                  error_code=response.error_code,
                                  message=response.error_message, fault=fault_type,
                                  extra={"path": request.path})


class ContainerCredentialsEndpoint(PlainEndpoint):
    name = "container_credentials"

    def __init__(self, state, issuer):
        super().__init__(state)
        self.issuer = issuer

    @property
    def cfg(self):
        return self.state.config["container_credentials"]

    def matches(self, request):
        return request.path == self.cfg["path"]

    def identify(self, request):
        return "GetCredentials"

    def _error(self, status, code, message):
        body = json.dumps({"code": code, "message": message})
        return Response(status, body, headers=[("Date", http_date(self.state.now()))],
                        content_type="application/json",
                        error_code=code, error_message=message)

    def process(self, request, operation):
        if request.method != "GET":
            return self._error(405, "MethodNotAllowed", "Only GET is supported")
        expected = self.cfg.get("auth_token")
        if expected:
            given = request.header("Authorization")
            if given is None:
                return self._error(401, "Unauthorized",
                                   "Authorization header is missing")
            if given != expected:
                return self._error(403, "AccessDenied",
                                   "Authorization token is not valid")
        cred = self.issuer.fetch()
        doc = {
            "AccessKeyId": cred.access_key,
            "SecretAccessKey": cred.secret_key,
            "Token": cred.session_token,
            "Expiration": iso8601(cred.expires_at),
            "RoleArn": self.cfg.get("role_arn"),
        }
        return Response(200, json.dumps(doc),
                        headers=[("Date", http_date(self.state.now()))],
                        content_type="application/json")


_IMDS_ERROR_PAGE = """<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>{status} - {reason}</title>
 </head>
 <body>
  <h1>{status} - {reason}</h1>
 </body>
</html>
"""


def _imds_json(doc):
    # IMDS pretty-prints its JSON documents with " : " separators.
    return json.dumps(doc, indent=2, separators=(",", " : "))


class ImdsEndpoint(PlainEndpoint):
    name = "imds"
    MAX_TTL = 21600

    def __init__(self, state, issuer):
        super().__init__(state)
        self.issuer = issuer
        self.tokens = {}          # token -> expiry (stand-in clock)
        self.launched_at = state.now()

    @property
    def cfg(self):
        return self.state.config["imds"]

    def reset(self):
        with self.state.lock:
            self.tokens.clear()

    def identify(self, request):
        path = request.path
        if path == "/latest/api/token":
            return "PutToken"
        if path == "/latest/meta-data/iam/security-credentials/":
            return "GetRoleName"
        if path.startswith("/latest/meta-data/iam/security-credentials/"):
            return "GetRoleCredentials"
        return "GetMetadata"

    def _page(self, status, reason):
        return self.text(status, _IMDS_ERROR_PAGE.format(status=status, reason=reason),
                         content_type="text/html", error=f"{status} {reason}",
                         headers=[("Server", "EC2ws")])

    def _ok(self, body, content_type="text/plain"):
        return self.text(200, body, content_type=content_type,
                         headers=[("Server", "EC2ws")])

    def process(self, request, operation):
        if operation == "PutToken":
            return self._put_token(request)
        if request.method != "GET":
            return self._page(405, "Method Not Allowed")
        token = request.header("X-aws-ec2-metadata-token")
        with self.state.lock:
            now = self.state.now()
            expiry = self.tokens.get(token) if token is not None else None
            if token is None and not self.cfg.get("v1_allowed"):
                return self._page(401, "Unauthorized")
            if token is not None and (expiry is None or now >= expiry):
                self.tokens.pop(token, None)
                return self._page(401, "Unauthorized")
        return self._get(request.path)

    def _put_token(self, request):
        if request.method != "PUT":
            return self._page(405, "Method Not Allowed")
        if request.has_header("X-Forwarded-For"):
            return self._page(403, "Forbidden")
        ttl = request.header("X-aws-ec2-metadata-token-ttl-seconds")
        try:
            seconds = int(ttl.strip())
        except (AttributeError, ValueError):
            return self._page(400, "Bad Request")
        if not 1 <= seconds <= self.MAX_TTL:
            return self._page(400, "Bad Request")
        token = "AQAEA" + secrets.token_urlsafe(40)
        with self.state.lock:
            self.tokens[token] = self.state.now() + seconds
        return self.text(200, token, headers=[
            ("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", str(seconds)),
            ("Server", "EC2ws")])

    def _get(self, path):
        cfg = self.cfg
        region = self.state.region
        az = region + cfg["availability_zone_suffix"]
        role = cfg["role"]
        if path in ("/latest/meta-data", "/latest/meta-data/"):
            return self._ok("ami-id\niam/\ninstance-id\ninstance-type\nlocal-ipv4\nplacement/")
        simple = {
            "/latest/meta-data/ami-id": cfg["image_id"],
            "/latest/meta-data/instance-id": cfg["instance_id"],
            "/latest/meta-data/instance-type": cfg["instance_type"],
            "/latest/meta-data/local-ipv4": cfg["private_ip"],
            "/latest/meta-data/placement/": "availability-zone\nregion",
            "/latest/meta-data/placement/region": region,
            "/latest/meta-data/placement/availability-zone": az,
            "/latest/meta-data/iam/": "info\nsecurity-credentials/",
            "/latest/meta-data/iam/security-credentials/": role,
        }
        if path in simple:
            return self._ok(simple[path])
        if path == "/latest/meta-data/iam/info":
            return self._ok(_imds_json({
                "Code": "Success",
                "LastUpdated": iso8601(self.state.now()),
                "InstanceProfileArn":
                    f"arn:aws:iam::{self.state.account_id}:instance-profile/{role}",
                "InstanceProfileId": "AIPASTANDIN000000001",
            }))
        if path == f"/latest/meta-data/iam/security-credentials/{role}":
            cred = self.issuer.fetch()
            return self._ok(_imds_json({
                "Code": "Success",
                "LastUpdated": iso8601(cred.expires_at - float(cfg["expires_in"])),
                "Type": "AWS-HMAC",
                "AccessKeyId": cred.access_key,
                "SecretAccessKey": cred.secret_key,
                "Token": cred.session_token,
                "Expiration": iso8601(cred.expires_at),
            }))
        if path == "/latest/dynamic/instance-identity/document":
            return self._ok(_imds_json({
                "accountId": self.state.account_id,
                "architecture": "x86_64",
                "availabilityZone": az,
                "billingProducts": None,
                "devpayProductCodes": None,
                "marketplaceProductCodes": None,
                "imageId": cfg["image_id"],
                "instanceId": cfg["instance_id"],
                "instanceType": cfg["instance_type"],
                "kernelId": None,
                "pendingTime": iso8601(self.launched_at),
                "privateIp": cfg["private_ip"],
                "ramdiskId": None,
                "region": region,
                "version": "2017-09-30",
            }))
        return self._page(404, "Not Found")
