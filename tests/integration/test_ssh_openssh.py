# SPDX-License-Identifier: Apache-2.0
"""PORTHOLE_SSH=openssh: the image's own sshd under porthole, with porthole's
host key, authorized keys and training environment; supervised and
restarted; its logins counted as sessions."""

import os
import signal

import pytest

from porthole_harness import children_of, wait_for
from sshutil import SSHD, SshServer, no_sanitizer_reports, sha256_file  # noqa: F401

pytestmark = pytest.mark.skipif(not os.access(SSHD, os.X_OK), reason="no openssh-server (apt-get install openssh-server)")


def openssh(sb, **kw):
    env = {"PORTHOLE_SSH": "openssh", "MY_TRAINING_VAR": 'a "quoted" value\\with a backslash'}
    env.update(kw.pop("env", {}))
    return SshServer(sb, env=env, **kw)


def sshd_pid(srv):
    def find():
        for c in children_of(srv.d.host_pid):
            try:
                if os.path.realpath(f"/proc/{c}/exe") == os.path.realpath(SSHD):
                    return c
            except OSError:
                pass
        return None
    return wait_for(find, timeout=20, what="sshd under porthole")


def test_exec_through_sshd(sb):
    srv = openssh(sb)
    srv.wait_log("Server listening on 127.0.0.1")
    r = srv.ssh('echo "$MY_TRAINING_VAR"; echo err >&2; exit 3')
    assert r.returncode == 3, r.stderr
    assert r.stdout == b'a "quoted" value\\with a backslash\n'
    assert r.stderr == b"err\n"
    srv.wait_log("logged out (sshd)")
    # It is really sshd serving, with porthole's host key.
    assert sshd_pid(srv)
    assert (sb.root / "ctl" / "sshd" / "sshd_config").exists()


def test_sshd_session_counts_for_the_hold(sb):
    srv = openssh(sb)
    srv.wait_log("Server listening")
    p = srv.popen("echo in; sleep 30")
    assert p.stdout.readline() == b"in\n"
    wait_for(lambda: sb.status().get("sessions") == 1, timeout=20, what="the sshd session to be counted")
    p.kill()
    wait_for(lambda: sb.status().get("sessions") == 0, timeout=20, what="the sshd session to end")


def test_sshd_restarted_when_it_dies(sb):
    srv = openssh(sb)
    srv.wait_log("Server listening")
    os.kill(sshd_pid(srv), signal.SIGKILL)
    srv.wait_log("starting it again in 1s")
    wait_for(lambda: srv.ssh("true").returncode == 0, timeout=30, interval=0.5, what="sshd back")


def test_sftp_through_sshd(sb):
    srv = openssh(sb, env={"PORTHOLE_SFTP_SERVER": "/usr/lib/openssh/sftp-server"})
    srv.wait_log("Server listening")
    src = sb.root / "f.bin"
    src.write_bytes(os.urandom(1 << 20))
    r = srv.sftp(f"put {src} {sb.root}/g.bin\n")
    assert r.returncode == 0, r.stderr
    assert sha256_file(sb.root / "g.bin") == sha256_file(src)


@pytest.mark.usefixtures("need_unshare")
def test_missing_privilege_separation_directory_is_created(sb):
    """An image that installs openssh-server but never starts its service has
    no /run/sshd, and sshd refuses to start without it.  porthole creates the
    directory sshd names.  Here /run is an empty tmpfs in the container's own
    mount namespace, so the host's /run is untouched."""
    srv = openssh(sb, container_prefix=["sh", "-c", 'mount -t tmpfs -o mode=0755 tmpfs /run && exec "$@"', "sh"])
    srv.wait_log("Server listening on 127.0.0.1")
    assert "created sshd's privilege separation directory /run/sshd" in srv.d.stderr
    r = srv.ssh("stat -c %a:%U /run/sshd")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"755:root\n"
