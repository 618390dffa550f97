# SPDX-License-Identifier: Apache-2.0
"""A 3-host job in network namespaces (tests/netbed.py): finding, trusting and
reaching every host.

The bed: algo-1..3 and an outsider, each a network namespace on one bridge
with its own /etc/hosts, hostname, /root and fake ML root; the AWS stand-in
on the bridge.  One job with `PORTHOLE_CLUSTER_SSH=1` runs for the module
(algo-1's training command is a shell script that tries the peers and writes
what it saw to its ML root's output); the network-trust and rendezvous
timeout jobs run after it, in the same bed, one at a time (each host's SSH
endpoint is on port 22 of its namespace).

No timing assertions: bounded waits that fail with a message.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import netbed  # noqa: E402
from porthole_harness import SLOW, known_settings, wait_for  # noqa: E402
from sshutil import KEYGEN, SANITIZER_MARKS, SSH, make_key, pub  # noqa: E402

WAIT = 240 if SLOW else 120
HOSTS = ["algo-1", "algo-2", "algo-3"]
GPUS = {"algo-1": 0, "algo-2": 4, "algo-3": 0}  # slots = GPUs, or 1
PDSH = shutil.which("pdsh", path="/usr/bin:/bin")

pytestmark = pytest.mark.skipif(netbed.available() is not None, reason=f"no netbed: {netbed.available()}")


def cluster_env(porthole, **extra):
    """Settings for a cluster job; a binary without the cluster settings fails the tests that need them."""
    e = {"PORTHOLE_SSH": "embedded", "PORTHOLE_LOG_LEVEL": "debug", "PORTHOLE_HOLD": "never"}
    if "PORTHOLE_CLUSTER_SSH" in known_settings(porthole):
        e["PORTHOLE_CLUSTER_SSH"] = "1"
        e["PORTHOLE_RENDEZVOUS_TIMEOUT"] = "2m"
    e.update(extra)
    return e


def need_cluster(porthole):
    if "PORTHOLE_CLUSTER_SSH" not in known_settings(porthole):
        pytest.fail(f"{porthole} does not know PORTHOLE_CLUSTER_SSH (`porthole config --json`)")


def peer_script(run, hostfile, pdsh=True):
    """algo-1's training command: reach the peers, record the results in OUT, then keep training."""
    out = run.output
    fan = '''
mkdir -p "$OUT/fan"
for h in $(awk '{print $1}' "$HF"); do
  ( ssh -o BatchMode=yes "$h" hostname > "$OUT/fan/$h.out" 2> "$OUT/fan/$h.err"; echo $? > "$OUT/fan/$h.rc" ) &
done
wait
'''
    pdsh_part = f'''
if [ -x "{PDSH}" ]; then
  PDSH_SSH_ARGS_APPEND="-o BatchMode=yes" {PDSH} -R ssh -w "$(awk '{{print $1}}' "$HF" | paste -sd, -)" hostname \\
      > "$OUT/pdsh.out" 2> "$OUT/pdsh.err"
  echo $? > "$OUT/pdsh.rc"
fi
''' if pdsh and PDSH else ""
    body = f'''#!/bin/sh
OUT="{out}"
HF="{hostfile}"
ls -la /root /root/.ssh > "$OUT/home.ls" 2>&1
cp "$HF" "$OUT/hostfile.seen" 2>/dev/null
ssh -G algo-2 > "$OUT/ssh-G.algo-2" 2>&1
ssh -o BatchMode=yes algo-2 hostname > "$OUT/algo-2.out" 2> "$OUT/algo-2.err"; echo $? > "$OUT/algo-2.rc"
ssh -o BatchMode=yes algo-3 true > "$OUT/algo-3.out" 2> "$OUT/algo-3.err"; echo $? > "$OUT/algo-3.rc"
{fan}
{pdsh_part}
touch "$OUT/done"
exec sleep 3600
'''
    p = run.root / "train.sh"
    p.write_text(body)
    p.chmod(0o755)
    return p


def read(p: Path) -> str:
    try:
        return p.read_text()
    except OSError as e:
        return f"<{e}>"


def wait_done(run, timeout=WAIT):
    def done():
        if (run.output / "done").exists():
            return True
        if not run.alive():
            raise AssertionError(f"porthole on {run.name} exited ({run.proc.returncode})\n{run.describe()}")
        return False
    try:
        wait_for(done, timeout=timeout, interval=0.2, what=f"{run.name}'s training script to finish")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{run.describe()}") from None


