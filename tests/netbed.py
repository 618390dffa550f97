# SPDX-License-Identifier: Apache-2.0
"""A multi-host SageMaker-like test bed in Linux network namespaces.

One Linux bridge in the root namespace holds an address on a free private
/24; each host (`algo-1` .. `algo-N`, plus an `outsider` that is not part of
any job) is a network namespace joined to the bridge by a veth pair whose
inner end is called `eth0`, with `lo` up and its own `/etc/hosts`
(`/etc/netns/<ns>/hosts`, which `ip netns exec` bind-mounts over /etc/hosts)
naming algo-1..N.  The AWS stand-in (tests/awsstandin) runs in the root
namespace and listens on the bridge address, so every host reaches it.

A process "in a host" runs as

    ip netns exec NS unshare --mount --uts --propagation private -- \
        sh -c 'hostname algo-N; mount --bind HOME /root; exec CMD'

so it sees that host's name, network and home (OpenSSH and porthole take
root's home from passwd, /root, so each host needs a private /root).

Each porthole run of a host in a job (`HostRun`) gets fresh directories: a
fake ML root (input/config/resourceconfig.json naming current_host, the
job's hosts and `eth0`; output/), a home, a control socket, a spool and an
empty conf file.  A second job in the same bed gets new ones.

    with NetBed(hosts=3, outsider=True) as bed:
        runs = bed.start_job("job-x", ["run", "--", "sleep", "600"],
                             env={"PORTHOLE_CLUSTER_SSH": "1"})
        for r in runs.values():
            r.wait_ready()
        bed.exec(bed.host("algo-1"), ["ssh", "algo-2", "true"], home=runs["algo-1"].home)

Teardown (`close()`, also from __exit__) ends every process of every host
namespace (`ip netns pids`), every process group it started, then deletes the
namespaces, /etc/netns/<ns>, the veths, the bridge and the temporary tree,
even after a failure or Ctrl-C (SIGTERM and SIGHUP are turned into
SystemExit while a bed is open).  Names carry a random per-bed prefix, so
beds of parallel runs do not collide; a bed records itself under
/run/porthole-netbed/, and a later bed removes the leftovers of one whose
owner process died without cleaning up (SIGKILL): the processes inside its
namespaces (never recorded pids, which may have been reused), its namespaces,
links, /etc/netns dirs and temporary tree.

Needs root, iproute2 (`ip`), util-linux (`unshare`, `mount`, `hostname`).
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from awsstandin.client import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, StandinProcess  # noqa: E402
from readyrecord import ready_record_in  # noqa: E402

IP = shutil.which("ip", path="/usr/sbin:/usr/bin:/sbin:/bin") or "/usr/sbin/ip"
UNSHARE = shutil.which("unshare", path="/usr/bin:/bin") or "/usr/bin/unshare"
REGISTRY = Path("/run/porthole-netbed")
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
BASE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


class NetBedError(RuntimeError):
    pass


def available() -> str | None:
    """None when a bed can be built here, else why not (for pytest.skip)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in (IP, UNSHARE):
        if not os.access(tool, os.X_OK):
            return f"{tool} is missing"
    return None


