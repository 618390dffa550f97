#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""SSH endpoint benchmark (figures, not a test): porthole's embedded server
against Debian's OpenSSH sshd and dropbear, all on loopback, each with its
own Ed25519 host key and the same Ed25519 client key, driven by the OpenSSH
client (ssh, sftp).

    PORTHOLE_BIN=build/std/porthole /usr/bin/python3 bench/ssh_bench.py
    BENCH_ONLY=ssh make bench          (the `ssh` section of bench/bench.py)

Figures, for each server:
  1. connect + auth + `true`, median of BENCH_SSH_RUNS (30) runs
  2. BENCH_SSH_MIB (512) MiB through `ssh h cat FILE > /dev/null`, best of 3
  3. the same file with `sftp -b` (get to a temp file), best of 3
  4. VmRSS of the listening process, a few seconds idle after 1-3
  5. CPU ticks (utime+stime) of the listening process over
     BENCH_IDLE_SECONDS (30) idle, the three servers side by side
and the ratio porthole/OpenSSH, with the targets: latency <= 1.0x OpenSSH;
exec and sftp throughput >= 1.0x OpenSSH and above dropbear; idle RSS no
more than dropbear's listener (issue 12's goals, for both builds); 0 idle ticks.  A missed target is reported, not fatal.

dropbear (2022.83) has no option for the authorized_keys file: it reads
~/.ssh/authorized_keys of the passwd home.  So that this benchmark never
touches the real one, dropbear runs in its own mount namespace
(`unshare -m`) where a temp directory is bind-mounted over ~/.ssh; the
mount disappears with dropbear.  If that is not possible (no
CAP_SYS_ADMIN), dropbear's rows say so and its figures are left out.

Servers are killed by pid and the temp tree removed, whatever happens.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import json
from pathlib import Path

MIB = 1024 * 1024
SSH = "/usr/bin/ssh"
SFTP = "/usr/bin/sftp"
KEYGEN = "/usr/bin/ssh-keygen"
SSHD = "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"
DROPBEAR = "/usr/sbin/dropbear"
DROPBEARKEY = "/usr/bin/dropbearkey"
UNSHARE = shutil.which("unshare", path="/usr/bin:/bin") or "/usr/bin/unshare"
CLK_TCK = os.sysconf("SC_CLK_TCK")
CLIENT_TIMEOUT = 600


# ---- helpers ---------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, proc, what, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode} before listening")
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
            return
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    raise RuntimeError(f"{what} not listening on {port} after {timeout}s")


def cpu_ticks(pid):
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def vm_rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def kill_pid(proc):
    """SIGTERM the server (its own process group: connection children too), then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 3), (signal.SIGKILL, 2)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            pass


# ---- servers ---------------------------------------------------------------

class Server:
    name = ""

    def __init__(self, tmp: Path, client_pub: str):
        self.tmp = tmp
        self.dir = tmp / self.name
        self.dir.mkdir()
        self.client_pub = client_pub
        self.proc = None
        self.port = None
        self.host_key = None  # "ssh-ed25519 AAAA..."
        self.skipped = None   # reason, when the server could not be set up
        self.log = open(self.dir / "stderr.log", "wb")

    @property
    def pid(self):
        return self.proc.pid

    def popen(self, argv, env=None, stdout=subprocess.DEVNULL):
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=self.log,
                                     start_new_session=True)

    def stop(self):
        kill_pid(self.proc)
        self.log.close()


class Porthole(Server):
    name = "porthole"

    def __init__(self, tmp, client_pub, porthole):
        super().__init__(tmp, client_pub)
        ml = self.dir / "ml"
        (ml / "input" / "config").mkdir(parents=True)
        (ml / "output").mkdir()
        (ml / "input" / "config" / "resourceconfig.json").write_text(json.dumps(
            {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "lo"}))
        # Sessions inherit porthole's environment.  A container's ENTRYPOINT has no
        # SHLVL; one inherited from the shell running this benchmark would make
        # bash skip ~/.bashrc, which sshd's and dropbear's sessions do run.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTHOLE_") and k != "SHLVL"}
        env.update(PORTHOLE_SSH="embedded", PORTHOLE_SSH_PORT="0", PORTHOLE_SSH_LISTEN="127.0.0.1",
                   PORTHOLE_AUTHORIZED_KEYS=client_pub, PORTHOLE_CONFIG="/dev/null",
                   PORTHOLE_ML_ROOT=str(ml), PORTHOLE_CONTROL_SOCKET=str(self.dir / "control.sock"))
        # The ready record is on stderr, with porthole's other lines.
        out = self.dir / "stderr.log"
        self.popen([porthole, "serve"], env=env)
        deadline = time.monotonic() + 15
        while True:
            for line in out.read_bytes().splitlines():
                if line.startswith(b'{"porthole":"ready"'):
                    r = json.loads(line)
                    self.port, self.host_key = int(r["port"]), r["host_key"]
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("porthole serve printed no ready line")
            time.sleep(0.02)


class OpenSSH(Server):
    name = "openssh"

    def __init__(self, tmp, client_pub):
        super().__init__(tmp, client_pub)
        hk = self.dir / "host_ed25519"
        subprocess.run([KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(hk)], check=True)
        self.host_key = " ".join(Path(str(hk) + ".pub").read_text().split()[:2])
        (self.dir / "authorized_keys").write_text(client_pub + "\n")
        self.port = free_port()
        cfg = self.dir / "sshd_config"
        cfg.write_text(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {hk}
AuthorizedKeysFile {self.dir / 'authorized_keys'}
StrictModes no
UsePAM no
PidFile none
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
Subsystem sftp {SFTP_SERVER}
""")
        self.popen([SSHD, "-D", "-e", "-f", str(cfg)])
        wait_listening(self.port, self.proc, "sshd")


