# SPDX-License-Identifier: Apache-2.0
"""`porthole sftp-server` driven by the real OpenSSH sftp client.

`sftp -D CMD` runs the server as a child on a socketpair, no SSH involved,
exactly as the session would run it for the "sftp" subsystem.  Each test gets
a fresh directory with a "local" and a "remote" side; the server starts in
the remote one (relative remote paths resolve there).
"""

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("PORTHOLE_BIN") or os.path.join(REPO, "build", "std", "porthole")
SFTP = shutil.which("sftp")
# Reports of a SAN build (make SAN=1), or of valgrind when PORTHOLE_BIN wraps it.
SAN_PATTERNS = ("AddressSanitizer", "UndefinedBehaviorSanitizer", "LeakSanitizer", "runtime error:",
                "Invalid read", "Invalid write", "uninitialised", "definitely lost")

pytestmark = pytest.mark.skipif(SFTP is None, reason="OpenSSH sftp client (openssh-client) not installed")


class Env:
    def __init__(self, root):
        self.root = root
        self.local = os.path.join(root, "local")
        self.remote = os.path.join(root, "remote")
        os.mkdir(self.local)
        os.mkdir(self.remote)
        self.n = 0

    def sftp(self, *lines, check=True, server_args="", prefix="", timeout=300):
        """Run the batch; returns the CompletedProcess.  With check, every
        command must succeed."""
        self.n += 1
        batch = os.path.join(self.root, f"batch{self.n}")
        with open(batch, "w") as f:
            f.write("\n".join(lines) + "\n")
        cmd = f"{prefix}{BIN} sftp-server {server_args}".strip()
        p = subprocess.run([SFTP, "-q", "-D", cmd, "-b", batch], cwd=self.remote, capture_output=True,
                           text=True, timeout=timeout)
        for pat in SAN_PATTERNS:
            assert pat not in p.stderr, p.stderr
        if check:
            assert p.returncode == 0, f"sftp failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
        return p

    def l(self, *parts):
        return os.path.join(self.local, *parts)

    def r(self, *parts):
        return os.path.join(self.remote, *parts)