def _run(argv, check=True, timeout=30, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw)
    if check and r.returncode != 0:
        raise NetBedError(f"{' '.join(map(str, argv))} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def _ip(*args, check=True):
    return _run([IP, *args], check=check)


def _ip_json(*args):
    r = _ip("-j", *args, check=False)
    try:
        return json.loads(r.stdout or "[]")
    except ValueError:
        return []


def _proc_start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[19]


def _kill_pids(pids, sig=signal.SIGKILL):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def _ns_pids(ns: str) -> list[int]:
    r = _ip("netns", "pids", ns, check=False)
    return [int(x) for x in r.stdout.split() if x.isdigit() and int(x) != os.getpid()]


def _used_networks() -> list[ipaddress.IPv4Network]:
    nets = []
    for r in _ip_json("-4", "route", "show", "table", "all"):
        dst = r.get("dst", "")
        if dst in ("default", ""):
            continue
        try:
            nets.append(ipaddress.ip_network(dst if "/" in dst else dst + "/32", strict=False))
        except ValueError:
            pass
    for link in _ip_json("-4", "addr"):
        for a in link.get("addr_info", []):
            try:
                nets.append(ipaddress.ip_network(f"{a['local']}/{a.get('prefixlen', 32)}", strict=False))
            except (KeyError, ValueError):
                pass
    return nets


def _free_subnet(rng: random.Random) -> ipaddress.IPv4Network:
    used = _used_networks()
    for _ in range(200):
        cand = ipaddress.ip_network(f"10.{rng.randint(16, 250)}.{rng.randint(0, 255)}.0/24")
        if not any(cand.overlaps(u) for u in used):
            return cand
    raise NetBedError("no free 10.x.y.0/24 found")


# ---- leftovers of dead beds ---------------------------------------------------


def _remove_resources(prefix: str, namespaces, links, netns_dirs) -> None:
    for ns in namespaces:
        for _ in range(50):
            pids = _ns_pids(ns)
            if not pids:
                break
            _kill_pids(pids)
            time.sleep(0.05)
        _ip("netns", "del", ns, check=False)
    for d in netns_dirs:
        shutil.rmtree(d, ignore_errors=True)
    for link in links:
        _ip("link", "del", link, check=False)
    # Anything else carrying the prefix (a crash between creating and recording it).
    for ns in leftovers(prefix)["namespaces"]:
        _ip("netns", "del", ns, check=False)
    for link in leftovers(prefix)["links"]:
        _ip("link", "del", link, check=False)
    for d in Path("/etc/netns").glob(f"{prefix}-*") if Path("/etc/netns").is_dir() else []:
        shutil.rmtree(d, ignore_errors=True)


def leftovers(prefix: str) -> dict[str, list[str]]:
    """Namespaces, links, /etc/netns dirs and registry entries named with prefix."""
    nss = [l.split()[0] for l in _ip("netns", "list", check=False).stdout.splitlines()
           if l.split() and l.split()[0].startswith(prefix)]
    links = [l["ifname"] for l in _ip_json("link") if l.get("ifname", "").startswith(prefix)]
    dirs = [str(p) for p in Path("/etc/netns").glob(f"{prefix}*")] if Path("/etc/netns").is_dir() else []
    reg = [str(p) for p in REGISTRY.glob(f"{prefix}*")] if REGISTRY.is_dir() else []
    return {"namespaces": nss, "links": links, "netns_dirs": dirs, "registry": reg}


def sweep_dead_beds() -> list[str]:
    """Remove the resources of beds whose owner process is gone; their prefixes."""
    swept = []
    if not REGISTRY.is_dir():
        return swept
    for entry in REGISTRY.glob("*.json"):
        try:
            doc = json.loads(entry.read_text())
        except (OSError, ValueError):
            continue
        if _proc_start_time(doc.get("owner_pid", 0)) == doc.get("owner_start"):
            continue  # its owner still runs: not ours to touch
        # Only what is inside its namespaces: recorded pids may have been reused since.
        _remove_resources(doc["prefix"], doc.get("namespaces", []), doc.get("links", []), doc.get("netns_dirs", []))
        if doc.get("tmp"):
            shutil.rmtree(doc["tmp"], ignore_errors=True)
        entry.unlink(missing_ok=True)
        swept.append(doc["prefix"])
    return swept


# ---- the bed -------------------------------------------------------------------


class Node:
    """One network namespace of the bed: a job host (algo-N) or the outsider."""

    def __init__(self, bed: "NetBed", name: str, ns: str, ip: str, veth: str):
        self.bed = bed
        self.name = name
        self.ns = ns
        self.ip = ip
        self.veth = veth

    def __repr__(self):
        return f"<Node {self.name} {self.ns} {self.ip}>"


class HostRun:
    """A porthole (or any command) of one node in one job, with its own dirs."""

    def __init__(self, bed: "NetBed", node: Node, job: str, hosts: list[str], root: Path):
        self.bed = bed
        self.node = node
        self.job = job
        self.hosts = hosts
        self.root = root
        self.ml_root = root / "ml"
        self.config_dir = self.ml_root / "input" / "config"
        self.config_dir.mkdir(parents=True)
        (self.ml_root / "output").mkdir()
        self.home = root / "home"
        self.home.mkdir(mode=0o700)
        self.sock = root / "ctl" / "control.sock"
        self.spool = root / "spool"
        self.conf = root / "porthole.conf"
        self.conf.write_text("")
        self.bindir = root / "bin"
        self.bindir.mkdir()
        os.symlink(bed.porthole, self.bindir / "porthole")
        self.resourceconfig = {"current_host": node.name, "current_instance_type": "ml.g5.xlarge",
                               "current_group_name": "homogeneousCluster", "hosts": list(hosts),
                               "network_interface_name": "eth0",
                               "instance_groups": [{"instance_group_name": "homogeneousCluster",
                                                    "instance_type": "ml.g5.xlarge", "hosts": list(hosts)}]}
        (self.config_dir / "resourceconfig.json").write_text(json.dumps(self.resourceconfig))
        self.stdout_path = root / "porthole.stdout"
        self.stderr_path = root / "porthole.stderr"
        self.gpus = 0  # > 0: porthole sees that many /dev/nvidiaN (set before start())
        # Its own access key, so the stand-in's request log tells which host made a call
        # (bed.requests_by_host()).
        self.credentials = bed.host_credentials(node.name)
        self.proc: subprocess.Popen | None = None
        self.start_time: float | None = None
        self.ready: dict | None = None

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def output(self) -> Path:
        return self.ml_root / "output"

    @property
    def hostfile(self) -> Path:
        return self.ml_root / "hostfile"

    def env(self, extra: dict | None = None) -> dict[str, str]:
        """porthole's environment on this host: the job, its dirs, the stand-in."""
        e = {
            "PATH": f"{self.bindir}:{BASE_PATH}",
            "HOME": "/root",
            "USER": "root",
            "LOGNAME": "root",
            "LANG": "C.UTF-8",
            "TRAINING_JOB_NAME": self.job,
            "PORTHOLE_ML_ROOT": str(self.ml_root),
            "PORTHOLE_CONTROL_SOCKET": str(self.sock),
            "PORTHOLE_SPOOL_DIR": str(self.spool),
            "PORTHOLE_CONFIG": str(self.conf),
            "PORTHOLE_CLOUDWATCH": "on",
            **self.bed.aws_env(**self.credentials),
            self.bed.tag_var: self.bed.tag,
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "ASAN_SYMBOLIZER_PATH"):
            if k in os.environ:
                e[k] = os.environ[k]
        for k, v in (extra or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = str(v)
        return e

    # -- porthole
    def start(self, args: list[str], env: dict | None = None) -> "HostRun":
        """Start `porthole ARGS` in this host (stdout/stderr to files)."""
        assert self.proc is None, f"{self.name} of {self.job} already started"
        self.start_time = time.monotonic()
        self.proc = self.bed.spawn(self.node, [self.bed.porthole, *args], home=self.home, env=self.env(env),
                                   stdout=self.stdout_path, stderr=self.stderr_path, cwd=self.root,
                                   gpus=self.gpus, devdir=self.root / "dev")
        return self

    @property
    def stdout(self) -> str:
        try:
            return self.stdout_path.read_text(errors="replace")
        except OSError:
            return ""

    @property
    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def describe(self) -> str:
        return f"--- {self.name} ({self.job}) stdout:\n{self.stdout}\n--- {self.name} stderr:\n{self.stderr}"

    def ready_record(self) -> dict | None:
        return ready_record_in(self.stderr)

    def wait_ready(self, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            r = self.ready_record()
            if r is not None:
                self.ready = r
                return r
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"porthole on {self.name} exited ({self.proc.returncode}) before it was "
                                     f"ready\n{self.describe()}")
            if time.monotonic() >= deadline:
                raise AssertionError(f"porthole on {self.name} not ready after {timeout:.0f}s\n{self.describe()}")
            time.sleep(0.05)

    def wait_exit(self, timeout: float = 60.0) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"porthole on {self.name} still running after {timeout:.0f}s\n"
                                 f"{self.describe()}") from None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGKILL, timeout: float = 30.0) -> None:
        """End this run's process group (porthole, its command, its sessions)."""
        if self.proc is None or self.proc.poll() is not None:
            return  # (what it left behind in the namespace: NetBed.stop_runs)
        try:
            os.killpg(self.proc.pid, sig)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    # -- the CLI against this porthole (control socket; works from any namespace)
    def cli(self, *args: str, timeout: float = 60.0, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([self.bed.porthole, *args], env=self.env(env), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout)

    def status(self) -> dict:
        r = self.cli("status", "--json")
        assert r.returncode == 0, f"porthole status on {self.name} failed ({r.returncode}): {r.stderr}"
        return json.loads(r.stdout)

    # -- commands in this host, as the training command would run them
    def exec(self, cmd: list[str], env: dict | None = None, timeout: float = 60.0,
             input: str | None = None) -> subprocess.CompletedProcess:
        return self.bed.exec(self.node, cmd, home=self.home, env=self.env(env), timeout=timeout, input=input)

    # -- CloudWatch, through the stand-in
    def events(self) -> list[dict]:
        """This host's porthole events from its `JOB/algo-N-EPOCH/ssm` stream(s), parsed."""
        out = []
        for stream in self.bed.streams(f"{self.job}/{self.name}-"):
            if not stream.endswith("/ssm"):
                continue
            for ev in self.bed.standin.control.events(LOG_GROUP, stream):
                try:
                    out.append(json.loads(ev["message"]))
                except (KeyError, ValueError):
                    pass
        return out


class NetBed:
    """N job hosts (+ an optional outsider) in network namespaces on one bridge,
    with the AWS stand-in on the bridge address.  A context manager."""

    tag_var = "PH_NETBED_TAG"

    def __init__(self, hosts: int = 3, outsider: bool = True, porthole: str | None = None,
                 prefix: str | None = None, standin: bool = True, log_group: str | None = LOG_GROUP,
                 standin_tls=None):
        """standin_tls: a function of the bridge address returning TLS material
        (awsstandin.tlsca.make_test_ca's): the stand-in then serves HTTPS."""
        if hosts < 1 or hosts > 200:
            raise ValueError("1..200 hosts")
        self.n = hosts
        self.want_outsider = outsider
        self.porthole = porthole or os.environ.get("PORTHOLE_BIN") or str(HERE.parent / "build" / "std" / "porthole")
        # Short: interface names are at most 15 bytes (prefix + "br" / "v16" / "vo").
        self.prefix = prefix or f"nb{secrets.token_hex(3)}"
        if len(self.prefix) > 10:
            raise ValueError("prefix longer than 10 characters")
        self.tag = secrets.token_hex(8)
        self.want_standin = standin
        self.standin_tls = standin_tls
        self.log_group = log_group
        self.tmp: Path | None = None
        self.subnet: ipaddress.IPv4Network | None = None
        self.bridge = f"{self.prefix}br"
        self.bridge_ip: str | None = None
        self.nodes: list[Node] = []
        self.outsider: Node | None = None
        self.standin: StandinProcess | None = None
        self._namespaces: list[str] = []
        self._links: list[str] = []
        self._netns_dirs: list[str] = []
        self._procs: list[subprocess.Popen] = []
        self._runs: list[HostRun] = []
        self._registry = REGISTRY / f"{self.prefix}.json"
        self._old_handlers: dict = {}
        self._creds: dict[str, str] = {}
        self._closed = False
        self._n_job = 0

    # -- context manager
    def __enter__(self) -> "NetBed":
        self._trap_signals()
        try:
            self.setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _trap_signals(self):
        if threading.current_thread() is not threading.main_thread():
            return

        def to_exit(signum, frame):
            raise SystemExit(128 + signum)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                self._old_handlers[sig] = signal.signal(sig, to_exit)

    def _restore_signals(self):
        for sig, h in self._old_handlers.items():
            try:
                signal.signal(sig, h)
            except (ValueError, TypeError):
                pass
        self._old_handlers = {}

    def _record(self):
        REGISTRY.mkdir(parents=True, exist_ok=True)
        doc = {"prefix": self.prefix, "owner_pid": os.getpid(), "owner_start": _proc_start_time(os.getpid()),
               "namespaces": self._namespaces, "links": self._links, "netns_dirs": self._netns_dirs,
               "tmp": str(self.tmp) if self.tmp else None}
        tmp = self._registry.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self._registry)

    # -- building
    def setup(self):
        why = available()
        if why:
            raise NetBedError(why)
        sweep_dead_beds()
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-", dir="/tmp"))
        self._record()
        rng = random.Random(secrets.randbits(64))
        self.subnet = _free_subnet(rng)
        base = self.subnet.network_address
        self.bridge_ip = str(base + 1)
        _ip("link", "add", self.bridge, "type", "bridge")
        self._links.append(self.bridge)
        self._record()
        _ip("addr", "add", f"{self.bridge_ip}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        # Another bed of a parallel run may have taken the same /24 between the check and now.
        clash = [l["ifname"] for l in _ip_json("-4", "addr")
                 for a in l.get("addr_info", [])
                 if l.get("ifname") != self.bridge and a.get("local")
                 and ipaddress.ip_address(a["local"]) in self.subnet]
        if clash:
            raise NetBedError(f"subnet {self.subnet} also on {clash}; try again")

        names = [f"algo-{i}" for i in range(1, self.n + 1)]
        specs = [(n, str(base + 10 + i), f"{self.prefix}v{i}") for i, n in enumerate(names, 1)]
        if self.want_outsider:
            specs.append(("outsider", str(base + 200), f"{self.prefix}vo"))
        hosts_lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
        hosts_lines += [f"{ip} {n}" for n, ip, _ in specs if n != "outsider"]
        hosts_text = "\n".join(hosts_lines) + "\n"
        for name, ip, veth in specs:
            ns = f"{self.prefix}-{name}"
            _ip("netns", "add", ns)
            self._namespaces.append(ns)
            self._record()
            _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
            self._links.append(veth)
            self._record()
            _ip("link", "set", veth, "master", self.bridge, "up")
            _ip("-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "route", "add", "default", "via", self.bridge_ip)
            d = Path("/etc/netns") / ns
            d.mkdir(parents=True, exist_ok=True)
            self._netns_dirs.append(str(d))
            self._record()
            own = f"127.0.1.1 {name}\n" if name == "outsider" else ""
            (d / "hosts").write_text(hosts_text + own)
            node = Node(self, name, ns, ip, veth)
            if name == "outsider":
                self.outsider = node
            else:
                self.nodes.append(node)
        if self.want_standin:
            tls = self.standin_tls(self.bridge_ip) if self.standin_tls else None
            self.standin = StandinProcess(host=self.bridge_ip, state_dir=str(self.tmp / "standin"), tls=tls)
            self.standin.start()
            if self.log_group:
                self.standin.control.create_group(self.log_group)
        self.wait_links_up()
        return self

    def wait_links_up(self, timeout: float = 30.0):
        """Every host can open a TCP connection to the stand-in (bridge ports forwarding)."""
        if not self.standin:
            return
        probe = ("import socket,sys\ns=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)\n")
        for node in self.nodes + ([self.outsider] if self.outsider else []):
            deadline = time.monotonic() + timeout
            while True:
                r = _run([IP, "netns", "exec", node.ns, "/usr/bin/python3", "-c", probe, self.bridge_ip,
                          str(self.standin.port)], check=False)
                if r.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise NetBedError(f"{node.name} cannot reach the stand-in at {self.standin.url}: {r.stderr}")
                time.sleep(0.1)

    # -- lookups
    def host(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        if name == "outsider" and self.outsider:
            return self.outsider
        raise KeyError(name)

    @property
    def runs(self) -> list[HostRun]:
        """Every HostRun of every job so far, in order."""
        return list(self._runs)

    @property
    def host_names(self) -> list[str]:
        return [n.name for n in self.nodes]

    def aws_env(self, **extra) -> dict[str, str]:
        """AWS settings pointing at the stand-in (for porthole on a host, or the CLI in the root ns)."""
        e = {
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
            "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        }
        if self.standin:
            e["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] = self.standin.url
        e.update(extra)
        return {k: v for k, v in e.items() if v is not None}

    def host_credentials(self, name: str) -> dict[str, str]:
        """AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of host `name`, registered with the stand-in."""
        if not self.standin:
            return {}
        n = 0 if name == "outsider" else int(name.split("-")[1])
        ak = f"AKIANETBED{n:010d}"
        sk = f"netbed/{name}/secret/{self.prefix}"
        if ak not in self._creds:
            self.standin.control.add_credentials(ak, sk)
            self._creds[ak] = name
        return {"AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk}

    def requests_by_host(self, since: int = 0, operation: str | None = None) -> dict[str, list[dict]]:
        """The stand-in's request log since SEQ, by the host that made each call ("other": not a host's key)."""
        out: dict[str, list[dict]] = {}
        for q in self.standin.control.requests(since=since, operation=operation)["requests"]:
            out.setdefault(self._creds.get(q.get("access_key"), "other"), []).append(q)
        return out

    def streams(self, prefix: str = "") -> list[str]:
        doc = self.standin.control.call("GET", "logs")
        out = []
        groups = doc.get("groups", doc)
        if isinstance(groups, dict):
            g = groups.get(LOG_GROUP, {})
            streams = g.get("streams", g) if isinstance(g, dict) else g
        else:
            streams = next((x.get("streams", []) for x in groups if x.get("name") == LOG_GROUP), [])
        for s in streams:
            name = s if isinstance(s, str) else s.get("name") or s.get("logStreamName")
            if name and name.startswith(prefix):
                out.append(name)
        return sorted(out)

    # -- processes
    # A private /dev with the real device nodes bound in, plus GPUS fake /dev/nvidiaN
    # (how porthole counts GPUs), for hosts that play a GPU instance.
    _FAKE_DEV = r'''
d=$3; mount -t tmpfs -o mode=755 none "$d" || exit 97
for f in null zero full random urandom tty; do [ -e /dev/$f ] && touch "$d/$f" && mount --bind /dev/$f "$d/$f"; done
for x in pts shm mqueue; do [ -d /dev/$x ] && mkdir "$d/$x" && mount --rbind /dev/$x "$d/$x"; done
ln -s pts/ptmx "$d/ptmx"; ln -s /proc/self/fd "$d/fd"
ln -s /proc/self/fd/0 "$d/stdin"; ln -s /proc/self/fd/1 "$d/stdout"; ln -s /proc/self/fd/2 "$d/stderr"
i=0; while [ "$i" -lt "$2" ]; do touch "$d/nvidia$i"; i=$((i + 1)); done; touch "$d/nvidiactl"
mount --move "$d" /dev || exit 97
'''

    def argv(self, node: Node, cmd: list[str], home: Path | None = None, gpus: int = 0,
             devdir: Path | None = None) -> list[str]:
        """CMD in node: its network namespace, its own mount and UTS namespaces, its hostname, HOME on /root
        (and with gpus > 0, a private /dev with that many /dev/nvidiaN, mounted on the empty dir devdir first)."""
        script = 'hostname "$0" || exit 97; '
        if home is not None:
            script += 'mount --bind "$1" /root || exit 97; '
            script += '[ ! -d /etc/porthole ] || mount -t tmpfs none /etc/porthole || exit 97; '
        if gpus:
            assert devdir is not None, "gpus need a devdir"
            devdir.mkdir(parents=True, exist_ok=True)
            script += self._FAKE_DEV
        script += 'shift 3; exec "$@"'
        return [IP, "netns", "exec", node.ns, UNSHARE, "--mount", "--uts", "--propagation", "private", "--",
                "/bin/sh", "-c", script, node.name, str(home) if home else "", str(int(gpus)),
                str(devdir) if devdir else "", *cmd]

    def spawn(self, node: Node, cmd: list[str], home: Path | None = None, env: dict | None = None,
              stdout=None, stderr=None, cwd=None, stdin=subprocess.DEVNULL, gpus: int = 0,
              devdir: Path | None = None) -> subprocess.Popen:
        """Start CMD in node, in a new session (its process group is killed at teardown)."""
        assert not self._closed, "bed closed"
        env = dict(env or {"PATH": BASE_PATH, "HOME": "/root"})
        env.setdefault(self.tag_var, self.tag)
        out = open(stdout, "wb") if isinstance(stdout, (str, Path)) else stdout
        err = open(stderr, "wb") if isinstance(stderr, (str, Path)) else stderr
        try:
            p = subprocess.Popen(self.argv(node, cmd, home, gpus, devdir), env=env, stdin=stdin, stdout=out, stderr=err,
                                 cwd=str(cwd) if cwd else None, start_new_session=True)
        finally:
            if out is not stdout:
                out.close()
            if err is not stderr:
                err.close()
        self._procs.append(p)
        return p

    def exec(self, node: Node, cmd: list[str], home: Path | None = None, env: dict | None = None,
             timeout: float = 60.0, input: str | None = None) -> subprocess.CompletedProcess:
        """Run CMD in node to completion; stdout/stderr captured (text)."""
        p = self.spawn(node, cmd, home=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
        try:
            out, err = p.communicate(input=input.encode() if input is not None else None, timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            out, err = p.communicate()
            raise AssertionError(f"{' '.join(cmd)} in {node.name} still running after {timeout:.0f}s; "
                                 f"stdout: {out.decode(errors='replace')} stderr: {err.decode(errors='replace')}")
        return subprocess.CompletedProcess(cmd, p.returncode, out.decode(errors="replace"),
                                           err.decode(errors="replace"))

    def new_runs(self, job: str | None = None, hosts: list[str] | None = None,
                 nodes: list[str] | None = None) -> dict[str, HostRun]:
        """Fresh HostRuns (dirs, resourceconfig) for a job: `hosts` is the job's host list
        (default: every algo-N of the bed), `nodes` which of them get a HostRun (default: all)."""
        self._n_job += 1
        job = job or f"job-{self.prefix}-{self._n_job}"
        hosts = list(hosts or self.host_names)
        runs = {}
        for name in (nodes or hosts):
            d = self.tmp / "jobs" / f"{self._n_job}-{job}" / name
            d.mkdir(parents=True)
            r = HostRun(self, self.host(name), job, hosts, d)
            runs[name] = r
            self._runs.append(r)
        return runs

    def start_job(self, args, job: str | None = None, env: dict | None = None, hosts: list[str] | None = None,
                  nodes: list[str] | None = None, per_host=None) -> dict[str, HostRun]:
        """new_runs() and start porthole ARGS on each (per_host(run) -> (args, env) overrides)."""
        runs = self.new_runs(job, hosts, nodes)
        for r in runs.values():
            a, e = list(args), dict(env or {})
            if per_host:
                a2, e2 = per_host(r)
                a = a2 if a2 is not None else a
                e.update(e2 or {})
            r.start(a, e)
        return runs

    def stop_runs(self) -> None:
        """End every porthole started so far (the bed stays)."""
        for r in self._runs:
            if r.alive():
                r.stop()
        for node in self.nodes + ([self.outsider] if self.outsider else []):
            self._kill_ns(node.ns)

    def _kill_ns(self, ns: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            pids = _ns_pids(ns)
            if not pids or time.monotonic() > deadline:
                return
            _kill_pids(pids)
            time.sleep(0.05)

    # -- teardown
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            # 1. every process group started (while its leader is unreaped, so the id is still ours),
            # 2. whatever remains in the namespaces
            for p in self._procs:
                if p.poll() is None:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except OSError:
                        pass
            for ns in self._namespaces:
                self._kill_ns(ns)
            for p in self._procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
                for f in (p.stdout, p.stderr, p.stdin):
                    if f:
                        try:
                            f.close()
                        except OSError:
                            pass
            if self.standin:
                try:
                    self.standin.cleanup()
                except Exception:  # noqa: BLE001 - teardown goes on
                    pass
            _remove_resources(self.prefix, self._namespaces, list(reversed(self._links)), self._netns_dirs)
            if self.tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)
            self._registry.unlink(missing_ok=True)
        finally:
            self._restore_signals()

    def leftovers(self) -> dict[str, list[str]]:
        left = leftovers(self.prefix)
        if self.tmp and self.tmp.exists():
            left["tmp"] = [str(self.tmp)]
        live = [p.pid for p in self._procs if p.poll() is None]
        if live:
            left["process_groups"] = live
        return {k: v for k, v in left.items() if v}


def parse_known_hosts(text: str) -> dict[str, set[str]]:
    """known_hosts text -> {name or address: {"type base64", ...}} (plain, unhashed entries)."""
    out: dict[str, set[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if parts[0].startswith("@"):
            parts = parts[1:]
        if len(parts) < 3:
            continue
        for pat in parts[0].split(","):
            if pat.startswith("[") and "]:" in pat:
                pat = pat[1:pat.index("]:")] if pat.endswith("]:22") else pat
            out.setdefault(pat, set()).add(f"{parts[1]} {parts[2]}")
    return out


if __name__ == "__main__":
    # Manual use: build a bed, print it, keep it until Ctrl-C.  `--sweep` removes dead beds' leftovers.
    if sys.argv[1:2] == ["--sweep"]:
        print(json.dumps(sweep_dead_beds()))
        sys.exit(0)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with NetBed(hosts=n) as b:
        print(json.dumps({"prefix": b.prefix, "subnet": str(b.subnet), "bridge": b.bridge_ip,
                          "standin": b.standin.url if b.standin else None,
                          "hosts": {x.name: [x.ns, x.ip] for x in b.nodes + ([b.outsider] if b.outsider else [])}}),
              flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