class Dropbear(Server):
    name = "dropbear"

    def __init__(self, tmp, client_pub):
        super().__init__(tmp, client_pub)
        hk = self.dir / "host_ed25519"
        subprocess.run([DROPBEARKEY, "-t", "ed25519", "-f", str(hk)], check=True, capture_output=True)
        y = subprocess.run([DROPBEARKEY, "-y", "-f", str(hk)], check=True, capture_output=True, text=True)
        self.host_key = next(" ".join(l.split()[:2]) for l in y.stdout.splitlines() if l.startswith("ssh-ed25519"))
        # dropbear reads ~/.ssh/authorized_keys of the passwd entry: mount a temp
        # directory over it in a private mount namespace (never the real file).
        home = Path(pwd.getpwuid(os.getuid()).pw_dir)
        fake = self.dir / "home"
        if (home / ".ssh").is_dir():
            target, src = home / ".ssh", fake / ".ssh"
        else:  # no ~/.ssh to mount over: mount a whole temp home instead
            target, src = home, fake
        (fake / ".ssh").mkdir(parents=True, mode=0o700)
        (fake / ".ssh" / "authorized_keys").write_text(client_pub + "\n")
        (fake / ".ssh" / "authorized_keys").chmod(0o600)
        fake.chmod(0o700)
        self.port = free_port()
        probe = subprocess.run([UNSHARE, "-m", "--propagation", "private", "true"], capture_output=True)
        if probe.returncode != 0:
            self.skipped = "cannot unshare a mount namespace for its authorized_keys"
            return
        script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
        self.popen([UNSHARE, "-m", "--propagation", "private", "/bin/sh", "-c", script, "sh", str(src), str(target),
                    DROPBEAR, "-F", "-E", "-s", "-p", f"127.0.0.1:{self.port}", "-r", str(hk),
                    "-P", str(self.dir / "dropbear.pid")])
        wait_listening(self.port, self.proc, "dropbear")


# ---- client ----------------------------------------------------------------

