# SPDX-License-Identifier: Apache-2.0
"""Who may log in: public keys only, from every source of authorized keys,
with the options of OpenSSH's authorized_keys format; unusable lines reported
one by one while the others work; attempts and repeated failures limited."""

import json
import time

from pathlib import Path

import pytest

from porthole_harness import children_of, wait_for
from sshutil import SshServer, make_key, no_sanitizer_reports, pub  # noqa: F401


def denied(r) -> bool:
    return r.returncode == 255 and b"Permission denied" in r.stderr


def test_wrong_key_refused(sb):
    good = make_key(sb.root / "id_good")
    bad = make_key(sb.root / "id_bad")
    srv = SshServer(sb, keys=[good])
    r = srv.ssh("true", key=bad)
    assert denied(r), r.stderr
    ev = srv.wait_log("publickey for root refused: the key is not authorized")
    assert "ssh_auth_failure" in ev or "refused" in ev
    assert srv.ssh("echo in", key=good).stdout == b"in\n"


def test_password_and_none_refused(sb):
    srv = SshServer(sb)
    for methods in ("password", "keyboard-interactive", "none"):
        r = srv.ssh("true", extra=["-o", f"PreferredAuthentications={methods}", "-o", "PubkeyAuthentication=no"])
        assert r.returncode == 255, (methods, r.stderr)
        assert b"Permission denied (publickey)" in r.stderr or b"No more authentication methods" in r.stderr


def test_only_portholes_user(sb):
    srv = SshServer(sb)
    argv = srv.ssh_argv("true")
    argv[argv.index("root@127.0.0.1")] = "nobody@127.0.0.1"
    import subprocess
    r = subprocess.run(argv, capture_output=True, env=srv.env(), timeout=60)
    assert r.returncode == 255
    srv.wait_log("sessions run as porthole's own user")


@pytest.mark.parametrize("from_opt,ok", [
    ('from="127.0.0.1"', True),
    ('from="127.0.0.0/8"', True),
    ('from="10.0.0.0/8,192.168.*"', False),
    ('from="!127.0.0.1,*"', False),
    ('from="*"', True),
])
def test_from_option(sb, from_opt, ok):
    key = make_key(sb.root / "id_from")
    srv = SshServer(sb, keys=[key], authorized=f"{from_opt} {pub(key)}")
    r = srv.ssh("echo in")
    if ok:
        assert r.stdout == b"in\n", r.stderr
    else:
        assert denied(r), r.stderr
        srv.wait_log("not allowed from this address (from=)")


def test_forced_command(sb):
    key = make_key(sb.root / "id_cmd")
    srv = SshServer(sb, keys=[key], authorized=f'command="echo forced:$SSH_ORIGINAL_COMMAND" {pub(key)}')
    r = srv.ssh("echo", "asked")
    assert r.stdout == b"forced:echo asked\n", r.stderr
    srv.wait_log("(forced command)")


def test_environment_option(sb):
    key = make_key(sb.root / "id_env")
    srv = SshServer(sb, keys=[key], authorized=f'environment="FROM_KEY=yes" {pub(key)}')
    assert srv.ssh("echo $FROM_KEY").stdout == b"yes\n"


def test_expired_key(sb):
    key = make_key(sb.root / "id_old")
    srv = SshServer(sb, keys=[key], authorized=f'expiry-time="20000101" {pub(key)}')
    assert denied(srv.ssh("true"))
    srv.wait_log("expired")


def test_malformed_lines_reported_others_work(sb):
    a = make_key(sb.root / "id_a")
    b = make_key(sb.root / "id_b")
    lines = [
        pub(a),
        "ssh-ed25519 AAAAnot-base64!!",
        "bogus-option " + pub(b),
        "ssh-frobnicate AAAA",
        "# a comment",
        "",
        'cert-authority ' + pub(b),
        'from="10.0.0.0/33" ' + pub(b),
        pub(b) + " with a comment",
    ]
    srv = SshServer(sb, keys=[a, b], authorized="\n".join(lines))
    # The first reading runs alongside the command: its errors come soon after the ready record.
    wait_for(lambda: len([l for l in srv.d.error_lines() if "authorized keys" in l]) >= 5,
             what="the authorized keys' errors")
    errs = [l for l in srv.d.error_lines() if "authorized keys" in l]
    assert len(errs) == 5, srv.d.stderr
    for n in (2, 3, 4, 7, 8):
        assert any(f"PORTHOLE_AUTHORIZED_KEYS:{n}:" in e for e in errs), (n, errs)
    assert any('unknown option "bogus-option"' in e for e in errs)
    assert any('unknown key type "ssh-frobnicate"' in e for e in errs)
    assert any('unsupported option "cert-authority"' in e for e in errs)
    assert srv.ssh("echo a", key=a).stdout == b"a\n"
    assert srv.ssh("echo b", key=b).stdout == b"b\n"


