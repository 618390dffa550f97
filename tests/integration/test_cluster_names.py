# SPDX-License-Identifier: Apache-2.0
"""Cluster SSH when the job's host names resolve late, or never (SageMaker:
"algo-N may not resolve immediately"), in the network-namespace bed
(tests/netbed.py, as tests/integration/test_cluster.py uses it).

A host's /etc/hosts is /etc/netns/<ns>/hosts, which `ip netns exec`
bind-mounts over /etc/hosts of every process started in that host.  A bind
mount holds the file's inode, so the tests edit the file in place (never a
new file renamed over it), and running porthole processes see the edits:
a name is taken out before porthole starts and appended later.

The bed's namespaces look host names up in files only (their own
nsswitch.conf): this machine's nameserver is not reachable from them, and
every failed lookup would wait out the resolver's timeouts (10 s or more).

No timing assertions: bounded waits on what porthole writes, logs and
answers.  Sleeps only make a name appear late.
"""

import os
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import netbed  # noqa: E402
from porthole_harness import SLOW, wait_for  # noqa: E402
from sshutil import SSH  # noqa: E402
# The cluster tests' settings and helpers, and their check that no porthole
# of the bed printed a sanitizer report (an autouse fixture, here for this
# module's bed).
from test_cluster import (HOSTS, WAIT, cluster_env, events_named, need_cluster,  # noqa: E402,F401
                          no_sanitizer_reports, read, wait_done)

pytestmark = pytest.mark.skipif(netbed.available() is not None, reason=f"no netbed: {netbed.available()}")


# ---- the bed: 3 hosts whose /etc/hosts the tests edit ------------------------------


def hosts_file(bed, on):
    return Path("/etc/netns") / bed.host(on).ns / "hosts"


def rewrite_in_place(path, text):
    with open(path, "r+") as f:
        f.write(text)
        f.truncate()


@contextmanager
def names_hidden(bed, on, names):
    """Host ON's /etc/hosts without NAMES; restored (in place) afterwards."""
    path = hosts_file(bed, on)
    orig = path.read_text()
    kept = [ln for ln in orig.splitlines(keepends=True) if not set(ln.split()[1:]) & set(names)]
    rewrite_in_place(path, "".join(kept))
    try:
        yield path
    finally:
        rewrite_in_place(path, orig)


def add_name(bed, on, name):
    """NAME appears in host ON's /etc/hosts: appended in one write, so a
    reader sees the file before or after, and the other names throughout."""
    with open(hosts_file(bed, on), "a") as f:
        f.write(f"{bed.host(name).ip} {name}\n")


def getent(bed, on, name):
    return bed.exec(bed.host(on), ["getent", "hosts", name])


@pytest.fixture(scope="module")
def bed(porthole_path):
    with netbed.NetBed(hosts=3, outsider=False, porthole=porthole_path) as b:
        nss = Path("/etc/nsswitch.conf").read_text() if Path("/etc/nsswitch.conf").exists() else ""
        nss = re.sub(r"(?m)^hosts:.*\n?", "", nss) + "hosts: files\n"
        for node in b.nodes:
            (Path("/etc/netns") / node.ns / "nsswitch.conf").write_text(nss)
        for h in HOSTS:
            r = getent(b, "algo-1", h)
            assert r.returncode == 0 and b.host(h).ip in r.stdout, f"the bed: {h} from algo-1: {r}"
        yield b