class Client:
    def __init__(self, tmp: Path):
        self.key = tmp / "id_ed25519"
        subprocess.run([KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "ssh-bench", "-f", str(self.key)], check=True)
        self.pub = " ".join(Path(str(self.key) + ".pub").read_text().split()[:2])
        self.known_hosts = tmp / "known_hosts"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SSH_")}

    def add_host(self, srv):
        with open(self.known_hosts, "a") as f:
            f.write(f"[127.0.0.1]:{srv.port} {srv.host_key}\n")

    def opts(self):
        return ["-F", "/dev/null", "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", str(self.key)]

    def ssh(self, srv, *cmd, stdout=subprocess.DEVNULL):
        t0 = time.perf_counter()
        r = subprocess.run([SSH, *self.opts(), "-p", str(srv.port), "root@127.0.0.1", *cmd], env=self.env,
                           stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, timeout=CLIENT_TIMEOUT)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError(f"ssh to {srv.name} `{' '.join(cmd)}` exited {r.returncode}: "
                               f"{r.stderr.decode(errors='replace').strip()[-300:]}")
        return dt

    def sftp_get(self, srv, remote, local, batch):
        batch.write_text(f"get {remote} {local}\n")
        t0 = time.perf_counter()
        r = subprocess.run([SFTP, *self.opts(), "-P", str(srv.port), "-b", str(batch), "root@127.0.0.1"],
                           env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=CLIENT_TIMEOUT)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError(f"sftp from {srv.name} exited {r.returncode}: "
                               f"{r.stderr.decode(errors='replace').strip()[-300:]}")
        return dt


# ---- measurement -----------------------------------------------------------

def measure(porthole, tmp: Path, log=print):
    """Start the three servers, measure, stop them.  Returns {server: {figure: value}} and notes."""
    runs = int(os.environ.get("BENCH_SSH_RUNS", "30"))
    size_mib = int(os.environ.get("BENCH_SSH_MIB", "512"))
    idle_s = float(os.environ.get("BENCH_IDLE_SECONDS", "30"))
    xfer_runs = int(os.environ.get("BENCH_SSH_XFER_RUNS", "3"))
    client = Client(tmp)
    data = tmp / "data.bin"
    block = os.urandom(MIB)
    with open(data, "wb") as f:
        for _ in range(size_mib):
            f.write(block)
    got = tmp / "got.bin"
    batch = tmp / "sftp.batch"
    servers, res, notes = [], {}, []
    try:
        for cls, args in ((Porthole, (porthole,)), (OpenSSH, ()), (Dropbear, ())):
            srv = cls(tmp, client.pub, *args)
            servers.append(srv)
            if srv.skipped:
                notes.append(f"{srv.name}: skipped, {srv.skipped}")
                continue
            client.add_host(srv)
            log(f"  ssh: {srv.name} (pid {srv.pid}) on 127.0.0.1:{srv.port}")
        live = [s for s in servers if not s.skipped]
        for srv in live:
            r = res[srv.name] = {}
            client.ssh(srv, "true")  # warm-up: page cache, first-connection costs
            lat = [client.ssh(srv, "true") for _ in range(runs)]
            r["latency"] = statistics.median(lat)
            log(f"  ssh: {srv.name}: connect+auth+true median {r['latency'] * 1000:.1f} ms")
            best = min(client.ssh(srv, "cat", str(data)) for _ in range(xfer_runs))
            r["exec"] = size_mib / best
            log(f"  ssh: {srv.name}: cat {size_mib} MiB: {r['exec']:.0f} MiB/s")
            times = []
            for _ in range(xfer_runs):
                times.append(client.sftp_get(srv, data, got, batch))
                if got.stat().st_size != size_mib * MIB:
                    raise RuntimeError(f"sftp from {srv.name}: got {got.stat().st_size} bytes")
                got.unlink()
            r["sftp"] = size_mib / min(times)
            log(f"  ssh: {srv.name}: sftp get {size_mib} MiB: {r['sftp']:.0f} MiB/s")
        time.sleep(3)
        for srv in live:
            res[srv.name]["rss"] = vm_rss_kib(srv.pid)
        log(f"  ssh: {idle_s:g} s idle (BENCH_IDLE_SECONDS to change) ...")
        t0 = {s.name: cpu_ticks(s.pid) for s in live}
        time.sleep(idle_s)
        for srv in live:
            res[srv.name]["ticks"] = cpu_ticks(srv.pid) - t0[srv.name]
            if srv.proc.poll() is not None:
                raise RuntimeError(f"{srv.name} exited {srv.proc.returncode} during the benchmark")
    finally:
        for srv in servers:
            srv.stop()
    return res, notes, dict(runs=runs, size_mib=size_mib, idle_s=idle_s, xfer_runs=xfer_runs)


