# SPDX-License-Identifier: Apache-2.0
"""One request on porthole's control socket, as the CLI sends it: a JSON
object on one line, one JSON line back.  For tests and benchmarks that use
commands the CLI has no verb for (the hidden `log` command)."""

import json
import socket


def call(sock_path, req, timeout=60):
    """Send req to the control socket at sock_path; return the reply object."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(sock_path))
        s.sendall((json.dumps(req) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)
