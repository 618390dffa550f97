# SPDX-License-Identifier: Apache-2.0
"""SFTP as other clients than OpenSSH's speak it (paramiko, asyncssh from
Debian's packages), and where relative paths land.

SSH_FXP_SYMLINK's two paths come in OpenSSH's order (target, then link)
from clients that know the server is OpenSSH-like; asyncssh decides from
the server's version string, so porthole's must say "OpenSSH" where
clients look (docs/ssh.md).  Relative SFTP paths resolve against the
user's home, as with OpenSSH's sftp-server, and scp's remote end (`scp -O`)
starts there too, so `scp f host:x` lands in the same place in both modes."""

import asyncio
import os
import pwd
import shutil
import uuid

import pytest

from sshutil import SshServer, no_sanitizer_reports  # noqa: F401

paramiko = pytest.importorskip("paramiko")
asyncssh = pytest.importorskip("asyncssh")


@pytest.fixture
def srv(sb):
    return SshServer(sb)


@pytest.fixture
def home_dir():
    """A fresh directory in the session user's home (sessions run as
    porthole's own user), removed afterwards."""
    home = pwd.getpwuid(os.getuid()).pw_dir
    d = os.path.join(home, f"porthole-test-{uuid.uuid4().hex[:10]}")
    os.mkdir(d)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def checkpoint_dir(sb, name):
    d = sb.root / name
    d.mkdir()
    (d / "ckpt-0001.pt").write_bytes(b"weights 1\n")
    return d


def assert_latest_link(d):
    link = d / "latest.pt"
    assert os.path.islink(link), sorted(os.listdir(d))
    assert os.readlink(link) == "ckpt-0001.pt"
    assert link.read_bytes() == b"weights 1\n"
    # and not the reversed link a wrong argument order makes
    assert not os.path.lexists(d / "ckpt-0001.pt") or not os.path.islink(d / "ckpt-0001.pt")


def test_version_string_says_openssh(srv):
    r = srv.ssh("true", extra=["-v"])
    assert r.returncode == 0, r.stderr.decode()
    line = next(ln for ln in r.stderr.decode().splitlines() if "Remote protocol version" in ln)
    assert "remote software version OpenSSH_9.0-compatible porthole_" in line, line


def test_openssh_sftp_symlink(sb, srv):
    d = checkpoint_dir(sb, "openssh")
    r = srv.sftp(f"cd {d}\nsymlink ckpt-0001.pt {d}/latest.pt\n")
    assert r.returncode == 0, r.stderr.decode()
    assert_latest_link(d)


def paramiko_client(srv):
    c = paramiko.SSHClient()
    c.load_host_keys(str(srv.known_hosts))
    c.set_missing_host_key_policy(paramiko.RejectPolicy())
    c.connect("127.0.0.1", port=srv.port, username="root", key_filename=str(srv.key), look_for_keys=False,
              allow_agent=False, timeout=30)
    return c


def test_paramiko_symlink_and_home(sb, srv):
    d = checkpoint_dir(sb, "paramiko")
    c = paramiko_client(srv)
    try:
        sftp = c.open_sftp()
        sftp.symlink("ckpt-0001.pt", f"{d}/latest.pt")
        assert sftp.readlink(f"{d}/latest.pt") == "ckpt-0001.pt"
        with sftp.open(f"{d}/latest.pt") as f:
            assert f.read() == b"weights 1\n"
        assert sftp.normalize(".") == pwd.getpwuid(os.getuid()).pw_dir
    finally:
        c.close()
    assert_latest_link(d)


def test_asyncssh_symlink_and_home(sb, srv):
    d = checkpoint_dir(sb, "asyncssh")

    async def run():
        async with asyncssh.connect("127.0.0.1", port=srv.port, username="root",
                                    client_keys=[str(srv.key)], known_hosts=str(srv.known_hosts),
                                    agent_path=None) as conn:
            async with conn.start_sftp_client() as sftp:
                await sftp.symlink("ckpt-0001.pt", f"{d}/latest.pt")
                assert await sftp.readlink(f"{d}/latest.pt") == "ckpt-0001.pt"
                async with sftp.open(f"{d}/latest.pt", "rb") as f:
                    assert await f.read() == b"weights 1\n"
                return await sftp.realpath(".")

    home = asyncio.run(asyncio.wait_for(run(), 60))
    assert home == pwd.getpwuid(os.getuid()).pw_dir
    assert_latest_link(d)


@pytest.mark.parametrize("legacy", [False, True], ids=["sftp-mode", "scp-O"])
def test_scp_relative_paths_land_in_home(sb, srv, home_dir, legacy):
    name = os.path.basename(home_dir)
    src = sb.root / "f.txt"
    src.write_text("to the home\n")
    r = srv.scp(str(src), f"root@127.0.0.1:~/{name}/x", legacy=legacy)
    assert r.returncode == 0, r.stderr.decode()
    assert open(os.path.join(home_dir, "x")).read() == "to the home\n"
    r = srv.scp(str(src), f"root@127.0.0.1:{name}/y", legacy=legacy)
    assert r.returncode == 0, r.stderr.decode()
    assert open(os.path.join(home_dir, "y")).read() == "to the home\n"
    back = sb.root / "back.txt"
    r = srv.scp(f"root@127.0.0.1:{name}/x", str(back), legacy=legacy)
    assert r.returncode == 0, r.stderr.decode()
    assert back.read_text() == "to the home\n"


def test_shell_still_starts_in_code_dir(sb, srv):
    code = sb.ml_root / "code"
    code.mkdir(exist_ok=True)
    r = srv.ssh("pwd")
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().strip() == str(code)
