# SPDX-License-Identifier: Apache-2.0
"""The SSH endpoint: the ready record, exec, exit statuses, streams, byte-exact
bulk data both ways, the session environment, and SSH setup errors that must
never stop the training.

Every test runs the real OpenSSH client against a porthole on a free
loopback port, pinned to the host key porthole published.
"""

import hashlib
import os
import socket
import subprocess

import pytest

from sshutil import KEYGEN, SshServer, make_key, no_sanitizer_reports, sha256_file  # noqa: F401


def test_ready_record_names_port_and_host_key(sb):
    srv = SshServer(sb)
    r = srv.d.ready
    assert isinstance(r["port"], int) and r["port"] > 0
    assert r["host_key"].startswith("ssh-ed25519 ")
    assert r["fingerprint"].startswith("SHA256:")
    # The fingerprint is the one ssh-keygen computes for that key.
    pubfile = sb.root / "hostkey.pub"
    pubfile.write_text(r["host_key"] + "\n")
    out = subprocess.run([KEYGEN, "-l", "-f", str(pubfile)], capture_output=True, text=True, check=True).stdout
    assert out.split()[1] == r["fingerprint"]
    human = srv.d.ready_line()
    assert f"ssh port {r['port']}" in human and r["fingerprint"] in human


def test_each_start_has_a_new_host_key(sb):
    a = SshServer(sb).d.ready["fingerprint"]
    b = SshServer(sb).d.ready["fingerprint"]
    assert a != b


