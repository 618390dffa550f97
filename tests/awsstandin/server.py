# SPDX-License-Identifier: Apache-2.0
"""HTTP server and request routing for the stand-in.

One port serves everything; a request is routed by what it looks like:

    /_standin/...                       control API (tests only)
    /latest/...                         IMDSv2
    <container credentials path>        container credentials endpoint
    X-Amz-Target: <prefix>.<Op>         AWS JSON 1.1 service registered under
                                        <prefix> (Logs_20140328 -> Logs)
    POST without X-Amz-Target           Logs (answers UnknownOperationException)
    anything else (GET/HEAD /b/k)       S3, path-style

Another JSON service: write a module with a ``JsonService`` subclass (as
``ssm.py`` does for AmazonSSM) and append it to ``JSON_SERVICES``.
"""

import copy
import io
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .control import PREFIX as CONTROL_PREFIX, ControlApi
from .creds import ContainerCredentialsEndpoint, CredentialIssuer, ImdsEndpoint
from .faults import FaultBook
from .logs import LogsService, LogsStore
from .s3 import S3Service, S3Store
from .ssm import SsmService, SsmStore
from .state import DEFAULT_CONFIG, Credential, StandInState
from .wire import Request, Response, http_date

#: AWS JSON 1.1 services, registered by X-Amz-Target prefix.
JSON_SERVICES = [LogsService, SsmService]

#: Long-term credential present from start-up (tests may add more).
DEFAULT_ACCESS_KEY = "AKIASTANDIN000000001"
DEFAULT_SECRET_KEY = "standin/Secret/Key/000000000000000000001"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"     # keep-alive, 100-continue like AWS
    server_version = "standin"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.standin.verbose:
            sys.stderr.write("standin: %s %s\n" % (self.address_string(), fmt % args))

    def _read_body(self):
        encoding = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in encoding:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        return self.rfile.read(int(length))

    def _serve(self):
        standin = self.server.standin
        try:
            body = self._read_body()
            request = Request(self.command, self.path, self.headers.items(), body,
                              self.client_address)
            response = standin.route(request).handle(request)
        except Exception:
            standin.state.count_internal_error()
            traceback.print_exc(file=sys.stderr)
            response = Response(500, "stand-in internal error\n", content_type="text/plain")
        if response.drop:
            self._reset_connection()
            return
        if response.delay_after:
            time.sleep(response.delay_after)
        self._write(response)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _serve

    def _write(self, response):
        self.send_response_only(response.status)
        names = {name.lower() for name, _ in response.headers}
        for name, value in response.headers:
            self.send_header(name, value)
        if "date" not in names:
            self.send_header("Date", http_date(time.time()))
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and not response.head_only:
            self.wfile.write(response.body)

    def _reset_connection(self):
        """Drop the connection with a TCP RST and without any response."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.rfile.close()     # release makefile's reference so close() is real
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass
        self.rfile = io.BytesIO()
        self.wfile = io.BytesIO()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls = None                  # an ssl.SSLContext: serve HTTPS
    TLS_HANDSHAKE_TIMEOUT = 30

    def handle_error(self, request, client_address):
        # Client hang-ups are routine in fault tests; stay quiet about them.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, BrokenPipeError, TimeoutError)):
            return
        super().handle_error(request, client_address)


    def finish_request(self, request, client_address):
        # TLS (when on): the handshake happens here, in the connection's own
        # thread, so a slow or distrusting client never holds up accept().
        if self.tls is None:
            return super().finish_request(request, client_address)
        try:
            request.settimeout(self.TLS_HANDSHAKE_TIMEOUT)
            request = self.tls.wrap_socket(request, server_side=True)
            request.settimeout(None)
        except (ssl.SSLError, OSError) as err:
            if self.standin.verbose:
                sys.stderr.write(f"standin: TLS handshake with {client_address[0]} failed: {err}\n")
            return
        try:
            super().finish_request(request, client_address)
        finally:
            request.close()


class _Server6(_Server):
    address_family = socket.AF_INET6


def tls_context(cert_file, key_file):
    """A server context for the stand-in: the certificate chain in cert_file
    (leaf first), its key in key_file; TLS 1.2 and 1.3, as AWS endpoints."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    return ctx


