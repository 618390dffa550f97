# SPDX-License-Identifier: Apache-2.0
"""lifecycle/hyperpod/install_porthole.sh without a node: shellcheck and the
argument checks (tests/hyperpod runs it for real, in a chroot)."""

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "lifecycle" / "hyperpod" / "install_porthole.sh"


def test_shellcheck_clean():
    r = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck not installed (apt-get install shellcheck)")
    r = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("args, exit_code, message", [
    (["--port", "0"], 1, "--port 0: expected a TCP port number (1-65535)"),
    (["--port", "65536"], 1, "--port 65536: expected a TCP port number"),
    (["--port", "22x"], 1, "--port 22x: expected a TCP port number"),
    (["--frobnicate"], 2, "unknown argument '--frobnicate'"),
])
def test_bad_arguments_stop_before_anything_changes(tmp_path, args, exit_code, message):
    log = tmp_path / "provision" / "provisioning.log"
    r = subprocess.run(["bash", str(SCRIPT), "--log", str(log), *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == exit_code, r.stderr
    assert message in r.stderr
    if exit_code == 1:
        # Said once on stderr and once in the provisioning log, as an ERROR.
        assert f"[porthole] ERROR: {message}" in log.read_text()
