# SPDX-License-Identifier: Apache-2.0
"""ssh -A: the laptop's agent inside a session, as OpenSSH gives it: a socket
in a 0700 directory under /tmp as SSH_AUTH_SOCK, an auth-agent@openssh.com
channel back to the client per connection to it, gone when the connection
ends; refused by the key's no-agent-forwarding (or restrict) and by
PORTHOLE_SSH_AGENT_FORWARDING=0.  The real use: `git clone` over ssh from
inside the container with the key that only the laptop's agent holds."""

import os
import shutil
import stat
import subprocess

import pytest

from porthole_harness import wait_for
from sshutil import KEYGEN, SSH, SshServer, make_key, no_sanitizer_reports, pub  # noqa: F401

AGENT = shutil.which("ssh-agent", path="/usr/bin:/bin") or "/usr/bin/ssh-agent"
ADD = shutil.which("ssh-add", path="/usr/bin:/bin") or "/usr/bin/ssh-add"
GIT = shutil.which("git", path="/usr/bin:/bin")


@pytest.fixture
def agent(sb):
    """A test ssh-agent holding a key whose private half exists nowhere else:
    (socket path, the key's public line, its fingerprint)."""
    sock = sb.root / "agent.sock"
    p = subprocess.Popen([AGENT, "-D", "-a", str(sock)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=sb.make_env(), start_new_session=True)
    sb._procs.append(p)
    wait_for(lambda: sock.exists(), timeout=20, what="ssh-agent's socket")
    key = make_key(sb.root / "laptop_key")
    env = sb.make_env({"SSH_AUTH_SOCK": str(sock)})
    subprocess.run([ADD, str(key)], check=True, env=env, capture_output=True)
    fp = subprocess.run([KEYGEN, "-l", "-f", str(key) + ".pub"], check=True, capture_output=True,
                        text=True).stdout.split()[1]
    line = pub(key)
    os.unlink(key)
    return sock, line, fp


def ssh_with_agent(srv, sock, *cmd, key=None):
    env = srv.sb.make_env({"SSH_AUTH_SOCK": str(sock)})
    return subprocess.run(srv.ssh_argv(*cmd, key=key, extra=["-A"]), capture_output=True, env=env, timeout=120)


def test_ssh_add_lists_the_laptops_key(sb, agent):
    sock, _, fp = agent
    srv = SshServer(sb)
    r = ssh_with_agent(srv, sock, 'echo "sock=$SSH_AUTH_SOCK"; ssh-add -l')
    assert r.returncode == 0, r.stderr.decode() + srv.d.stderr
    out = r.stdout.decode()
    assert fp in out, out
    path = next(ln for ln in out.splitlines() if ln.startswith("sock=")).split("=", 1)[1]
    d = os.path.dirname(path)
    assert d.startswith("/tmp/ssh-") and os.path.basename(path).startswith("agent."), path
    srv.wait_log("agent forwarding (SSH_AUTH_SOCK=")
    # Gone with the connection.
    wait_for(lambda: not os.path.exists(d), timeout=30, what=f"{d} removed")


def test_socket_directory_is_private(sb, agent):
    sock, _, _ = agent
    srv = SshServer(sb)
    r = ssh_with_agent(srv, sock, 'stat -c "%a %U" "$(dirname "$SSH_AUTH_SOCK")" "$SSH_AUTH_SOCK"')
    assert r.returncode == 0, r.stderr.decode()
    modes = r.stdout.decode().split()
    assert modes[0] == "700", modes
    assert stat.S_IMODE(int(modes[2], 8)) & 0o077 == 0, modes


@pytest.mark.skipif(GIT is None, reason="no git")
def test_git_clone_with_the_forwarded_key(sb, agent):
    """A second server on loopback accepts only the agent's key and serves a
    bare repository; git inside the first server's session clones it."""
    sock, line, _ = agent
    repo = sb.root / "repo.git"
    work = sb.root / "work"
    env = sb.make_env({"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                       "GIT_COMMITTER_EMAIL": "t@x"})
    subprocess.run([GIT, "init", "-q", "--bare", "--initial-branch=main", str(repo)], check=True, env=env)
    subprocess.run([GIT, "init", "-q", str(work)], check=True, env=env)
    (work / "README").write_text("private repository\n")
    subprocess.run([GIT, "-C", str(work), "add", "README"], check=True, env=env)
    subprocess.run([GIT, "-C", str(work), "commit", "-qm", "first"], check=True, env=env)
    subprocess.run([GIT, "-C", str(work), "push", "-q", str(repo), "HEAD:refs/heads/main"], check=True, env=env)

    git_host = SshServer(sb, authorized=line)
    kh = sb.root / "git_known_hosts"
    kh.write_text(f"[127.0.0.1]:{git_host.port} {git_host.d.ready['host_key']}\n")
    srv = SshServer(sb)
    dest = sb.root / "clone"
    inner = (f"ssh -F /dev/null -p {git_host.port} -o UserKnownHostsFile={kh} -o StrictHostKeyChecking=yes "
             f"-o BatchMode=yes -o IdentityFile=/nonexistent")
    r = ssh_with_agent(srv, sock, f"GIT_SSH_COMMAND='{inner}' git clone -q root@127.0.0.1:{repo} {dest}")
    assert r.returncode == 0, r.stderr.decode() + srv.d.stderr + git_host.d.stderr
    assert (dest / "README").read_text() == "private repository\n"
    git_host.wait_log("logged in")


@pytest.mark.parametrize("how", ["no-agent-forwarding", "restrict", "setting"])
def test_refused(sb, agent, how):
    sock, _, _ = agent
    if how == "setting":
        srv = SshServer(sb, env={"PORTHOLE_SSH_AGENT_FORWARDING": "0"})
    else:
        key = make_key(sb.root / "id_limited")
        srv = SshServer(sb, keys=[key], authorized=f"{how} {pub(key)}")
    r = ssh_with_agent(srv, sock, 'echo "sock=[$SSH_AUTH_SOCK]"; ssh-add -l; echo "rc=$?"')
    out = r.stdout.decode()
    assert "sock=[]" in out, out
    assert "rc=2" in out, out  # ssh-add: cannot connect to an agent
    assert "agent forwarding (SSH_AUTH_SOCK=" not in srv.d.stderr