def test_host_key_from_file(sb):
    key = sb.root / "host_ed25519"
    subprocess.run([KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    srv = SshServer(sb, env={"PORTHOLE_HOST_KEY": str(key)})
    want = subprocess.run([KEYGEN, "-l", "-f", str(key) + ".pub"], capture_output=True, text=True,
                          check=True).stdout.split()[1]
    assert srv.d.ready["fingerprint"] == want
    assert srv.ssh("true").returncode == 0


def test_exec_arguments_and_exit_status(sb):
    srv = SshServer(sb)
    r = srv.ssh("printf", "'%s|'", "a", "'b c'", "\"$((6*7))\"")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"a|b c|42|"
    for code in (0, 1, 3, 42, 255):
        assert srv.ssh(f"exit {code}").returncode == code


def test_stdout_and_stderr_are_separate(sb):
    srv = SshServer(sb)
    r = srv.ssh("echo out; echo err >&2; echo out2; echo err2 >&2")
    assert r.stdout == b"out\nout2\n"
    assert r.stderr == b"err\nerr2\n"


def test_killed_command_reports_a_signal(sb):
    srv = SshServer(sb)
    r = srv.ssh("kill -TERM $$")
    # OpenSSH's client exits 255 when the remote command died of a signal.
    assert r.returncode == 255, r.stderr


def test_command_not_found(sb):
    srv = SshServer(sb)
    r = srv.ssh("no-such-command-anywhere")
    assert r.returncode == 127
    assert b"not found" in r.stderr


def test_64mib_round_trip_through_cat(sb):
    srv = SshServer(sb)
    data = os.urandom(64 << 20)
    r = srv.ssh("cat", input=data)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == len(data)
    assert hashlib.sha256(r.stdout).digest() == hashlib.sha256(data).digest()


def test_upload_then_download_byte_exact(sb):
    srv = SshServer(sb)
    src = sb.root / "src.bin"
    src.write_bytes(os.urandom(24 << 20) + b"tail without newline")
    dst = sb.root / "dst.bin"
    # 24 MiB each way takes seconds; at a load average of 30 (seen) over a minute.
    with open(src, "rb") as f:
        r = srv.ssh(f"cat > {dst}", stdin=f, timeout=300)
    assert r.returncode == 0, r.stderr
    assert sha256_file(dst) == sha256_file(src)
    p1 = srv.popen("cat", str(dst))
    sha = subprocess.run(["sha256sum"], stdin=p1.stdout, capture_output=True, check=True, timeout=300).stdout.split()[0]
    assert p1.wait(timeout=300) == 0
    assert sha.decode() == sha256_file(src)


def test_tar_pipe(sb):
    srv = SshServer(sb)
    tree = sb.root / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "big").write_bytes(os.urandom(5 << 20))
    (tree / "small").write_text("hello\n")
    os.symlink("small", tree / "link")
    out = sb.root / "out"
    out.mkdir()
    tar = subprocess.Popen(["tar", "c", "-C", str(tree), "."], stdout=subprocess.PIPE)
    r = srv.ssh(f"tar x -C {out}", stdin=tar.stdout)
    tar.stdout.close()
    assert tar.wait() == 0
    assert r.returncode == 0, r.stderr
    assert sha256_file(out / "a" / "b" / "big") == sha256_file(tree / "a" / "b" / "big")
    assert (out / "small").read_text() == "hello\n"
    assert os.readlink(out / "link") == "small"


def test_stdin_eof_reaches_the_command(sb):
    srv = SshServer(sb)
    r = srv.ssh("wc -c; echo done", input=b"x" * 1000)
    assert r.stdout == b"1000\ndone\n"


def test_session_environment(sb):
    code = sb.ml_root / "code"
    code.mkdir()
    srv = SshServer(sb, env={"MY_TRAINING_VAR": "from porthole's environment", "SM_HOSTS": '["algo-1"]'})
    r = srv.ssh('echo "$MY_TRAINING_VAR|$SM_HOSTS|$USER|$LOGNAME|$HOME|$SHELL|$PATH"; pwd; echo "$SSH_CONNECTION"')
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    var, hosts, user, logname, home, shell, path = lines[0].split("|")
    assert var == "from porthole's environment"
    assert hosts == '["algo-1"]'
    assert user == logname == "root"
    assert home == "/root"
    assert shell and os.access(shell, os.X_OK)
    # bash run by an SSH server reads ~/.bashrc (as under sshd), which may
    # prepend to PATH; porthole's own PATH must be all there.
    assert path.endswith(sb.path)
    assert lines[1] == str(code)
    client_ip, client_port, server_ip, server_port = lines[2].split()
    assert client_ip == "127.0.0.1" and server_ip == "127.0.0.1" and int(server_port) == srv.port


def test_workdir_is_home_without_code_dir(sb):
    srv = SshServer(sb)
    assert srv.ssh("pwd").stdout.decode().strip() == "/root"


def test_sendenv_lang_accepted_others_not(sb):
    srv = SshServer(sb)
    env = srv.env()
    env.update({"LANG": "C.UTF-8", "LC_TIME": "C", "NOT_ACCEPTED": "x"})
    argv = srv.ssh_argv('echo "$LANG|$LC_TIME|${NOT_ACCEPTED-unset}"',
                       extra=["-o", "SendEnv=LANG LC_* NOT_ACCEPTED"])
    r = subprocess.run(argv, capture_output=True, env=env, timeout=60)
    assert r.stdout.decode().strip() == "C.UTF-8|C|unset", r.stderr


def test_ssh_off(sb):
    d = sb.start(["serve"], env={"PORTHOLE_SSH": "off"})
    assert d.ready["port"] is None and d.ready["host_key"] is None and d.ready["fingerprint"] is None
    assert "no SSH" in d.ready_line()


def test_bad_host_key_does_not_stop_training(sb):
    d = sb.run_cmd(["sh", "-c", "echo trained > $0", str(sb.root / "trained")],
                   env={"PORTHOLE_SSH": "embedded", "PORTHOLE_SSH_PORT": "0",
                        "PORTHOLE_HOST_KEY": str(sb.root / "missing"), "PORTHOLE_HOLD": "never"})
    assert d.wait() == 0, d.describe()
    assert (sb.root / "trained").read_text() == "trained\n"
    assert d.ready["port"] is None
    errs = [l for l in d.error_lines() if "ssh" in l]
    assert errs and "missing" in errs[0], d.stderr


def test_port_in_use_does_not_stop_training(sb):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        d = sb.run_cmd(["true"], env={"PORTHOLE_SSH": "embedded", "PORTHOLE_SSH_PORT": str(port), "PORTHOLE_SSH_LISTEN": "127.0.0.1",
                                      "PORTHOLE_HOLD": "never"})
        assert d.wait() == 0, d.describe()
        assert d.ready["port"] is None
        errs = [l for l in d.error_lines() if "cannot listen" in l]
        assert len(errs) == 1 and str(port) in errs[0], d.stderr
    finally:
        s.close()


def test_training_starts_without_waiting_for_ssh(sb):
    # The ready record, then the command; a session process never sits
    # between them.
    marker = sb.root / "started"
    srv = SshServer(sb, cmd=["sh", "-c", f"touch {marker}; sleep 30"])
    from porthole_harness import READY_TIMEOUT, wait_for
    wait_for(marker.exists, timeout=READY_TIMEOUT, what="the training command")
    assert srv.ssh("true").returncode == 0


@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
def test_other_client_key_types(sb, kind):
    key = make_key(sb.root / f"id_{kind}", kind)
    srv = SshServer(sb, keys=[key])
    r = srv.ssh("echo ok")
    assert r.stdout == b"ok\n", r.stderr
