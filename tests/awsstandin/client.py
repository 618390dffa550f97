# SPDX-License-Identifier: Apache-2.0
"""Helpers for tests that use the stand-in.

    from awsstandin.client import StandinProcess   # with tests/ on sys.path

    with StandinProcess() as standin:             # subprocess, always killed
        standin.url, standin.port
        standin.control.add_fault("throttle", operation="PutLogEvents", count=2)
        ...
        events = standin.aws_get_log_events("group", "stream")   # real aws CLI

``Control(url)`` talks to the control API of any running stand-in (also an
in-process ``StandIn``).  ``aws_cli(...)`` runs Debian's /usr/bin/aws against
the stand-in with an isolated environment (no user config, no pager, no
IMDS lookups); since the CLI signs with botocore this doubles as a
signature check.  ``logs_client(...)`` returns a botocore client.
"""

import base64
import ctypes
import json
import os
import selectors
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN_SCRIPT = os.path.join(HERE, "standin.py")
PYTHON = "/usr/bin/python3"          # Debian's python: has python3-botocore
AWS_CLI = "/usr/bin/aws"             # Debian's aws CLI v2 (not a pyenv shim)

DEFAULT_ACCESS_KEY = "AKIASTANDIN000000001"
DEFAULT_SECRET_KEY = "standin/Secret/Key/000000000000000000001"
DEFAULT_REGION = "us-east-1"


class StandinError(RuntimeError):
    pass


class Control:
    """Client of the /_standin/ control API."""

    def __init__(self, url, timeout=10, ca_bundle=None):
        self.url = url.rstrip("/")
        self.timeout = timeout
        # https:// (a stand-in with --tls-cert): trust this CA file.
        self.context = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else None

    def call(self, method, route, body=None, query=None):
        url = f"{self.url}/_standin/{route}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")
            raise StandinError(f"control {method} {route}: HTTP {err.code}: {detail}")

    # convenience wrappers
    def health(self):
        return self.call("GET", "health")

    def config(self, **update):
        if update:
            return self.call("POST", "config", update)
        return self.call("GET", "config")

    def add_credentials(self, access_key, secret_key, session_token=None,
                        expired=False, expires_in=None):
        body = {"access_key": access_key, "secret_key": secret_key,
                "session_token": session_token, "expired": expired}
        if expires_in is not None:
            body["expires_in"] = expires_in
        return self.call("POST", "credentials", body)

    def expire_credentials(self, access_key):
        return self.call("POST", "credentials/expire", {"access_key": access_key})

    def credentials(self, secrets=False):
        return self.call("GET", "credentials",
                         query={"secrets": "1"} if secrets else None)["credentials"]

    def put_bucket(self, bucket, allowed_access_keys=None, list_allowed=True):
        return self.call("POST", "s3/buckets", {
            "bucket": bucket, "allowed_access_keys": allowed_access_keys,
            "list_allowed": list_allowed})

    def put_object(self, bucket, key, body, content_type=None, metadata=None):
        doc = {"bucket": bucket, "key": key, "content_type": content_type,
               "metadata": metadata}
        if isinstance(body, bytes):
            doc["body_base64"] = base64.b64encode(body).decode()
        else:
            doc["body"] = body
        return self.call("POST", "s3/objects", doc)

    def add_fault(self, type, operation="*", service="*", count=1, seconds=0.0,
                  phase="before", group=None, stream=None, access_key=None):
        return self.call("POST", "faults", {
            "type": type, "operation": operation, "service": service,
            "count": count, "seconds": seconds, "phase": phase,
            "group": group, "stream": stream, "access_key": access_key})

    def faults(self):
        return self.call("GET", "faults")["faults"]

    def clear_faults(self):
        return self.call("DELETE", "faults")

    def counters(self):
        return self.call("GET", "counters")

    def requests(self, since=0, service=None, operation=None):
        query = {"since": since}
        if service:
            query["service"] = service
        if operation:
            query["operation"] = operation
        return self.call("GET", "requests", query=query)

    def create_stream(self, group, stream):
        return self.call("POST", "logs/streams", {"group": group, "stream": stream})

    def create_group(self, group, retention_days=None):
        body = {"group": group}
        if retention_days is not None:
            body["retention_days"] = retention_days
        return self.call("POST", "logs/groups", body)

    def events(self, group, stream):
        return self.call("GET", "logs/events",
                         query={"group": group, "stream": stream})["events"]

    def reset(self, credentials=False, config=False):
        return self.call("POST", "reset", {"credentials": credentials, "config": config})

    def state(self):
        return self.call("GET", "state")


