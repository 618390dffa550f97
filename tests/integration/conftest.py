# SPDX-License-Identifier: Apache-2.0
"""Fixtures for porthole's integration tests.

Run: PORTHOLE_BIN=$PWD/build/std/porthole /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration
"""

import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from awsstandin.client import StandinProcess  # noqa: E402
from porthole_harness import Sandbox, porthole_bin  # noqa: E402


@pytest.fixture(scope="session")
def porthole_path():
    b = porthole_bin()
    if not os.access(b, os.X_OK):
        pytest.fail(f"porthole binary {b} is not executable; build it with `make`")
    return b


@pytest.fixture
def sb(porthole_path):
    """A sandbox: fake ML_ROOT, control socket path, clean environment.
    Every process it started is killed afterwards, pass or fail."""
    box = Sandbox(porthole_path)
    try:
        yield box
    finally:
        box.cleanup()


@pytest.fixture(scope="session")
def need_unshare():
    if os.geteuid() != 0 or not shutil.which("unshare", path="/usr/bin:/bin"):
        pytest.skip("PID 1 tests need root and unshare")


@pytest.fixture
def standin():
    """A fresh AWS stand-in (tests/awsstandin) for one test, always stopped.
    Test modules that need the log group override this fixture to create it."""
    s = StandinProcess()
    s.start()
    try:
        yield s
    finally:
        s.cleanup()
