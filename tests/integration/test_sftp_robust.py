# SPDX-License-Identifier: Apache-2.0
"""`porthole sftp-server` at the packet level: hand-made requests over pipes.

What the OpenSSH client never sends is tested here: malformed, truncated and
oversized packets, garbage, stale handles, deep pipelining.  The server must
answer (BAD_MESSAGE, FAILURE ...) or exit cleanly, never crash or hang, and
under a sanitizer build never produce a report.
"""

import fcntl
import grp
import os
import pwd
import random
import re
import selectors
import shutil
import socket
import stat
import struct
import subprocess
import tempfile
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("PORTHOLE_BIN") or os.path.join(REPO, "build", "std", "porthole")

# Packet types and status codes (draft-ietf-secsh-filexfer-02).
INIT, VERSION, OPEN, CLOSE, READ, WRITE, LSTAT, FSTAT, SETSTAT, FSETSTAT = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
OPENDIR, READDIR, REMOVE, MKDIR, RMDIR, REALPATH, STAT, RENAME, READLINK, SYMLINK = range(11, 21)
STATUS, HANDLE, DATA, NAME, ATTRS, EXTENDED, EXTENDED_REPLY = 101, 102, 103, 104, 105, 200, 201
FX_OK, FX_EOF, FX_NO_SUCH_FILE, FX_PERMISSION_DENIED, FX_FAILURE, FX_BAD_MESSAGE = 0, 1, 2, 3, 4, 5
FX_OP_UNSUPPORTED = 8
FXF_READ, FXF_WRITE, FXF_CREAT, FXF_TRUNC, FXF_EXCL = 0x01, 0x02, 0x08, 0x10, 0x20
ATTR_SIZE, ATTR_UIDGID, ATTR_PERMISSIONS, ATTR_ACMODTIME, ATTR_EXTENDED = 1, 2, 4, 8, 0x80000000

TIMEOUT = 20.0
F_SETPIPE_SZ = 1031
# Reports of a SAN build (make SAN=1), or of valgrind when PORTHOLE_BIN wraps it.
SAN_PATTERNS = ("AddressSanitizer", "UndefinedBehaviorSanitizer", "LeakSanitizer", "runtime error:",
                "Invalid read", "Invalid write", "uninitialised", "definitely lost")

def u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack(">Q", v)