class StandIn:
    """The local AWS stand-in.  Usable in-process::

        with StandIn() as s:
            ... s.url ...
    """

    def __init__(self, host="127.0.0.1", port=0, region="us-east-1", state_dir=None,
                 load_state=False, credentials=None, verbose=False, tls_cert=None, tls_key=None):
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("TLS needs both a certificate and its key")
        self.host = host
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.requested_port = port
        self.state_dir = state_dir
        self.load_state = load_state
        self.verbose = verbose
        self.state = StandInState(region)
        self.state.logs = LogsStore(self.state.lock)
        self.state.s3 = S3Store(self.state.lock)
        self.state.ssm = SsmStore(self.state.lock)
        self.state.faults = FaultBook()
        self.state.issuers = {
            "container": CredentialIssuer(self.state, "container_credentials", "container"),
            "imds": CredentialIssuer(self.state, "imds", "imds"),
        }
        self._initial_credentials = [(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None)]
        for cred in credentials or []:
            self._initial_credentials.append(tuple(cred) + (None,) * (3 - len(cred)))
        self._install_initial_credentials()

        self.json_services = {cls.target_prefix: cls(self.state) for cls in JSON_SERVICES}
        self.default_json_service = self.json_services[LogsService.target_prefix]
        self.s3 = S3Service(self.state)
        self.imds = ImdsEndpoint(self.state, self.state.issuers["imds"])
        self.container = ContainerCredentialsEndpoint(self.state,
                                                      self.state.issuers["container"])
        self.control = ControlApi(self)
        self.server = None
        self.thread = None
        self.port = None
        self.url = None

    def _install_initial_credentials(self):
        for access_key, secret_key, token in self._initial_credentials:
            self.state.add_credential(Credential(access_key, secret_key, token,
                                                 source="startup"))

    # -- routing -------------------------------------------------------
    def route(self, request):
        path = request.path
        if path.startswith(CONTROL_PREFIX):
            return self.control
        if path == "/latest" or path.startswith("/latest/"):
            return self.imds
        if self.container.matches(request):
            return self.container
        target = request.header("X-Amz-Target")
        if target is not None:
            prefix = target.rpartition(".")[0]
            return self.json_services.get(prefix, self.default_json_service)
        if request.method == "POST":
            return self.default_json_service
        return self.s3

    # -- lifecycle -----------------------------------------------------
    def start(self):
        if self.load_state and self.state_dir:
            self._load()
        server_class = _Server6 if ":" in self.host else _Server
        tls = tls_context(self.tls_cert, self.tls_key) if self.tls_cert else None
        self.server = server_class((self.host, self.requested_port), _Handler)
        self.server.standin = self
        self.server.tls = tls
        self.port = self.server.server_address[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       name="standin-server", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.state_dir:
            self._dump()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- state ---------------------------------------------------------
    def reset(self, credentials=False, config=False):
        st = self.state
        with st.lock:
            st.logs.clear()
            st.s3.clear()
            st.ssm.clear()
            st.faults.clear()
            st.reset_counters()
            st.request_log.clear()
            self.imds.reset()
            for issuer in st.issuers.values():
                issuer.reset()
            if config:
                region = st.region
                st.config = copy.deepcopy(DEFAULT_CONFIG)
                st.config["region"] = region
            if credentials:
                st.credentials.clear()
                self._install_initial_credentials()
            for service in list(self.json_services.values()) + [self.s3]:
                service._rate_windows.clear()

    def snapshot(self):
        st = self.state
        with st.lock:
            now = st.now()
            return {
                "generated_at": now,
                "url": self.url,
                "region": st.region,
                "config": copy.deepcopy(st.config),
                "credentials": [c.describe(now, include_secret=True)
                                for c in st.credentials.values()],
                "logs": st.logs.snapshot(),
                "s3": st.s3.snapshot(),
                "ssm": st.ssm.snapshot(),
                "counters": copy.deepcopy(st.counters),
                "request_log": [dict(e) for e in st.request_log],
            }

    def _state_path(self):
        return os.path.join(self.state_dir, "state.json")

    def _dump(self):
        os.makedirs(self.state_dir, exist_ok=True)
        tmp = self._state_path() + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.snapshot(), fh, indent=1, ensure_ascii=False)
        os.replace(tmp, self._state_path())

    def _load(self):
        path = self._state_path()
        if not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        st = self.state
        st.logs.load(doc.get("logs", {}))
        st.s3.load(doc.get("s3", {}))
        for c in doc.get("credentials", []):
            st.add_credential(Credential(c["access_key"], c["secret_key"],
                                         c.get("session_token"), c.get("expires_at"),
                                         c.get("expired", False), c.get("source", "loaded")))
