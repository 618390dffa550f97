# SPDX-License-Identifier: Apache-2.0
"""Acceptance of the static binary (issue 12): the same file, PORTHOLE_STATIC_BIN,
runs as PID 1 (`porthole run -- CMD`) in roots that hold none of its libraries:

    bullseye  Debian 11 minbase (glibc 2.31, as Ubuntu 20.04)
    bookworm  Debian 12 minbase
    trixie    Debian 13 minbase (glibc 2.41, libssh 0.11 in its archive)
    busybox   Debian's busybox-static and its applets only: no libc, no CA certificates

The network (tests/static/staticbed.py): job hosts algo-1..3 in network
namespaces, the AWS stand-in on the bridge serving HTTPS with a throwaway test
CA at https://logs.standin.test:PORT, dnsmasq as the DNS server.  Per root:

- algo-1 ("dns" run): /etc/hosts holds only localhost, /etc/resolv.conf names
  dnsmasq; the CA is only in AWS_CA_BUNDLE (the roots have no CA bundle).
  The host's OpenSSH client logs in (host key from the ready record) for
  exec, a PTY shell, sftp of 64 MiB and an -L forward to `algo-2` by name.
- algo-2 ("hosts" run): the names are in /etc/hosts (dnsmasq must see no
  query for them) and the CA is in the image's own bundle,
  /etc/ssl/certs/ca-certificates.crt, with no AWS_CA_BUNDLE.
- algo-3: bad input (a missing AWS_CA_BUNDLE file, an unresolvable endpoint
  name): a clear error, and the training command still runs and its exit
  code is porthole's.

And once, in bullseye (PORTHOLE_STATIC_CLUSTER_SUITE), a 2-host job with
PORTHOLE_CLUSTER_SSH=1 whose training command is `ssh algo-2 hostname`.

Every run's processes, mounts and files go at the end of its test (or of
the module, for the shared runs), pass or fail; the bed's teardown ends
whatever is left in its namespaces.  Waits are generous upper bounds.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from porthole_harness import wait_for  # noqa: E402
from rootbed import RootRun, SshClient, hosts_file, ml_files  # noqa: E402
from sshutil import pub, sha256_file  # noqa: E402
from staticbed import ENDPOINT_NAME, StaticBed  # noqa: E402

ROOTS = ["bullseye", "bookworm", "trixie", "busybox"]
WAIT = 180  # upper bound for anything "soon" on a loaded 2-core machine
CA_IN_ROOT = "/usr/local/share/porthole-test/ca.pem"  # what AWS_CA_BUNDLE names
IMAGE_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # Debian's (and Alpine's) system bundle
ECHO_PORT = 7007
TRAINING = ["/bin/sh", "-c", "echo training-started; exec sleep 3600"]

# A TCP server for -L forwards, run in a job host's namespace: answers "<hostname> <what it got>".
ECHO = r'''
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
me = socket.gethostname().encode()
while True:
    c, _ = s.accept()
    with c:
        c.sendall(me + b" " + c.recv(4096))
'''


# ---- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module", params=ROOTS)
def root_name(request):
    return request.param


@pytest.fixture(scope="module")
def echo_servers(bed):
    """The -L forward targets: ECHO on port 7007 of algo-1 and algo-2."""
    procs = []
    try:
        for name in ("algo-1", "algo-2"):
            node = bed.host(name)
            procs.append(bed.netbed.spawn(node, ["/usr/bin/python3", "-c", ECHO, str(ECHO_PORT)]))
            wait_for(lambda: _connects(node.ip, ECHO_PORT), timeout=WAIT, what=f"the echo server on {name}")
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=30)


def _connects(addr, port) -> bool:
    try:
        socket.create_connection((addr, port), timeout=2).close()
        return True
    except OSError:
        return False


def start_run(bed, root_tar, root_name, static_bin, key, tmp, host, files, args=None, trace=None, **env) -> RootRun:
    node = bed.host(host)
    files = {**ml_files(host, [host]), "etc/hostname": f"{host}\n", **files}
    job = f"static-{root_name}-{host}-{int(time.time() * 1000)}"
    run = RootRun(root_tar(root_name), static_bin, args or ["run", "--", *TRAINING],
                  bed.porthole_env(node, job, pub(key), **env), tmp, bed=bed.netbed, node=node, files=files,
                  trace=trace)
    run.start()
    return run


@pytest.fixture(scope="module")
def dns_run(bed, root_tar, root_name, static_bin, client_key, tmp_path_factory):
    """algo-1: names through DNS only, the CA only through AWS_CA_BUNDLE."""
    files = {"etc/hosts": hosts_file({}), "etc/resolv.conf": bed.resolv_conf(), CA_IN_ROOT: bed.ca.ca}
    run = None
    tmp = tmp_path_factory.mktemp("dns-run")
    try:
        run = start_run(bed, root_tar, root_name, static_bin, client_key, tmp, "algo-1", files,
                        trace=tmp / "strace", AWS_CA_BUNDLE=CA_IN_ROOT)
        yield run
    finally:
        if run:
            run.cleanup()


@pytest.fixture(scope="module")
def hosts_run(bed, root_tar, root_name, static_bin, client_key, tmp_path_factory):
    """algo-2: names through /etc/hosts (dnsmasq still in resolv.conf), the CA in the image's bundle."""
    files = {"etc/hosts": hosts_file(bed.names()), "etc/resolv.conf": bed.resolv_conf(), IMAGE_CA_BUNDLE: bed.ca.ca}
    run = None
    try:
        run = start_run(bed, root_tar, root_name, static_bin, client_key, tmp_path_factory.mktemp("hosts-run"),
                        "algo-2", files, AWS_CA_BUNDLE=None)
        yield run
    finally:
        if run:
            run.cleanup()


