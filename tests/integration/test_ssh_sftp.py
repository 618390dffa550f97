# SPDX-License-Identifier: Apache-2.0
"""File transfer over the SSH endpoint: the "sftp" subsystem (porthole's own
`porthole sftp-server`, or an external one through PORTHOLE_SFTP_SERVER),
scp (which speaks SFTP since OpenSSH 9) and legacy `scp -O`, which runs
`scp -t/-f` through the shell."""

import os

import pytest

from sshutil import OPENSSH_SFTP_SERVER, SshServer, no_sanitizer_reports, sha256_file  # noqa: F401


@pytest.fixture(params=["builtin", "openssh"])
def sftp_srv(request, sb):
    if request.param == "builtin":
        return SshServer(sb)
    if not os.access(OPENSSH_SFTP_SERVER, os.X_OK):
        pytest.skip("no openssh-sftp-server")
    return SshServer(sb, env={"PORTHOLE_SFTP_SERVER": OPENSSH_SFTP_SERVER})


def test_sftp_batch(sb, sftp_srv):
    srv = sftp_srv
    local = sb.root / "local.bin"
    local.write_bytes(os.urandom(3 << 20))
    remote = sb.root / "remote"
    remote.mkdir()
    back = sb.root / "back.bin"
    batch = f"""
mkdir {remote}/dir
put {local} {remote}/dir/a.bin
rename {remote}/dir/a.bin {remote}/dir/b.bin
symlink {remote}/dir/b.bin {remote}/dir/link
ls -l {remote}/dir
get {remote}/dir/link {back}
rm {remote}/dir/b.bin
rm {remote}/dir/link
rmdir {remote}/dir
"""
    r = srv.sftp(batch)
    assert r.returncode == 0, r.stderr.decode() + srv.d.stderr
    assert b"b.bin" in r.stdout and b"link" in r.stdout
    assert sha256_file(back) == sha256_file(local)
    assert not (remote / "dir").exists()
    srv.wait_log("sftp")


def test_scp_big_file_and_tree(sb, sftp_srv):
    srv = sftp_srv
    big = sb.root / "big.bin"
    with open(big, "wb") as f:
        for _ in range(100):
            f.write(os.urandom(1 << 20))
    dst = sb.root / "dst"
    dst.mkdir()
    r = srv.scp(str(big), f"root@127.0.0.1:{dst}/big.bin")
    assert r.returncode == 0, r.stderr
    assert sha256_file(dst / "big.bin") == sha256_file(big)

    tree = sb.root / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f1").write_bytes(os.urandom(100000))
    (tree / "f2").write_text("two\n")
    os.chmod(tree / "f2", 0o640)
    os.utime(tree / "f2", (1_000_000_000, 1_000_000_000))
    r = srv.scp("-r", "-p", str(tree), f"root@127.0.0.1:{dst}/")
    assert r.returncode == 0, r.stderr
    assert sha256_file(dst / "tree" / "sub" / "f1") == sha256_file(tree / "sub" / "f1")
    st = os.stat(dst / "tree" / "f2")
    assert st.st_mtime == 1_000_000_000 and (st.st_mode & 0o777) == 0o640

    # And back.
    back = sb.root / "back"
    back.mkdir()
    r = srv.scp("-r", f"root@127.0.0.1:{dst}/tree", str(back))
    assert r.returncode == 0, r.stderr
    assert (back / "tree" / "f2").read_text() == "two\n"


def test_scp_legacy_protocol(sb):
    srv = SshServer(sb)
    src = sb.root / "src.bin"
    src.write_bytes(os.urandom(5 << 20))
    dst = sb.root / "legacy"
    dst.mkdir()
    r = srv.scp(str(src), f"root@127.0.0.1:{dst}/x.bin", legacy=True)
    assert r.returncode == 0, r.stderr
    assert sha256_file(dst / "x.bin") == sha256_file(src)
    r = srv.scp(f"root@127.0.0.1:{dst}/x.bin", str(sb.root / "y.bin"), legacy=True)
    assert r.returncode == 0, r.stderr
    assert sha256_file(sb.root / "y.bin") == sha256_file(src)


def test_unknown_subsystem_refused(sb):
    srv = SshServer(sb)
    r = srv.ssh("nonesuch", extra=["-s"])
    assert r.returncode != 0
    srv.wait_log('unknown subsystem "nonesuch"')


def test_sftp_server_missing_is_reported(sb):
    srv = SshServer(sb, env={"PORTHOLE_SFTP_SERVER": str(sb.root / "no-such-sftp-server")})
    r = srv.sftp("ls /\n")
    assert r.returncode != 0
    srv.wait_log("cannot run")