def sstr(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b


def attrs(flags=0, size=0, uid=0, gid=0, perm=0, atime=0, mtime=0):
    out = u32(flags)
    if flags & ATTR_SIZE:
        out += u64(size)
    if flags & ATTR_UIDGID:
        out += u32(uid) + u32(gid)
    if flags & ATTR_PERMISSIONS:
        out += u32(perm)
    if flags & ATTR_ACMODTIME:
        out += u32(atime) + u32(mtime)
    return out


def frame(body):
    return u32(len(body)) + body


class Reply:
    def __init__(self, body):
        self.body = body
        self.type = body[0]
        self.id = struct.unpack(">I", body[1:5])[0] if self.type != VERSION and len(body) >= 5 else None
        self.off = 5

    def u32(self):
        v = struct.unpack(">I", self.body[self.off:self.off + 4])[0]
        self.off += 4
        return v

    def u64(self):
        v = struct.unpack(">Q", self.body[self.off:self.off + 8])[0]
        self.off += 8
        return v

    def str(self):
        n = self.u32()
        v = self.body[self.off:self.off + n]
        assert len(v) == n, "string runs past the reply"
        self.off += n
        return v

    def attrs(self):
        flags = self.u32()
        a = {"flags": flags}
        if flags & ATTR_SIZE:
            a["size"] = self.u64()
        if flags & ATTR_UIDGID:
            a["uid"], a["gid"] = self.u32(), self.u32()
        if flags & ATTR_PERMISSIONS:
            a["perm"] = self.u32()
        if flags & ATTR_ACMODTIME:
            a["atime"], a["mtime"] = self.u32(), self.u32()
        return a

    @property
    def status(self):
        assert self.type == STATUS, f"expected STATUS, got type {self.type}"
        return struct.unpack(">I", self.body[5:9])[0]


class Server:
    """One `porthole sftp-server` process, over two pipes or over one socket
    for both stdin and stdout (as `sftp -D` and sshd connect it)."""

    def __init__(self, cwd, args=(), init=True, transport="pipe"):
        self.sock = None
        if transport == "socket":
            self.sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            self.proc = subprocess.Popen([BIN, "sftp-server", *args], cwd=cwd, stdin=child, stdout=child,
                                         stderr=subprocess.PIPE)
            child.close()
        else:
            self.proc = subprocess.Popen([BIN, "sftp-server", *args], cwd=cwd, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        self.buf = bytearray()  # replies read, from self.pos on not yet taken
        self.pos = 0
        self.next_id = 1
        self.in_closed = self.out_closed = False
        if init:
            self.send(frame(bytes([INIT]) + u32(3)))
            r = self.recv()
            assert r.type == VERSION
            r.off = 1
            assert r.u32() == 3
            self.extensions = {}
            while r.off < len(r.body):
                name = r.str()
                self.extensions[name] = r.str()

    def wfileno(self):
        return self.sock.fileno() if self.sock else self.proc.stdin.fileno()

    def rfileno(self):
        return self.sock.fileno() if self.sock else self.proc.stdout.fileno()

    def send(self, data):
        if self.sock:
            self.sock.sendall(data)
        else:
            self.proc.stdin.write(data)

    def close_input(self):
        """End of the server's input (its stdin)."""
        if self.in_closed:
            return
        self.in_closed = True
        try:
            if self.sock:
                self.sock.shutdown(socket.SHUT_WR)
            else:
                self.proc.stdin.close()
        except OSError:
            pass

    def close_output(self):
        """Stop taking the server's output: its writes fail from now on."""
        self.out_closed = True
        if self.sock:
            self.sock.shutdown(socket.SHUT_RD)
        else:
            self.proc.stdout.close()

    def _fill(self, want, deadline):
        sel = selectors.DefaultSelector()
        sel.register(self.rfileno(), selectors.EVENT_READ)
        try:
            while len(self.buf) - self.pos < want:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise TimeoutError("no reply from sftp-server")
                chunk = os.read(self.rfileno(), 1 << 20)
                if not chunk:
                    return False
                self.buf += chunk
        finally:
            sel.close()
        return True

    def recv(self, timeout=TIMEOUT):
        """The next reply, or None at end of output."""
        deadline = time.monotonic() + timeout
        if self.pos > (1 << 20):
            del self.buf[:self.pos]
            self.pos = 0
        if not self._fill(4, deadline):
            assert len(self.buf) == self.pos, "output ends inside a length"
            return None
        n = struct.unpack_from(">I", self.buf, self.pos)[0]
        assert 5 <= n <= 256 * 1024, f"reply length {n}"
        assert self._fill(4 + n, deadline), "output ends inside a reply"
        body = bytes(self.buf[self.pos + 4:self.pos + 4 + n])
        self.pos += 4 + n
        return Reply(body)

    def request(self, type_, payload=b"", rid=None):
        if rid is None:
            rid = self.next_id
            self.next_id += 1
        self.send(frame(bytes([type_]) + u32(rid) + payload))
        return rid

    def call(self, type_, payload=b""):
        rid = self.request(type_, payload)
        r = self.recv()
        assert r is not None, "server went away"
        assert r.id == rid, f"reply id {r.id} for request {rid}"
        return r

    def ext(self, name, payload=b""):
        return self.call(EXTENDED, sstr(name) + payload)

    def open(self, path, flags, a=b"\0\0\0\0"):
        r = self.call(OPEN, sstr(path) + u32(flags) + a)
        assert r.type == HANDLE, f"open {path}: status {r.status}"
        return r.str()

    def finish(self, timeout=TIMEOUT):
        """End the input, wait for the exit; returns (returncode, stderr)."""
        self.close_input()
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("sftp-server did not exit after its input closed")
        err = self.proc.stderr.read().decode(errors="replace")
        self.kill()
        return rc, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.sock, self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass


def assert_clean(rc, err, ok=(0, 1)):
    for pat in SAN_PATTERNS:
        assert pat not in err, f"sanitizer report:\n{err}"
    assert rc in ok, f"exit status {rc} (negative: signal)\n{err}"


@pytest.fixture(params=["pipe", "socket"])
def work(request):
    if not os.access(BIN, os.X_OK):
        pytest.fail(f"porthole binary {BIN} is not executable; build it with `make`")
    d = tempfile.mkdtemp(prefix="porthole-sftp-robust-")
    servers = []

    def start(*args, **kw):
        s = Server(d, args, transport=request.param, **kw)
        servers.append(s)
        return s

    try:
        yield d, start
    finally:
        for s in servers:
            s.kill()
        shutil.rmtree(d, ignore_errors=True)


# --- well-formed requests: the answers clients rely on ---

def test_version_advertises_extensions(work):
    d, start = work
    s = start()
    for name, ver in [(b"posix-rename@openssh.com", b"1"), (b"statvfs@openssh.com", b"2"),
                      (b"fstatvfs@openssh.com", b"2"), (b"hardlink@openssh.com", b"1"),
                      (b"fsync@openssh.com", b"1"), (b"limits@openssh.com", b"1"),
                      (b"lsetstat@openssh.com", b"1"), (b"expand-path@openssh.com", b"1")]:
        assert s.extensions.get(name) == ver, name
    r = s.ext("limits@openssh.com")
    assert r.type == EXTENDED_REPLY
    max_packet, max_read, max_write, max_handles = r.u64(), r.u64(), r.u64(), r.u64()
    assert max_packet == 256 * 1024
    assert 255 * 1024 <= max_read < max_packet and 255 * 1024 <= max_write < max_packet
    assert 64 <= max_handles <= 512
    assert_clean(*s.finish(), ok=(0,))


def test_realpath_of_dot_is_the_starting_directory(work):
    d, start = work
    s = start()
    r = s.call(REALPATH, sstr("."))
    assert r.type == NAME and r.u32() == 1
    assert r.str().decode() == os.path.realpath(d)
    r = s.call(REALPATH, sstr(""))
    assert r.u32() == 1 and r.str().decode() == os.path.realpath(d)
    # A missing last component is allowed (where a new file would go) ...
    r = s.call(REALPATH, sstr("sub/../new-file"))
    assert r.type == STATUS and r.status == FX_NO_SUCH_FILE  # "sub" does not exist
    r = s.call(REALPATH, sstr("./new-file"))
    assert r.u32() == 1 and r.str().decode() == os.path.join(os.path.realpath(d), "new-file")
    # ... a missing directory on the way is not.
    assert s.call(REALPATH, sstr("nodir/x")).status == FX_NO_SUCH_FILE
    r = s.ext("expand-path@openssh.com", sstr("~"))
    assert r.type == NAME and r.u32() == 1
    assert r.str().decode() == os.path.realpath(os.path.expanduser("~"))
    assert_clean(*s.finish(), ok=(0,))


def test_open_write_read_stat_close(work):
    d, start = work
    s = start()
    h = s.open("f", FXF_WRITE | FXF_CREAT | FXF_TRUNC, attrs(ATTR_PERMISSIONS, perm=0o640))
    assert s.call(WRITE, sstr(h) + u64(0) + sstr(b"hello ")).status == FX_OK
    assert s.call(WRITE, sstr(h) + u64(6) + sstr(b"world")).status == FX_OK
    r = s.call(FSTAT, sstr(h))
    assert r.type == ATTRS
    a = r.attrs()
    assert a["size"] == 11 and stat.S_ISREG(a["perm"])
    assert s.call(CLOSE, sstr(h)).status == FX_OK
    # The handle is gone now: a stale handle is refused, not reused.
    assert s.call(CLOSE, sstr(h)).status == FX_FAILURE
    assert s.call(READ, sstr(h) + u64(0) + u32(10)).status == FX_FAILURE
    with open(os.path.join(d, "f"), "rb") as f:
        assert f.read() == b"hello world"
    assert stat.S_IMODE(os.stat(os.path.join(d, "f")).st_mode) == 0o640 & ~current_umask()

    h = s.open("f", FXF_READ)
    r = s.call(READ, sstr(h) + u64(6) + u32(100))
    assert r.type == DATA and r.str() == b"world"
    assert s.call(READ, sstr(h) + u64(11) + u32(100)).status == FX_EOF
    assert s.call(READ, sstr(h) + u64(1 << 63) + u32(100)).status == FX_EOF
    # Writing through a read-only handle is refused.
    assert s.call(WRITE, sstr(h) + u64(0) + sstr(b"x")).status == FX_PERMISSION_DENIED
    assert s.call(CLOSE, sstr(h)).status == FX_OK

    r = s.call(STAT, sstr("f"))
    assert r.type == ATTRS and r.attrs()["size"] == 11
    assert s.call(STAT, sstr("missing")).status == FX_NO_SUCH_FILE
    assert s.call(OPEN, sstr("missing") + u32(FXF_READ) + attrs()).status == FX_NO_SUCH_FILE
    assert s.call(OPEN, sstr("f") + u32(FXF_WRITE | FXF_CREAT | FXF_EXCL) + attrs()).status == FX_FAILURE
    assert s.call(REMOVE, sstr("missing")).status == FX_NO_SUCH_FILE
    assert_clean(*s.finish(), ok=(0,))


def current_umask():
    m = os.umask(0)
    os.umask(m)
    return m


def test_setstat_and_lsetstat(work):
    d, start = work
    s = start()
    p = os.path.join(d, "f")
    with open(p, "wb") as f:
        f.write(b"x" * 100)
    a = attrs(ATTR_SIZE | ATTR_PERMISSIONS | ATTR_ACMODTIME, size=10, perm=0o100604,
              atime=1_000_000_000, mtime=1_200_000_000)
    assert s.call(SETSTAT, sstr("f") + a).status == FX_OK
    st = os.stat(p)
    assert st.st_size == 10 and stat.S_IMODE(st.st_mode) == 0o604 and st.st_mtime == 1_200_000_000
    os.symlink("f", os.path.join(d, "l"))
    r = s.ext("lsetstat@openssh.com", sstr("l") + attrs(ATTR_ACMODTIME, atime=5, mtime=7))
    assert r.status == FX_OK
    assert os.lstat(os.path.join(d, "l")).st_mtime == 7 and os.stat(p).st_mtime == 1_200_000_000
    # A size is nonsensical for a link (OpenSSH answers the same).
    assert s.ext("lsetstat@openssh.com", sstr("l") + attrs(ATTR_SIZE, size=1)).status == FX_BAD_MESSAGE
    assert s.call(SETSTAT, sstr("missing") + attrs(ATTR_PERMISSIONS, perm=0o600)).status == FX_NO_SUCH_FILE
    assert_clean(*s.finish(), ok=(0,))


def test_rename_does_not_replace_but_posix_rename_does(work):
    d, start = work
    s = start()
    for n in ("a", "b"):
        with open(os.path.join(d, n), "w") as f:
            f.write(n)
    assert s.call(RENAME, sstr("a") + sstr("b")).status == FX_FAILURE
    assert open(os.path.join(d, "b")).read() == "b"
    assert s.call(RENAME, sstr("a") + sstr("c")).status == FX_OK
    assert s.ext("posix-rename@openssh.com", sstr("c") + sstr("b")).status == FX_OK
    assert open(os.path.join(d, "b")).read() == "a" and not os.path.exists(os.path.join(d, "c"))
    # SYMLINK: OpenSSH's order, target first.
    assert s.call(SYMLINK, sstr("b") + sstr("link")).status == FX_OK
    assert os.readlink(os.path.join(d, "link")) == "b"
    r = s.call(READLINK, sstr("link"))
    assert r.type == NAME and r.u32() == 1 and r.str() == b"b"
    assert s.call(READLINK, sstr("b")).status == FX_BAD_MESSAGE  # EINVAL, as OpenSSH maps it
    assert s.ext("hardlink@openssh.com", sstr("b") + sstr("hard")).status == FX_OK
    assert os.stat(os.path.join(d, "hard")).st_ino == os.stat(os.path.join(d, "b")).st_ino
    assert_clean(*s.finish(), ok=(0,))


def test_readdir_longname_like_ls(work):
    d, start = work
    s = start()
    p = os.path.join(d, "a.txt")
    with open(p, "w") as f:
        f.write("hello")
    os.chmod(p, 0o640)
    os.utime(p, (1_577_923_200, 1_577_923_200))  # 2020-01-02, over half a year ago: the year shows
    os.mkdir(os.path.join(d, "sub"))
    h = s.call(OPENDIR, sstr("."))
    assert h.type == HANDLE
    h = h.str()
    names = {}
    while True:
        r = s.call(READDIR, sstr(h))
        if r.type == STATUS:
            assert r.status == FX_EOF
            break
        for _ in range(r.u32()):
            name, longname, a = r.str().decode(), r.str().decode(), r.attrs()
            names[name] = (longname, a)
    assert set(names) == {".", "..", "a.txt", "sub"}
    longname, a = names["a.txt"]
    assert a["size"] == 5 and stat.S_IMODE(a["perm"]) == 0o640
    assert re.fullmatch(r"-rw-r----- +1 \S+ +\S+ +5 Jan  [12]  2020 a\.txt", longname), longname
    assert names["sub"][0].startswith("drwx")
    assert s.call(READDIR, sstr(h)).status == FX_EOF
    assert s.call(CLOSE, sstr(h)).status == FX_OK
    assert s.call(OPENDIR, sstr("missing")).status == FX_NO_SUCH_FILE
    assert s.call(OPENDIR, sstr("a.txt")).status == FX_NO_SUCH_FILE  # ENOTDIR
    assert_clean(*s.finish(), ok=(0,))


def test_statvfs_and_fsync_and_copy_data(work):
    d, start = work
    s = start()
    r = s.ext("statvfs@openssh.com", sstr("."))
    assert r.type == EXTENDED_REPLY
    vals = [r.u64() for _ in range(11)]
    v = os.statvfs(d)
    assert vals[0] == v.f_bsize and vals[2] == v.f_blocks and vals[10] == v.f_namemax
    data = os.urandom(300_000)
    with open(os.path.join(d, "src"), "wb") as f:
        f.write(data)
    src = s.open("src", FXF_READ)
    dst = s.open("dst", FXF_WRITE | FXF_CREAT | FXF_TRUNC)
    assert s.ext("fstatvfs@openssh.com", sstr(src)).type == EXTENDED_REPLY
    assert s.ext("copy-data", sstr(src) + u64(0) + u64(0) + sstr(dst) + u64(0)).status == FX_OK
    assert s.ext("fsync@openssh.com", sstr(dst)).status == FX_OK
    # Reading through a write-only handle is refused, as is writing through a read-only one.
    assert s.call(READ, sstr(dst) + u64(0) + u32(10)).status == FX_PERMISSION_DENIED
    assert s.ext("copy-data", sstr(dst) + u64(0) + u64(0) + sstr(src) + u64(0)).status == FX_PERMISSION_DENIED
    # Overlapping ranges of one file are refused; disjoint ones are copied.
    rw = s.open("dst", FXF_READ | FXF_WRITE)
    assert s.ext("copy-data", sstr(rw) + u64(0) + u64(10) + sstr(rw) + u64(5)).status == FX_FAILURE
    assert s.ext("copy-data", sstr(rw) + u64(0) + u64(10) + sstr(rw) + u64(10)).status == FX_OK
    s.call(CLOSE, sstr(rw))
    data = data[:10] + data[:10] + data[20:]
    s.call(CLOSE, sstr(src))
    s.call(CLOSE, sstr(dst))
    assert open(os.path.join(d, "dst"), "rb").read() == data
    assert s.ext("no-such-extension@example.com").status == FX_OP_UNSUPPORTED
    assert s.call(99, b"").status == FX_OP_UNSUPPORTED
    assert_clean(*s.finish(), ok=(0,))


def test_read_only_mode(work):
    d, start = work
    s = start("-R")
    assert s.call(OPEN, sstr("f") + u32(FXF_WRITE | FXF_CREAT) + attrs()).status == FX_PERMISSION_DENIED
    assert s.call(MKDIR, sstr("d") + attrs()).status == FX_PERMISSION_DENIED
    assert not os.path.exists(os.path.join(d, "f")) and not os.path.exists(os.path.join(d, "d"))
    assert s.call(REALPATH, sstr(".")).type == NAME
    assert_clean(*s.finish(), ok=(0,))


def test_handle_table_is_bounded(work):
    d, start = work
    s = start()
    with open(os.path.join(d, "f"), "w") as f:
        f.write("x")
    n = s.ext("limits@openssh.com")
    n.u64(), n.u64(), n.u64()
    limit = n.u64()
    for _ in range(limit):
        s.request(OPEN, sstr("f") + u32(FXF_READ) + attrs())
    handles = []
    for _ in range(limit):
        r = s.recv()
        assert r.type == HANDLE
        handles.append(r.str())
    assert s.call(OPEN, sstr("f") + u32(FXF_READ) + attrs()).status == FX_FAILURE
    assert s.call(CLOSE, sstr(handles[0])).status == FX_OK
    assert s.call(OPEN, sstr("f") + u32(FXF_READ) + attrs()).type == HANDLE
    assert_clean(*s.finish(), ok=(0,))


def test_pipelined_reads_and_writes(work):
    """Many requests in flight before any reply is read, as sftp does."""
    d, start = work
    s = start()
    data = os.urandom(64 * 255 * 1024 + 1234)
    h = s.open("big", FXF_WRITE | FXF_CREAT | FXF_TRUNC)
    chunk = 255 * 1024
    ids = [s.request(WRITE, sstr(h) + u64(off) + sstr(data[off:off + chunk]))
           for off in range(0, len(data), chunk)]
    for rid in ids:
        r = s.recv()
        assert r.id == rid and r.status == FX_OK
    s.call(CLOSE, sstr(h))
    h = s.open("big", FXF_READ)
    # Ask for more than the server's limit: the reply is cut to it, and a
    # client asks again for the rest.
    ids = {s.request(READ, sstr(h) + u64(off) + u32(1 << 20)): off for off in range(0, len(data), chunk)}
    got = {}
    for _ in ids:
        r = s.recv()
        assert r.type == DATA
        got[ids[r.id]] = r.str()
        assert len(got[ids[r.id]]) <= chunk
    assert b"".join(got[off] for off in sorted(got)) == data
    assert_clean(*s.finish(), ok=(0,))


def test_a_client_that_does_not_read_does_not_deadlock(work):
    """A client that writes all its requests before reading any reply: many
    small READs, then READs and WRITEs of 64 KiB, 8 MB each way in all --
    more than any pipe, socket or fixed buffer holds.  The client's writes
    must complete: the server keeps taking requests while its replies wait
    (a server that blocked writing a reply would leave both sides writing,
    forever)."""
    d, start = work
    s = start()
    size = 4 << 20
    with open(os.path.join(d, "f"), "wb") as f:
        f.write(os.urandom(size))
    h = s.open("f", FXF_READ)
    w = s.open("w", FXF_WRITE | FXF_CREAT)
    chunk = os.urandom(65536)
    reqs, want = [], []
    for i in range(4000):
        reqs.append(frame(bytes([READ]) + u32(len(want)) + sstr(h) + u64(i * 1024) + u32(512)))
        want.append((DATA, 512))
    for i in range(128):
        reqs.append(frame(bytes([READ]) + u32(len(want)) + sstr(h) + u64(i * 16384) + u32(65536)))
        want.append((DATA, 65536))
        reqs.append(frame(bytes([WRITE]) + u32(len(want)) + sstr(w) + u64(i * 65536) + sstr(chunk)))
        want.append((STATUS, FX_OK))
    writer = threading.Thread(target=s.send, args=(b"".join(reqs),), daemon=True)
    writer.start()
    writer.join(TIMEOUT)
    assert not writer.is_alive(), "server stopped reading requests while replies were pending"
    for i, (type_, what) in enumerate(want):
        r = s.recv()
        assert r.id == i and r.type == type_
        assert (len(r.str()) if type_ == DATA else r.status) == what
    assert os.path.getsize(os.path.join(d, "w")) == 128 * 65536
    assert_clean(*s.finish(), ok=(0,))


# --- malformed input: answered or a clean exit, never a crash or a hang ---

def test_string_lengths_past_the_packet_are_bad_messages(work):
    d, start = work
    s = start()
    cases = [
        (OPEN, u32(0xFFFFFFF0) + b"abc"),
        (OPEN, sstr("f") + u32(FXF_READ) + u32(ATTR_SIZE)),               # attrs cut short
        (OPEN, sstr("f") + u32(FXF_READ) + u32(ATTR_EXTENDED) + u32(0xFFFFFFFF)),
        (STAT, u32(5) + b"ab"),
        (STAT, sstr(b"a\0b")),                                            # embedded NUL
        (READ, sstr(b"12345678")),                                        # no offset
        (WRITE, sstr(b"12345678") + u64(0) + u32(1 << 30) + b"xx"),
        (SETSTAT, sstr("f")),
        (RENAME, sstr("a")),
        (SYMLINK, sstr("a") + u32(100)),
        (EXTENDED, u32(1 << 31)),
        (EXTENDED, sstr("posix-rename@openssh.com") + sstr("a")),
        (EXTENDED, sstr("users-groups-by-id@openssh.com") + sstr(b"\0\0\0") + sstr(b"")),
        (EXTENDED, sstr("copy-data") + sstr(b"12345678") + u64(0)),
        (REALPATH, b""),
    ]
    for type_, payload in cases:
        r = s.call(type_, payload)
        assert r.status == FX_BAD_MESSAGE, (type_, payload, r.status)
    # Handles of the wrong size or unknown are refused, not trusted.
    for h in (b"", b"x", b"\0" * 8, b"\xff" * 8, b"\0" * 300):
        assert s.call(CLOSE, sstr(h)).status == FX_FAILURE
        assert s.call(READ, sstr(h) + u64(0) + u32(10)).status == FX_FAILURE
    # Still serving.
    assert s.call(REALPATH, sstr(".")).type == NAME
    assert_clean(*s.finish(), ok=(0,))


def test_users_groups_by_id(work):
    d, start = work
    s = start()
    r = s.ext("users-groups-by-id@openssh.com", sstr(u32(0) + u32(4_000_000_000)) + sstr(u32(0)))
    assert r.type == EXTENDED_REPLY
    users, groups = Reply(b"\0" * 5 + r.str()), Reply(b"\0" * 5 + r.str())
    assert users.str().decode() == pwd.getpwuid(0).pw_name
    assert users.str() == b""  # no such user: empty
    assert groups.str().decode() == grp.getgrgid(0).gr_name
    assert_clean(*s.finish(), ok=(0,))


@pytest.mark.parametrize("length", [0, 1, 4, 0xFFFFFFFF, 0x80000000, 256 * 1024 + 1025 + 4096])
def test_bad_packet_lengths_end_the_session(work, length):
    d, start = work
    s = start()
    s.send(u32(length) + b"\x03garbage")
    # No need to send the announced bytes: the length alone ends it.
    assert s.recv() is None
    rc, err = s.finish()
    assert_clean(rc, err, ok=(1,))


def test_protocol_error_with_unread_replies_still_exits(work):
    """Replies queued before a bad packet are offered to the client, but a
    client that never reads them does not keep the server alive."""
    d, start = work
    s = start()
    if s.sock:
        pytest.skip("needs a pipe the client can shrink")
    # Shrink the reply pipe to one page (the server made it big at start), so
    # that replies stay queued in the server.
    fcntl.fcntl(s.proc.stdout.fileno(), F_SETPIPE_SZ, 4096)
    with open(os.path.join(d, "f"), "wb") as f:
        f.write(os.urandom(1 << 20))
    h = s.open("f", FXF_READ)
    for i in range(4):
        s.request(READ, sstr(h) + u64(i * 25000) + u32(25000))
    s.send(u32(0xFFFFFFFF))
    t = time.monotonic()
    rc, err = s.finish(timeout=15)  # stdout is never read
    assert time.monotonic() - t < 12
    assert_clean(rc, err, ok=(1,))
    assert "bad packet length" in err


def test_request_before_init_ends_the_session(work):
    d, start = work
    s = start(init=False)
    s.send(frame(bytes([REALPATH]) + u32(1) + sstr(".")))
    assert s.recv() is None
    assert_clean(*s.finish(), ok=(1,))


def test_second_init_ends_the_session(work):
    d, start = work
    s = start()
    s.send(frame(bytes([INIT]) + u32(3)))
    assert s.recv() is None
    assert_clean(*s.finish(), ok=(1,))


def test_truncated_packet_at_end_of_input(work):
    d, start = work
    s = start()
    s.send(frame(bytes([REALPATH]) + u32(7) + sstr("."))[:-2])
    rc, err = s.finish()
    assert_clean(rc, err, ok=(0,))


def test_empty_input(work):
    d, start = work
    s = start(init=False)
    assert_clean(*s.finish(), ok=(0,))


def test_client_goes_away_mid_transfer(work):
    d, start = work
    s = start()
    with open(os.path.join(d, "f"), "wb") as f:
        f.write(os.urandom(8 << 20))
    h = s.open("f", FXF_READ)
    for i in range(64):
        s.request(READ, sstr(h) + u64(i * 131072) + u32(131072))
    s.close_output()  # replies now have nowhere to go
    rc, err = s.finish()
    assert_clean(rc, err, ok=(0, 1))


@pytest.mark.parametrize("seed", range(12))
def test_random_garbage(work, seed):
    d, start = work
    rnd = random.Random(seed)
    s = start(init=seed % 2 == 0)
    data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 70000)))
    try:
        s.send(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    rc, err = s.finish()
    assert_clean(rc, err)


def random_packet(rnd, handles):
    """A request of a random type whose fields are random but plausibly shaped.
    Paths are short relative names: the fuzz stays in its directory."""
    def name():
        return sstr("".join(rnd.choice("abc") for _ in range(rnd.randint(0, 3))))

    def handle():
        if handles and rnd.random() < 0.7:
            return sstr(rnd.choice(handles))
        return sstr(bytes(rnd.getrandbits(8) for _ in range(rnd.choice([0, 4, 8, 8, 12]))))

    def rattrs():
        flags = rnd.choice([0, ATTR_SIZE, ATTR_PERMISSIONS, ATTR_ACMODTIME, ATTR_UIDGID, 0xF,
                            ATTR_EXTENDED, rnd.getrandbits(32)]) & ~ATTR_UIDGID  # no chown games
        a = attrs(flags & 0xF, size=rnd.randint(0, 1 << 16), perm=rnd.getrandbits(12) | 0o700,
                  atime=rnd.getrandbits(32), mtime=rnd.getrandbits(32), uid=0, gid=0)
        a = u32(flags) + a[4:]
        if flags & ATTR_EXTENDED:
            n = rnd.randint(0, 3)
            a += u32(n) + b"".join(sstr("k") + sstr("v") for _ in range(n))
        return a

    t = rnd.choice([OPEN, CLOSE, READ, WRITE, LSTAT, FSTAT, SETSTAT, FSETSTAT, OPENDIR, READDIR, REMOVE,
                    MKDIR, RMDIR, REALPATH, STAT, RENAME, READLINK, SYMLINK, EXTENDED, 0, 2, 101, 250])
    if t == OPEN:
        p = name() + u32(rnd.getrandbits(6)) + rattrs()
    elif t in (CLOSE, FSTAT, READDIR):
        p = handle()
    elif t == READ:
        p = handle() + u64(rnd.choice([0, 1, 1 << 20, 1 << 63, (1 << 64) - 1])) + u32(rnd.getrandbits(20))
    elif t == WRITE:
        p = handle() + u64(rnd.choice([0, 7, 1 << 20, (1 << 63) - 3, (1 << 64) - 1])) + sstr(b"z" * rnd.randint(0, 300))
    elif t in (SETSTAT, MKDIR):
        p = name() + rattrs()
    elif t == FSETSTAT:
        p = handle() + rattrs()
    elif t in (RENAME, SYMLINK):
        p = name() + name()
    elif t == EXTENDED:
        ext = rnd.choice(["posix-rename@openssh.com", "statvfs@openssh.com", "fstatvfs@openssh.com",
                          "hardlink@openssh.com", "fsync@openssh.com", "lsetstat@openssh.com",
                          "limits@openssh.com", "expand-path@openssh.com", "copy-data", "home-directory",
                          "users-groups-by-id@openssh.com", "bogus"])
        if ext in ("posix-rename@openssh.com", "hardlink@openssh.com"):
            p = name() + name()
        elif ext in ("fstatvfs@openssh.com", "fsync@openssh.com"):
            p = handle()
        elif ext == "lsetstat@openssh.com":
            p = name() + rattrs()
        elif ext == "copy-data":
            p = handle() + u64(rnd.randint(0, 100)) + u64(rnd.randint(0, 100)) + handle() + u64(rnd.randint(0, 100))
        elif ext == "users-groups-by-id@openssh.com":
            p = sstr(b"".join(u32(rnd.getrandbits(16)) for _ in range(rnd.randint(0, 5)))) + sstr(u32(0))
        elif ext == "home-directory":
            p = sstr(rnd.choice(["", "root", "nobody-here"]))
        else:
            p = name()
        p = sstr(ext) + p
    else:
        p = name()
    # Sometimes cut the body short, or add junk at the end.
    roll = rnd.random()
    if roll < 0.2 and p:
        p = p[:rnd.randint(0, len(p) - 1)]
    elif roll < 0.3:
        p += bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 8)))
    return t, p