FIGURES = (
    # key, label, format, lower is better
    ("latency", "connect+auth+`true`, median of {runs}", lambda v: f"{v * 1000:.1f} ms", True),
    ("exec", "`ssh cat` {size_mib} MiB, best of {xfer_runs}", lambda v: f"{v:.0f} MiB/s", False),
    ("sftp", "`sftp get` {size_mib} MiB, best of {xfer_runs}", lambda v: f"{v:.0f} MiB/s", False),
    ("rss", "listener VmRSS, idle after the runs", lambda v: f"{v / 1024:.2f} MiB", True),
    ("ticks", "listener CPU ticks, {idle_s:g} s idle", lambda v: str(v), True),
)


def targets(res):
    """(key -> (target text, met or None)) for porthole."""
    p, o, d = res.get("porthole", {}), res.get("openssh", {}), res.get("dropbear", {})
    out = {}

    def ratio_ok(key, cond):
        return None if key not in p or key not in o else cond(p[key], o[key])

    out["latency"] = ("<= 1.0x OpenSSH", ratio_ok("latency", lambda a, b: a <= b))
    for k in ("exec", "sftp"):
        met = ratio_ok(k, lambda a, b: a >= b)
        if met is not None and k in d:
            met = met and p[k] > d[k]
        out[k] = (">= 1.0x OpenSSH, > dropbear" if k in d else ">= 1.0x OpenSSH (dropbear n/a)", met)
    if "dropbear" in res and "rss" in d:
        out["rss"] = ("<= dropbear's listener", None if "rss" not in p else p["rss"] <= d["rss"])
    else:
        out["rss"] = ("< OpenSSH's listener (dropbear n/a)", ratio_ok("rss", lambda a, b: a < b))
    out["ticks"] = ("0", None if "ticks" not in p else p["ticks"] == 0)
    return out


def table(res, params):
    """Rows of strings: figure, porthole, openssh, dropbear, porthole/openssh, target, result."""
    tg = targets(res)
    rows = []
    for key, label, fmt, _ in FIGURES:
        vals = [fmt(res[s][key]) if key in res.get(s, {}) else "n/a" for s in ("porthole", "openssh", "dropbear")]
        p, o = res.get("porthole", {}).get(key), res.get("openssh", {}).get(key)
        if p is None or o is None:
            ratio = "n/a"
        elif o == 0:
            ratio = "-" if p == 0 else "inf"
        else:
            ratio = f"{p / o:.2f}x"
        goal, met = tg[key]
        rows.append((label.format(**params), *vals, ratio, goal, "" if met is None else ("met" if met else "MISSED")))
    return rows


def print_table(rows, out=sys.stdout):
    headers = ("figure", "porthole", "OpenSSH", "dropbear", "porthole/OpenSSH", "target", "result")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip(), file=out)


def run(porthole, tmp: Path):
    """bench.py's `ssh` section: measure, print the comparison table, return
    (figure, value, goal, met) tuples for bench.py's summary."""
    tmp.mkdir(parents=True, exist_ok=True)
    res, notes, params = measure(porthole, tmp, log=lambda s: print(s, flush=True))
    rows = table(res, params)
    print()
    print_table(rows)
    for n in notes:
        print(f"  note: {n}")
    print()
    summary = []
    for r, (key, _, _, _) in zip(rows, FIGURES):
        label, p, o, d, ratio, goal, result = r
        summary.append((label, f"{p} (OpenSSH {o}, dropbear {d}; {ratio})", goal,
                        None if result == "" else result == "met"))
    for n in notes:
        summary.append((f"  {n}", "-", "", None))
    return summary


def find_porthole():
    b = os.environ.get("PORTHOLE_BIN")
    if b:
        return str(Path(b).resolve())
    cand = Path(__file__).resolve().parents[1] / "build" / "std" / "porthole"
    return str(cand) if cand.is_file() else shutil.which("porthole")


def main():
    porthole = find_porthole()
    if not porthole:
        print("ssh_bench: no porthole binary; run `make` or set PORTHOLE_BIN", file=sys.stderr)
        return 2
    sys.stdout.reconfigure(line_buffering=True)
    tmp = Path(tempfile.mkdtemp(prefix="porthole-ssh-bench-"))
    try:
        run(porthole, tmp)
    except KeyboardInterrupt:
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
