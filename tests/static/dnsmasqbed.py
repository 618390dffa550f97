# SPDX-License-Identifier: Apache-2.0
"""A DNS server for a test bed: Debian's dnsmasq (dnsmasq-base, no system
service) in one network namespace of a NetBed (tests/netbed.py), answering
only the names it is given.

    dns = Dnsmasq(bed, bed.outsider, {"algo-2": "10.1.2.12", "logs.standin.test": bed.bridge_ip},
                  local_domains=["standin.test"], logdir=tmp)
    dns.start()                       # returns once it answers
    dns.resolve("algo-2")             # -> (0, ["10.1.2.12"])  (rcode, addresses)
    dns.queries()                     # [("A", "algo-2", "10.1.2.11"), ...]  from its log
    # a root's /etc/resolv.conf: f"nameserver {dns.address}\\n"

No upstream servers, no /etc/hosts, no config file (`--no-resolv --no-hosts
-C /dev/null`): a name that is not a record gets no answer from anywhere
else.  Names under local_domains that are not records get NXDOMAIN at once
(without them dnsmasq answers REFUSED, for want of an upstream server).
The process is started with bed.spawn, so the bed's teardown ends it too;
stop() ends it earlier.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

DNSMASQ = shutil.which("dnsmasq", path="/usr/sbin:/usr/bin:/sbin:/bin") or "/usr/sbin/dnsmasq"
QUERY_LINE = re.compile(r"query\[(\w+)\] (\S+) from (\S+)")


def available() -> str | None:
    """None when dnsmasq can run here, else why not."""
    if not os.access(DNSMASQ, os.X_OK):
        return f"{DNSMASQ} is missing (apt-get install dnsmasq-base)"
    return None


def query_a(server: str, name: str, port: int = 53, timeout: float = 2.0) -> tuple[int, list[str]]:
    """One DNS query for name's A records, over UDP: (rcode, IPv4 addresses)."""
    qid = random.randrange(1 << 16)
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    packet = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, (server, port))
        while True:
            data, _ = s.recvfrom(4096)
            if struct.unpack("!H", data[:2])[0] == qid:
                break
    _, flags, qd, an, _, _ = struct.unpack("!HHHHHH", data[:12])
    pos = 12
    for _ in range(qd):
        pos = _skip_name(data, pos) + 4
    addrs = []
    for _ in range(an):
        pos = _skip_name(data, pos)
        rtype, _, _, length = struct.unpack("!HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 1 and length == 4:
            addrs.append(socket.inet_ntoa(data[pos:pos + 4]))
        pos += length
    return flags & 0xF, addrs


def _skip_name(data: bytes, pos: int) -> int:
    while True:
        n = data[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:  # a compression pointer ends the name
            return pos + 2
        pos += 1 + n


class Dnsmasq:
    def __init__(self, bed, node, records: dict[str, str], logdir: Path, local_domains=()):
        self.bed = bed
        self.node = node
        self.address = node.ip
        self.records = dict(records)
        self.local_domains = list(local_domains)
        self.log = Path(logdir) / f"dnsmasq-{node.name}.log"
        self.proc: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        a = [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
             "--bind-interfaces", f"--listen-address={self.address}", "--port=53", "--pid-file=",
             "--user=root", "--log-queries", f"--log-facility={self.log}"]
        a += [f"--host-record={name},{addr}" for name, addr in self.records.items()]
        a += [f"--local=/{d}/" for d in self.local_domains]
        return a

    def start(self, timeout: float = 60.0) -> "Dnsmasq":
        out = self.log.with_suffix(".out")
        self.proc = self.bed.spawn(self.node, self.argv(), stdout=out, stderr=out)
        probe = next(iter(self.records))
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dnsmasq exited ({self.proc.returncode}): {out.read_text(errors='replace')}")
            try:
                if self.resolve(probe)[1]:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"dnsmasq on {self.address} does not answer after {timeout:.0f}s")
            time.sleep(0.1)

    def resolve(self, name: str) -> tuple[int, list[str]]:
        """Ask it (from the root namespace, over the bed's bridge)."""
        return query_a(self.address, name)

    def queries(self) -> list[tuple[str, str, str]]:
        """(type, name, client address) of every query it logged so far."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return []
        return [m.groups() for m in QUERY_LINE.finditer(text)]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait(timeout=30)
