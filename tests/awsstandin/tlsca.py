# SPDX-License-Identifier: Apache-2.0
"""A throwaway test CA and a server certificate for the stand-in's HTTPS mode,
made with Debian's `openssl` CLI (P-256 keys, valid for two days).

    ca = make_test_ca(tmp_dir, names=["localhost", "logs.standin.test"], ips=["127.0.0.1"])
    StandinProcess(tls_cert=ca.cert, tls_key=ca.key, ca_bundle=ca.ca)
    ... AWS_CA_BUNDLE=ca.ca for porthole, --ca-bundle ca.ca for the aws CLI ...

The CA certificate is what a client trusts; the server certificate carries
every name and address a client may use in the URL as a subjectAltName
(OpenSSL, curl and botocore check it; nobody reads the CN).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

OPENSSL = shutil.which("openssl", path="/usr/bin:/bin") or "/usr/bin/openssl"

CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = {san}
"""


@dataclass(frozen=True)
class TlsCA:
    ca: Path      # the CA certificate (PEM): the bundle a client trusts
    cert: Path    # the server certificate (PEM)
    key: Path     # the server's private key (PEM)
    names: tuple[str, ...]
    ips: tuple[str, ...]


def _openssl(*args: str, cwd: Path) -> None:
    r = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")


def make_test_ca(directory, names=("localhost",), ips=("127.0.0.1",), days: int = 2) -> TlsCA:
    """A new CA and a server certificate for names and ips, in directory."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    san = ", ".join([f"DNS:{n}" for n in names] + [f"IP:{a}" for a in ips])
    (d / "openssl.cnf").write_text(CONFIG.format(san=san))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-config", "openssl.cnf"]
    _openssl("req", "-x509", *ec, "-extensions", "v3_ca", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", str(days), "-subj", "/CN=porthole test CA", cwd=d)
    _openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", f"/CN={(list(names) or list(ips))[0]}", cwd=d)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", str(days), "-extfile", "openssl.cnf", "-extensions", "v3_leaf", "-out", "server.pem", cwd=d)
    (d / "server.key").chmod(0o600)
    return TlsCA(ca=d / "ca.pem", cert=d / "server.pem", key=d / "server.key",
                  names=tuple(names), ips=tuple(ips))