@pytest.fixture
def one_run(bed, root_tar, root_name, static_bin, client_key, tmp_path):
    """A function's own run on algo-3: one_run(files, args, **env)."""
    runs = []

    def start(files, args, **env):
        runs.append(start_run(bed, root_tar, root_name, static_bin, client_key, tmp_path / f"run{len(runs)}",
                              "algo-3", files, args, **env))
        return runs[-1]
    try:
        yield start
    finally:
        for r in runs:
            r.cleanup()


def ssh_to(run, key, tmp) -> SshClient:
    rec = run.wait_ready(timeout=WAIT)
    return SshClient(run.node.ip, rec, key, tmp, alias=f"{run.node.name}.porthole-static-test")


def events_of(bed, run, pred, what) -> list[dict]:
    """Poll the run's CloudWatch stream (read with /usr/bin/aws over HTTPS) until pred(events)."""
    rec = run.wait_ready(timeout=WAIT)
    group, stream = rec.get("log_group"), rec.get("log_stream")
    assert group and stream, f"the ready record names no log stream: {rec}"
    last = {"events": [], "error": None}

    def check():
        try:
            raw = bed.standin.aws_get_log_events(group, stream)
        except Exception as e:  # noqa: BLE001 - the stream may not exist yet
            last["error"] = e
            return None
        evs = []
        for e in raw:
            try:
                evs.append(json.loads(e["message"]))
            except ValueError:
                pass
        last["events"] = evs
        return evs if pred(evs) else None
    try:
        return wait_for(check, timeout=WAIT, interval=2.0, what=what)
    except AssertionError as e:
        calls = [(q["operation"], q.get("status"), q.get("error")) for q in
                 bed.netbed.requests_by_host().get(run.node.name, [])]
        raise AssertionError(f"{e}\nevents so far: {[x.get('event') for x in last['events']]}; "
                             f"last read error: {last['error']}\nthe stand-in's requests from "
                             f"{run.node.name}: {calls[-20:]}\n{run.describe()}") from None


def queries_from(bed, run) -> set[str]:
    return {name for _, name, client in bed.dns.queries() if client == run.node.ip}


def error_lines(run, *needles) -> list[str]:
    """porthole's warning/error lines (either stream) holding every needle."""
    lines = (run.stderr + "\n" + run.stdout).splitlines()
    return [ln for ln in lines if ("error" in ln.lower() or "warn" in ln.lower()) and all(n in ln for n in needles)]


def forward_through(ssh: SshClient, tmp: Path, target: str) -> str:
    """`ssh -N -L SOCKET:TARGET:7007`, one exchange through it; what came back."""
    sock = tmp / f"fwd-{target}.sock"
    p = ssh.popen("-N", extra=["-L", f"{sock}:{target}:{ECHO_PORT}", "-o", "ExitOnForwardFailure=yes",
                               "-o", "StreamLocalBindUnlink=yes"])
    try:
        wait_for(lambda: sock.exists() or p.poll() is not None, timeout=WAIT, what="the forward's socket")
        assert p.poll() is None, f"ssh -L exited ({p.returncode}): {p.stderr.read().decode(errors='replace')}"
        with socket.socket(socket.AF_UNIX) as c:
            c.settimeout(WAIT)
            c.connect(str(sock))
            c.sendall(b"ping-through-forward")
            c.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := c.recv(4096):
                data += chunk
        return data.decode(errors="replace")
    finally:
        p.kill()
        p.wait(timeout=30)


