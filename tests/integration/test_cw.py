# SPDX-License-Identifier: Apache-2.0
"""The CloudWatch publisher against the local AWS stand-in (tests/awsstandin).

Each test starts its own stand-in and points porthole at it with
AWS_ENDPOINT_URL_CLOUDWATCH_LOGS and credentials from the environment, the
container endpoint or IMDS.  Events are produced on demand with the hidden
control command {"cmd":"log"} (agent/daemon/requests.c), which logs warnings
through every log sink exactly like porthole's own warnings.
"""

import json
import os
import signal
import socket
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from awsstandin.client import (  # noqa: E402
    DEFAULT_ACCESS_KEY,
    DEFAULT_SECRET_KEY,
)
import controlclient  # noqa: E402
from porthole_harness import SLOW, wait_for  # noqa: E402

GROUP = "/aws/sagemaker/TrainingJobs"
STREAM = "job-cw/algo-1-test/ssm"
JOB = "job-cw"
WAIT = 90 if SLOW else 45


def cw_env(sb, standin, creds="env", **extra):
    env = {
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": standin.url,
        "AWS_EC2_METADATA_DISABLED": "true",
        "PORTHOLE_CLOUDWATCH": "on",
        "PORTHOLE_SPOOL_DIR": str(sb.root / "spool"),
        "PORTHOLE_JOB": JOB,
        "PORTHOLE_LOG_STREAM": STREAM,
    }
    if creds == "env":
        env["AWS_ACCESS_KEY_ID"] = DEFAULT_ACCESS_KEY
        env["AWS_SECRET_ACCESS_KEY"] = DEFAULT_SECRET_KEY
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def control(sb, req):
    reply = controlclient.call(sb.sock, req)
    assert reply.get("ok"), reply
    return reply


def emit(sb, msg, count):
    control(sb, {"cmd": "log", "msg": msg, "count": count})


def messages(standin, group=GROUP, stream=STREAM):
    try:
        evs = standin.control.events(group, stream)
    except Exception:  # noqa: BLE001 - stream not there yet
        return []
    return [json.loads(e["message"]) for e in evs]


def msgs_with(standin, prefix, stream=STREAM):
    return [m["msg"] for m in messages(standin, stream=stream) if m.get("msg", "").startswith(prefix)]


def wait_msgs(standin, prefix, n, stream=STREAM, timeout=WAIT):
    return wait_for(lambda: (lambda got: got if len(set(got)) >= n else None)(msgs_with(standin, prefix, stream)),
                    timeout=timeout, what=f"{n} '{prefix}' events in CloudWatch")


def serve(sb, standin, **kw):
    d = sb.start(["serve"], env=cw_env(sb, standin, **kw))
    return d


def stop(d, timeout=30):
    d.signal(signal.SIGTERM)
    return d.wait(timeout)


# ---- the identity record --------------------------------------------------------


def test_identity_record_readable_with_aws_cli(sb, standin):
    standin.control.create_group(GROUP)
    sb.write_resourceconfig({"current_host": "algo-1", "hosts": ["algo-1", "algo-2"],
                             "network_interface_name": "lo", "current_instance_type": "ml.m5.xlarge"})
    # Default stream name: <job>/<host>-<epoch>/ssm.
    d = sb.run_cmd(["sh", "-c", "exit 0"], env=cw_env(sb, standin, PORTHOLE_LOG_STREAM=None),
                   settings=["--hold", "never"])
    assert d.wait() == 0
    logs = standin.control.call("GET", "logs")["groups"][GROUP]["streams"]
    assert len(logs) == 1, logs
    stream = next(iter(logs))
    epoch = int((sb.root / "spool" / "epoch").read_text())
    assert stream == f"{JOB}/algo-1-{epoch}/ssm"
    assert abs(epoch - time.time()) < 120
    events = standin.aws_get_log_events(GROUP, stream)
    recs = [json.loads(e["message"]) for e in events]
    ready = [r for r in recs if r["event"] == "ready"]
    assert len(ready) == 1, recs
    r = ready[0]
    assert r["version"] == 1 and r["level"] == "info" and r["job"] == JOB and r["host"] == "algo-1"
    assert r["ts"].endswith("Z")
    assert r["data"]["porthole"] == "ready" and r["data"]["hosts"] == ["algo-1", "algo-2"]
    assert r["data"]["ip"] == "127.0.0.1" and r["data"]["state"] == "training"
    # The state changed (training -> exiting): the identity went again.
    assert any(x["event"] == "identity" and x["data"]["state"] != "training" for x in recs), recs
    # Timestamps are in order, as CloudWatch requires.
    ts = [e["timestamp"] for e in events]
    assert ts == sorted(ts)


