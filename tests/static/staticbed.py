# SPDX-License-Identifier: Apache-2.0
"""The network around the roots: a NetBed (tests/netbed.py) of N job hosts
whose AWS stand-in serves HTTPS with a throwaway test CA, and dnsmasq in the
bed's `outsider` namespace playing the VPC's DNS resolver.

    with StaticBed(hosts=3, porthole=BIN, tmp=DIR) as bed:
        bed.endpoint_url          # https://logs.standin.test:PORT (the name resolves to the bridge)
        bed.ca.ca                 # the CA file a client must trust
        bed.resolv_conf()         # "nameserver <dnsmasq>" for a root's /etc/resolv.conf
        bed.names()               # {"algo-1": ip, ..., "logs.standin.test": bridge ip}
        bed.porthole_env(node, job, authorized_key, AWS_CA_BUNDLE=...)
        bed.netbed, bed.dns, bed.standin

dnsmasq answers algo-1..N and the endpoint name with their addresses, and
NXDOMAIN for anything else under standin.test; it has no upstream.  Leaving
the context (or close()) ends dnsmasq, the stand-in and the NetBed, which
ends every process left in its namespaces.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import netbed  # noqa: E402
from awsstandin.tlsca import make_test_ca  # noqa: E402
from dnsmasqbed import Dnsmasq  # noqa: E402

ENDPOINT_DOMAIN = "standin.test"
ENDPOINT_NAME = f"logs.{ENDPOINT_DOMAIN}"


class StaticBed:
    def __init__(self, hosts: int, porthole: str, tmp: Path | None = None):
        self.n = hosts
        self.porthole = porthole
        self._own_tmp = tmp is None
        self.tmp = Path(tmp) if tmp else Path(tempfile.mkdtemp(prefix="ph-staticbed-"))
        self.netbed: netbed.NetBed | None = None
        self.dns: Dnsmasq | None = None
        self.ca = None

    def _tls(self, bridge_ip: str):
        self.ca = make_test_ca(self.tmp / "ca", names=[ENDPOINT_NAME, "localhost"], ips=[bridge_ip, "127.0.0.1"])
        return self.ca

    def __enter__(self) -> "StaticBed":
        try:
            self.netbed = netbed.NetBed(hosts=self.n, outsider=True, porthole=self.porthole,
                                        standin_tls=self._tls).__enter__()
            self.dns = Dnsmasq(self.netbed, self.netbed.outsider, self.names(), logdir=self.tmp,
                               local_domains=[ENDPOINT_DOMAIN]).start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        if self.dns:
            self.dns.stop()
        if self.netbed:
            self.netbed.close()
        if self._own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- lookups
    @property
    def standin(self):
        return self.netbed.standin

    @property
    def endpoint_url(self) -> str:
        return f"https://{ENDPOINT_NAME}:{self.standin.port}"

    def host(self, name: str):
        return self.netbed.host(name)

    def names(self) -> dict[str, str]:
        """Every name of the bed and its address (what dnsmasq answers)."""
        out = {n.name: n.ip for n in self.netbed.nodes}
        out[ENDPOINT_NAME] = self.netbed.bridge_ip
        return out

    def resolv_conf(self) -> str:
        return f"nameserver {self.dns.address}\noptions timeout:2 attempts:2\n"

    def porthole_env(self, node, job: str, authorized_key: str, **extra) -> dict[str, str]:
        """porthole's settings on node: SSH with authorized_key, CloudWatch at
        the HTTPS stand-in by name with the host's own credentials, no hold."""
        e = {
            "HOSTNAME": node.name,
            "TRAINING_JOB_NAME": job,
            "PORTHOLE_SSH": "embedded",
            "PORTHOLE_AUTHORIZED_KEYS": authorized_key,
            "PORTHOLE_LOG_LEVEL": "debug",
            "PORTHOLE_CLOUDWATCH": "on",
            "PORTHOLE_HOLD": "never",
            **self.netbed.aws_env(**self.netbed.host_credentials(node.name)),
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": self.endpoint_url,
        }
        for k, v in extra.items():  # None removes a setting
            if v is None:
                e.pop(k, None)
            else:
                e[k] = str(v)
        return e