# ---- the binary -------------------------------------------------------------------


def test_binary_is_one_static_executable(static_bin):
    """No program interpreter, no shared library: it cannot care what the image holds."""
    head = subprocess.run(["readelf", "-hW", static_bin], capture_output=True, text=True, check=True).stdout
    assert "X86-64" in head, head
    segs = subprocess.run(["readelf", "-lW", static_bin], capture_output=True, text=True, check=True).stdout
    assert "INTERP" not in segs, f"{static_bin} asks for a dynamic loader:\n{segs}"
    dyn = subprocess.run(["readelf", "-dW", static_bin], capture_output=True, text=True, check=True).stdout
    needed = [ln for ln in dyn.splitlines() if "(NEEDED)" in ln]
    assert not needed, f"{static_bin} needs shared libraries:\n" + "\n".join(needed)


# ---- one root: PID 1, the ready record, SSH -------------------------------------------


def test_ready_record_as_pid_1(dns_run, bed):
    rec = dns_run.wait_ready(timeout=WAIT)
    assert rec["pid"] == 1, rec
    assert rec["host"] == "algo-1" and rec["ip"] == bed.host("algo-1").ip, rec
    assert rec["port"] and rec["host_key"].startswith("ssh-") and rec["fingerprint"].startswith("SHA256:"), rec


def test_exec_with_the_published_host_key(dns_run, client_key, tmp_path):
    ssh = ssh_to(dns_run, client_key, tmp_path)
    r = ssh.run("cat /proc/1/cmdline | tr '\\0' ' '; echo; cat /etc/hostname; exit 7")
    assert r.returncode == 7, r.stderr.decode(errors="replace")
    pid1, hostname = r.stdout.decode().splitlines()[:2]
    assert pid1.split()[:2] == ["/usr/local/bin/porthole", "run"], pid1  # inside the root, under porthole
    assert hostname == "algo-1"
    # The pinning is real: another key for the same alias is refused before anything runs.
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    ssh.known_hosts.write_text(f"{ssh.alias} {' '.join(pub(other).split()[:2])}\n")
    r = ssh.run("echo SHOULD-NOT-RUN")
    assert r.returncode == 255 and b"SHOULD-NOT-RUN" not in r.stdout, r
    assert b"host key" in r.stderr.lower() or b"identification has changed" in r.stderr.lower(), r.stderr


def test_pty_shell_is_the_images_own(dns_run, client_key, tmp_path):
    ssh = ssh_to(dns_run, client_key, tmp_path)
    # root's login shell as the image's /etc/passwd names it, resolved inside the image.
    shell = next(ln.split(":")[6] for ln in dns_run.path("etc/passwd").read_text().splitlines()
                 if ln.startswith("root:"))
    want = ssh.run("readlink", "-f", shell)
    assert want.returncode == 0, want.stderr
    want = want.stdout.decode().strip()
    script = b"echo PTY-$((6*7)); tty; readlink /proc/$$/exe; exit\n"
    r = ssh.run(extra=["-tt", "-o", "LogLevel=ERROR"], input=script)
    out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", r.stdout.decode(errors="replace").replace("\r", ""))
    lines = [ln.strip() for ln in out.splitlines()]
    assert "PTY-42" in lines, out
    assert any(ln.startswith("/dev/pts/") for ln in lines), f"no terminal:\n{out}"
    assert want in lines, f"the shell is not {want} (root's {shell}):\n{out}"


def test_sftp_put_get_64_mib(dns_run, client_key, tmp_path):
    ssh = ssh_to(dns_run, client_key, tmp_path)
    src, back, inside = tmp_path / "up.bin", tmp_path / "down.bin", dns_run.path("tmp/up.bin")
    try:
        with open(src, "wb") as f:
            for _ in range(64):
                f.write(os.urandom(1 << 20))
        r = ssh.sftp(f"put {src} /tmp/up.bin\nget /tmp/up.bin {back}\n")
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        want = sha256_file(src)
        assert sha256_file(inside) == want, "the copy inside the root differs"
        assert back.stat().st_size == 64 << 20 and sha256_file(back) == want
    finally:  # 192 MiB: not left for pytest's tmp retention
        for p in (src, back, inside):
            p.unlink(missing_ok=True)


def test_local_forward_to_a_name_from_dns(dns_run, bed, echo_servers, client_key, tmp_path):
    ssh = ssh_to(dns_run, client_key, tmp_path)
    got = forward_through(ssh, tmp_path, "algo-2")
    assert got == "algo-2 ping-through-forward", got
    assert "algo-2" in queries_from(bed, dns_run), f"algo-2 was not asked of dnsmasq: {bed.dns.queries()}"