def test_warnings_and_hostile_text(sb, standin):
    standin.control.create_group(GROUP)
    d = serve(sb, standin)
    hostile = 'quote " backslash \\ newline \n tab \t ctrl \x01 unicode \u20ac'
    # Every message is escaped OpenSSH-style (issue 13, lib/vis.h): one line,
    # no control characters; printable UTF-8 stays.
    shown = 'quote " backslash \\\\ newline \\n tab \\t ctrl \\001 unicode \u20ac'
    emit(sb, hostile, 3)
    control(sb, {"cmd": "log", "msg": "an error", "level": "error"})
    got = wait_msgs(standin, "quote", 3)
    assert sorted(got) == sorted(f"{shown} {i}" for i in (1, 2, 3))
    # The error may go in a later batch than the warnings: wait for it too.
    wait_msgs(standin, "an error", 1)
    errs = [m for m in messages(standin) if m.get("msg") == "an error 1"]
    assert errs and errs[0]["level"] == "error" and errs[0]["event"] == "log"
    assert stop(d) == 0


def test_startup_errors_are_shipped(sb, standin):
    # A bad setting is reported before the publisher exists; the log keeps it
    # for the first sink, so it still reaches CloudWatch.
    standin.control.create_group(GROUP)
    d = serve(sb, standin, PORTHOLE_IDLE_GRACE="abc")
    got = wait_for(lambda: [m for m in messages(standin) if "PORTHOLE_IDLE_GRACE" in m.get("msg", "")] or None,
                   timeout=WAIT, what="the config error in CloudWatch")
    assert len(got) == 1, got
    # The refused value is not repeated (issue 13: it may be a secret).
    assert got[0]["level"] == "error" and "abc" not in got[0]["msg"]
    assert stop(d) == 0


# ---- nothing lost, nothing doubled ------------------------------------------------

# Faults that strike before the server stored anything: no duplicates allowed.
BEFORE = ["throttle", "unavailable", "reset_before", "expired_token", "stream_deleted", "delay"]