def _die_with_parent():
    """preexec_fn: SIGTERM the stand-in if the test process dies (Linux)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)      # PR_SET_PDEATHSIG
    except OSError:
        pass


class StandinProcess:
    """Run standin.py as a subprocess; a context manager that always stops it."""

    def __init__(self, state_dir=None, region=DEFAULT_REGION, host="127.0.0.1",
                 extra_args=(), ready_timeout=60, stderr_path=None, tls=None):
        """tls: a tlsca.TlsCA (or anything with .cert, .key and .ca): serve
        HTTPS with its certificate; the control API and the aws CLI helpers
        trust its CA."""
        self.region = region
        self.host = host
        self.extra_args = list(extra_args)
        self.tls = tls
        self.ca_bundle = str(tls.ca) if tls else None
        if tls:
            self.extra_args += ["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
        self.ready_timeout = ready_timeout
        self._tmp = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="standin-")
            state_dir = self._tmp.name
        self.state_dir = state_dir
        self.stderr_path = stderr_path or os.path.join(state_dir, "standin.stderr")
        self.proc = None
        self.url = None
        self.port = None
        self.control = None

    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        self._stderr = open(self.stderr_path, "wb")
        cmd = [PYTHON, STANDIN_SCRIPT, "--port", "0", "--host", self.host,
               "--region", self.region, "--state-dir", self.state_dir] + self.extra_args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr,
                                     stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        try:
            line = self._read_ready_line()
            doc = json.loads(line)
            if doc.get("standin") != "ready":
                raise StandinError(f"unexpected first line: {line!r}")
        except BaseException:
            self.stop()
            raise
        self.port = doc["port"]
        self.url = doc["url"]
        self.control = Control(self.url, ca_bundle=self.ca_bundle)
        return self

    def _read_ready_line(self):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.ready_timeout
        buf = b""
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StandinError(f"stand-in not ready after {self.ready_timeout}s; "
                                       f"stderr: {self.stderr_text()}")
                if not sel.select(left):
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise StandinError(f"stand-in exited early (rc={self.proc.poll()}); "
                                       f"stderr: {self.stderr_text()}")
                buf += chunk
        finally:
            sel.close()
        return buf.split(b"\n", 1)[0].decode()

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as fh:
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout=10):
        """SIGTERM (state gets dumped), then SIGKILL if it does not exit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "_stderr", None):
            self._stderr.close()
            self._stderr = None

    def state_file(self):
        return os.path.join(self.state_dir, "state.json")

    def cleanup(self):
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # shortcuts
    def aws_get_log_events(self, group, stream, **kw):
        kw.setdefault("ca_bundle", self.ca_bundle)
        return aws_get_log_events(self.url, group, stream, region=self.region, **kw)

    def aws_cli(self, args, **kw):
        kw.setdefault("ca_bundle", self.ca_bundle)
        return aws_cli(self.url, args, region=self.region, **kw)

    def logs_client(self, **kw):
        kw.setdefault("region", self.region)
        kw.setdefault("ca_bundle", self.ca_bundle)
        return logs_client(self.url, **kw)