# ---- one root: CloudWatch over HTTPS, names -----------------------------------------------


def test_events_reach_the_https_standin_with_aws_ca_bundle(dns_run, bed, client_key, tmp_path):
    ssh = ssh_to(dns_run, client_key, tmp_path)
    marker = f"echo marker-{os.getpid()}-{time.monotonic_ns()}"
    assert ssh.run(marker).returncode == 0
    rec = dns_run.ready
    fp = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(client_key) + ".pub"], capture_output=True,
                        text=True, check=True).stdout.split()[1]

    def arrived(evs):
        ready = [e for e in evs if e.get("event") == "ready"]
        logins = [e for e in evs if e.get("event") == "ssh_login" and (e.get("data") or {}).get("key") == fp]
        reqs = [e for e in evs if e.get("event") == "ssh_request" and (e.get("data") or {}).get("command") == marker]
        return ready and logins and reqs
    evs = events_of(bed, dns_run, arrived, "the ready, ssh_login and ssh_request events")
    ready = next(e for e in evs if e.get("event") == "ready")
    assert (ready.get("data") or ready).get("host_key") == rec["host_key"], ready


SHARED_OBJECT = re.compile(r'"[^"]*(\.so(\.[0-9]+)*|/libnss_[^"]*|/ld\.so\.[a-z]+|/gconv/[^"]*)"')


def porthole_opens(trace: Path) -> list[str]:
    """The open and exec calls made by porthole's own processes (PID 1, its
    helpers, connection processes, its sftp-server) in an strace -f log:
    a process is porthole's from an exec of porthole, or a fork of one, until
    it execs something else (a session's shell).  A call strace split in two
    ("<unfinished ...>", "<... clone resumed>") counts where it ends."""
    exe: dict[str, str] = {}
    pending: dict[str, str] = {}
    calls = []
    for line in trace.read_text(errors="replace").splitlines():
        pid, _, call = line.partition(" ")
        call = call.strip()
        if call.endswith("<unfinished ...>"):
            pending[pid] = call[: -len("<unfinished ...>")]
            continue
        m = re.match(r"<\.\.\. \w+ resumed>(.*)$", call)
        if m:
            call = pending.pop(pid, "") + m.group(1)
        m = re.match(r'(execve|execveat)\("([^"]*)"', call)
        if m and call.rstrip().endswith("= 0"):
            exe[pid] = m.group(2)
        m = re.match(r"(clone3?|fork|vfork)\(.*= ([0-9]+)$", call)
        if m:
            exe[m.group(2)] = exe.get(pid, "")
            continue
        if exe.get(pid, "").endswith("/porthole") and re.match(r"(open|openat|openat2|execve|execveat)\(", call):
            calls.append(call)
    return calls


def test_no_shared_library_is_opened(dns_run, bed, client_key, tmp_path):
    """PID 1, its helpers, a connection process, the sftp-server and the
    CloudWatch publisher (TLS to the stand-in) never open a shared object:
    no libnss_*, no OpenSSL engine or provider, no gconv module."""
    ssh = ssh_to(dns_run, client_key, tmp_path)
    assert ssh.run("true").returncode == 0
    (tmp_path / "small").write_bytes(b"x" * 4096)
    r = ssh.sftp(f"put {tmp_path / 'small'} /tmp/small-from-test\n")
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    events_of(bed, dns_run, lambda evs: any(e.get("event") == "ssh_login" for e in evs), "an ssh_login event")
    calls = porthole_opens(dns_run.trace)
    assert any("/etc/hosts" in c or "/etc/resolv.conf" in c for c in calls), (
        f"the trace does not show porthole's own opens: {calls[:20]}")
    shared = [c for c in calls if SHARED_OBJECT.search(c)]
    assert not shared, "porthole opened shared objects:\n" + "\n".join(shared)


def test_endpoint_name_resolved_through_dns(dns_run, bed):
    dns_run.wait_ready(timeout=WAIT)
    wait_for(lambda: ENDPOINT_NAME in queries_from(bed, dns_run), timeout=WAIT,
             what=f"a DNS query for {ENDPOINT_NAME} from algo-1 (dnsmasq saw {bed.dns.queries()})")