def check_fan(run, hosts):
    """The script's fan-out (one backgrounded ssh per hostfile line) reached every host."""
    out = run.output
    seen = read(out / "hostfile.seen")
    for h in hosts:
        assert read(out / "fan" / f"{h}.rc").strip() == "0", (
            f"fan-out to {h}: {read(out / 'fan' / f'{h}.err')}\nhostfile:\n{seen}\n{run.describe()}")
        assert read(out / "fan" / f"{h}.out").strip() == h


def ssh_G(run, target):
    """`ssh -G TARGET` in the host: the effective client options (repeated ones joined by spaces)."""
    r = run.exec([SSH, "-G", target])
    assert r.returncode == 0, r.stderr
    opts = {}
    for ln in r.stdout.splitlines():
        k, _, v = ln.partition(" ")
        if k:
            opts[k] = f"{opts[k]} {v}" if k in opts else v
    return opts


def events_named(run, name):
    return [e for e in run.events() if e.get("event") == name]


def ed_key(text):
    """'ssh-ed25519 AAAA... comment' -> 'ssh-ed25519 AAAA...'"""
    return " ".join(text.split()[:2])


# ---- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def bed(porthole_path):
    with netbed.NetBed(hosts=3, outsider=True, porthole=porthole_path) as b:
        yield b


@pytest.fixture(autouse=True)
def no_sanitizer_reports(request):
    """After each test on the bed: no sanitizer report from any porthole it ran (SAN=1 builds)."""
    yield
    if "bed" not in request.fixturenames:
        return
    for run in request.getfixturevalue("bed").runs:
        err = run.stderr
        assert not any(m in err for m in SANITIZER_MARKS), f"sanitizer report on {run.name} ({run.job}):\n{err}"


@pytest.fixture(scope="module")
def laptop(bed, tmp_path_factory):
    """The user's side in the root namespace: its own HOME, a test key, AWS settings for the stand-in."""
    d = tmp_path_factory.mktemp("laptop")
    key = make_key(d / "id_user")
    env = {"PATH": netbed.BASE_PATH, "HOME": str(d), "LANG": "C.UTF-8", **bed.aws_env()}
    return {"dir": d, "key": key, "env": env}


@pytest.fixture(scope="module")
def job(bed, laptop, porthole_path):
    """The main job: 3 hosts with PORTHOLE_CLUSTER_SSH=1 and the laptop's key authorized;
    algo-1 runs the peer script, algo-2 and algo-3 train (sleep)."""
    runs = bed.new_runs("job-cluster")
    # algo-3's image has a ~/.ssh/config of its own (no key): porthole's block goes on top, the rest stays.
    (runs["algo-3"].home / ".ssh").mkdir(mode=0o700)
    (runs["algo-3"].home / ".ssh" / "config").write_text("Host example-user-host\n    User someone\n")
    for r in runs.values():
        assert not any((r.home / ".ssh").glob("id_*")), "no key in the image"
    runs["algo-2"].gpus = GPUS["algo-2"]  # a GPU instance: /dev/nvidia0..3 in its mount namespace
    script = peer_script(runs["algo-1"], runs["algo-1"].hostfile)
    env = cluster_env(porthole_path, PORTHOLE_AUTHORIZED_KEYS=pub(laptop["key"]))
    for name, r in runs.items():
        cmd = [str(script)] if name == "algo-1" else ["sleep", "3600"]
        r.start(["run", "--", *cmd], env)
    for r in runs.values():
        r.wait_ready(timeout=WAIT)
    yield runs
    bed.stop_runs()