@pytest.mark.parametrize("seed", range(6))
def test_fuzz_well_framed_requests(work, seed):
    """Random requests with valid framing: each gets exactly one reply with its id."""
    d, start = work
    rnd = random.Random(1000 + seed)
    s = start()
    handles = []
    for i in range(600):
        t, p = random_packet(rnd, handles)
        rid = s.request(t, p)
        r = s.recv()
        assert r is not None, f"server exited on request type {t}"
        assert r.id == rid
        if r.type == HANDLE:
            handles.append(r.str())
    assert s.call(REALPATH, sstr(".")).type == NAME
    assert_clean(*s.finish(), ok=(0,))


@pytest.mark.parametrize("seed", range(6))
def test_fuzz_mutated_bytes(work, seed):
    """Valid requests with bytes flipped anywhere (lengths included); read-only
    so that a mangled path cannot touch anything outside the directory."""
    d, start = work
    rnd = random.Random(2000 + seed)
    s = start("-R")
    stream = b""
    for i in range(300):
        t, p = random_packet(rnd, [])
        body = bytearray(bytes([t]) + u32(i) + p)
        for _ in range(rnd.randint(1, 4)):
            body[rnd.randrange(len(body))] = rnd.getrandbits(8)
        pkt = bytearray(frame(bytes(body)))
        if rnd.random() < 0.05:
            pkt[rnd.randrange(4)] = rnd.getrandbits(8)  # the framing too, now and then
        stream += pkt
    try:
        s.send(stream)
    except (BrokenPipeError, ConnectionResetError):
        pass
    # End the input, then drain the replies: each well-formed, until the exit.
    s.close_input()
    while s.recv() is not None:
        pass
    rc, err = s.finish()
    assert_clean(rc, err)
