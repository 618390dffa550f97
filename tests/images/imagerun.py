# SPDX-License-Identifier: Apache-2.0
"""Run a built image the way SageMaker's `docker run IMAGE train` would, with
no container runtime: its ENTRYPOINT + CMD (read from `podman image inspect`,
never hard-coded) as PID 1 of a new PID namespace, chrooted into a writable
copy of the image's root (`podman create` + `podman mount`), with the image's
Env and WorkingDir and a fake /opt/ml bind-mounted in.  The network namespace
is the host's, so the SSH endpoint is reachable on 127.0.0.1.

Cleanup kills the namespace's PID 1 (which ends every process in it and drops
its mounts), then removes the container copy, pass or fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from podman_store import HERE, Store, private_dir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from proctools import kill_namespace_run  # noqa: E402
from readyrecord import ready_record_in  # noqa: E402

UNSHARE = shutil.which("unshare", path="/usr/bin:/bin") or "/usr/bin/unshare"
SSH = shutil.which("ssh", path="/usr/bin:/bin") or "/usr/bin/ssh"
SFTP = shutil.which("sftp", path="/usr/bin:/bin") or "/usr/bin/sftp"
KEYGEN = shutil.which("ssh-keygen", path="/usr/bin:/bin") or "/usr/bin/ssh-keygen"
TIMEOUT = 60.0


def wait_for(pred, timeout: float = TIMEOUT, what: str = "condition", interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def fake_ml(root: Path, hyperparameters: dict | None = None, data: dict[str, dict[str, str]] | None = None) -> Path:
    """A SageMaker /opt/ml for one host: config files, input channels, empty
    model/ and output/.  data maps channel -> {file name: content}."""
    ml = root / "ml"
    cfg = ml / "input" / "config"
    cfg.mkdir(parents=True)
    (cfg / "resourceconfig.json").write_text(json.dumps({
        "current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "lo",
        "current_instance_type": "ml.m5.large", "current_group_name": "homogeneousCluster",
        "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": "ml.m5.large",
                             "hosts": ["algo-1"]}]}))
    (cfg / "hyperparameters.json").write_text(json.dumps({k: str(v) for k, v in (hyperparameters or {}).items()}))
    (cfg / "inputdataconfig.json").write_text(json.dumps(
        {ch: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"} for ch in (data or {})}))
    for ch, files in (data or {}).items():
        d = ml / "input" / "data" / ch
        d.mkdir(parents=True)
        for name, content in files.items():
            (d / name).write_text(content)
    for d in ("model", "output", "output/data", "checkpoints", "code"):
        (ml / d).mkdir(parents=True, exist_ok=True)
    return ml


class ImageRun:
    """One run of an image: start() it, talk to it, cleanup() always."""

    def __init__(self, store: Store, image: str, ml: Path, env: dict[str, str] | None = None,
                 cmd: list[str] | None = None, entrypoint: list[str] | None = None):
        self.store = store
        self.image = image
        self.ml = ml
        cfg = store.config(image)
        self.entrypoint = list(entrypoint if entrypoint is not None else (cfg.get("Entrypoint") or []))
        self.cmd = list(cmd if cmd is not None else (cfg.get("Cmd") or []))
        self.workdir = cfg.get("WorkingDir") or "/"
        self.env = dict(kv.split("=", 1) for kv in (cfg.get("Env") or []))
        self.env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        self.env.update({"HOSTNAME": "algo-1", "HOME": "/root", "TRAINING_JOB_NAME": "porthole-image-test"})
        self.env.update(env or {})
        self.dir = private_dir("ph-imgrun-")
        self.out = self.dir / "stdout"
        self.err = self.dir / "stderr"
        self.cid = None
        self.rootfs: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.ready: dict | None = None

    @property
    def argv(self) -> list[str]:
        return self.entrypoint + self.cmd

    def start(self) -> "ImageRun":
        self.cid, self.rootfs = self.store.rootfs(self.image)
        argv = [UNSHARE, "--pid", "--fork", "--mount", "--kill-child", "--",
                "/usr/bin/python3", str(HERE / "chroot_exec.py"), str(self.rootfs), str(self.ml), self.workdir,
                "--", *self.argv]
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.proc = subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                                         start_new_session=True)
        return self

    # -- output
    @property
    def stdout(self) -> str:
        return self.out.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def describe(self) -> str:
        return f"argv {self.argv}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"

    def wait_ready(self, timeout: float = TIMEOUT) -> dict:
        def check():
            r = ready_record_in(self.stderr)
            if r is not None:
                return r
            if self.proc.poll() is not None:
                raise AssertionError(f"exited ({self.proc.returncode}) before the ready record\n{self.describe()}")
            return None

        try:
            self.ready = wait_for(check, timeout, "porthole's ready record")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.describe()}") from None
        return self.ready

    def wait(self, timeout: float = TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {timeout:.0f}s\n{self.describe()}") from None

    def pid1(self) -> int | None:
        """PID 1 of the namespace, as the host sees it (unshare's child)."""
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                kids = f.read().split()
        except OSError:
            return None
        return int(kids[0]) if kids else None

    # -- ssh
    def ssh_setup(self, key: Path) -> None:
        r = self.ready or self.wait_ready()
        assert r.get("port"), f"no SSH port in the ready record: {r}"
        self.port = int(r["port"])
        self.key = key
        self.known_hosts = self.dir / "known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {r['host_key']}\n")

    def ssh_opts(self) -> list[str]:
        return ["-F", "/dev/null", "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-i", str(self.key)]

    def ssh(self, *cmd: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
        return subprocess.run([SSH, *self.ssh_opts(), "-p", str(self.port), "root@127.0.0.1", *cmd],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)

    def sftp(self, batch: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
        return subprocess.run([SFTP, *self.ssh_opts(), "-P", str(self.port), "-b", "-", "root@127.0.0.1"],
                              input=batch, capture_output=True, text=True, timeout=timeout)

    # -- cleanup
    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            kill_namespace_run(self.proc, self.pid1(), wait=30)
        if self.cid:
            self.store.drop_rootfs(self.cid)
            self.cid = None
        shutil.rmtree(self.dir, ignore_errors=True)


def make_key(path: Path) -> Path:
    subprocess.run([KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "porthole-image-test", "-f", str(path)], check=True)
    return path


def pub(key: Path) -> str:
    return Path(str(key) + ".pub").read_text().strip()
