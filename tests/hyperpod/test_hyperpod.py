# SPDX-License-Identifier: Apache-2.0
"""lifecycle/hyperpod/install_porthole.sh on a Debian 12 root filesystem in a
chroot, as a HyperPod on_create script would run it: the package from
`make deb`, a shared_users.txt with keys, run twice (the second run must
change nothing), then `porthole serve` started in the chroot (its own PID
namespace) with a resource_config.json naming this machine's address, and a
listed user logging in with ssh on the node port.  Then the script's
running-systemd branch, on other roots, against a stand-in systemctl and
journalctl (tests/hyperpod/fake_systemd): first run, second run, settings
changes, a service that does not start.

Needs root, unshare, chroot, the rootfs tarball (tests/images/rootfs.sh, cached
after the first build) and the Debian mirror for the package's dependencies.
Every mount lives in a private mount namespace of the command that made it;
cleanup still lazily unmounts anything left under the root before deleting it.

HYPERPOD_TEST_DEB=FILE uses that package instead of running `make deb`.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from porthole_harness import wait_for  # noqa: E402
from sshutil import SSH, make_key, pub  # noqa: E402

SCRIPT = REPO / "lifecycle" / "hyperpod" / "install_porthole.sh"
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
CLUSTER = "ml-cluster"
ARN = "arn:aws:sagemaker:us-west-2:123456789012:cluster/abc123def456"
BEGIN = "# BEGIN install_porthole.sh (HyperPod lifecycle): replaced on every run"
END = "# END install_porthole.sh"
ADMIN_LINE = "# kept: written by the node's admin, outside the script's block"

# Mounts for one command, in its own mount namespace: they go away with it.
# /dev is a small tmpfs with the nodes apt and ssh need, never the host's.
MOUNTS = r'''
root=$1; shift
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=0755,size=4m dev "$root/dev"
for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
	IFS=: read -r name maj min <<EOF
$n
EOF
	mknod -m 666 "$root/dev/$name" c "$maj" "$min"
done
exec chroot "$root" "$@"
'''


def need(cond, why):
    if not cond:
        pytest.skip(why)


@pytest.fixture(scope="module")
def deb():
    override = os.environ.get("HYPERPOD_TEST_DEB")
    if override:
        return Path(override).resolve()
    r = subprocess.run(["make", "-C", str(REPO), "deb"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"make deb failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    p = REPO / "build" / "pkg" / "porthole.deb"
    assert p.is_file(), f"make deb did not write {p}"
    return p


def mounts_under(root: Path) -> list[str]:
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == str(root) or mp.startswith(str(root) + "/"):
                out.append(mp)
    return out


@pytest.fixture(scope="module")
def tarball():
    need(os.geteuid() == 0, "needs root (chroot, mounts)")
    need(shutil.which("unshare") and shutil.which("chroot"), "needs unshare and chroot")
    r = subprocess.run([str(REPO / "tests" / "images" / "rootfs.sh")], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, f"tests/images/rootfs.sh failed: {r.stderr}"
    return r.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def scratch_root(fill):
    """A root filesystem in a new directory under /var/tmp, made by
    fill(root); deleted afterwards, after lazily unmounting anything left
    mounted under it."""
    tmp = Path(tempfile.mkdtemp(prefix="ph-hyperpod-", dir="/var/tmp"))
    root = tmp / "root"
    try:
        fill(root)
        yield root
    finally:
        for mp in reversed(mounts_under(root)):
            subprocess.run(["umount", "-l", mp])
        left = mounts_under(root)
        assert not left, f"still mounted, {tmp} not deleted: {left}"
        shutil.rmtree(tmp, ignore_errors=True)


def extract(tarball):
    def fill(root: Path):
        root.mkdir()
        subprocess.run(["tar", "-C", str(root), "-xf", tarball], check=True)
        shutil.copy("/etc/resolv.conf", root / "etc" / "resolv.conf")  # apt fetches the dependencies
    return fill


@pytest.fixture(scope="module")
def rootfs(tarball):
    with scratch_root(extract(tarball)) as root:
        yield root


def chroot(root: Path, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", MOUNTS, "sh", str(root),
                           *argv], env=ENV, capture_output=True, text=True, timeout=timeout)


def lifecycle_dir(root: Path, deb: Path, client: Path) -> dict:
    """The lifecycle directory as on_create.sh has it, inside the chroot:
    the script, the package, shared_users.txt and porthole_keys/."""
    lc = root / "root" / "lifecycle"
    keys = lc / "porthole_keys"
    keys.mkdir(parents=True)
    shutil.copy(SCRIPT, lc / "install_porthole.sh")
    shutil.copy(deb, lc / "porthole.deb")
    alice, alice2, eve = (make_key(client / n) for n in ("alice", "alice2", "eve"))
    # shared_users.txt as AWS's add_users.sh reads it; bob has no key file.
    (lc / "shared_users.txt").write_text("alice,2001,/fsx/alice\nbob,2002,/fsx/bob\nnot a user line\n")
    (keys / "alice.pub").write_text(f"# alice's keys\n{pub(alice)}\n"
                                    f'no-agent-forwarding,from="10.0.0.0/8" {pub(alice2)}\n'
                                    f"{pub(alice)}\nnot-a-key AAAA\n")
    (keys / "eve.pub").write_text(pub(eve) + "\n")  # not in shared_users.txt
    (root / "etc" / "porthole").mkdir(parents=True)
    (root / "etc" / "porthole" / "authorized_keys").write_text(ADMIN_LINE + "\n")
    return {"root": root, "lc": lc, "alice": alice, "alice2": alice2, "eve": eve,
            "version": subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True,
                                      check=True).stdout.strip()}


@pytest.fixture(scope="module")
def node(deb, rootfs):
    client = Path(tempfile.mkdtemp(prefix="ph-hp-keys-"))
    try:
        yield lifecycle_dir(rootfs, deb, client)
    finally:
        shutil.rmtree(client, ignore_errors=True)


def run_script(node, *args) -> subprocess.CompletedProcess:
    r = chroot(node["root"], "bash", "/root/lifecycle/install_porthole.sh", *args)
    assert r.returncode == 0, f"install_porthole.sh failed ({r.returncode}):\n{r.stderr[-4000:]}\n" + \
        provisioning_log(node)[-4000:]
    return r


def provisioning_log(node) -> str:
    p = node["root"] / "var" / "log" / "provision" / "provisioning.log"
    return p.read_text() if p.exists() else ""


def changed_since(root: Path, since_ns: int, ignore: set[str]) -> list[str]:
    out = []
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        dirs[:] = [x for x in dirs if os.path.normpath(os.path.join(rel, x)) not in ignore]
        for name in [".", *files]:
            p = os.path.normpath(os.path.join(d, name))
            r = os.path.relpath(p, root)
            if r in ignore:
                continue
            st = os.lstat(p)
            if max(st.st_mtime_ns, st.st_ctime_ns) > since_ns:
                out.append(r)
    return out


def test_install_twice(node):
    root = node["root"]
    r = run_script(node)
    # The package and its dependencies.
    q = chroot(root, "dpkg-query", "-W", "-f=${Status} ${Version}", "porthole")
    assert q.stdout == f"install ok installed {node['version']}", q.stdout + q.stderr
    assert (root / "usr" / "bin" / "porthole").is_file()

    # Keys: alice's two distinct keys, options kept, comment = the user;
    # eve (not listed) and the bad line are left out; the admin's line stays.
    ak = root / "etc" / "porthole" / "authorized_keys"
    assert ak.stat().st_mode & 0o777 == 0o600 and ak.stat().st_uid == 0
    lines = ak.read_text().splitlines()
    assert lines[0] == ADMIN_LINE
    block = lines[lines.index(BEGIN) + 1:lines.index(END)]
    assert block == [
        "# alice (uid 2001, home /fsx/alice)",
        " ".join(pub(node["alice"]).split()[:2]) + " alice",
        'no-agent-forwarding,from="10.0.0.0/8" ' + " ".join(pub(node["alice2"]).split()[:2]) + " alice",
    ]
    assert pub(node["eve"]).split()[1] not in ak.read_text()

    # The conf: the node port, in the script's block.
    conf = (root / "etc" / "porthole" / "porthole.conf").read_text().splitlines()
    assert conf[conf.index(BEGIN) + 1:conf.index(END)] == ["PORTHOLE_SSH_PORT=2222"]
    assert sum(1 for l in conf if l.startswith("PORTHOLE_SSH_PORT=")) == 1

    # Enabled the way `systemctl enable` does it, offline.
    link = root / "etc" / "systemd" / "system" / "multi-user.target.wants" / "porthole.service"
    assert link.is_symlink() and os.readlink(link).endswith("/systemd/system/porthole.service")

    log = provisioning_log(node)
    for want in (f"installed porthole {node['version']}",
                 "/root/lifecycle/porthole_keys/alice.pub:5: expected an OpenSSH public key line",
                 "shared_users.txt:3: expected user,uid,home",
                 "user bob: no /root/lifecycle/porthole_keys/bob.pub",
                 "eve is not in /root/lifecycle/shared_users.txt",
                 "wrote /etc/porthole/authorized_keys", "wrote /etc/porthole/porthole.conf: PORTHOLE_SSH_PORT=2222",
                 "enabled porthole.service", "systemd is not running here"):
        assert want in log, f"{want!r} not in provisioning.log:\n{log}"
    assert pub(node["alice"]).split()[1] not in log  # key material stays out of the log
    # stderr carries the same lines the log got (HyperPod keeps the script's output too).
    assert "enabled porthole.service" in r.stderr

    # Second run: nothing but the log (and /tmp's scratch) is touched.
    log_before = len(log)
    time.sleep(0.05)
    mark = time.time_ns()
    run_script(node)
    changed = changed_since(root, mark, {"tmp", "proc", "dev", "var/log/provision/provisioning.log"})
    assert changed == [], changed
    # No scratch files left behind, in /etc or /tmp.
    assert not list((root / "etc").rglob("*.install_porthole.new"))
    assert not list((root / "tmp").iterdir())
    log2 = provisioning_log(node)[log_before:]
    for want in (f"porthole {node['version']} is installed already", "/etc/porthole/authorized_keys is up to date",
                 "/etc/porthole/porthole.conf is up to date", "porthole.service is enabled already"):
        assert want in log2, f"{want!r} not in the second run's log:\n{log2}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def own_address() -> str:
    """This machine's address on its default route (what a node's
    CustomerIpAddress is), else loopback."""
    r = subprocess.run(["ip", "-4", "route", "get", "203.0.113.1"], capture_output=True, text=True)
    words = r.stdout.split()
    return words[words.index("src") + 1] if "src" in words else "127.0.0.1"


def test_serve_and_login_on_the_node_port(node, tmp_path):
    root = node["root"]
    port, addr = free_port(), own_address()
    run_script(node, "--port", str(port))
    conf = (root / "etc" / "porthole" / "porthole.conf").read_text().splitlines()
    assert conf[conf.index(BEGIN) + 1:conf.index(END)] == [f"PORTHOLE_SSH_PORT={port}"]
    assert f"wrote /etc/porthole/porthole.conf: PORTHOLE_SSH_PORT={port}" in provisioning_log(node)

    rc = root / "opt" / "ml" / "config" / "resource_config.json"
    rc.parent.mkdir(parents=True, exist_ok=True)
    rc.write_text(json.dumps({
        "ClusterConfig": {"ClusterArn": ARN, "ClusterName": CLUSTER},
        "InstanceGroups": [
            {"Name": "controller-machine", "Instances": [{"InstanceName": "controller-machine-1",
                                                          "CustomerIpAddress": "203.0.113.250"}]},
            {"Name": "worker-group-1", "Instances": [{"InstanceName": "worker-group-1-1",
                                                      "CustomerIpAddress": addr}]}]}))
    out = tmp_path / "serve.out"
    # What porthole.service runs, as PID 1 of its own PID namespace in the
    # chroot; no AWS credentials here, so no CloudWatch.
    with open(out, "w") as f:
        p = subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", "--mount", "--propagation", "private",
                              "sh", "-c", MOUNTS, "sh", str(root), "env", "PORTHOLE_CLOUDWATCH=off",
                              "/usr/bin/porthole", "serve"],
                             env=ENV, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def ready():
            for line in out.read_text().splitlines():
                if line.startswith("{") and json.loads(line).get("porthole") == "ready":
                    return json.loads(line)
            assert p.poll() is None, f"porthole serve exited {p.returncode}:\n{out.read_text()}"
            return None
        rec = wait_for(ready, timeout=60, what="the ready record of porthole serve in the chroot")
        assert rec["platform"] == "hyperpod" and rec["job"] == CLUSTER
        assert rec["host"] == "worker-group-1-1" and rec["instance_group"] == "worker-group-1"
        assert rec["hosts"] == ["controller-machine-1", "worker-group-1-1"]
        assert rec["ip"] == addr and rec["port"] == port and rec["pid"] == 1

        kh = tmp_path / "known_hosts"
        kh.write_text(f"[{addr}]:{port} {rec['host_key']}\n")

        def ssh(key, *cmd):
            return subprocess.run([SSH, "-F", "/dev/null", "-p", str(port), "-i", str(key), "-o", "IdentitiesOnly=yes",
                                   "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={kh}",
                                   "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=20",
                                   f"root@{addr}", *cmd], capture_output=True, text=True, timeout=60,
                                  stdin=subprocess.DEVNULL)

        # alice's key logs in, and the shell is the node's (the chroot).
        r = ssh(node["alice"], "id -un; cat /etc/debian_version; test -f /root/lifecycle/shared_users.txt && echo lc")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["root", (root / "etc" / "debian_version").read_text().strip(), "lc"]
        wait_for(lambda: "/etc/porthole/authorized_keys:4 alice" in out.read_text(), timeout=20,
                 what="the ssh_login line naming alice")
        # eve's key (not in shared_users.txt) does not.
        r = ssh(node["eve"], "true")
        assert r.returncode == 255 and "Permission denied" in r.stderr
    finally:
        # porthole is PID 1 of the namespace: SIGTERM to it ends the namespace.
        kids = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
        for k in kids:
            try:
                os.kill(int(k), signal.SIGTERM)
            except OSError:
                pass
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # --kill-child takes porthole along
            p.wait(timeout=30)
    assert p.returncode == 0, out.read_text()


# ---- a node where systemd runs -------------------------------------------------
#
# No systemd is PID 1 here, so the script's running-systemd branch runs
# against stand-ins (tests/hyperpod/fake_systemd): /run/systemd/system
# exists, and a systemctl and a journalctl sit in /usr/bin, where systemd's
# package puts them (the minbase root has neither; dpkg runs the package's
# postinst with a PATH of its own, and that finds them there too).  They keep
# the unit's state (enabled, active, what was loaded at the last reload, the
# journal) in /fakesd/state and record every call.  Each test gets a node of
# its own: the first run happens once, on a fresh root (sd_installed), and
# every later test works on a copy of that root.

FAKES = Path(__file__).resolve().parent / "fake_systemd"
FAKE_STATE = "fakesd/state"
RC_PATH = "/opt/ml/config/hyperpod/resource_config.json"  # not the default: the script writes a drop-in
DROPIN = "etc/systemd/system/porthole.service.d/hyperpod.conf"
START_FAILED = "porthole.service did not start: journalctl -u porthole"


def sd_run(root: Path, *args: str, rc_path: str = RC_PATH) -> subprocess.CompletedProcess:
    """install_porthole.sh as on_create.sh runs it on a node where systemd runs."""
    return chroot(root, "env", f"SAGEMAKER_RESOURCE_CONFIG_PATH={rc_path}",
                  "bash", "/root/lifecycle/install_porthole.sh", *args)


def sd_log(root: Path) -> str:
    p = root / "var" / "log" / "provision" / "provisioning.log"
    return p.read_text() if p.exists() else ""


def sd_ok(root: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    r = sd_run(root, *args, **kw)
    assert r.returncode == 0, \
        f"install_porthole.sh failed ({r.returncode}):\n{r.stderr[-4000:]}\n{sd_log(root)[-4000:]}"
    return r


def sd_calls(root: Path, by: str | None = "install_porthole.sh") -> list[str]:
    """The systemctl and journalctl calls made by `by` (the file name of a
    word of the caller's command line), in order: "daemon-reload",
    "start porthole.service", "journalctl -u ...", ...; every call, with
    its caller, for None."""
    p = root / FAKE_STATE / "calls"
    out = []
    for line in (p.read_text().splitlines() if p.exists() else []):
        args, caller = line.split("\t", 1)
        if by is None:
            out.append(line)
        elif any(os.path.basename(w) == by for w in caller.split()):
            out.append(args)
    return out


def verbs(calls: list[str]) -> list[str]:
    """The systemctl verbs, options left out: ["is-enabled", "enable", ...]."""
    return [next(w for w in c.split() if not w.startswith("-")) for c in calls if not c.startswith("journalctl ")]


def sd_invocation(root: Path) -> str:
    return (root / FAKE_STATE / "invocation").read_text().strip()


def ready_lines(log: str) -> list[str]:
    return [l for l in log.splitlines() if " [porthole] porthole " in l and " ready: " in l]


def fake_systemd(root: Path):
    (root / "run" / "systemd" / "system").mkdir(parents=True, exist_ok=True)
    for name in ("systemctl", "journalctl"):
        dest = root / "usr" / "bin" / name
        assert not dest.exists(), f"the root has a {name} of its own"
        shutil.copy(FAKES / name, dest)
        dest.chmod(0o755)
    (root / FAKE_STATE).mkdir(parents=True)


@pytest.fixture(scope="module")
def sd_installed(deb, tarball):
    """A fresh node, and what the first run on it did."""
    client = Path(tempfile.mkdtemp(prefix="ph-hp-keys-"))
    try:
        with scratch_root(extract(tarball)) as root:
            n = lifecycle_dir(root, deb, client)
            fake_systemd(root)
            r = sd_ok(root)
            n.update(first=r, log=sd_log(root), calls=sd_calls(root), postinst=sd_calls(root, "porthole.postinst"),
                     all_calls=sd_calls(root, None),
                     invocation=sd_invocation(root))
            yield n
    finally:
        shutil.rmtree(client, ignore_errors=True)


@pytest.fixture
def sd_node(sd_installed):
    """A copy of the node after its first run, for one test to change: the
    service enabled and active, the first run's log and calls kept."""
    def fill(root: Path):
        subprocess.run(["cp", "-a", "--reflink=auto", str(sd_installed["root"]), str(root)], check=True)
    with scratch_root(fill) as root:
        yield dict(sd_installed, root=root, lc=root / sd_installed["lc"].relative_to(sd_installed["root"]))


def test_systemd_first_run_enables_reloads_starts(sd_installed):
    root, log, calls = sd_installed["root"], sd_installed["log"], sd_installed["calls"]
    # The script's systemctl calls, in order: enable it (the drop-in is
    # written first), load the drop-in, then start it (not active yet).
    assert verbs(calls) == ["is-enabled", "enable", "daemon-reload", "is-active", "is-active", "start", "show"], calls
    assert "start porthole.service" in calls and not any(c.startswith("restart") for c in calls)
    # The package's postinst made systemd see the new unit before that.
    assert verbs(sd_installed["postinst"]) == ["daemon-reload"], sd_installed["all_calls"]
    assert (root / "etc/systemd/system/multi-user.target.wants/porthole.service").is_symlink()
    assert (root / DROPIN).read_text().splitlines()[-1] == f"Environment=SAGEMAKER_RESOURCE_CONFIG_PATH={RC_PATH}"
    # The service that started ran with the drop-in loaded (no stale-unit warning).
    assert f"porthole: resource config {RC_PATH}" in (root / FAKE_STATE / "journal").read_text()
    assert "changed on disk" not in sd_installed["first"].stderr

    for want in (f"wrote /{DROPIN}", "enabled porthole.service", "started porthole.service"):
        assert want in log, f"{want!r} not in provisioning.log:\n{log}"
    assert "systemd is not running here" not in log
    # This run's ready line, copied from the journal: the node port, this
    # invocation's (fake) host key.
    ready = ready_lines(log)
    assert len(ready) == 1, log
    assert ready[0].split(" [porthole] ", 1)[1] == (
        f"porthole {sd_installed['version'].rsplit('-', 1)[0]} ready: job ml-cluster, host worker-group-1-1 (2 hosts), "
        f"ip 10.1.0.22; ssh port 2222, host key SHA256:{sd_installed['invocation']}; hold on-failure, window 30m; "
        "`porthole status` shows the state")
    assert log.index("started porthole.service") < log.index(ready[0]) < log.index("porthole is set up")


def test_systemd_second_run_changes_nothing(sd_node):
    root = sd_node["root"]
    before = len(sd_log(root))
    n_calls = len(sd_calls(root))
    inv = sd_invocation(root)
    time.sleep(0.05)
    mark = time.time_ns()
    r = sd_ok(root)
    calls = sd_calls(root)[n_calls:]
    assert "daemon-reload" not in verbs(calls) and "enable" not in verbs(calls), calls
    assert "start" not in verbs(calls) and "restart" not in verbs(calls), calls
    assert verbs(calls) == ["is-enabled", "is-active", "show"], calls
    assert sd_invocation(root) == inv  # the same run of the service
    log = sd_log(root)[before:]
    for want in ("porthole.service is enabled already", "porthole.service is running",
                 "/etc/porthole/porthole.conf is up to date"):
        assert want in log, f"{want!r} not in the second run's log:\n{log}"
    assert "porthole.service is running" in r.stderr
    assert [l.rsplit("host key ", 1)[1].split(";")[0] for l in ready_lines(log)] == [f"SHA256:{inv}"], log
    # Nothing on disk changed but the log (and the fakes' own state).
    changed = changed_since(root, mark, {"tmp", "proc", "dev", "fakesd", "var/log/provision/provisioning.log"})
    assert changed == [], changed


@pytest.mark.parametrize("change", ["port", "resource_config", "users", "stopped"])
def test_systemd_run_after_a_change(sd_node, change):
    """A settings change restarts the running service (reloading systemd
    only when the drop-in changed); a keys change needs no restart (porthole
    reads authorized_keys at each login); a stopped service is started."""
    root = sd_node["root"]
    args, rc_path, port = [], RC_PATH, 2222
    if change == "port":
        port = 2299
        args = ["--port", str(port)]
    elif change == "resource_config":
        rc_path = "/fsx/hyperpod/resource_config.json"
    before = len(sd_log(root))
    n_calls = len(sd_calls(root))
    old = sd_invocation(root)
    if change == "users":
        users = sd_node["lc"] / "shared_users.txt"
        users.write_text(users.read_text() + "eve,2003,/fsx/eve\n")
    if change == "stopped":
        (root / FAKE_STATE / "active").unlink()

    sd_ok(root, *args, rc_path=rc_path)
    calls = verbs(sd_calls(root)[n_calls:])
    log = sd_log(root)[before:]
    new = sd_invocation(root)
    assert "enable" not in calls
    if change in ("port", "resource_config"):
        assert "restart" in calls and "start" not in calls, calls
        assert "restarted porthole.service for the new package or settings" in log, log
        assert new != old
    elif change == "users":
        assert "restart" not in calls and "start" not in calls, calls
        assert "wrote /etc/porthole/authorized_keys" in log and "porthole.service is running" in log, log
        assert new == old
        assert pub(sd_node["eve"]).split()[1] in (root / "etc/porthole/authorized_keys").read_text()
    else:
        assert "start" in calls and "restart" not in calls, calls
        assert "started porthole.service" in log, log
        assert new != old
    # daemon-reload only for a changed drop-in, and before the restart.
    if change == "resource_config":
        assert calls.index("daemon-reload") < calls.index("restart"), calls
        assert (root / DROPIN).read_text().splitlines()[-1] == f"Environment=SAGEMAKER_RESOURCE_CONFIG_PATH={rc_path}"
        assert f"wrote /{DROPIN}" in log
        journal = (root / FAKE_STATE / "journal").read_text().splitlines()
        assert [l.split("\t")[1] for l in journal if l.startswith(new + "\t")][0] == \
            f"porthole: resource config {rc_path}"
    else:
        assert "daemon-reload" not in calls, calls
    # The ready line logged is the running service's: after a restart the
    # new run's (new port, new host key), not the old run's still in the journal.
    ready = ready_lines(log)
    assert len(ready) == 1, log
    assert f"ssh port {port}, host key SHA256:{new};" in ready[0], ready[0]


@pytest.mark.parametrize("when", ["start", "restart"])
def test_systemd_start_fails(sd_node, when):
    """The service does not come up: the script fails, naming journalctl,
    and provisioning.log says so, with the service's own last lines."""
    root = sd_node["root"]
    before = len(sd_log(root))
    (root / FAKE_STATE / "fail-start").touch()
    if when == "start":
        (root / FAKE_STATE / "active").unlink()
        args = []
    else:
        args = ["--port", "2299"]  # a settings change: a restart
    r = sd_run(root, *args)
    assert r.returncode != 0, r.stderr
    msg = START_FAILED if when == "start" else "porthole.service did not restart: journalctl -u porthole"
    assert f"ERROR: {msg}" in r.stderr
    log = sd_log(root)[before:]
    assert f"ERROR: {msg}" in log, log
    assert "porthole: error: cannot bind port: Address already in use" in log, log  # why, from the journal
    assert "porthole is set up" not in log and not ready_lines(log), log
    assert when in verbs(sd_calls(root))
