#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Local AWS stand-in: command line entry point (and ``StandIn`` re-export).

    /usr/bin/python3 tests/awsstandin/standin.py --port 0 --state-dir DIR \
        [--host 127.0.0.1] [--region us-east-1]

When ready it prints exactly one line to stdout and flushes it:

    {"standin":"ready","port":N,"url":"http://127.0.0.1:N"}

With --tls-cert FILE --tls-key FILE it serves HTTPS instead (same port, same
routes) and the url is https://.  Everything else goes to stderr.  SIGTERM or
SIGINT stops it; the state is then dumped to DIR/state.json.  Run it with Debian's /usr/bin/python3
(python3-botocore lives there).
"""

import os
import sys

if __package__ in (None, ""):
    # Run as a script: make the package importable and keep this directory
    # itself off sys.path (its module names must not shadow anything).
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))
    from awsstandin.server import (DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY,  # noqa: E402
                                   StandIn)
else:
    from .server import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, StandIn  # noqa: F401

__all__ = ["StandIn", "DEFAULT_ACCESS_KEY", "DEFAULT_SECRET_KEY", "main"]


def main(argv=None):
    import argparse
    import json
    import signal
    import threading

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--state-dir", default=None,
                        help="directory for state.json (dumped on stop)")
    parser.add_argument("--load-state", action="store_true",
                        help="load DIR/state.json at start-up if present")
    parser.add_argument("--credential", action="append", default=[],
                        metavar="AK:SECRET[:TOKEN]",
                        help="extra credential (repeatable)")
    parser.add_argument("--container-credentials-path", default=None)
    parser.add_argument("--container-auth-token", default=None)
    parser.add_argument("--tls-cert", metavar="FILE", default=None,
                        help="serve HTTPS with this PEM certificate chain (leaf first)")
    parser.add_argument("--tls-key", metavar="FILE", default=None,
                        help="the PEM private key of --tls-cert")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")

    creds = []
    for spec in args.credential:
        parts = spec.split(":", 2)
        if len(parts) < 2:
            parser.error(f"--credential needs AK:SECRET[:TOKEN], got {spec!r}")
        creds.append(tuple(parts))

    standin = StandIn(host=args.host, port=args.port, region=args.region,
                      state_dir=args.state_dir, load_state=args.load_state,
                      credentials=creds, verbose=args.verbose,
                      tls_cert=args.tls_cert, tls_key=args.tls_key)
    if args.container_credentials_path:
        standin.state.config["container_credentials"]["path"] = args.container_credentials_path
    if args.container_auth_token:
        standin.state.config["container_credentials"]["auth_token"] = args.container_auth_token

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    standin.start()
    sys.stdout.write(json.dumps({"standin": "ready", "port": standin.port,
                                 "url": standin.url}, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
