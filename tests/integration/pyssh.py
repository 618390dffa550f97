# SPDX-License-Identifier: Apache-2.0
"""An SSH client in Python (paramiko, Debian's python3-paramiko) for what
OpenSSH's client will not send: security-key signatures without hardware
(a software signer whose flags the test chooses), ssh-rsa (SHA-1) signatures,
and user names holding control characters.

SoftSk* keys are test-only authenticators: they sign exactly as a FIDO key
does for OpenSSH (PROTOCOL.u2f): over SHA256(application) || flags ||
counter || SHA256(data), and the signature blob carries flags and counter.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct

import paramiko
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from paramiko.message import Message

USER_PRESENT = 0x01
USER_VERIFIED = 0x04


class _SoftSk(paramiko.PKey):
    NAME = ""

    def __init__(self, flags: int = USER_PRESENT, application: str = "ssh:"):  # noqa: D107 - no PKey init
        self.flags = flags
        self.application = application
        self.counter = 1
        self.public_blob = None

    def get_name(self) -> str:
        return self.NAME

    def can_sign(self) -> bool:
        return True

    def get_bits(self) -> int:
        return 256

    def asbytes(self) -> bytes:
        m = Message()
        m.add_string(self.NAME)
        self._add_public(m)
        m.add_string(self.application)
        return m.asbytes()

    def __str__(self):  # paramiko 2.x uses str(key) in places
        return self.asbytes().decode("latin-1")

    def line(self, options: str = "") -> str:
        """The authorized_keys line."""
        return f"{options + ' ' if options else ''}{self.NAME} {base64.b64encode(self.asbytes()).decode()} soft-sk"

    def sign_ssh_data(self, data: bytes, algorithm: str | None = None) -> Message:
        self.counter += 1
        signed = (hashlib.sha256(self.application.encode()).digest() + bytes([self.flags]) +
                  struct.pack(">I", self.counter) + hashlib.sha256(data).digest())
        m = Message()
        m.add_string(self.NAME)
        m.add_string(self._sign(signed))
        m.add_byte(bytes([self.flags]))
        m.add_int(self.counter)
        return m


class SoftSkEd25519(_SoftSk):
    NAME = "sk-ssh-ed25519@openssh.com"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self._priv = ed25519.Ed25519PrivateKey.generate()

    def _add_public(self, m: Message) -> None:
        m.add_string(self._priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))

    def _sign(self, signed: bytes) -> bytes:
        return self._priv.sign(signed)


class SoftSkEcdsa(_SoftSk):
    NAME = "sk-ecdsa-sha2-nistp256@openssh.com"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self._priv = ec.generate_private_key(ec.SECP256R1())

    def _add_public(self, m: Message) -> None:
        m.add_string("nistp256")
        m.add_string(self._priv.public_key().public_bytes(serialization.Encoding.X962,
                                                          serialization.PublicFormat.UncompressedPoint))

    def _sign(self, signed: bytes) -> bytes:
        r, s = decode_dss_signature(self._priv.sign(signed, ec.ECDSA(hashes.SHA256())))
        m = Message()
        m.add_mpint(r)
        m.add_mpint(s)
        return m.asbytes()


def transport(port: int, timeout: float = 60) -> paramiko.Transport:
    """A client transport to 127.0.0.1:port after the key exchange.  The
    host key is not checked: these tests are about authentication."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t = paramiko.Transport(sock)
    t.banner_timeout = t.auth_timeout = timeout
    t.start_client(timeout=timeout)
    return t


def try_publickey(port: int, user: str, key: paramiko.PKey, sha1_rsa: bool = False) -> bool:
    """Does key log user in?  sha1_rsa: sign with ssh-rsa (SHA-1) whatever
    the server's server-sig-algs say."""
    t = transport(port)
    try:
        if sha1_rsa:
            orig = paramiko.auth_handler.AuthHandler._finalize_pubkey_algorithm
            paramiko.auth_handler.AuthHandler._finalize_pubkey_algorithm = lambda self, kt: "ssh-rsa"
        try:
            t.auth_publickey(user, key)
            return t.is_authenticated()
        except paramiko.AuthenticationException:
            return False
        finally:
            if sha1_rsa:
                paramiko.auth_handler.AuthHandler._finalize_pubkey_algorithm = orig
    finally:
        t.close()
