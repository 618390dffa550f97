# SPDX-License-Identifier: Apache-2.0
"""A private podman image store for the image tests and the image-size bench.

Everything goes through `podman --root DIR --runroot DIR --storage-driver vfs`
with DIR a fresh directory under /var/tmp, so nothing touches the machine's own
podman storage and `cleanup()` (unmount, remove, rm -rf) leaves nothing behind.
Builds use `--isolation chroot`: the only isolation that works on machines
without a container runtime that can start containers (podman run does not
work here).

The base image is the debootstrap bookworm tarball of tests/images/rootfs.sh,
imported with `podman import`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PODMAN = shutil.which("podman", path="/usr/bin:/bin") or "/usr/bin/podman"
BASE_TAG = "localhost/porthole-test-base:bookworm"
BUILD_TIMEOUT = float(os.environ.get("PORTHOLE_IMAGE_BUILD_TIMEOUT", "1800"))


class PodmanError(RuntimeError):
    pass


STORE_PARENT = Path("/var/tmp")
STORE_PREFIXES = ("ph-podman-", "ph-imgsize-", "ph-imgrun-")


def sweep_stale() -> None:
    """Remove stores and run directories left by a killed earlier run: each
    holds the pid of the process that made it (file `owner`), and a directory
    whose owner is gone is removed.  Directories without the file are left."""
    for d in STORE_PARENT.iterdir():
        if not d.name.startswith(STORE_PREFIXES) or not d.is_dir():
            continue
        try:
            pid = int((d / "owner").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(d, ignore_errors=True)


def private_dir(prefix: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix=prefix, dir=str(STORE_PARENT)))
    (d / "owner").write_text(f"{os.getpid()}\n")
    return d


class Store:
    def __init__(self, prefix: str = "ph-podman-"):
        sweep_stale()
        self.dir = private_dir(prefix)
        self.root = self.dir / "root"
        self.runroot = self.dir / "run"
        self.logs = self.dir / "logs"
        self.logs.mkdir()
        self.containers: list[str] = []
        self.timings: dict[str, float] = {}

    # -- podman
    def argv(self, *args: str) -> list[str]:
        # Every path podman would otherwise share with the machine (/run/libpod,
        # /run/containers/networks, /var/lib/containers) goes under self.dir.
        return [PODMAN, "--root", str(self.root), "--runroot", str(self.runroot),
                "--tmpdir", str(self.dir / "tmp"), "--network-config-dir", str(self.dir / "networks"),
                "--volumepath", str(self.dir / "volumes"), "--storage-driver", "vfs", "--events-backend", "none",
                *args]

    def podman(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise PodmanError(f"podman {' '.join(args)} failed ({r.returncode}):\n{r.stderr[-4000:]}")
        return r

    # -- images
    def import_base(self, tag: str = BASE_TAG) -> str:
        """rootfs.sh's tarball as an image (rootfs.sh builds it the first time)."""
        t0 = time.monotonic()
        r = subprocess.run(["/bin/sh", str(HERE / "rootfs.sh")], capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise PodmanError(f"tests/images/rootfs.sh failed ({r.returncode}):\n{r.stderr}")
        tarball = r.stdout.strip().splitlines()[-1]
        self.timings["rootfs.sh"] = time.monotonic() - t0
        t0 = time.monotonic()
        self.podman("import", "--change", 'CMD ["/bin/bash"]', tarball, tag, timeout=600)
        self.timings["podman import"] = time.monotonic() - t0
        return tag

    def build(self, tag: str, dockerfile: Path | None, context: Path, build_args: dict[str, str] | None = None,
              extra: list[str] = ()) -> str:
        """podman build; its output goes to logs/<name>.log, quoted on failure."""
        args = ["build", "--isolation", "chroot", "-t", tag]
        for k, v in (build_args or {}).items():
            args += ["--build-arg", f"{k}={v}"]
        if dockerfile is not None:
            args += ["-f", str(dockerfile)]
        args += [*extra, str(context)]
        log = self.logs / (tag.rsplit("/", 1)[-1].replace(":", "_") + ".log")
        t0 = time.monotonic()
        with open(log, "w") as f:
            r = subprocess.run(self.argv(*args), stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               timeout=BUILD_TIMEOUT)
        self.timings[f"build {tag}"] = time.monotonic() - t0
        if r.returncode != 0:
            raise PodmanError(f"podman build {tag} failed ({r.returncode}); last lines of {log}:\n"
                              + "".join(log.read_text(errors="replace").splitlines(True)[-40:]))
        return tag

    def build_log(self, tag: str) -> str:
        return (self.logs / (tag.rsplit("/", 1)[-1].replace(":", "_") + ".log")).read_text(errors="replace")

    def inspect(self, image: str) -> dict:
        return json.loads(self.podman("image", "inspect", image).stdout)[0]

    def config(self, image: str) -> dict:
        return self.inspect(image).get("Config") or {}

    def layers(self, image: str) -> list[dict]:
        """The image's non-empty layers, oldest first: {"created_by", "size"}.
        Sizes are `podman history`'s: the layer's uncompressed diff in bytes."""
        hist = list(reversed(json.loads(self.podman("history", "--format", "json", image).stdout)))
        meta = self.inspect(image).get("History") or []
        if len(meta) != len(hist):
            raise PodmanError(f"{image}: history and inspect disagree ({len(hist)} vs {len(meta)} entries)")
        return [{"created_by": m.get("created_by", ""), "size": int(h.get("size", 0))}
                for h, m in zip(hist, meta) if not m.get("empty_layer")]

    def layer_count(self, image: str) -> int:
        return len(self.inspect(image)["RootFS"]["Layers"])

    def rmi(self, image: str) -> None:
        self.podman("rmi", "-f", image, check=False)

    # -- a writable root filesystem of an image
    def rootfs(self, image: str) -> tuple[str, Path]:
        """`podman create` + `podman mount`: a disposable copy of the image's
        files to chroot into.  Returns (container id, path)."""
        cid = self.podman("create", "--entrypoint", "", image, "true").stdout.strip().splitlines()[-1]
        self.containers.append(cid)
        path = Path(self.podman("mount", cid).stdout.strip().splitlines()[-1])
        return cid, path

    def drop_rootfs(self, cid: str) -> None:
        self.podman("umount", "-f", cid, check=False)
        self.podman("rm", "-f", cid, check=False)
        if cid in self.containers:
            self.containers.remove(cid)

    def cleanup(self) -> None:
        for cid in list(self.containers):
            self.drop_rootfs(cid)
        if self.root.exists():
            self.podman("rmi", "-a", "-f", check=False, timeout=600)
        shutil.rmtree(self.dir, ignore_errors=True)
