# SPDX-License-Identifier: Apache-2.0
"""Run a porthole binary as PID 1 inside a root filesystem, as a container
runtime would run it in someone else's image, and log in with the host's
real OpenSSH client.

    tar = root_tarball("bullseye")                  # tests/images/rootfs.sh, cached
    run = RootRun(tar, "/path/to/porthole", ["run", "--", "sleep", "600"], env,
                  workdir=tmp, bed=bed, node=bed.host("algo-1"),
                  files={"etc/hosts": "...", "etc/resolv.conf": "...", **ml_files("algo-1", ["algo-1"])})
    try:
        run.start()
        rec = run.wait_ready()
        ssh = SshClient(run.node.ip, rec, key, tmp)
        ssh.run("uname", "-a")
    finally:
        run.cleanup()

How it runs: the tarball is unpacked into workdir/root, the binary copied
to /usr/local/bin/porthole, then `files` written (paths relative to the
root; str, bytes, or a Path to copy).  With bed and node it runs in that
network namespace (bed.spawn: `ip netns exec`, its own mount and UTS
namespaces, hostname = node name), else in the host's network namespace
(loopback) under `unshare --mount --uts`.  In that private mount namespace a
shell gives the root a /dev (tmpfs with null, zero, full, random, urandom,
tty bound in, a new devpts instance for PTYs, /dev/shm), a tmpfs /run and a
read-only sysfs, then execs

    unshare --pid --fork --kill-child --mount-proc=/proc --root=ROOT --wd=/ -- /usr/local/bin/porthole ARGS

(`--mount-proc` mounts after the chroot, so its path is the one inside the
root; `--mount-proc=ROOT/proc` fails).  porthole is PID 1 of the new PID
namespace; killing it ends every process of the container.  Nothing is
mounted in the host's mount namespace, so the mounts go with the last
process.

cleanup() (call it in a finally or a fixture finalizer) kills PID 1 and the
process group, waits, and removes workdir; a bed's teardown also ends
whatever is left in its namespaces.  Output goes to workdir/stdout and
workdir/stderr; the ready record is read from either.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
sys.path.insert(0, str(TESTS))

from proctools import kill_namespace_run  # noqa: E402
from readyrecord import ready_record_in  # noqa: E402

UNSHARE = shutil.which("unshare", path="/usr/bin:/bin") or "/usr/bin/unshare"
SSH = shutil.which("ssh", path="/usr/bin:/bin") or "/usr/bin/ssh"
SFTP = shutil.which("sftp", path="/usr/bin:/bin") or "/usr/bin/sftp"
ROOTFS_SH = TESTS / "images" / "rootfs.sh"
PORTHOLE_IN_ROOT = "/usr/local/bin/porthole"
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TIMINGS: dict[str, float] = {}
_TARBALLS: dict[tuple, Path | RuntimeError] = {}

# $1 root, $2 hostname, then the command to run as PID 1 inside the root.
SETUP = r'''
set -e
R=$1; hostname "$2"; shift 2
mount -t tmpfs -o mode=0755,nosuid tmpfs "$R/dev"
for f in null zero full random urandom tty; do : > "$R/dev/$f"; mount --bind "/dev/$f" "$R/dev/$f"; done
mkdir "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
ln -s pts/ptmx "$R/dev/ptmx"; ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$R/run"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
exec unshare --pid --fork --kill-child --mount-proc=/proc --root="$R" --wd=/ -- "$@"
'''


def root_tarball(suite: str, packages: tuple[str, ...] = ()) -> Path:
    """rootfs.sh's cached tarball of SUITE (+ packages); built the first time (a
    minute or more).  A failure is remembered: it is not tried again per test."""
    key = (suite, tuple(packages))
    if key not in _TARBALLS:
        t0 = time.monotonic()
        r = subprocess.run(["/bin/sh", str(ROOTFS_SH), suite, *packages], capture_output=True, text=True,
                           timeout=3600, stdin=subprocess.DEVNULL)
        TIMINGS[f"rootfs.sh {' '.join(key[:1] + key[1])}"] = time.monotonic() - t0
        if r.returncode != 0:
            _TARBALLS[key] = RuntimeError(f"tests/images/rootfs.sh {suite} {' '.join(packages)} failed "
                                          f"({r.returncode}):\n{r.stderr}")
        else:
            _TARBALLS[key] = Path(r.stdout.strip().splitlines()[-1])
    got = _TARBALLS[key]
    if isinstance(got, RuntimeError):
        raise got
    return got


def ml_files(host: str, hosts: list[str], interface: str = "eth0") -> dict[str, str]:
    """A SageMaker /opt/ml/input/config for host of a job of hosts (files= entries)."""
    rc = {"current_host": host, "hosts": list(hosts), "network_interface_name": interface,
          "current_instance_type": "ml.m5.large", "current_group_name": "homogeneousCluster",
          "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": "ml.m5.large",
                               "hosts": list(hosts)}]}
    cfg = "opt/ml/input/config"
    return {f"{cfg}/resourceconfig.json": json.dumps(rc), f"{cfg}/hyperparameters.json": "{}",
            f"{cfg}/inputdataconfig.json": "{}", "opt/ml/output/.keep": "", "opt/ml/model/.keep": ""}


def hosts_file(entries: dict[str, str]) -> str:
    """/etc/hosts text: localhost, then name -> address."""
    return "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n" + "".join(
        f"{addr} {name}\n" for name, addr in entries.items())


class RootRun:
    """One porthole as PID 1 of one root: prepare() and start(), cleanup() always."""

    def __init__(self, tarball: Path, binary: str | None, args: list[str], env: dict[str, str], workdir: Path,
                 bed=None, node=None, hostname: str | None = None, files: dict | None = None,
                 exe: str = PORTHOLE_IN_ROOT, trace: Path | None = None):
        """binary: copied to /usr/local/bin/porthole (None: nothing copied);
        exe ARGS is what runs as PID 1 (the root's own /bin/sh, say, to test the bed).
        trace: the host's strace records every open and exec of the run there
        (seccomp-filtered, so only those syscalls stop)."""
        assert (bed is None) == (node is None), "a bed and its node, or neither"
        self.exe = exe
        self.tarball = Path(tarball)
        self.binary = binary
        self.args = list(args)
        self.env = {"PATH": CONTAINER_PATH, "HOME": "/root", **env}
        self.workdir = Path(workdir)
        self.bed = bed
        self.node = node
        self.hostname = hostname or (node.name if node else "algo-1")
        self.files = dict(files or {})
        self.root = self.workdir / "root"
        self.out_path = self.workdir / "stdout"
        self.err_path = self.workdir / "stderr"
        self.proc: subprocess.Popen | None = None
        self.ready: dict | None = None
        self.trace = trace

    # -- the root
    def prepare(self) -> "RootRun":
        self.root.mkdir(parents=True)
        subprocess.run(["tar", "-C", str(self.root), "--numeric-owner", "-xf", str(self.tarball)],
                       check=True, timeout=600, stdin=subprocess.DEVNULL)
        if self.binary:
            self.put(PORTHOLE_IN_ROOT, Path(self.binary), mode=0o755)
        for rel, content in self.files.items():
            self.put(rel, content)
        return self

    def path(self, rel: str) -> Path:
        """A path inside the root, as the host sees it."""
        return self.root / rel.lstrip("/")

    def put(self, rel: str, content, mode: int = 0o644) -> Path:
        p = self.path(rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.is_symlink():  # e.g. /etc/resolv.conf; never write through a link out of the root
            p.unlink()
        if isinstance(content, Path):
            shutil.copyfile(content, p)
        else:
            p.write_bytes(content if isinstance(content, bytes) else content.encode())
        p.chmod(mode)
        return p

    # -- the process
    def argv(self) -> list[str]:
        run = ["/bin/sh", "-c", SETUP, "rootrun", str(self.root), self.hostname, self.exe, *self.args]
        if self.trace is None:
            return run
        return ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=open,openat,openat2,execve,execveat,clone,clone3,fork,vfork",
                "-o", str(self.trace), "--", *run]

    def start(self) -> "RootRun":
        assert self.proc is None, "started twice"
        if not self.root.exists():
            self.prepare()
        if self.bed is not None:
            self.proc = self.bed.spawn(self.node, self.argv(), env=self.env, stdout=self.out_path,
                                       stderr=self.err_path)
        else:
            with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
                self.proc = subprocess.Popen([UNSHARE, "--mount", "--uts", "--propagation", "private", "--",
                                              *self.argv()], env=self.env, stdin=subprocess.DEVNULL,
                                             stdout=out, stderr=err, start_new_session=True)
        return self

    def pid1(self) -> int | None:
        """PID 1 of the container as the host sees it: the child of the inner
        unshare (ip netns exec, unshare --mount and sh all exec, so that is
        the started process)."""
        if self.proc is None:
            return None
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                kids = f.read().split()
        except OSError:
            return None
        return int(kids[0]) if kids else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- output
    @property
    def stdout(self) -> str:
        try:
            return self.out_path.read_text(errors="replace")
        except OSError:
            return ""

    @property
    def stderr(self) -> str:
        try:
            return self.err_path.read_text(errors="replace")
        except OSError:
            return ""

    def describe(self) -> str:
        where = f"netns {self.node.ns}" if self.node else "host network"
        return (f"{self.exe} {' '.join(self.args)} as PID 1 in {self.tarball.name} ({where})\n"
                f"--- stdout:\n{self.stdout}\n--- stderr:\n{self.stderr}")

    def ready_record(self) -> dict | None:
        """The ready record, from stdout or stderr (issue 15 may move it)."""
        return ready_record_in(self.stdout) or ready_record_in(self.stderr)

    def wait_ready(self, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while (r := self.ready_record()) is None:
            # Read again once it has exited: it may have printed the record and exited in between.
            if not self.alive() and (r := self.ready_record()) is None:
                raise AssertionError(f"exited ({self.proc.returncode}) before the ready record\n{self.describe()}")
            if time.monotonic() >= deadline:
                raise AssertionError(f"no ready record after {timeout:.0f}s\n{self.describe()}")
            time.sleep(0.05)
        self.ready = r
        return r

    def wait_exit(self, timeout: float = 120.0) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {timeout:.0f}s\n{self.describe()}") from None

    # -- cleanup
    def stop(self) -> None:
        if self.proc is None:
            return
        kill_namespace_run(self.proc, self.pid1() if self.proc.poll() is None else None, wait=60)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


class SshClient:
    """The host's OpenSSH client for one porthole, pinned to the host key of
    its ready record (known_hosts under a HostKeyAlias, StrictHostKeyChecking)."""

    def __init__(self, addr: str, ready: dict, key: Path, tmp: Path, alias: str = "porthole-under-test"):
        assert ready.get("port") and ready.get("host_key"), f"no SSH endpoint in the ready record: {ready}"
        self.addr = addr
        self.port = int(ready["port"])
        self.key = key
        self.alias = alias
        self.known_hosts = Path(tmp) / f"known_hosts.{alias}"
        self.known_hosts.write_text(f"{alias} {ready['host_key']}\n")
        self.env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "LANG": "C.UTF-8"}

    def opts(self, extra=()) -> list[str]:
        # ssh keeps the first value of an option: extra goes first, so it can override.
        return [*extra, "-F", "/dev/null", "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", f"HostKeyAlias={self.alias}", "-o", "StrictHostKeyChecking=yes",
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30",
                "-o", "ServerAliveInterval=15", "-i", str(self.key)]

    def argv(self, *cmd: str, extra=()) -> list[str]:
        return [SSH, *self.opts(extra), "-p", str(self.port), f"root@{self.addr}", *cmd]

    def run(self, *cmd: str, extra=(), input: bytes | None = None, timeout: float = 120.0):
        return subprocess.run(self.argv(*cmd, extra=extra), input=input, capture_output=True, env=self.env,
                              timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)

    def popen(self, *cmd: str, extra=(), **kw) -> subprocess.Popen:
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen(self.argv(*cmd, extra=extra), env=self.env, start_new_session=True, **kw)

    def sftp(self, batch: str, timeout: float = 600.0):
        return subprocess.run([SFTP, *self.opts(), "-P", str(self.port), "-b", "-", f"root@{self.addr}"],
                              input=batch.encode(), capture_output=True, env=self.env, timeout=timeout)