@pytest.mark.parametrize("fault", BEFORE + ["reset_after"])
def test_fault_no_loss(sb, standin, fault):
    standin.control.create_group(GROUP)
    d = serve(sb, standin)
    wait_for(lambda: messages(standin), timeout=WAIT, what="the ready event")
    spec = {"operation": "PutLogEvents", "count": 2}
    if fault == "delay":
        spec["seconds"] = 1.0
    standin.control.add_fault(fault, **spec)
    n = 60
    for k in range(3):
        emit(sb, f"f{k}", n // 3)
        time.sleep(0.1)
    got = wait_msgs(standin, "f", n)
    assert set(got) == {f"f{k} {i}" for k in range(3) for i in range(1, n // 3 + 1)}
    if fault in BEFORE:
        assert len(got) == n, f"duplicates after {fault}: {len(got)} stored for {n}"
    # The stand-in logs a request after it stored its events (delay,
    # reset_after): the last faulted call may be logged just after its events
    # show up.
    applied = wait_for(lambda: (lambda a: a if len(a) >= 2 else None)(
        [r for r in standin.control.requests()["requests"] if r.get("fault") == fault]),
        timeout=WAIT, what=f"two {fault} faults in the request log")
    assert len(applied) == 2, applied
    assert stop(d) == 0


def test_stream_deleted_is_recreated(sb, standin):
    standin.control.create_group(GROUP)
    d = serve(sb, standin)
    emit(sb, "a", 5)
    wait_msgs(standin, "a", 5)
    standin.control.call("DELETE", "logs/streams", query={"group": GROUP, "stream": STREAM})
    emit(sb, "b", 5)
    got = wait_msgs(standin, "b", 5)
    assert len(got) == 5
    assert "creating" in d.stderr
    assert stop(d) == 0


# ---- restart, shutdown ------------------------------------------------------------


def test_kill9_restart_sends_backlog(sb, standin):
    standin.control.create_group(GROUP)
    # First porthole: CloudWatch unreachable (nothing listens there).
    # Bound but not listening: connections are refused, and no other process
    # (a parallel run's stand-in) can take the port while it is in use here.
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_url = f"http://127.0.0.1:{dead.getsockname()[1]}"
    env = cw_env(sb, standin, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=dead_url, PORTHOLE_LOG_STREAM=None)
    try:
        d1 = sb.start(["serve"], env=env)
        emit(sb, "backlog", 40)
        wait_for(lambda: "cannot send" in d1.stderr, timeout=WAIT, what="the unreachable warning")
        d1.signal(signal.SIGKILL)
        d1.wait()
    finally:
        dead.close()
    # Second porthole, same spool, reachable: the backlog goes first, to the
    # same stream (the epoch is the first porthole's).
    env["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] = standin.url
    d2 = sb.start(["serve"], env=env)
    epoch = int((sb.root / "spool" / "epoch").read_text())
    stream = f"{JOB}/{d2.ready['host']}-{epoch}/ssm"
    got = wait_msgs(standin, "backlog", 40, stream=stream)
    assert len(got) == 40
    # The second porthole's ready event follows the backlog, maybe in a later batch.
    recs = wait_for(lambda: (lambda rs: rs if sum(r["event"] == "ready" for r in rs) >= 2 else None)(
        messages(standin, stream=stream)), timeout=WAIT, what="the second ready event")
    readies = [i for i, r in enumerate(recs) if r["event"] == "ready"]
    assert len(readies) == 2, recs
    last_backlog = max(i for i, r in enumerate(recs) if r.get("msg", "").startswith("backlog"))
    assert last_backlog < readies[1], "the backlog was not sent first"
    assert "sent first" in d2.stderr
    assert stop(d2) == 0


def test_sigterm_flushes_within_deadline(sb, standin):
    standin.control.create_group(GROUP)
    d = serve(sb, standin)
    wait_for(lambda: messages(standin), timeout=WAIT, what="the ready event")
    # Slow answers, so events are still spooled when SIGTERM comes.
    standin.control.add_fault("delay", operation="PutLogEvents", count=3, seconds=1.0)
    emit(sb, "late", 300)
    t0 = time.monotonic()
    assert stop(d) == 0
    took = time.monotonic() - t0
    assert took < 10 + 5, f"flush took {took:.1f}s"
    got = msgs_with(standin, "late")
    assert len(set(got)) == 300 and len(got) == 300


def test_sigterm_deadline_with_hanging_endpoint(sb, standin):
    # A listener that never answers: connections hang until the deadline.
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(64)
    try:
        url = f"http://127.0.0.1:{hang.getsockname()[1]}"
        d = sb.start(["serve"], env=cw_env(sb, standin, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=url,
                                            PORTHOLE_FLUSH_TIMEOUT="2s"))
        emit(sb, "stuck", 10)
        t0 = time.monotonic()
        assert stop(d) == 0
        took = time.monotonic() - t0
        assert 1.5 < took < 8, f"exit took {took:.1f}s with a 2 s flush timeout"
        assert "not sent before exit" in d.stderr
        assert "spool" in d.stderr
    finally:
        hang.close()


# ---- degrading --------------------------------------------------------------------


def test_wrong_credentials_one_clear_error(sb, standin):
    standin.control.create_group(GROUP)
    bad = "wrong/Secret/Key/000000000000000000009"
    d = serve(sb, standin, AWS_SECRET_ACCESS_KEY=bad)
    for k in range(4):
        emit(sb, f"w{k}", 2)
        time.sleep(1.5)
    wait_for(lambda: d.error_lines(), timeout=WAIT, what="an error")
    # Several attempts first (the retries back off from 2 s): only then does
    # one error line for all of them say something.
    wait_for(lambda: len(standin.control.requests(operation="CreateLogStream")["requests"]) >= 2,
             timeout=WAIT, what="a second CreateLogStream attempt")
    lines = [l for l in d.stderr.splitlines() if "CloudWatch Logs: cannot send" in l]
    assert len(lines) == 1, d.stderr
    assert "InvalidSignatureException" in lines[0] and lines[0].startswith("porthole: error:")
    assert bad not in d.stderr and DEFAULT_SECRET_KEY not in d.stderr
    # Several attempts were made, none stored anything.
    puts = standin.control.requests(operation="CreateLogStream")["requests"]
    assert len(puts) >= 2
    assert messages(standin) == []
    assert stop(d) == 0


def test_network_isolation_keeps_exit_status(sb, standin):
    # No credentials at all, IMDS unreachable, inside a "training job".
    # Bound but not listening (refused), and taken for the test's length.
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    imds = f"http://127.0.0.1:{dead.getsockname()[1]}"
    env = cw_env(sb, standin, creds=None, PORTHOLE_CLOUDWATCH=None, AWS_EC2_METADATA_DISABLED=None,
                 AWS_EC2_METADATA_SERVICE_ENDPOINT=imds, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=None,
                 TRAINING_JOB_ARN="arn:aws:sagemaker:us-east-1:123456789012:training-job/job-cw")
    t0 = time.monotonic()
    try:
        d = sb.run_cmd(["sh", "-c", "echo training; exit 7"], env=env, settings=["--hold", "never"])
        assert d.wait() == 7
    finally:
        dead.close()
    assert time.monotonic() - t0 < 15
    warn = [l for l in d.stderr.splitlines() if "CloudWatch Logs: cannot send" in l]
    assert len(warn) == 1 and "no AWS credentials" in warn[0], d.stderr
    assert "training" in d.stdout
    # The events wait in the spool for a later porthole.
    assert any(p.suffix == ".seg" and p.stat().st_size for p in (sb.root / "spool").iterdir())
    assert standin.control.requests()["requests"] == []


def test_missing_group(sb, standin):
    d = serve(sb, standin)
    emit(sb, "g", 3)
    wait_for(lambda: "does not exist" in d.stderr, timeout=WAIT, what="the missing group error")
    assert "PORTHOLE_CREATE_LOG_GROUP" in d.stderr
    assert stop(d) == 0
    # With PORTHOLE_CREATE_LOG_GROUP=1 the group is created and the spooled
    # events arrive.
    d = serve(sb, standin, PORTHOLE_CREATE_LOG_GROUP="1")
    got = wait_msgs(standin, "g", 3)
    assert len(got) == 3
    assert stop(d) == 0


# ---- credential sources -----------------------------------------------------------


def test_container_credentials_full_uri(sb, standin):
    standin.control.create_group(GROUP)
    standin.control.config(container_credentials={"auth_token": "tok-123"})
    tokfile = sb.root / "token"
    tokfile.write_text("tok-123\n")
    d = serve(sb, standin, creds=None,
              AWS_CONTAINER_CREDENTIALS_FULL_URI=standin.url + "/v2/credentials/standin-creds",
              AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(tokfile))
    emit(sb, "c", 4)
    wait_msgs(standin, "c", 4)
    # The stand-in logs a call just after it stored its events.
    reqs = wait_for(lambda: (lambda rs: rs if any(r.get("operation") == "PutLogEvents" and r["status"] == 200
                                                  for r in rs) else None)(standin.control.requests()["requests"]),
                    timeout=WAIT, what="the PutLogEvents call in the request log")
    assert any(r["service"] == "container_credentials" and r["status"] == 200 for r in reqs)
    puts = [r for r in reqs if r.get("operation") == "PutLogEvents"]
    assert puts and all(r["access_key"].startswith("ASIA") for r in puts)
    assert stop(d) == 0


def test_container_credentials_wrong_token(sb, standin):
    standin.control.config(container_credentials={"auth_token": "tok-123"})
    d = serve(sb, standin, creds=None,
              AWS_CONTAINER_CREDENTIALS_FULL_URI=standin.url + "/v2/credentials/standin-creds",
              AWS_CONTAINER_AUTHORIZATION_TOKEN="nope")
    wait_for(lambda: "cannot send" in d.stderr, timeout=WAIT, what="the credentials warning")
    assert "403" in d.stderr and "nope" not in d.stderr
    assert stop(d) == 0


def test_imds_credentials_and_region(sb, standin):
    standin.control.create_group(GROUP)
    d = serve(sb, standin, creds=None, AWS_REGION=None, AWS_EC2_METADATA_DISABLED=None,
              AWS_EC2_METADATA_SERVICE_ENDPOINT=standin.url)
    emit(sb, "i", 4)
    wait_msgs(standin, "i", 4)
    ops = [r["operation"] for r in standin.control.requests(service="imds")["requests"]]
    assert "PutToken" in ops and "GetRoleCredentials" in ops and "GetMetadata" in ops
    assert stop(d) == 0


def test_expired_credentials_are_refreshed(sb, standin):
    standin.control.create_group(GROUP)
    standin.control.config(container_credentials={"expires_in": 3600})
    d = serve(sb, standin, creds=None,
              AWS_CONTAINER_CREDENTIALS_FULL_URI=standin.url + "/v2/credentials/standin-creds")
    emit(sb, "e", 2)
    wait_msgs(standin, "e", 2)

    def put_keys():
        return {r["access_key"] for r in standin.control.requests(operation="PutLogEvents")["requests"]
                if r["status"] == 200}

    # The stand-in logs a call just after it stored its events: wait for it.
    wait_for(put_keys, timeout=WAIT, what="the PutLogEvents call in the request log")
    key = [r for r in standin.control.requests(operation="PutLogEvents")["requests"]][-1]["access_key"]
    # The server now says the cached set expired: porthole fetches a new one.
    standin.control.expire_credentials(key)
    standin.control.config(container_credentials={"rotate_each_fetch": True})
    emit(sb, "x", 2)
    wait_msgs(standin, "x", 2)
    keys = wait_for(lambda: (lambda k: k if len(k) >= 2 else None)(put_keys()), timeout=WAIT,
                    what="a PutLogEvents call with the new credentials in the request log")
    assert len(keys) >= 2
    assert stop(d) == 0


# ---- idle -------------------------------------------------------------------------


def test_idle_makes_no_requests(sb, standin):
    standin.control.create_group(GROUP)
    d = serve(sb, standin)
    emit(sb, "z", 5)
    wait_msgs(standin, "z", 5)

    def all_puts_logged():
        # The stand-in logs a call just after it stored its events: mark only
        # once every stored event's call is in the log.
        stored = len(standin.control.events(GROUP, STREAM))
        log = standin.control.requests(operation="PutLogEvents")
        return log if sum(r.get("events_accepted", 0) for r in log["requests"]) >= stored else None

    mark = wait_for(all_puts_logged, timeout=WAIT, what="the calls that stored the events in the request log")[
        "last_seq"]
    time.sleep(5)
    assert standin.control.requests(since=mark)["requests"] == []
    assert stop(d) == 0


def test_off_outside_training_job(sb, standin):
    # auto (the default) outside a training job: nothing is sent or spooled.
    env = cw_env(sb, standin, PORTHOLE_CLOUDWATCH=None)
    d = sb.run_cmd(["sh", "-c", "exit 1"], env=env, settings=["--hold", "never"])
    assert d.wait() == 1
    assert standin.control.requests()["requests"] == []
    assert not (sb.root / "spool").exists()


def test_rejected_events_are_reported(sb, standin):
    # A spool left by an earlier porthole holding one event 15 days old and
    # one 3 hours ahead: CloudWatch stores neither, and says why.
    standin.control.create_group(GROUP)
    spool = sb.root / "spool"
    spool.mkdir()
    now = int(time.time() * 1000)
    lines = [(now - 15 * 86400 * 1000, "old"), (now, "current"), (now + 3 * 3600 * 1000, "future")]
    (spool / "0000000000000001.seg").write_text(
        "".join(f'{ts} {{"version":1,"event":"log","msg":"{m}"}}\n' for ts, m in lines))
    d = serve(sb, standin)
    wait_for(lambda: "older than 14 days" in d.stderr and "in the future" in d.stderr, timeout=WAIT,
             what="the rejected-events warnings")
    assert [m["msg"] for m in messages(standin) if m.get("msg") in ("old", "current", "future")] == ["current"]
    c = standin.control.counters()["events_rejected"]
    assert c["tooOld"] == 1 and c["tooNew"] == 1
    # The warnings themselves are events too, and they arrive.
    wait_for(lambda: any("rejected" in m.get("msg", "") for m in messages(standin)), timeout=WAIT,
             what="the warning in CloudWatch")
    assert stop(d) == 0


def test_long_event_split_with_marker(sb, standin):
    # 40,000 hosts make the ready record ~400 KB: more than one CloudWatch
    # event may hold (262,144 bytes counting 26), so it goes in pieces.
    standin.control.create_group(GROUP)
    hosts = [f"algo-{i}" for i in range(1, 40001)]
    sb.write_resourceconfig({"current_host": "algo-1", "hosts": hosts})
    d = sb.run_cmd(["sh", "-c", "exit 0"], env=cw_env(sb, standin), settings=["--hold", "never"])
    assert d.wait() == 0
    evs = standin.control.events(GROUP, STREAM)
    mark = " [porthole:continued]"
    pieces = []
    for e in evs:
        assert len(e["message"].encode()) + 26 <= 262144
        pieces.append(e["message"])
        if not e["message"].endswith(mark):
            break
    assert len(pieces) >= 2, [p[:80] for p in pieces]
    assert len({e["timestamp"] for e in evs[:len(pieces)]}) == 1
    whole = "".join(p[: -len(mark)] for p in pieces[:-1]) + pieces[-1]
    rec = json.loads(whole)
    assert rec["event"] == "ready" and rec["data"]["hosts"] == hosts