def test_no_keys_says_how_to_add_one(sb):
    if Path("/root/.ssh/authorized_keys").exists() or Path("/etc/porthole/authorized_keys").exists():
        pytest.skip("this machine has authorized_keys of its own")
    srv = SshServer(sb, authorized="")
    srv.wait_log("nobody can log in")
    warn = [l for l in srv.d.stderr.splitlines() if "nobody can log in" in l]
    assert len(warn) == 1, srv.d.stderr
    assert "PORTHOLE_AUTHORIZED_KEYS" in warn[0] and "porthole_authorized_keys" in warn[0]
    assert denied(srv.ssh("true"))


def test_hyperparameter_keys(sb):
    key = make_key(sb.root / "id_hyper")
    sb.write_hyperparameters({"porthole_authorized_keys": json.dumps(pub(key))})
    srv = SshServer(sb, keys=[key], env={"PORTHOLE_AUTHORIZED_KEYS": None})
    assert srv.ssh("echo h").stdout == b"h\n"
    srv.wait_log("hyperparameter porthole_authorized_keys:1")


def test_keys_file_read_at_each_login(sb):
    first = make_key(sb.root / "id_first")
    later = make_key(sb.root / "id_later")
    f = sb.root / "authorized_keys"
    f.write_text(pub(first) + "\n")
    srv = SshServer(sb, keys=[first], authorized="", env={"PORTHOLE_AUTHORIZED_KEYS_FILE": str(f)})
    assert srv.ssh("true").returncode == 0
    assert denied(srv.ssh("true", key=later))
    with open(f, "a") as fh:
        fh.write(pub(later) + "\n")
    assert srv.ssh("echo later", key=later).stdout == b"later\n"


def test_missing_keys_file_is_an_error(sb):
    srv = SshServer(sb, env={"PORTHOLE_AUTHORIZED_KEYS_FILE": str(sb.root / "nope")})
    srv.wait_log("cannot read it")
    errs = [l for l in srv.d.error_lines() if "nope" in l]
    assert len(errs) == 1 and "cannot read it" in errs[0]
    assert srv.ssh("true").returncode == 0


def test_max_auth_tries(sb):
    good = make_key(sb.root / "id_good")
    wrong = [make_key(sb.root / f"id_wrong{i}") for i in range(4)]
    srv = SshServer(sb, keys=[good], env={"PORTHOLE_MAX_AUTH_TRIES": "2"})
    extra = []
    for k in wrong[1:]:
        extra += ["-i", str(k)]
    r = srv.ssh("true", key=wrong[0], extra=extra)
    assert r.returncode == 255
    srv.wait_log("too many authentication failures")
    log = srv.d.stderr
    assert log.count("publickey for root refused") == 2, log


def test_repeated_failures_are_penalised_but_never_lock_out_the_key(sb):
    """OpenSSH 9.8's PerSourcePenalties, without refusing before key exchange:
    a source that keeps failing gets its failures answered late, while the
    authorized key at the same address still logs in at once."""
    good = make_key(sb.root / "id_good")
    bad = make_key(sb.root / "id_bad")
    # Loopback is exempt by default (Session Manager): not here.
    srv = SshServer(sb, keys=[good], env={"PORTHOLE_PER_SOURCE_PENALTY_EXEMPT": "none"})
    for _ in range(4):
        assert denied(srv.ssh("true", key=bad))
    wait_for(lambda: srv.d.stderr.count("publickey for root refused") >= 4, timeout=20, what="4 failures logged")
    # porthole counts a failure when it reaps the connection's process, which
    # may be after the client has given up: wait until none is left, alive or
    # zombie (porthole serve has no other children).
    wait_for(lambda: not children_of(srv.d.host_pid), timeout=20, what="the failed connections to be reaped")
    srv.wait_log("source 127.0.0.1/32 penalised")
    # The right key is let in at once...
    assert srv.ssh("echo in").stdout == b"in\n"
    # ... and a wrong one is answered late.
    start = time.monotonic()
    assert denied(srv.ssh("true", key=bad))
    assert time.monotonic() - start >= 4.5


def test_login_and_requests_are_audited(sb):
    srv = SshServer(sb)
    assert srv.ssh("echo", "audited").returncode == 0
    log = srv.wait_log("logged out")
    fp = None
    for line in log.splitlines():
        if "logged in from 127.0.0.1" in line:
            fp = line.split(" key ")[1].split()[0]
    assert fp and fp.startswith("SHA256:")
    assert 'exec "echo audited"' in log