def laptop_cli(bed, laptop, *args, timeout=WAIT):
    return subprocess.run([bed.porthole, *args], env=laptop["env"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def wait_listed(bed, laptop, job_name, n):
    def check():
        r = laptop_cli(bed, laptop, "hosts", job_name, "--json")
        if r.returncode != 0:
            return None
        doc = json.loads(r.stdout)
        return doc if len(doc["hosts"]) >= n else None
    return wait_for(check, timeout=WAIT, interval=0.5, what=f"{n} hosts of {job_name} listed")


def keyscan(ip):
    r = subprocess.run(["ssh-keyscan", "-T", "20", "-t", "ed25519", ip], capture_output=True, text=True,
                       timeout=WAIT)
    lines = [ln for ln in r.stdout.splitlines() if ln and not ln.startswith("#")]
    assert lines, f"ssh-keyscan {ip}: {r.stderr}"
    return ed_key(lines[0].split(None, 1)[1])


def fingerprint(key_text, tmp):
    f = tmp / "k.pub"
    f.write_text(key_text + "\n")
    r = subprocess.run([KEYGEN, "-l", "-E", "sha256", "-f", str(f)], capture_output=True, text=True, check=True)
    return r.stdout.split()[1]


# ---- the user side: porthole hosts / porthole ssh from the root namespace ------------


def test_hosts_lists_three_hosts_with_their_ips_and_keys(bed, laptop, job, tmp_path):
    last = {}

    def all_training():
        doc = last["doc"] = wait_listed(bed, laptop, "job-cluster", 3)
        return doc if all(h["state"] == "training" for h in doc["hosts"]) else None
    try:
        doc = wait_for(all_training, timeout=WAIT, interval=0.5, what="3 hosts listed as training")
    except AssertionError as e:
        raise AssertionError(f"{e}; last listing: {last.get('doc')}\n" +
                             "\n".join(r.describe() for r in job.values())) from None
    listed = {h["host"]: h for h in doc["hosts"]}
    assert sorted(listed) == HOSTS, doc
    for name, run in job.items():
        rec = run.ready
        st = run.status()
        h = listed[name]
        assert h["ip"] == bed.host(name).ip == rec["ip"] == st["ip"], (h, rec, st)
        assert h["port"] == rec["port"] == 22
        assert h["host_key"] == rec["host_key"] and h["fingerprint"] == rec["fingerprint"], (h, rec)
        # And it is the key the host's SSH endpoint really presents.
        served = keyscan(h["ip"])
        assert served == ed_key(rec["host_key"])
        assert fingerprint(served, tmp_path) == h["fingerprint"]
        assert h["gone"] is False and h["state"] == "training", h
    table = laptop_cli(bed, laptop, "hosts", "job-cluster")
    assert table.returncode == 0, table.stderr
    rows = {ln.split()[0]: ln for ln in table.stdout.splitlines()[1:] if ln.strip()}
    assert sorted(rows) == HOSTS
    for name in HOSTS:
        assert bed.host(name).ip in rows[name].split() and listed[name]["fingerprint"] in rows[name]


def test_porthole_ssh_verifies_strictly_without_prompt(bed, laptop, job):
    wait_listed(bed, laptop, "job-cluster", 3)
    r = laptop_cli(bed, laptop, "ssh", "job-cluster", "algo-2", "--", "-F", "/dev/null", "-i", str(laptop["key"]),
                   "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "hostname")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "algo-2"
    assert "yes/no" not in r.stderr and "authenticity" not in r.stderr.lower(), r.stderr
    kh = laptop["dir"] / ".cache" / "porthole" / "known_hosts"
    assert netbed.parse_known_hosts(kh.read_text())["job-cluster.algo-2.porthole"] == {
        ed_key(job["algo-2"].ready["host_key"])}


# ---- inside the job: PORTHOLE_CLUSTER_SSH=1 ----------------------------------------


def test_training_command_reaches_every_host_verified(bed, job, porthole_path):
    need_cluster(porthole_path)
    a1 = job["algo-1"]
    wait_done(a1)
    out = a1.output
    ls = read(out / "home.ls")
    for f in ("id_ed25519", "id_rsa", "id_ecdsa"):
        assert f not in ls, f"an image key {f} in /root/.ssh:\n{ls}"
    assert read(out / "algo-2.rc").strip() == "0", read(out / "algo-2.err") + a1.describe()
    assert read(out / "algo-2.out").strip() == "algo-2"
    assert read(out / "algo-3.rc").strip() == "0", read(out / "algo-3.err") + a1.describe()
    g = {ln.split(None, 1)[0]: ln.split(None, 1)[-1] for ln in read(out / "ssh-G.algo-2").splitlines() if ln}
    assert g.get("stricthostkeychecking") == "true", g
    assert g.get("hostname") in ("algo-2", bed.host("algo-2").ip), g
    # The fan-out: every host the hostfile lists, algo-1 itself included.
    listed = [ln.split()[0] for ln in read(out / "hostfile.seen").splitlines() if ln.strip()]
    assert "algo-2 slots=4" in read(out / "hostfile.seen")
    assert listed == HOSTS, read(out / "hostfile.seen")
    check_fan(a1, listed)
    if PDSH:
        assert read(out / "pdsh.rc").strip() == "0", read(out / "pdsh.err")
        lines = sorted(read(out / "pdsh.out").splitlines())
        assert lines == [f"{h}: {h}" for h in HOSTS], read(out / "pdsh.out") + read(out / "pdsh.err")


def test_every_host_reaches_every_other_host(bed, job, porthole_path):
    """Verified both ways: each host's own known_hosts, config and key, as any process of the job sees them."""
    need_cluster(porthole_path)
    wait_done(job["algo-1"])
    for src in HOSTS:
        for dst in HOSTS:
            r = job[src].exec([SSH, "-o", "BatchMode=yes", dst, "hostname"], timeout=WAIT)
            assert r.returncode == 0 and r.stdout.strip() == dst, f"{src} -> {dst}: {r.stderr}"
            # By address too: the known_hosts entries name the IPs.
            # (IP addresses are not under `Host algo-*`: name the key and known_hosts file.)
            r = job[src].exec([SSH, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                               "-o", "UserKnownHostsFile=/root/.ssh/porthole_known_hosts",
                               "-i", "/root/.ssh/porthole_cluster_ed25519", f"root@{bed.host(dst).ip}", "hostname"],
                              timeout=WAIT)
            assert r.returncode == 0 and r.stdout.strip() == dst, f"{src} -> {bed.host(dst).ip}: {r.stderr}"


def test_a_host_presenting_another_key_is_refused(bed, job, porthole_path):
    """Strict checking is real: algo-2 answering for algo-3 (its key is not algo-3's) is refused."""
    need_cluster(porthole_path)
    wait_done(job["algo-1"])
    r = job["algo-1"].exec([SSH, "-o", "BatchMode=yes", "-o", "HostKeyAlias=algo-3", "algo-2", "echo", "SHOULD-NOT-RUN"],
                           timeout=WAIT)
    assert r.returncode == 255 and "SHOULD-NOT-RUN" not in r.stdout, (r.returncode, r.stdout, r.stderr)
    assert "IDENTIFICATION HAS CHANGED" in r.stderr or "host key" in r.stderr.lower(), r.stderr


def test_hostfile_and_ssh_files_of_each_host(bed, job, porthole_path):
    need_cluster(porthole_path)
    wait_done(job["algo-1"])
    keys = {n: ed_key(r.ready["host_key"]) for n, r in job.items()}
    for name, run in job.items():
        lines = [ln.split() for ln in read(run.hostfile).splitlines() if ln.strip()]
        assert lines == [[h, f"slots={GPUS[h] or 1}"] for h in HOSTS], read(run.hostfile)
        ssh_dir = run.home / ".ssh"
        priv = ssh_dir / "porthole_cluster_ed25519"
        assert priv.exists(), f"no client key on {name}: {sorted(p.name for p in ssh_dir.iterdir())}"
        assert priv.stat().st_mode & 0o077 == 0, oct(priv.stat().st_mode)
        # known_hosts: algo-N and its IP, each with the key that host published, nothing else.
        kh = netbed.parse_known_hosts(read(ssh_dir / "porthole_known_hosts"))
        expect = {}
        for h in HOSTS:
            expect[h] = {keys[h]}
            expect[bed.host(h).ip] = {keys[h]}
        assert kh == expect, read(ssh_dir / "porthole_known_hosts")
        # ~/.ssh/config: the managed block first, then whatever the image had.
        cfg = read(ssh_dir / "config")
        assert cfg.startswith("# BEGIN porthole cluster"), cfg
        block, end, rest = cfg.partition("# END porthole cluster")
        assert end, cfg
        for h in HOSTS:  # one block per host, by name and address (CLUSTER_INTERFACE.md)
            assert f"Host {h} {bed.host(h).ip}\n" in block, block
        assert "StrictHostKeyChecking yes" in block and "StrictHostKeyChecking no" not in block, block
        assert "porthole_cluster_ed25519" in block and "porthole_known_hosts" in block, block
        if name == "algo-3":
            assert "Host example-user-host" in rest and "User someone" in rest, cfg
        g = ssh_G(run, "algo-2")
        assert g["stricthostkeychecking"] == "true"
        assert any(f.endswith("porthole_cluster_ed25519") for f in g.get("identityfile", "").split()), g
        assert "porthole_known_hosts" in g.get("userknownhostsfile", ""), g
        # The client key it uses is the one it published (CloudWatch), and it said the cluster is ready.
        published = {ed_key(e["data"]["client_key"]) for e in run.events()
                     if isinstance(e.get("data"), dict) and e["data"].get("client_key")}
        assert published == {ed_key(read(ssh_dir / "porthole_cluster_ed25519.pub"))}, published
        gpus = {e["data"].get("gpus") for e in run.events() if isinstance(e.get("data"), dict) and "gpus" in e["data"]}
        assert gpus == {GPUS[name]}, (name, gpus)
        # Logged when the rendezvous ended, then sent by the publisher: it may still be on its way.
        try:
            wait_for(lambda: events_named(run, "cluster_ready"), timeout=WAIT, interval=0.5,
                     what=f"a cluster_ready event from {name}")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{run.describe()}") from None
        st = run.status()["cluster"]
        assert st["state"] == "ready" and st["trust"] == "keys" and st["hosts"] == 3, st


def outsider_tries(bed, home, with_key, targets=HOSTS):
    """From the outsider namespace: ssh to each target; its results."""
    home.mkdir(mode=0o700, exist_ok=True)
    opts = ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=20", "-o", "IdentitiesOnly=yes"]
    if with_key:
        (home / ".ssh").mkdir(mode=0o700, exist_ok=True)
        key = home / ".ssh" / "id_ed25519"
        if not key.exists():
            make_key(key)
        opts += ["-i", "/root/.ssh/id_ed25519"]
    res = {}
    for t in targets:
        for addr in (t, bed.host(t).ip):
            r = bed.exec(bed.outsider, [SSH, *opts, f"root@{addr}", "echo", "SHOULD-NOT-RUN"], home=home,
                         env={"PATH": netbed.BASE_PATH, "HOME": "/root"}, timeout=WAIT)
            res[addr] = r
    return res


def assert_refused(res):
    for addr, r in res.items():
        assert r.returncode == 255 and "SHOULD-NOT-RUN" not in r.stdout, f"{addr}: {r.returncode} {r.stdout} {r.stderr}"
        assert "Permission denied" in r.stderr, f"{addr}: {r.stderr}"


def test_outsider_is_refused(bed, job, tmp_path, porthole_path):
    need_cluster(porthole_path)
    wait_done(job["algo-1"])
    assert_refused(outsider_tries(bed, tmp_path / "nothing", with_key=False))
    assert_refused(outsider_tries(bed, tmp_path / "own-key", with_key=True))


# ---- CloudWatch unreadable: PORTHOLE_CLUSTER_TRUST=network -----------------------------


def test_network_trust_when_cloudwatch_is_unreadable(bed, tmp_path, porthole_path):
    need_cluster(porthole_path)
    bed.stop_runs()  # the main job's endpoints hold port 22 of each namespace
    control = bed.standin.control
    mark = control.requests()["last_seq"]
    control.add_fault("access_denied", service="logs", operation="FilterLogEvents", count=None)
    try:
        runs = bed.new_runs("job-nettrust")
        hf = runs["algo-1"].root / "hf" / "hostfile"
        for r in runs.values():
            (r.root / "hf").mkdir()  # porthole writes the file, not its directory
        script = peer_script(runs["algo-1"], hf, pdsh=False)
        env = cluster_env(porthole_path, PORTHOLE_CLUSTER_TRUST="network")
        for name, r in runs.items():
            cmd = [str(script)] if name == "algo-1" else ["sleep", "3600"]
            e = dict(env)
            e["PORTHOLE_HOSTFILE"] = str(r.root / "hf" / "hostfile")
            r.start(["run", "--", *cmd], e)
        a1 = runs["algo-1"]
        wait_done(a1)
        out = a1.output
        # The premise: reads were denied.
        denied = [q for q in control.requests(since=mark, operation="FilterLogEvents")["requests"]
                  if q.get("error") == "AccessDeniedException"]
        assert denied, "no FilterLogEvents was denied: the test did not test the fallback"
        if read(out / "algo-2.rc").strip() != "0":
            later = a1.exec([SSH, "-o", "BatchMode=yes", "algo-2", "hostname"], timeout=WAIT)
            raise AssertionError(
                "`ssh algo-2` from algo-1's training command failed at training start "
                + ("but works now: the training started before algo-2 trusted algo-1 (no confirmation round "
                   "in network mode)" if later.returncode == 0 else f"and still fails: {later.stderr}")
                + f"\n{read(out / 'algo-2.err')}\n" + "\n".join(r.describe() for r in runs.values()))
        assert read(out / "algo-2.out").strip() == "algo-2"
        assert read(out / "algo-3.rc").strip() == "0", read(out / "algo-3.err") + a1.describe()
        check_fan(a1, HOSTS)
        lines = [ln.split() for ln in read(hf).splitlines() if ln.strip()]
        assert [ln[0] for ln in lines] == HOSTS, read(hf)
        g = ssh_G(a1, "algo-3")
        assert g["stricthostkeychecking"] == "accept-new", g
        for name, r in runs.items():
            st = r.status()["cluster"]
            assert st["state"] == "ready" and st["trust"] == "network", (name, st)
            # Logged at the fallback, then sent by the publisher: it may still be on its way.
            try:
                wait_for(lambda: events_named(r, "cluster_network_trust"), timeout=WAIT, interval=0.5,
                         what=f"a cluster_network_trust event from {name}")
            except AssertionError as e:
                raise AssertionError(f"{e}\n{r.describe()}") from None
        # Still not an open door: the outsider is not one of the job's hosts.
        assert_refused(outsider_tries(bed, tmp_path / "nothing", with_key=False))
        assert_refused(outsider_tries(bed, tmp_path / "own-key", with_key=True))
    finally:
        control.clear_faults()
        bed.stop_runs()


# ---- the roster: the leader hands every record to the others ----------------------------


def roster_stream(job_name):
    return f"{job_name}/porthole-roster"


def rosters(bed, job_name):
    """The roster stream's events, read back with the real aws CLI, their messages parsed."""
    if roster_stream(job_name) not in bed.streams(f"{job_name}/"):
        return []
    events = bed.standin.aws_get_log_events(netbed.LOG_GROUP, roster_stream(job_name))
    return [json.loads(e["message"]) for e in events]


def start_training(runs, porthole_path):
    """Start porthole with cluster SSH on every host, each with a training
    command that says it started; wait for every command and record."""
    for r in runs.values():
        r.start(["run", "--", "sh", "-c", f'echo started > "{r.output}/started"; exec sleep 3600'],
                cluster_env(porthole_path))
    for r in runs.values():
        wait_for(lambda: (r.output / "started").exists(), timeout=WAIT, interval=0.2,
                 what=f"{r.name}'s training command")
        r.wait_ready(timeout=WAIT)


def via(run):
    """How the host's rendezvous finished: "roster" or "records" (its cluster_ready event)."""
    ev = wait_for(lambda: events_named(run, "cluster_ready"), timeout=WAIT, interval=0.5,
                  what=f"a cluster_ready event from {run.name}")
    return ev[-1]["data"].get("via")


def published(run):
    rec = run.ready
    return {"host_key": ed_key(rec["host_key"]), "client_key": ed_key(rec["client_key"])}


def check_roster_entries(roster, runs):
    assert roster["porthole"] == "roster" and roster["leader"] == "algo-1", roster
    entries = {h["host"]: h for h in roster["hosts"]}
    assert sorted(entries) == HOSTS, roster
    for name, run in runs.items():
        e = entries[name]
        assert {"host_key": ed_key(e["host_key"]), "client_key": ed_key(e["client_key"])} == published(run), name
        assert e["ip"] == run.ready["ip"] and e["port"] == run.ready["port"], (e, run.ready)


def test_roster_stream_holds_one_event_naming_every_host(bed, job, porthole_path):
    # The main job: algo-1, the leader, wrote one roster once it had every
    # record; algo-2 and algo-3 read its stream (GetLogEvents), algo-1 never did.
    need_cluster(porthole_path)
    wait_done(job["algo-1"])
    for r in job.values():
        via(r)
    (roster,) = rosters(bed, "job-cluster")
    check_roster_entries(roster, job)
    gets = {h: [q for q in qs if q.get("logStreamName") == roster_stream("job-cluster")]
            for h, qs in bed.requests_by_host(operation="GetLogEvents").items()}
    assert gets.get("algo-2") and gets.get("algo-3"), gets
    assert not gets.get("algo-1"), gets["algo-1"]


def test_followers_finish_through_the_roster_ignoring_a_stale_one(bed, porthole_path):
    # An earlier attempt of the job (managed spot reuses job names) left a
    # roster with other keys; then the job runs with algo-2's and algo-3's
    # FilterLogEvents throttled without end, so only the roster can finish
    # their rendezvous.  They ignore the stale roster, take algo-1's new one,
    # and pin the keys the hosts published now.
    need_cluster(porthole_path)
    bed.stop_runs()
    job_name = "job-roster"
    logs = bed.standin.logs_client()
    stale_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHstalestalestalestalestalestalestalestale00"
    stale = {"porthole": "roster", "version": 1, "job": job_name, "leader": "algo-1",
             "hosts": [{"host": h, "ip": f"10.99.0.{i}", "port": 22, "host_key": stale_key,
                        "client_key": f"{stale_key} porthole-cluster@{h}", "gpus": 0, "record_ms": 1}
                       for i, h in enumerate(HOSTS, 1)]}
    logs.create_log_stream(logGroupName=netbed.LOG_GROUP, logStreamName=roster_stream(job_name))
    logs.put_log_events(logGroupName=netbed.LOG_GROUP, logStreamName=roster_stream(job_name),
                        logEvents=[{"timestamp": int(time.time() * 1000) - 60000, "message": json.dumps(stale)}])
    ctl = bed.standin.control
    runs = bed.new_runs(job_name)
    mark = ctl.requests()["last_seq"]
    try:
        for name in ("algo-2", "algo-3"):
            ctl.add_fault("throttle", service="logs", operation="FilterLogEvents", count=None,
                          access_key=runs[name].credentials["AWS_ACCESS_KEY_ID"])
        start_training(runs, porthole_path)
    finally:
        ctl.clear_faults()
    assert {n: via(r) for n, r in runs.items()} == {"algo-1": "records", "algo-2": "roster", "algo-3": "roster"}
    # The stale roster, then algo-1's.
    old, new = rosters(bed, job_name)
    assert old == stale
    check_roster_entries(new, runs)
    keys = {n: ed_key(r.ready["host_key"]) for n, r in runs.items()}
    for name, r in runs.items():
        kh = netbed.parse_known_hosts(read(r.home / ".ssh" / "porthole_known_hosts"))
        assert kh == {k: {keys[h]} for h in HOSTS for k in (h, bed.host(h).ip)}, (name, kh)
        authorized = read(r.sock.parent / "authorized_keys.cluster")
        assert stale_key.split()[1] not in authorized and all(
            ed_key(x.ready["client_key"]).split()[1] in authorized for x in runs.values()), authorized
        assert r.status()["cluster"] == {"state": "ready", "hosts": 3, "of": 3, "trust": "keys"}
    for name in ("algo-2", "algo-3"):
        assert "roster has other keys for this host" in runs[name].stderr, runs[name].describe()
    by_host = bed.requests_by_host(since=mark)
    # Only the leader's FilterLogEvents calls were answered; the others got
    # there through GetLogEvents on the roster's stream.
    answered = {h: [q for q in qs if q["operation"] == "FilterLogEvents" and q.get("error") is None]
                for h, qs in by_host.items()}
    assert answered.get("algo-1") and not answered.get("algo-2") and not answered.get("algo-3"), answered
    for name in ("algo-2", "algo-3"):
        assert any(q["operation"] == "GetLogEvents" and q.get("logStreamName") == roster_stream(job_name)
                   for q in by_host.get(name, [])), name
    bed.stop_runs()


def test_leader_may_not_write_the_roster_everyone_finishes_through_the_records(bed, porthole_path):
    # The job's role lacks logs:CreateLogStream/logs:PutLogEvents on the
    # roster's stream: algo-1 says so once, naming both actions, and every
    # host still finishes by searching the records itself.
    need_cluster(porthole_path)
    bed.stop_runs()
    job_name = "job-noroster"
    ctl = bed.standin.control
    runs = bed.new_runs(job_name)
    try:
        for op in ("CreateLogStream", "PutLogEvents"):
            ctl.add_fault("access_denied", service="logs", operation=op, count=None,
                          stream=roster_stream(job_name))
        start_training(runs, porthole_path)
        assert {n: via(r) for n, r in runs.items()} == {h: "records" for h in HOSTS}
    finally:
        ctl.clear_faults()
    warns = [ln for ln in runs["algo-1"].stderr.splitlines() if "roster" in ln and "warn" in ln.lower()]
    assert len(warns) == 1, runs["algo-1"].describe()
    assert "logs:CreateLogStream" in warns[0] and "logs:PutLogEvents" in warns[0], warns[0]
    assert rosters(bed, job_name) == []
    for r in runs.values():
        assert r.status()["cluster"] == {"state": "ready", "hosts": 3, "of": 3, "trust": "keys"}
        assert not [ln for ln in r.stderr.splitlines() if ": error:" in ln and "cluster" in ln], r.describe()
    bed.stop_runs()


# ---- a host that never publishes -------------------------------------------------------


def test_rendezvous_times_out_naming_the_missing_host(bed, porthole_path):
    need_cluster(porthole_path)
    bed.stop_runs()
    runs = bed.new_runs("job-missing", hosts=HOSTS, nodes=["algo-1", "algo-2"])  # algo-3 never starts
    mark, t0 = bed.standin.control.requests()["last_seq"], time.time()
    for r in runs.values():
        r.start(["run", "--", "sh", "-c", f'echo started > "{r.output}/started"; exit 7'],
                # Short, but long enough for algo-2's record to get through FilterLogEvents'
                # 5/s quota (throttled polls are retried with backoff): only algo-3 is missing.
                cluster_env(porthole_path, PORTHOLE_RENDEZVOUS_TIMEOUT="15s"))
    for name, r in runs.items():
        assert r.wait_exit(timeout=WAIT) == 7, r.describe()
        assert read(r.output / "started").strip() == "started", r.describe()
        lines = [ln for ln in r.stderr.splitlines() if "rendezvous" in ln.lower()
                 and ("error" in ln.lower() or "warning" in ln.lower())]
        assert any("algo-3" in ln for ln in lines), f"no rendezvous error naming algo-3 on {name}\n{r.describe()}"
        ev = wait_for(lambda: events_named(r, "rendezvous_timeout"), timeout=WAIT, interval=0.5,
                      what=f"a rendezvous_timeout event from {name}")
        assert "algo-3" in json.dumps(ev), ev
        missing = [m for e in ev for m in (e.get("data") or {}).get("missing", [])]
        if missing and set(missing) != {"algo-3"}:
            listing = subprocess.run([bed.porthole, "hosts", "job-missing", "--json"], capture_output=True, text=True,
                                     env={"PATH": netbed.BASE_PATH, "HOME": str(bed.tmp), **bed.aws_env()},
                                     timeout=WAIT)
            calls = {h: [(round(q["time"] - t0, 2), q.get("error")) for q in v]
                     for h, v in bed.requests_by_host(since=mark, operation="FilterLogEvents").items()}
            raise AssertionError(f"{name} says {missing} never published, but only algo-3 did not; "
                                 f"`porthole hosts` lists: {listing.stdout or listing.stderr}\n"
                                 f"FilterLogEvents calls by host (s after start, error): {calls}\n"
                                 + "\n".join(x.describe() for x in runs.values()))
        assert not (r.home / ".ssh" / "porthole_known_hosts").exists() or "algo-3" not in read(
            r.home / ".ssh" / "porthole_known_hosts")


# ---- the bed itself --------------------------------------------------------------------


def test_bed_teardown_leaves_nothing(porthole_path):
    """After close(): no namespace, link, /etc/netns dir, registry entry, temp dir or process,
    even with a process that left its process group and ignores SIGTERM."""
    with netbed.NetBed(hosts=2, outsider=True, porthole=porthole_path, standin=False) as b:
        prefix, tmp = b.prefix, b.tmp
        assert netbed.leftovers(prefix)["namespaces"]
        b.exec(b.host("algo-1"), ["sh", "-c", "setsid sh -c 'trap \"\" TERM; sleep 600' </dev/null >/dev/null 2>&1 &"])
        escaped = wait_for(lambda: netbed._ns_pids(f"{prefix}-algo-1"), timeout=10, what="the escaped process")
    assert netbed.leftovers(prefix) == {"namespaces": [], "links": [], "netns_dirs": [], "registry": []}
    assert not tmp.exists()
    for pid in escaped:
        assert not Path(f"/proc/{pid}").exists() or "State:\tZ" in read(Path(f"/proc/{pid}/status"))


def test_two_beds_at_once_do_not_collide(porthole_path):
    """Parallel runs: other names, another /24, each bed's hosts reach their bridge."""
    with netbed.NetBed(hosts=1, outsider=False, standin=False) as a, \
            netbed.NetBed(hosts=1, outsider=False, standin=False) as b:
        assert a.prefix != b.prefix and not a.subnet.overlaps(b.subnet)
        assert a.host("algo-1").ns != b.host("algo-1").ns
        probe = "import socket,sys\ns=socket.socket(); s.settimeout(3)\ntry:\n s.connect((sys.argv[1], 9))\nexcept ConnectionRefusedError:\n print('reached')\nexcept OSError as e:\n print('unreachable', e)\n"
        own = a.exec(a.host("algo-1"), [sys.executable, "-c", probe, a.bridge_ip])
        assert own.stdout.strip() == "reached", own
        own = b.exec(b.host("algo-1"), [sys.executable, "-c", probe, b.bridge_ip])
        assert own.stdout.strip() == "reached", own


def test_bed_cleans_up_when_interrupted_or_killed(tmp_path):
    """SIGTERM to the test process: its bed goes.  SIGKILL: the next bed sweeps it."""
    prog = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(Path(netbed.__file__).parent)!r})
        import netbed
        with netbed.NetBed(hosts=1, outsider=False, standin=False) as b:
            b.spawn(b.host("algo-1"), ["sleep", "600"])
            print(b.prefix, flush=True)
            time.sleep(600)
    """)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        p = subprocess.Popen([sys.executable, "-c", prog], stdout=subprocess.PIPE, text=True)
        try:
            prefix = p.stdout.readline().strip()
            assert prefix, "the bed did not start"
            assert netbed.leftovers(prefix)["namespaces"]
            p.send_signal(sig)
            p.wait(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        if sig == signal.SIGKILL:
            # (A bed of a parallel run may sweep it first: either way it must be gone after a sweep.)
            netbed.sweep_dead_beds()
        assert netbed.leftovers(prefix) == {"namespaces": [], "links": [], "netns_dirs": [], "registry": []}, sig
