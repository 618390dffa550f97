# SPDX-License-Identifier: Apache-2.0
"""The published address follows the host's: porthole watches netlink for
address changes (no polling) and looks its address up again.

porthole runs in a network namespace of its own with an interface (one end of a veth pair, both ends inside) named
in resourceconfig.json; the test moves that interface's address."""

import json
import os
import shutil
import signal
import subprocess

import pytest

from porthole_harness import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("nsenter") or not shutil.which("ip"),
                                reason="needs root, nsenter and ip")


def status(sb):
    r = sb.cli("status", "--json")
    return json.loads(r.stdout) if r.returncode == 0 else None


def test_address_change_is_followed(sb):
    sb.write_resourceconfig({"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "ph0"})
    setup = ("ip link set lo up && ip link add ph0 type veth peer name ph1 && ip link set ph0 up && "
             "ip addr add 10.77.0.1/24 dev ph0")
    # unshare without --fork execs: the shell, then porthole, keep this pid.
    p = subprocess.Popen(["unshare", "--net", "--", "sh", "-c", f"{setup} && exec {sb.bin} serve"],
                         env=sb.make_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        st = wait_for(lambda: status(sb), what="porthole in its namespace")
        assert st["ip"] == "10.77.0.1", st

        def ns(cmd):
            subprocess.run(["nsenter", "-t", str(p.pid), "-n", *cmd], check=True)

        # Another subnet: a second address in the same one would be a secondary,
        # deleted together with the primary.
        ns(["ip", "addr", "add", "10.77.1.9/24", "dev", "ph0"])
        ns(["ip", "addr", "del", "10.77.0.1/24", "dev", "ph0"])
        st = wait_for(lambda: (lambda s: s if s and s["ip"] == "10.77.1.9" else None)(status(sb)),
                      what="the new address in status")
        assert st["ip"] == "10.77.1.9"
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            _, err = p.communicate()
    assert "address changed: ip 10.77.1.9" in err, err
    assert p.returncode == 0, err