@pytest.fixture
def env():
    if not os.access(BIN, os.X_OK):
        pytest.fail(f"porthole binary {BIN} is not executable; build it with `make`")
    root = tempfile.mkdtemp(prefix="porthole-sftp-")
    try:
        yield Env(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def write(path, data, mode=None, mtime=None):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    if mode is not None:
        os.chmod(path, mode)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def test_pwd_is_the_starting_directory(env):
    p = env.sftp("pwd")
    assert f"Remote working directory: {os.path.realpath(env.remote)}" in p.stdout


def test_put_and_get(env):
    write(env.l("a.txt"), "hello\n")
    env.sftp(f"put {env.l('a.txt')}", f"put {env.l('a.txt')} b.txt", f"get b.txt {env.l('back.txt')}")
    assert read(env.r("a.txt")) == b"hello\n"
    assert read(env.r("b.txt")) == b"hello\n"
    assert read(env.l("back.txt")) == b"hello\n"


def test_ls_long(env):
    write(env.r("a.txt"), "hello", mode=0o640, mtime=1_577_923_200)
    os.mkdir(env.r("sub"))
    p = env.sftp("ls -l", "ls -la sub", "ls -1")
    lines = p.stdout.splitlines()
    entry = [ln for ln in lines if ln.endswith(" a.txt")]
    assert len(entry) == 1, p.stdout
    fields = entry[0].split()
    assert fields[0] == "-rw-r-----" and fields[4] == "5" and fields[5:8] in (["Jan", "2", "2020"], ["Jan", "1", "2020"])
    assert any(ln.startswith("drwx") and ln.endswith(" sub") for ln in lines), p.stdout
    assert any(ln.endswith("sub/.") for ln in lines), p.stdout
    assert "a.txt" in lines and "sub" in lines  # ls -1


def test_mkdir_rename_rm_rmdir(env):
    write(env.l("f"), "data")
    env.sftp("mkdir d", f"put {env.l('f')} d/f", "rename d/f d/g", "rename d e", "ls e")
    assert read(env.r("e", "g")) == b"data" and not os.path.exists(env.r("d"))
    env.sftp("rm e/g", "rmdir e")
    assert os.listdir(env.remote) == []


def test_rename_legacy_does_not_replace(env):
    write(env.r("a"), "a")
    write(env.r("b"), "b")
    p = env.sftp("rename -l a b", check=False)
    assert p.returncode != 0 and "Failure" in p.stderr
    assert read(env.r("b")) == b"b"
    env.sftp("rename a b")  # posix-rename@openssh.com replaces
    assert read(env.r("b")) == b"a" and not os.path.exists(env.r("a"))


def test_symlink_and_hardlink(env):
    write(env.r("target"), "t")
    env.sftp("ln -s target sym", "ln target hard")
    assert os.readlink(env.r("sym")) == "target"
    assert os.stat(env.r("hard")).st_ino == os.stat(env.r("target")).st_ino
    p = env.sftp("ls -l")
    assert any(ln.startswith("l") and ln.endswith(" sym") for ln in p.stdout.splitlines()), p.stdout
    env.sftp(f"get sym {env.l('via-link')}")
    assert read(env.l("via-link")) == b"t"


def test_chmod_chgrp_and_cp(env):
    write(env.r("f"), "x" * 1000, mode=0o644)
    env.sftp("chmod 600 f", "cp f g")
    assert stat.S_IMODE(os.stat(env.r("f")).st_mode) == 0o600
    assert read(env.r("g")) == b"x" * 1000
    gid = os.getgid()
    env.sftp(f"chgrp {gid} f")
    assert os.stat(env.r("f")).st_gid == gid


def test_df(env):
    p = env.sftp("df", "df -h", "df -i")
    assert "Size" in p.stdout and "Avail" in p.stdout and "Inodes" in p.stdout
    v = os.statvfs(env.remote)
    size_kib = v.f_blocks * v.f_frsize // 1024
    assert str(size_kib) in p.stdout, p.stdout


def test_put_p_keeps_mode_and_mtime(env):
    write(env.l("f"), "content", mode=0o751, mtime=1_234_567_890)
    env.sftp(f"put -p {env.l('f')} f")
    st = os.stat(env.r("f"))
    assert stat.S_IMODE(st.st_mode) == 0o751 and int(st.st_mtime) == 1_234_567_890
    write(env.r("g"), "other", mode=0o604, mtime=1_111_111_111)
    env.sftp(f"get -p g {env.l('g')}")
    st = os.stat(env.l("g"))
    assert stat.S_IMODE(st.st_mode) == 0o604 and int(st.st_mtime) == 1_111_111_111


def test_100mib_round_trip(env):
    with open(env.l("big"), "wb") as f:
        for _ in range(100):
            f.write(os.urandom(1 << 20))
        f.write(os.urandom(12345))  # not a multiple of any request size
    want = sha256(env.l("big"))
    env.sftp(f"put {env.l('big')} big", f"get big {env.l('big.back')}")
    assert sha256(env.r("big")) == want
    assert sha256(env.l("big.back")) == want


def test_recursive_tree_with_p(env):
    src = env.l("tree")
    layout = {
        "a.txt": (b"alpha", 0o644, 1_500_000_000),
        "bin/run.sh": (b"#!/bin/sh\necho hi\n", 0o755, 1_500_000_100),
        "deep/er/still/x.bin": (os.urandom(300_000), 0o600, 1_500_000_200),
        "deep/er/y": (b"", 0o640, 1_500_000_300),
    }
    for rel, (data, mode, mtime) in layout.items():
        path = os.path.join(src, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write(path, data, mode, mtime)
    os.makedirs(os.path.join(src, "empty"))
    os.chmod(os.path.join(src, "bin"), 0o750)
    env.sftp(f"put -r -p {src} tree")
    env.sftp(f"get -r -p tree {env.l('back')}")
    for root in (env.r("tree"), env.l("back")):
        for rel, (data, mode, mtime) in layout.items():
            st = os.stat(os.path.join(root, rel))
            assert read(os.path.join(root, rel)) == data, (root, rel)
            assert stat.S_IMODE(st.st_mode) == mode, (root, rel, oct(st.st_mode))
            assert int(st.st_mtime) == mtime, (root, rel)
        assert os.path.isdir(os.path.join(root, "empty"))
        assert stat.S_IMODE(os.stat(os.path.join(root, "bin")).st_mode) == 0o750


def test_errors(env):
    os.mkdir(env.r("dir"))
    write(env.r("dir", "f"), "x")
    p = env.sftp(f"get missing {env.l('x')}", check=False)
    assert p.returncode != 0
    assert "not found" in p.stderr or "No such file" in p.stderr, p.stderr
    assert not os.path.exists(env.l("x"))
    p = env.sftp("rm missing", check=False)
    assert p.returncode != 0 and "No such file" in p.stderr, p.stderr
    p = env.sftp("rm dir", check=False)
    assert p.returncode != 0 and "Failure" in p.stderr, p.stderr
    p = env.sftp("rmdir dir", check=False)
    assert p.returncode != 0 and "Failure" in p.stderr, p.stderr
    p = env.sftp("mkdir dir", check=False)
    assert p.returncode != 0 and "Failure" in p.stderr, p.stderr
    p = env.sftp("cd missing", check=False)
    assert p.returncode != 0 and "No such file" in p.stderr, p.stderr
    assert os.path.isfile(env.r("dir", "f"))


def test_permission_denied(env):
    prefix = ""
    if os.geteuid() == 0:
        # root is never denied: serve as nobody instead.
        setpriv = shutil.which("setpriv")
        if not setpriv:
            pytest.skip("running as root and no setpriv to drop privileges")
        prefix = f"{setpriv} --reuid=65534 --regid=65534 --clear-groups "
        os.chmod(env.root, 0o755)
        os.chmod(env.remote, 0o755)
    write(env.r("secret"), "s", mode=0o600)
    os.mkdir(env.r("locked"), 0o755)
    p = env.sftp(f"get secret {env.l('s')}", check=False, prefix=prefix)
    assert p.returncode != 0 and "Permission denied" in p.stderr, p.stderr
    p = env.sftp("mkdir locked/sub", check=False, prefix=prefix)
    assert p.returncode != 0 and "Permission denied" in p.stderr, p.stderr
    p = env.sftp("rm secret", check=False, prefix=prefix)
    assert p.returncode != 0 and "Permission denied" in p.stderr, p.stderr
    assert os.path.exists(env.r("secret"))


def test_read_only_server(env):
    write(env.l("f"), "x")
    write(env.r("g"), "remote")
    p = env.sftp(f"put {env.l('f')} f", check=False, server_args="-R")
    assert p.returncode != 0 and "Permission denied" in p.stderr, p.stderr
    assert not os.path.exists(env.r("f"))
    env.sftp(f"get g {env.l('g')}", server_args="-R")
    assert read(env.l("g")) == b"remote"


def test_start_directory_option(env):
    os.mkdir(env.r("start"))
    write(env.r("start", "inside"), "i")
    p = env.sftp("pwd", "ls", server_args=f"-d {env.r('start')}")
    assert f"Remote working directory: {os.path.realpath(env.r('start'))}" in p.stdout
    assert "inside" in p.stdout


def test_big_directory_listing(env):
    """More entries than one READDIR reply carries."""
    os.mkdir(env.r("many"))
    names = {f"file-{i:04d}-{'x' * (i % 200)}" for i in range(1500)}
    for n in names:
        open(env.r("many", n), "w").close()
    p = env.sftp("ls -1 many", "ls -l many")
    listed = [ln.strip().split("/")[-1] for ln in p.stdout.splitlines() if not ln.startswith(("sftp>", "-"))]
    assert names <= set(listed)
    assert sum(1 for ln in p.stdout.splitlines() if ln.startswith("-rw")) == len(names)
    env.sftp(f"get -r many {env.l('many')}")
    assert set(os.listdir(env.l("many"))) == names


def test_resume_and_odd_names(env):
    data = os.urandom(3_000_000)
    odd = "späce and 'quote' ü.bin"
    write(env.l(odd), data)
    write(env.r(odd), data[:1_000_000])  # an upload cut short
    env.sftp(f'reput "{env.l(odd)}" "{odd}"')
    assert read(env.r(odd)) == data
    write(env.l("part"), data[:777])
    env.sftp(f'reget "{odd}" {env.l("part")}')
    assert read(env.l("part")) == data