def trusted(run):
    """The addresses in the host's network-trust file (None: no file yet)."""
    try:
        text = (run.sock.parent / "cluster_trust").read_text()
    except OSError:
        return None
    return {ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")}


def ssh_to(src_run, target, timeout=WAIT):
    """`ssh TARGET hostname` in SRC's host, as its training command would (its ~/.ssh/config)."""
    return src_run.exec([SSH, "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", target, "hostname"], timeout=timeout)


def logged(run, pred, what):
    """Wait for a line of the host's porthole log (connection processes' lines reach it through PID 1)."""
    try:
        return wait_for(lambda: [ln for ln in run.stderr.splitlines() if pred(ln)], timeout=WAIT, interval=0.2,
                        what=f"{what} in {run.name}'s log")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{run.describe()}") from None


def started(run):
    return (run.output / "started").exists()


def train_cmd(run):
    return ["run", "--", "sh", "-c", f'touch "{run.output}/started"; exec sleep 3600']


# ---- PORTHOLE_CLUSTER_TRUST=network: a peer's address is trusted once its name resolves --


def test_network_trust_takes_a_name_that_resolves_late(bed, porthole_path):
    # CloudWatch cannot be read, so algo-1 trusts the job's hosts by the
    # addresses their names resolve to.  algo-3's name is not in algo-1's
    # /etc/hosts at first: algo-1 trusts algo-1 and algo-2, refuses algo-3
    # and holds its training back; once the name appears, algo-1 trusts
    # algo-3's address, starts the training, and algo-3 gets in.
    need_cluster(porthole_path)
    control = bed.standin.control
    mark = control.requests()["last_seq"]
    control.add_fault("access_denied", service="logs", operation="FilterLogEvents", count=None)
    ip = {h: bed.host(h).ip for h in HOSTS}
    try:
        with names_hidden(bed, "algo-1", ["algo-3"]):
            assert getent(bed, "algo-1", "algo-3").returncode == 2, "algo-3 resolves in algo-1 before the test"
            runs = bed.new_runs("job-latenames-net")
            a1, a3 = runs["algo-1"], runs["algo-3"]
            for r in runs.values():
                r.start(train_cmd(r), cluster_env(porthole_path, PORTHOLE_CLUSTER_TRUST="network",
                                                  PORTHOLE_RENDEZVOUS_TIMEOUT="10m"))

            def trusts(run, want):
                def check():
                    if not run.alive():
                        raise AssertionError(f"porthole on {run.name} exited\n{run.describe()}")
                    return trusted(run) == want
                try:
                    wait_for(check, timeout=WAIT, interval=0.2,
                             what=f"{run.name} trusting exactly {sorted(want)} (has {trusted(run)})")
                except AssertionError as e:
                    raise AssertionError(f"{e}\n{run.describe()}") from None

            # algo-1 trusts what resolved, and waits for the rest.
            trusts(a1, {ip["algo-1"], ip["algo-2"]})
            for h in ("algo-2", "algo-3"):
                trusts(runs[h], set(ip.values()))
                wait_for(lambda: runs[h].status()["cluster"]["state"] == "ready", timeout=WAIT, interval=0.2,
                         what=f"{h}'s cluster SSH ready")
            denied = [q for q in control.requests(since=mark, operation="FilterLogEvents")["requests"]
                      if q.get("error") == "AccessDeniedException"]
            assert denied, "no FilterLogEvents was denied: the test did not test network trust"
            # algo-3's client key is in no authorized keys source of algo-1's, and
            # its address is not trusted yet: refused (after the login is held
            # while algo-1's rendezvous decides).
            r = ssh_to(a3, "algo-1")
            assert r.returncode == 255 and "Permission denied" in r.stderr, (r.returncode, r.stdout, r.stderr)
            logged(a1, lambda ln: f"ssh {ip['algo-3']}:" in ln and "refused" in ln, "algo-3's refused login")
            st = a1.status()
            assert st["cluster"]["state"] == "rendezvous" and not started(a1), (st, a1.describe())
            assert trusted(a1) == {ip["algo-1"], ip["algo-2"]}
            assert getent(bed, "algo-1", "algo-3").returncode == 2

            time.sleep(2)  # a little later again: the name appears
            add_name(bed, "algo-1", "algo-3")
            trusts(a1, set(ip.values()))
            wait_for(lambda: started(a1), timeout=WAIT, interval=0.2, what="algo-1's training command")
            st = a1.status()["cluster"]
            assert st == {"state": "ready", "hosts": 3, "of": 3, "trust": "network"}, st
            r = ssh_to(a3, "algo-1")
            assert r.returncode == 0 and r.stdout.strip() == "algo-1", (r.returncode, r.stderr, a1.describe())
            logged(a1, lambda ln: "logged in" in ln and ip["algo-3"] in ln and "cluster network trust" in ln,
                   "algo-3's login by network trust")
            ready = wait_for(lambda: events_named(a1, "cluster_ready"), timeout=WAIT, interval=0.5,
                             what="algo-1's cluster_ready event")
            assert ready[-1]["data"]["hosts"] == 3 and ready[-1]["data"]["trust"] == "network", ready
            assert "did not resolve" not in a1.stderr and not events_named(a1, "cluster_unresolved"), a1.describe()
    finally:
        control.clear_faults()
        bed.stop_runs()


# ---- keys: names are only checked, after the training has started ---------------------


# The names are looked up for NAMES_GRACE (2 minutes) after the training has
# started, but not past PORTHOLE_RENDEZVOUS_TIMEOUT counted from porthole's
# start: a shorter timeout brings the warning sooner.
RENDEZVOUS_S = 90 if SLOW else 60


def test_keys_mode_warns_only_about_names_that_never_resolve(bed, porthole_path):
    # In algo-1's /etc/hosts, algo-2 appears only after the training has
    # started, algo-3 never.  The rendezvous goes through the records; the
    # training command reaches both through ~/.ssh/config's HostName; in the
    # end algo-1 warns about algo-3 alone (algo-2 resolved in time).
    need_cluster(porthole_path)
    try:
        with names_hidden(bed, "algo-1", ["algo-2", "algo-3"]):
            for h in ("algo-2", "algo-3"):
                assert getent(bed, "algo-1", h).returncode == 2, f"{h} resolves in algo-1 before the test"
            runs = bed.new_runs("job-latenames-keys")
            a1 = runs["algo-1"]
            out = a1.output
            script = a1.root / "train.sh"
            script.write_text(f'''#!/bin/sh
OUT="{out}"
getent hosts algo-3 > "$OUT/getent.out"; echo $? > "$OUT/getent.rc"
for h in algo-2 algo-3; do
  ssh -o BatchMode=yes -o ConnectTimeout=20 "$h" hostname > "$OUT/$h.out" 2> "$OUT/$h.err"; echo $? > "$OUT/$h.rc"
done
touch "$OUT/done"
exec sleep 3600
''')
            script.chmod(0o755)
            env = cluster_env(porthole_path, PORTHOLE_RENDEZVOUS_TIMEOUT=f"{RENDEZVOUS_S}s")
            t0 = time.monotonic()
            for name, r in runs.items():
                r.start(["run", "--", str(script)] if name == "algo-1" else train_cmd(r), env)
            wait_done(a1)
            st = a1.status()["cluster"]
            assert st == {"state": "ready", "hosts": 3, "of": 3, "trust": "keys"}, (st, a1.describe())
            assert read(out / "getent.rc").strip() == "2", read(out / "getent.out")
            for h in ("algo-2", "algo-3"):
                assert read(out / f"{h}.rc").strip() == "0", f"ssh {h}: {read(out / f'{h}.err')}\n{a1.describe()}"
                assert read(out / f"{h}.out").strip() == h
            # Too late for the names' first lookups, in time for a later one.
            time.sleep(2)
            add_name(bed, "algo-1", "algo-2")

            def warned():
                if not a1.alive():
                    raise AssertionError(f"porthole on algo-1 exited\n{a1.describe()}")
                return [ln for ln in a1.stderr.splitlines() if "did not resolve" in ln]
            try:
                lines = wait_for(warned, timeout=RENDEZVOUS_S + WAIT - (time.monotonic() - t0), interval=0.5,
                                 what="algo-1's warning about the name that never resolved")
            except AssertionError as e:
                raise AssertionError(f"{e}\n{a1.describe()}") from None
            assert len(lines) == 1 and "warning" in lines[0], lines
            assert "cluster SSH: algo-3 did not resolve;" in lines[0] and "algo-2" not in lines[0], lines[0]
            assert "~/.ssh/config (HostName)" in lines[0], lines[0]
            ev = wait_for(lambda: events_named(a1, "cluster_unresolved"), timeout=WAIT, interval=0.5,
                          what="algo-1's cluster_unresolved event")
            assert len(ev) == 1 and ev[0]["data"]["unresolved"] == ["algo-3"], ev
            # The hosts where every name resolves say nothing.
            for h in ("algo-2", "algo-3"):
                assert "did not resolve" not in runs[h].stderr and not events_named(runs[h], "cluster_unresolved"), (
                    runs[h].describe())
            # Still: the names algo-1 cannot resolve do not stop ssh (HostName).
            r = ssh_to(a1, "algo-3")
            assert r.returncode == 0 and r.stdout.strip() == "algo-3", r.stderr
            assert getent(bed, "algo-1", "algo-3").returncode == 2
    finally:
        bed.stop_runs()