def porthole_env(url, region="us-east-1", access_key=DEFAULT_ACCESS_KEY, secret_key=DEFAULT_SECRET_KEY):
    """What porthole needs to talk to the stand-in at url as CloudWatch Logs:
    static credentials, no profile files, no IMDS.  region None leaves the
    region for porthole to find (a HyperPod node takes it from its ARN)."""
    env = {
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": url,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }
    if region:
        env["AWS_REGION"] = region
    return env


def aws_env(access_key=DEFAULT_ACCESS_KEY, secret_key=DEFAULT_SECRET_KEY,
            session_token=None, region=DEFAULT_REGION, home=None):
    """An isolated environment for /usr/bin/aws."""
    home = home or tempfile.mkdtemp(prefix="standin-aws-home-")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_PAGER": "",
        "AWS_CONFIG_FILE": os.path.join(home, "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CLI_AUTO_PROMPT": "off",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
    }
    if session_token:
        env["AWS_SESSION_TOKEN"] = session_token
    return env


def aws_cli(url, args, access_key=DEFAULT_ACCESS_KEY, secret_key=DEFAULT_SECRET_KEY,
            session_token=None, region=DEFAULT_REGION, timeout=60, ca_bundle=None):
    """Run ``/usr/bin/aws ARGS --endpoint-url URL --output json``
    (``--ca-bundle CA_BUNDLE`` too when given: an https:// stand-in).

    Returns (returncode, parsed JSON or None, stderr text).
    """
    with tempfile.TemporaryDirectory(prefix="standin-aws-home-") as home:
        env = aws_env(access_key, secret_key, session_token, region, home)
        cmd = [AWS_CLI] + list(args) + ["--endpoint-url", url, "--output", "json",
                                        "--no-cli-pager", "--cli-connect-timeout", "10",
                                        "--cli-read-timeout", "30"]
        if ca_bundle:
            cmd += ["--ca-bundle", str(ca_bundle)]
        proc = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    out = proc.stdout.decode("utf-8", "replace").strip()
    try:
        doc = json.loads(out) if out else None
    except ValueError:
        doc = None
    return proc.returncode, doc, proc.stderr.decode("utf-8", "replace")


def aws_get_log_events(url, group, stream, access_key=DEFAULT_ACCESS_KEY,
                       secret_key=DEFAULT_SECRET_KEY, session_token=None,
                       region=DEFAULT_REGION, max_pages=1000, ca_bundle=None):
    """All events of a stream, read with the real aws CLI
    (get-log-events --start-from-head, following nextForwardToken until the
    same token comes back)."""
    events = []
    token = None
    for _ in range(max_pages):
        args = ["logs", "get-log-events", "--log-group-name", group,
                "--log-stream-name", stream, "--start-from-head"]
        if token:
            args += ["--next-token", token]
        rc, doc, err = aws_cli(url, args, access_key, secret_key, session_token, region,
                               ca_bundle=ca_bundle)
        if rc != 0 or doc is None:
            raise StandinError(f"aws logs get-log-events failed (rc={rc}): {err.strip()}")
        events.extend(doc.get("events", []))
        if doc.get("nextForwardToken") == token:
            return events
        token = doc.get("nextForwardToken")
    raise StandinError("get-log-events did not reach the end of the stream")


def logs_client(url, access_key=DEFAULT_ACCESS_KEY, secret_key=DEFAULT_SECRET_KEY,
                session_token=None, region=DEFAULT_REGION, validate=True, retries=0,
                service="logs", ca_bundle=None, **config):
    """A botocore client for the stand-in (no retries unless asked;
    ca_bundle: the CA file an https:// stand-in is trusted with)."""
    import botocore.config
    import botocore.session

    session = botocore.session.get_session()
    options = {"retries": {"total_max_attempts": retries + 1, "mode": "standard"},
               "parameter_validation": validate, "connect_timeout": 10,
               "read_timeout": 30}
    options.update(config)
    cfg = botocore.config.Config(**options)
    return session.create_client(service, region_name=region, endpoint_url=url,
                                 aws_access_key_id=access_key,
                                 aws_secret_access_key=secret_key,
                                 aws_session_token=session_token, config=cfg,
                                 verify=str(ca_bundle) if ca_bundle else None)


class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # lower-case name -> value
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def __repr__(self):
        return f"RawResponse({self.status}, {self.body[:300]!r})"


def signed_request(url, method="POST", path="/", body=b"", headers=None,
                   service="logs", region=DEFAULT_REGION, access_key=DEFAULT_ACCESS_KEY,
                   secret_key=DEFAULT_SECRET_KEY, session_token=None, timestamp=None,
                   s3=False, sign=True, timeout=30):
    """Send one request signed by botocore's SigV4 signer, byte for byte.

    ``timestamp`` ("YYYYMMDDTHHMMSSZ") signs as of another time (skew tests).
    Returns a RawResponse.  Used for what a botocore client will not send
    (bad JSON, odd headers, old dates, tampered bodies).
    """
    import datetime
    import http.client

    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    if isinstance(body, str):
        body = body.encode("utf-8")
    full_url = url.rstrip("/") + path
    request = AWSRequest(method=method, url=full_url, data=body, headers=dict(headers or {}))
    if sign:
        signer_class = S3SigV4Auth if s3 else SigV4Auth
        signer = signer_class(Credentials(access_key, secret_key, session_token),
                              service, region)
        if timestamp is None:
            timestamp = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
        request.context["timestamp"] = timestamp
        # The steps of SigV4Auth.add_auth, with our own timestamp.
        signer._modify_request_before_signing(request)
        canonical = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical)
        signer._inject_signature_to_request(request, signer.signature(string_to_sign, request))
    parsed = urllib.parse.urlsplit(full_url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    try:
        target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        sent = {k.lower() for k in request.headers.keys()}
        if "host" not in sent:
            conn.putheader("Host", parsed.netloc)
        for name, value in request.headers.items():
            conn.putheader(name, value)
        if body or method in ("POST", "PUT"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def logs_request(url, operation, payload, **kw):
    """A signed CloudWatch Logs JSON 1.1 call; ``payload`` is a dict or raw bytes."""
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    headers = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": f"Logs_20140328.{operation}"}
    headers.update(kw.pop("headers", {}) or {})
    return signed_request(url, body=body, headers=headers, **kw)


if __name__ == "__main__":
    # Manual use: start a stand-in and keep it running until Ctrl-C.
    with StandinProcess() as s:
        print(json.dumps({"url": s.url, "access_key": DEFAULT_ACCESS_KEY,
                          "secret_key": DEFAULT_SECRET_KEY}), flush=True)
        try:
            while s.proc.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    sys.exit(0)