def test_names_from_etc_hosts_and_the_images_ca_bundle(hosts_run, bed, echo_servers, client_key, tmp_path):
    ssh = ssh_to(hosts_run, client_key, tmp_path)
    got = forward_through(ssh, tmp_path, "algo-1")
    assert got == "algo-1 ping-through-forward", got
    evs = events_of(bed, hosts_run, lambda evs: any(e.get("event") == "ready" for e in evs),
                    "the ready event (endpoint from /etc/hosts, CA from the image's bundle)")
    assert evs
    asked = queries_from(bed, hosts_run) & {"algo-1", ENDPOINT_NAME}
    assert not asked, f"names in /etc/hosts were asked of DNS: {asked}"


# ---- one root: bad input ------------------------------------------------------------------


BAD_TRAINING = ["run", "--", "/bin/sh", "-c", "echo trained > /tmp/trained; exit 7"]


def bad_input_files(bed, hosts: dict) -> dict:
    return {"etc/hosts": hosts_file(hosts), "etc/resolv.conf": bed.resolv_conf(), CA_IN_ROOT: bed.ca.ca}


def check_training_ran(run):
    assert run.wait_exit(timeout=WAIT) == 7, f"the training command's exit code is not porthole's\n{run.describe()}"
    assert run.path("tmp/trained").read_text().strip() == "trained", run.describe()


def test_missing_ca_bundle_is_a_clear_error(one_run, bed):
    missing = "/usr/local/share/porthole-test/no-such-ca.pem"
    run = one_run(bad_input_files(bed, {}), BAD_TRAINING, AWS_CA_BUNDLE=missing, PORTHOLE_FLUSH_TIMEOUT="3s")
    check_training_ran(run)
    assert error_lines(run, "AWS_CA_BUNDLE", missing), (
        f"no warning or error naming AWS_CA_BUNDLE and {missing}\n{run.describe()}")


def test_unresolvable_endpoint_is_a_clear_error(one_run, bed):
    name = f"nosuch.{ENDPOINT_NAME.split('.', 1)[1]}"
    run = one_run(bad_input_files(bed, {}), BAD_TRAINING, AWS_CA_BUNDLE=CA_IN_ROOT, PORTHOLE_FLUSH_TIMEOUT="3s",
                  AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=f"https://{name}:{bed.standin.port}")
    check_training_ran(run)
    assert name in queries_from(bed, run), f"{name} was never asked of DNS: {bed.dns.queries()}"
    lines = error_lines(run, name)
    assert any("resolve" in ln.lower() for ln in lines), (
        f"no warning or error saying {name} does not resolve\n{run.describe()}")


# ---- the cluster job ----------------------------------------------------------------------


def test_cluster_ssh_job_in_bullseye(static_bin, root_tar, client_key, tmp_path):
    """Two hosts, PORTHOLE_CLUSTER_SSH=1: algo-1's training command is `ssh algo-2 hostname`
    (the image's own OpenSSH client, trusting what porthole set up).  The hosts are in
    /etc/hosts as SageMaker writes them; the endpoint comes from DNS.  (The CA is in
    AWS_CA_BUNDLE and the image's bundle: this test is about cluster SSH, not trust.)"""
    suite = os.environ.get("PORTHOLE_STATIC_CLUSTER_SUITE", "bullseye")
    tar = root_tar(suite, ("openssh-client",))
    hosts = ["algo-1", "algo-2"]
    runs: dict[str, RootRun] = {}
    with StaticBed(hosts=2, porthole=static_bin, tmp=tmp_path / "bed") as cb:
        try:
            for h in hosts:
                node = cb.host(h)
                files = {**ml_files(h, hosts), "etc/hostname": f"{h}\n",
                         "etc/hosts": hosts_file({n: cb.host(n).ip for n in hosts}),
                         "etc/resolv.conf": cb.resolv_conf(), CA_IN_ROOT: cb.ca.ca, IMAGE_CA_BUNDLE: cb.ca.ca}
                cmd = ["/bin/sh", "-c", "ssh -o BatchMode=yes algo-2 hostname"] if h == "algo-1" else TRAINING
                env = cb.porthole_env(node, "static-cluster", pub(client_key), AWS_CA_BUNDLE=CA_IN_ROOT,
                                      PORTHOLE_CLUSTER_SSH="1", PORTHOLE_RENDEZVOUS_TIMEOUT="3m")
                runs[h] = RootRun(tar, static_bin, ["run", "--", *cmd], env, tmp_path / h, bed=cb.netbed,
                                  node=node, files=files).start()
            rc = runs["algo-1"].wait_exit(timeout=2 * WAIT)
            everything = "\n".join(r.describe() for r in runs.values())
            assert rc == 0, f"ssh algo-2 hostname failed ({rc})\n{everything}"
            assert "algo-2" in [ln.strip() for ln in runs["algo-1"].stdout.splitlines()], everything
        finally:
            for r in runs.values():
                r.cleanup()
