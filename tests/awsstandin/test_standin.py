# SPDX-License-Identifier: Apache-2.0
"""Self-tests of the local AWS stand-in.

Run:  /usr/bin/python3 -m pytest tests/awsstandin -q

Each test is bounded by SIGALRM (TEST_TIMEOUT seconds); every stand-in that
a test starts is stopped in a finally/fixture teardown.  Loopback and port
0 only.
"""

import json
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import botocore.exceptions
import pytest

from . import client as sc
from .client import (DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, StandinProcess,
                     logs_client, logs_request, signed_request)
from .standin import StandIn
from .tlsca import make_test_ca

TEST_TIMEOUT = 90
HOUR = 3600 * 1000
DAY = 24 * HOUR


# -- fixtures ------------------------------------------------------------

class _TestTimeout(Exception):
    pass


@pytest.fixture(autouse=True)
def _bounded():
    def expire(signum, frame):
        raise _TestTimeout(f"test exceeded {TEST_TIMEOUT}s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def _process():
    proc = StandinProcess()
    proc.start()
    try:
        yield proc
    finally:
        proc.cleanup()


@pytest.fixture
def standin(_process):
    """The module's stand-in subprocess, reset to a clean state.

    AWS's per-second quotas are on by default in the stand-in; these tests
    call some operations faster than that, so they switch them off
    (test_rate_limits turns them back on)."""
    _process.control.reset(credentials=True, config=True)
    _process.control.config(logs={"rate_limits_enabled": False})
    return _process


@pytest.fixture
def logs(standin):
    return standin.logs_client()


def now_ms():
    return int(time.time() * 1000)


def error_of(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def make_stream(logs, group="g", stream="s"):
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)


# -- start-up ------------------------------------------------------------

def test_ready_line_health_and_state_dump(tmp_path):
    proc = StandinProcess(state_dir=str(tmp_path / "state"))
    try:
        proc.start()
        assert proc.url == f"http://127.0.0.1:{proc.port}"
        assert proc.control.health()["ok"] is True
        client = proc.logs_client()
        make_stream(client, "dump", "s")
        client.put_log_events(logGroupName="dump", logStreamName="s",
                              logEvents=[{"timestamp": now_ms(), "message": "kept"}])
    finally:
        proc.stop()
    with open(proc.state_file()) as fh:
        state = json.load(fh)
    assert state["logs"]["dump"]["streams"]["s"]["events"][0]["message"] == "kept"
    assert any(e["operation"] == "PutLogEvents" for e in state["request_log"])


def test_state_reload(tmp_path):
    state_dir = str(tmp_path / "state")
    with StandinProcess(state_dir=state_dir) as first:
        client = first.logs_client()
        make_stream(client)
        put(client, [{"timestamp": now_ms(), "message": "survives"}])
    with StandinProcess(state_dir=state_dir, extra_args=["--load-state"]) as second:
        assert [e["message"] for e in second.control.events("g", "s")] == ["survives"]


def test_control_api_rejects_bad_input(standin):
    with pytest.raises(sc.StandinError, match="unknown fault type"):
        standin.control.add_fault("explode")
    with pytest.raises(sc.StandinError, match="HTTP 404"):
        standin.control.call("GET", "no/such/route")


def test_client_constants_match_server():
    from .server import DEFAULT_ACCESS_KEY as ak, DEFAULT_SECRET_KEY as sk
    assert (ak, sk) == (DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)


def test_in_process_standin():
    with StandIn() as s:
        client = logs_client(s.url)
        make_stream(client)
        client.put_log_events(logGroupName="g", logStreamName="s",
                              logEvents=[{"timestamp": now_ms(), "message": "hi"}])
        assert [e["message"] for e in s.state.logs.events("g", "s")] == ["hi"]


# -- HTTPS (--tls-cert/--tls-key) --------------------------------------------

@pytest.fixture(scope="module")
def tls_ca(tmp_path_factory):
    return make_test_ca(tmp_path_factory.mktemp("ca"), names=["localhost", "logs.standin.test"],
                        ips=["127.0.0.1"])


@pytest.fixture(scope="module")
def https_standin(tls_ca):
    proc = StandinProcess(tls=tls_ca)
    proc.start()
    try:
        yield proc
    finally:
        proc.cleanup()


def test_https_ready_line_control_api_and_botocore(https_standin):
    s = https_standin
    assert s.url == f"https://127.0.0.1:{s.port}"
    assert s.control.health()["ok"] is True
    client = s.logs_client()
    make_stream(client, "tls", "s")
    client.put_log_events(logGroupName="tls", logStreamName="s",
                          logEvents=[{"timestamp": now_ms(), "message": "over TLS"}])
    assert [e["message"] for e in s.control.events("tls", "s")] == ["over TLS"]


def test_https_aws_cli_with_ca_bundle(https_standin, tls_ca):
    s = https_standin
    s.control.create_stream("cli", "s")
    t = now_ms()
    for url in (s.url, f"https://localhost:{s.port}"):
        rc, _, err = sc.aws_cli(url, ["logs", "put-log-events", "--log-group-name", "cli",
                                      "--log-stream-name", "s", "--log-events",
                                      f"timestamp={t},message=via-{url.split('/')[2].split(':')[0]}"],
                                ca_bundle=tls_ca.ca)
        assert rc == 0, err
    assert [e["message"] for e in s.aws_get_log_events("cli", "s")] == ["via-127.0.0.1", "via-localhost"]
    # Without the test CA the CLI refuses the certificate, and nothing is stored.
    rc, _, err = sc.aws_cli(s.url, ["logs", "describe-log-groups"])
    assert rc != 0 and "CERTIFICATE_VERIFY_FAILED" in err, err
    # A signature check still happens over TLS.
    rc, _, err = sc.aws_cli(s.url, ["logs", "describe-log-groups"], ca_bundle=tls_ca.ca,
                            secret_key="wrong" + DEFAULT_SECRET_KEY[5:])
    assert rc != 0 and "InvalidSignatureException" in err, err


def test_https_curl_by_name_and_plain_http_refused(https_standin, tls_ca):
    s = https_standin
    s.control.create_stream("curl", "s")
    body = json.dumps({"logGroupName": "curl", "logStreamName": "s",
                       "logEvents": [{"timestamp": now_ms(), "message": "from curl over TLS"}]})
    url = f"https://logs.standin.test:{s.port}/"
    base = ["curl", "-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}",
            "--resolve", f"logs.standin.test:{s.port}:127.0.0.1",
            "--aws-sigv4", "aws:amz:us-east-1:logs", "--user", f"{DEFAULT_ACCESS_KEY}:{DEFAULT_SECRET_KEY}",
            "-H", "Content-Type: application/x-amz-json-1.1",
            "-H", "X-Amz-Target: Logs_20140328.PutLogEvents", "--data-binary", body]
    out = subprocess.run(base + ["--cacert", str(tls_ca.ca), url], capture_output=True, timeout=30, text=True)
    assert out.stdout.rsplit("\n", 1)[-1] == "200", (out.stdout, out.stderr)
    # curl's own trust store does not hold the test CA.
    out = subprocess.run(base + [url], capture_output=True, timeout=30, text=True)
    assert out.returncode == 60, (out.returncode, out.stderr)
    # A name the certificate does not carry.
    out = subprocess.run(base + ["--cacert", str(tls_ca.ca), "--resolve", f"other.test:{s.port}:127.0.0.1",
                                 f"https://other.test:{s.port}/"], capture_output=True, timeout=30, text=True)
    assert out.returncode == 60 and "other.test" in out.stderr, (out.returncode, out.stderr)
    # Plain HTTP on the TLS port gets no answer, and the stand-in keeps serving.
    out = subprocess.run(base + [f"http://127.0.0.1:{s.port}/"], capture_output=True, timeout=60, text=True)
    assert out.returncode != 0
    assert [e["message"] for e in s.control.events("curl", "s")] == ["from curl over TLS"]
    assert s.control.counters()["internal_errors"] == 0


def test_tls_needs_cert_and_key(tls_ca):
    with pytest.raises(ValueError):
        StandIn(tls_cert=str(tls_ca.cert))
    r = subprocess.run([sc.PYTHON, sc.STANDIN_SCRIPT, "--tls-cert", str(tls_ca.cert)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--tls-key" in r.stderr, r.stderr


# -- CloudWatch Logs round trips -------------------------------------------

def test_botocore_round_trip(standin, logs):
    make_stream(logs, "/aws/sagemaker/TrainingJobs", "job/algo-1-1700000000")
    t = now_ms()
    events = [{"timestamp": t + i, "message": f"line {i} é"} for i in range(3)]
    put = logs.put_log_events(logGroupName="/aws/sagemaker/TrainingJobs",
                              logStreamName="job/algo-1-1700000000", logEvents=events,
                              sequenceToken="anything-is-ignored")
    assert "nextSequenceToken" in put and "rejectedLogEventsInfo" not in put
    got = logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs",
                              logStreamName="job/algo-1-1700000000", startFromHead=True)
    assert [(e["timestamp"], e["message"]) for e in got["events"]] == \
        [(e["timestamp"], e["message"]) for e in events]
    assert all(e["ingestionTime"] >= t for e in got["events"])
    headers = got["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert "x-amzn-requestid" in headers

    stream = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs")["logStreams"][0]
    assert stream["logStreamName"] == "job/algo-1-1700000000"
    assert stream["firstEventTimestamp"] == t and stream["lastEventTimestamp"] == t + 2
    assert stream["arn"] == ("arn:aws:logs:us-east-1:123456789012:log-group:"
                             "/aws/sagemaker/TrainingJobs:log-stream:job/algo-1-1700000000")
    assert stream["storedBytes"] == 0 and "lastIngestionTime" in stream
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/aws/sagemaker/TrainingJobs"]

    counters = standin.control.counters()
    assert counters["events_stored"] == 3
    assert counters["requests"]["logs:PutLogEvents"] == 1


def test_aws_cli_reads_back_and_checks_signature(standin, logs):
    make_stream(logs)
    t = now_ms()
    logs.put_log_events(logGroupName="g", logStreamName="s",
                        logEvents=[{"timestamp": t + i, "message": f"m{i}"} for i in range(5)])
    events = standin.aws_get_log_events("g", "s")
    assert [e["message"] for e in events] == [f"m{i}" for i in range(5)]
    # The CLI signs with botocore: a wrong secret must be refused.
    rc, _, err = sc.aws_cli(standin.url, ["logs", "describe-log-groups"],
                            secret_key="wrong" + DEFAULT_SECRET_KEY[5:])
    assert rc != 0 and "InvalidSignatureException" in err


def test_parallel_puts_to_one_stream(standin, logs):
    import threading
    make_stream(logs)
    errors = []

    def worker(n):
        client = standin.logs_client()
        try:
            for i in range(20):
                put(client, [{"timestamp": now_ms(), "message": f"{n}-{i}"}])
        except Exception as exc:        # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(standin.control.events("g", "s")) == 160
    assert standin.control.counters()["events_stored_by_stream"] == {"g/s": 160}


def test_get_log_events_tokens(standin, logs):
    make_stream(logs)
    t = now_ms()
    logs.put_log_events(logGroupName="g", logStreamName="s",
                        logEvents=[{"timestamp": t + i, "message": str(i)} for i in range(25)])
    kw = dict(logGroupName="g", logStreamName="s", limit=10)
    page = logs.get_log_events(startFromHead=True, **kw)
    seen = [e["message"] for e in page["events"]]
    token = page["nextForwardToken"]
    while True:
        page = logs.get_log_events(nextToken=token, **kw)
        if page["nextForwardToken"] == token:
            assert page["events"] == []
            break
        seen += [e["message"] for e in page["events"]]
        token = page["nextForwardToken"]
    assert seen == [str(i) for i in range(25)]
    # Default (startFromHead false) returns the newest events.
    tail = logs.get_log_events(**kw)
    assert [e["message"] for e in tail["events"]] == [str(i) for i in range(15, 25)]
    back = logs.get_log_events(nextToken=tail["nextBackwardToken"], **kw)
    assert [e["message"] for e in back["events"]] == [str(i) for i in range(5, 15)]
    # Time window: startTime inclusive, endTime exclusive.
    window = logs.get_log_events(startTime=t + 3, endTime=t + 6, startFromHead=True,
                                 logGroupName="g", logStreamName="s")
    assert [e["message"] for e in window["events"]] == ["3", "4", "5"]
    # New events show up behind the final forward token.
    logs.put_log_events(logGroupName="g", logStreamName="s",
                        logEvents=[{"timestamp": t + 100, "message": "late"}])
    more = logs.get_log_events(nextToken=token, **kw)
    assert [e["message"] for e in more["events"]] == ["late"]
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        logs.get_log_events(nextToken="garbage", **kw)
    assert error_of(exc)[0] == "InvalidParameterException"
    # Newer clients may name the group by ARN (logGroupIdentifier).
    raw = logs_request(standin.url, "GetLogEvents", {
        "logGroupIdentifier": "arn:aws:logs:us-east-1:123456789012:log-group:g",
        "logStreamName": "s", "startFromHead": True, "limit": 1})
    assert raw.status == 200 and raw.json()["events"][0]["message"] == "0"


def test_filter_log_events(standin, logs):
    make_stream(logs, "g", "a-1")
    logs.create_log_stream(logGroupName="g", logStreamName="b-1")
    t = now_ms()
    logs.put_log_events(logGroupName="g", logStreamName="a-1", logEvents=[
        {"timestamp": t, "message": "ERROR disk full"},
        {"timestamp": t + 2, "message": "INFO ok"}])
    logs.put_log_events(logGroupName="g", logStreamName="b-1", logEvents=[
        {"timestamp": t + 1, "message": "ERROR net down"},
        {"timestamp": t + 3, "message": "WARN slow disk"}])
    every = logs.filter_log_events(logGroupName="g")["events"]
    assert [e["message"] for e in every] == ["ERROR disk full", "ERROR net down",
                                             "INFO ok", "WARN slow disk"]
    assert {"logStreamName", "eventId", "ingestionTime", "timestamp"} <= set(every[0])
    assert len({e["eventId"] for e in every}) == 4

    def messages(**kw):
        return [e["message"] for e in logs.filter_log_events(logGroupName="g", **kw)["events"]]

    assert messages(filterPattern="ERROR") == ["ERROR disk full", "ERROR net down"]
    assert messages(filterPattern='"disk full"') == ["ERROR disk full"]
    assert messages(filterPattern="?WARN ?INFO") == ["INFO ok", "WARN slow disk"]
    assert messages(filterPattern="disk -ERROR") == ["WARN slow disk"]
    assert messages(logStreamNames=["b-1"]) == ["ERROR net down", "WARN slow disk"]
    assert messages(logStreamNamePrefix="a-") == ["ERROR disk full", "INFO ok"]
    assert messages(startTime=t + 1, endTime=t + 2) == ["ERROR net down", "INFO ok"]
    first = logs.filter_log_events(logGroupName="g", limit=3)
    assert len(first["events"]) == 3 and "nextToken" in first
    rest = logs.filter_log_events(logGroupName="g", limit=3, nextToken=first["nextToken"])
    assert [e["message"] for e in rest["events"]] == ["WARN slow disk"]
    assert "nextToken" not in rest


def test_describe_log_streams(standin, logs):
    logs.create_log_group(logGroupName="g")
    t = now_ms()
    for i, name in enumerate(["c", "a", "b"]):
        logs.create_log_stream(logGroupName="g", logStreamName=name)
        logs.put_log_events(logGroupName="g", logStreamName=name,
                            logEvents=[{"timestamp": t - i * 1000, "message": "x"}])
    names = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="g")["logStreams"]]
    assert names == ["a", "b", "c"]
    by_time = logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime",
                                        descending=True)["logStreams"]
    assert [s["logStreamName"] for s in by_time] == ["c", "a", "b"]
    page = logs.describe_log_streams(logGroupName="g", limit=2)
    assert len(page["logStreams"]) == 2
    page2 = logs.describe_log_streams(logGroupName="g", limit=2, nextToken=page["nextToken"])
    assert [s["logStreamName"] for s in page2["logStreams"]] == ["c"]
    assert "nextToken" not in page2
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        logs.describe_log_streams(logGroupName="g", logStreamNamePrefix="a",
                                  orderBy="LastEventTime")
    assert error_of(exc) == ("InvalidParameterException",
                             "Cannot order by LastEventTime with a logStreamNamePrefix.")


def test_resource_errors_and_wire_shape(standin, logs):
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        logs.create_log_stream(logGroupName="missing", logStreamName="s")
    assert error_of(exc) == ("ResourceNotFoundException",
                             "The specified log group does not exist.")
    make_stream(logs)
    for call in (lambda: logs.create_log_group(logGroupName="g"),
                 lambda: logs.create_log_stream(logGroupName="g", logStreamName="s")):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            call()
        assert error_of(exc)[0] == "ResourceAlreadyExistsException"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        logs.put_log_events(logGroupName="g", logStreamName="nope",
                            logEvents=[{"timestamp": now_ms(), "message": "x"}])
    assert error_of(exc) == ("ResourceNotFoundException",
                             "The specified log stream does not exist.")
    # On the wire: HTTP 400, bare __type, "message", no X-Amzn-ErrorType
    # (what CloudWatch Logs sends).
    raw = logs_request(standin.url, "PutLogEvents", {
        "logGroupName": "missing", "logStreamName": "s",
        "logEvents": [{"timestamp": now_ms(), "message": "x"}]})
    assert raw.status == 400
    assert raw.json() == {"__type": "ResourceNotFoundException",
                          "message": "The specified log group does not exist."}
    assert "x-amzn-errortype" not in raw.headers
    assert raw.headers["content-type"] == "application/x-amz-json-1.1"
    # The other shape AWS JSON services use, for parser tests.
    standin.control.config(error_style="namespaced")
    raw = logs_request(standin.url, "DeleteLogStream",
                       {"logGroupName": "g", "logStreamName": "nope"})
    assert raw.json()["__type"] == "com.amazonaws.logs#ResourceNotFoundException"
    assert raw.headers["x-amzn-errortype"].startswith("ResourceNotFoundException:")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        logs.delete_log_stream(logGroupName="g", logStreamName="nope")
    assert error_of(exc)[0] == "ResourceNotFoundException"


# -- PutLogEvents rules ---------------------------------------------------------

def put(logs, events, group="g", stream="s"):
    return logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def put_error(logs, events, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        put(logs, events, **kw)
    return error_of(exc)


def test_put_event_count_limit(standin, logs):
    make_stream(logs)
    t = now_ms()
    ok = [{"timestamp": t, "message": "x"} for _ in range(10000)]
    assert "rejectedLogEventsInfo" not in put(logs, ok)
    code, message = put_error(logs, ok + [{"timestamp": t, "message": "x"}])
    assert code == "InvalidParameterException"
    assert message.startswith("1 validation error detected: Value '[InputLogEvent(")
    assert message.endswith("at 'logEvents' failed to satisfy constraint: "
                            "Member must have length less than or equal to 10000")
    assert len(standin.control.events("g", "s")) == 10000


def test_put_batch_size_counts_utf8_plus_26(standin, logs):
    make_stream(logs)
    t = now_ms()
    biggest = 262144 - 26                     # largest message of one event
    exact = [{"timestamp": t, "message": "a" * biggest} for _ in range(4)]
    assert sum(len(e["message"]) + 26 for e in exact) == 1048576
    put(logs, exact)
    # Same total, spread over 5 events, with multi-byte characters.
    five = [{"timestamp": t, "message": "é" * (biggest // 2)} for _ in range(3)]
    five.append({"timestamp": t, "message": "b" * (biggest - 27)})
    five.append({"timestamp": t, "message": "c"})
    assert sum(len(e["message"].encode()) + 26 for e in five) == 1048576
    put(logs, five)
    five[-1]["message"] = "cc"
    assert put_error(logs, five) == (
        "InvalidParameterException",
        "Upload too large: 1048577 bytes exceeds limit of 1048576")
    assert len(standin.control.events("g", "s")) == 9


def test_put_single_event_size(standin, logs):
    make_stream(logs)
    t = now_ms()
    put(logs, [{"timestamp": t, "message": "é" * ((262144 - 26) // 2)}])
    assert put_error(logs, [{"timestamp": t, "message": "é" * ((262144 - 26) // 2) + "x"}]) == (
        "InvalidParameterException",
        "Log event too large: 262145 bytes exceeds limit of 262144")
    # The newer 1 MB quota can be modelled explicitly.
    standin.control.config(logs={"max_event_bytes": 1048576})
    put(logs, [{"timestamp": t, "message": "x" * 300000}])


def test_put_chronological_order(standin, logs):
    make_stream(logs)
    t = now_ms()
    assert put_error(logs, [{"timestamp": t, "message": "2"},
                            {"timestamp": t - 1, "message": "1"}]) == (
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.")
    put(logs, [{"timestamp": t, "message": "same"}, {"timestamp": t, "message": "time"}])
    assert len(standin.control.events("g", "s")) == 2


def test_put_24_hour_span(standin, logs):
    make_stream(logs)
    t = now_ms()
    put(logs, [{"timestamp": t - DAY, "message": "a"}, {"timestamp": t, "message": "b"}])
    assert put_error(logs, [{"timestamp": t - DAY - 1, "message": "a"},
                            {"timestamp": t, "message": "b"}]) == (
        "InvalidParameterException",
        "The batch of log events in a single PutLogEvents request cannot span more "
        "than 24 hours.")


def test_put_too_new_too_old_expired(standin, logs):
    make_stream(logs)
    t = now_ms()
    res = put(logs, [{"timestamp": t, "message": "now"},
                     {"timestamp": t + HOUR, "message": "soon"},
                     {"timestamp": t + 2 * HOUR + 60000, "message": "future1"},
                     {"timestamp": t + 3 * HOUR, "message": "future2"}])
    assert res["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 2}
    assert "nextSequenceToken" in res

    old = t - 14 * DAY
    res = put(logs, [{"timestamp": old - HOUR, "message": "old1"},
                     {"timestamp": old - 60000, "message": "old2"},
                     {"timestamp": old + HOUR, "message": "young"}])
    assert res["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2}
    assert [e["message"] for e in standin.control.events("g", "s")] == \
        ["young", "now", "soon"]

    res = put(logs, [{"timestamp": old - HOUR, "message": "all"},
                     {"timestamp": old - 1000, "message": "rejected"}])
    assert res["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2}
    assert "nextSequenceToken" not in res

    logs.put_retention_policy(logGroupName="g", retentionInDays=1)
    res = put(logs, [{"timestamp": t - DAY - HOUR, "message": "expired"},
                     {"timestamp": t - 2 * HOUR, "message": "kept"}])
    assert res["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}
    assert "kept" in [e["message"] for e in standin.control.events("g", "s")]
    counters = standin.control.counters()["events_rejected"]
    assert counters == {"tooNew": 2, "tooOld": 4, "expired": 1}
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        logs.put_retention_policy(logGroupName="g", retentionInDays=2)
    assert "Member must satisfy enum value set: [1, 3, 5, 7, 14" in error_of(exc)[1]


def test_model_validation_messages(standin):
    raw_client = standin.logs_client(validate=False)     # let bad input reach the wire
    make_stream(raw_client)
    t = now_ms()
    cases = [
        (lambda: raw_client.put_log_events(
            logGroupName="g", logStreamName="",
            logEvents=[{"timestamp": t, "message": "x"}]),
         "1 validation error detected: Value '' at 'logStreamName' failed to satisfy "
         "constraint: Member must have length greater than or equal to 1"),
        (lambda: raw_client.create_log_stream(logGroupName="g", logStreamName="a:b"),
         "1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy "
         "constraint: Member must satisfy regular expression pattern: [^:*]*"),
        (lambda: raw_client.create_log_group(logGroupName="bad name"),
         "1 validation error detected: Value 'bad name' at 'logGroupName' failed to "
         "satisfy constraint: Member must satisfy regular expression pattern: "
         "[\\.\\-_/#A-Za-z0-9]+"),
        (lambda: raw_client.get_log_events(logGroupName="g", logStreamName="s", limit=10001),
         "1 validation error detected: Value '10001' at 'limit' failed to satisfy "
         "constraint: Member must have value less than or equal to 10000"),
        (lambda: raw_client.put_log_events(
            logGroupName="g", logStreamName="s",
            logEvents=[{"timestamp": t, "message": ""}]),
         "1 validation error detected: Value '' at 'logEvents.1.member.message' failed "
         "to satisfy constraint: Member must have length greater than or equal to 1"),
        # Captured from the live service (GetLogEvents with an empty token).
        (lambda: raw_client.get_log_events(logGroupName="g", logStreamName="s",
                                           nextToken=""),
         "1 validation error detected: Value '' at 'nextToken' failed to satisfy "
         "constraint: Member must have length greater than or equal to 1"),
        (lambda: raw_client.describe_log_streams(logGroupName="g", orderBy="Name"),
         "1 validation error detected: Value 'Name' at 'orderBy' failed to satisfy "
         "constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"),
    ]
    for call, message in cases:
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            call()
        assert error_of(exc) == ("InvalidParameterException", message)
    # Several violations, and null for missing required members.
    raw = logs_request(standin.url, "PutLogEvents", {"logStreamName": "x*y"})
    body = raw.json()
    assert raw.status == 400 and body["__type"] == "InvalidParameterException"
    assert body["message"].startswith("3 validation errors detected: ")
    assert "Value null at 'logGroupName' failed to satisfy constraint: Member must not be null" \
        in body["message"]
    assert "Value null at 'logEvents' failed to satisfy constraint: Member must not be null" \
        in body["message"]


def test_serialization_and_unknown_members(standin, logs):
    make_stream(logs)
    raw = logs_request(standin.url, "PutLogEvents", b"{not json")
    assert raw.status == 400 and raw.json()["__type"] == "SerializationException"
    raw = logs_request(standin.url, "PutLogEvents", {
        "logGroupName": "g", "logStreamName": "s",
        "logEvents": [{"timestamp": "yesterday", "message": "x"}]})
    assert raw.status == 400 and raw.json()["__type"] == "SerializationException"
    raw = logs_request(standin.url, "PutLogEvents", {
        "logGroupName": "g", "logStreamName": "s",
        "logEvents": [{"timestamp": True, "message": "x"}]})
    assert raw.json()["__type"] == "SerializationException"
    # Unknown members are ignored, nulls are absent, like AWS JSON services.
    raw = logs_request(standin.url, "PutLogEvents", {
        "logGroupName": "g", "logStreamName": "s", "futureField": {"a": 1},
        "sequenceToken": None,
        "logEvents": [{"timestamp": now_ms(), "message": "x", "extra": 1}]})
    assert raw.status == 200, raw
    raw = logs_request(standin.url, "PutLogEvents",
                       b'{"logGroupName":"g","logStreamName":"s",'
                       b'"logEvents":[{"timestamp":NaN,"message":"x"}]}')
    assert raw.json()["__type"] == "SerializationException"
    raw = logs_request(standin.url, "PutLogEvents", {
        "logGroupName": "g", "logStreamName": "s",
        "logEvents": [{"timestamp": 2 ** 63, "message": "x"}]})
    assert raw.json()["__type"] == "SerializationException"
    raw = logs_request(standin.url, "NoSuchOperation", {})
    assert raw.status == 400 and raw.json()["__type"] == "UnknownOperationException"
    raw = logs_request(standin.url, "DescribeLogGroups", {},
                       headers={"Content-Type": "application/json"})
    assert raw.status == 404


# -- signatures --------------------------------------------------------------

def test_bad_signature_and_unknown_key(standin):
    bad = standin.logs_client(secret_key="x" + DEFAULT_SECRET_KEY[1:])
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        bad.describe_log_groups()
    assert error_of(exc) == (
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    unknown = standin.logs_client(access_key="AKIAUNKNOWN000000000")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        unknown.describe_log_groups()
    assert error_of(exc) == ("UnrecognizedClientException",
                             "The security token included in the request is invalid.")
    # A body changed after signing.
    raw = logs_request(standin.url, "DescribeLogGroups", {})
    assert raw.status == 200
    req_headers = {"Content-Type": "application/x-amz-json-1.1",
                   "X-Amz-Target": "Logs_20140328.DescribeLogGroups"}
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    signed = AWSRequest("POST", standin.url + "/", data=b"{}", headers=req_headers)
    SigV4Auth(Credentials(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY), "logs",
              "us-east-1").add_auth(signed)
    tampered = signed_request(standin.url, body=b'{"limit":1}', sign=False,
                              headers=dict(signed.headers.items()))
    assert tampered.status == 400
    assert tampered.json()["__type"] == "InvalidSignatureException"
    counters = standin.control.counters()
    assert counters["errors"]["InvalidSignatureException"] == 2


def test_missing_and_malformed_authorization(standin):
    raw = logs_request(standin.url, "DescribeLogGroups", {}, sign=False)
    assert raw.status == 400
    assert raw.json() == {"__type": "MissingAuthenticationTokenException",
                          "message": "Missing Authentication Token"}
    raw = logs_request(standin.url, "DescribeLogGroups", {}, sign=False, headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIASTANDIN000000001/20240101/"
                         "us-east-1/logs/aws4_request",
        "X-Amz-Date": "20240101T000000Z"})
    body = raw.json()
    assert body["__type"] == "IncompleteSignatureException"
    assert "Authorization header requires 'Signature' parameter." in body["message"]
    assert "Authorization header requires 'SignedHeaders' parameter." in body["message"]


def test_signature_time_skew(standin):
    import datetime
    def stamp(minutes):
        when = datetime.datetime.utcnow() + datetime.timedelta(minutes=minutes)
        return when.strftime("%Y%m%dT%H%M%SZ")
    assert logs_request(standin.url, "DescribeLogGroups", {}, timestamp=stamp(-4)).status == 200
    raw = logs_request(standin.url, "DescribeLogGroups", {}, timestamp=stamp(-6))
    body = raw.json()
    assert raw.status == 400 and body["__type"] == "InvalidSignatureException"
    assert body["message"].startswith("Signature expired: ")
    assert body["message"].endswith(" - 5 min.)")
    raw = logs_request(standin.url, "DescribeLogGroups", {}, timestamp=stamp(6))
    assert raw.json()["message"].startswith("Signature not yet current: ")
    # Moving the stand-in's clock has the same effect on a fresh signature.
    standin.control.config(clock_offset_seconds=400)
    raw = logs_request(standin.url, "DescribeLogGroups", {})
    assert raw.json()["message"].startswith("Signature expired: ")


def test_scope_region_and_service(standin):
    raw = logs_request(standin.url, "DescribeLogGroups", {}, region="us-west-2")
    assert raw.json() == {
        "__type": "InvalidSignatureException",
        "message": "Credential should be scoped to a valid region, not 'us-west-2'. "}
    raw = logs_request(standin.url, "DescribeLogGroups", {}, service="ssm")
    assert raw.json()["message"] == "Credential should be scoped to correct service: 'logs'. "


def test_session_tokens(standin):
    ctl = standin.control
    ctl.add_credentials("ASIATEMP000000000001", "tempsecret", session_token="TOKEN-1")
    ok = standin.logs_client(access_key="ASIATEMP000000000001", secret_key="tempsecret",
                             session_token="TOKEN-1")
    ok.describe_log_groups()
    for token in (None, "TOKEN-2"):
        client = standin.logs_client(access_key="ASIATEMP000000000001",
                                     secret_key="tempsecret", session_token=token)
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            client.describe_log_groups()
        assert error_of(exc) == ("UnrecognizedClientException",
                                 "The security token included in the request is invalid.")
    # A long-term key does not take a token.
    client = standin.logs_client(session_token="TOKEN-1")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        client.describe_log_groups()
    assert error_of(exc)[0] == "UnrecognizedClientException"
    ctl.expire_credentials("ASIATEMP000000000001")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        ok.describe_log_groups()
    assert error_of(exc) == ("ExpiredTokenException",
                             "The security token included in the request is expired")
    # Expiry by time on the stand-in clock.  The client is made first (that
    # takes a while): the call must come before the credentials expire.
    short = standin.logs_client(access_key="ASIATEMP000000000002", secret_key="s2",
                                session_token="T2")
    ctl.add_credentials("ASIATEMP000000000002", "s2", session_token="T2", expires_in=2)
    short.describe_log_groups()
    time.sleep(2.2)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        short.describe_log_groups()
    assert error_of(exc)[0] == "ExpiredTokenException"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl CLI not installed")
def test_curl_aws_sigv4_is_accepted(standin, tmp_path):
    """libcurl's CURLOPT_AWS_SIGV4 (what porthole uses) verifies here; so does
    a signed User-Agent header, which botocore's own signer never signs."""
    ctl = standin.control
    ctl.add_credentials("ASIACURL000000000001", "curlsecret", session_token="CURLTOKEN")
    ctl.create_stream("g", "s")
    body = json.dumps({"logGroupName": "g", "logStreamName": "s",
                       "logEvents": [{"timestamp": now_ms(), "message": "from curl"}]})
    cmd = ["curl", "-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}",
           "--aws-sigv4", "aws:amz:us-east-1:logs",
           "--user", "ASIACURL000000000001:curlsecret",
           "-H", "Content-Type: application/x-amz-json-1.1",
           "-H", "X-Amz-Target: Logs_20140328.PutLogEvents",
           "-H", "X-Amz-Security-Token: CURLTOKEN",
           "-H", "User-Agent: porthole-test",
           "--data-binary", body, standin.url + "/"]
    out = subprocess.run(cmd, capture_output=True, timeout=30, text=True)
    text, status = out.stdout.rsplit("\n", 1)
    assert status == "200", (out.stdout, out.stderr)
    assert "nextSequenceToken" in json.loads(text)
    assert [e["message"] for e in ctl.events("g", "s")] == ["from curl"]
    # A full 1 MiB batch: curl adds "Expect: 100-continue" (unsigned) for
    # bodies over 1 MiB and waits for "100 Continue"; chunked upload too.
    big = json.dumps({"logGroupName": "g", "logStreamName": "s", "logEvents": [
        {"timestamp": now_ms(), "message": "a" * (262144 - 26)} for _ in range(4)]})
    assert len(big) > 1048576
    big_file = tmp_path / "batch.json"
    big_file.write_text(big)
    for extra in ([], ["-H", "Transfer-Encoding: chunked"]):
        big_cmd = cmd[:-3] + extra + ["-v", "--data-binary", f"@{big_file}",
                                      standin.url + "/"]
        out = subprocess.run(big_cmd, capture_output=True, timeout=30, text=True)
        assert out.stdout.rsplit("\n", 1)[1] == "200", out.stdout[-300:]
        assert "Expect: 100-continue" in out.stderr
    assert len(ctl.events("g", "s")) == 9
    cmd[cmd.index("ASIACURL000000000001:curlsecret")] = "ASIACURL000000000001:wrong"
    out = subprocess.run(cmd, capture_output=True, timeout=30, text=True)
    assert out.stdout.rsplit("\n", 1)[1] == "400"
    assert "InvalidSignatureException" in out.stdout


# -- faults ---------------------------------------------------------------------

def test_fault_throttle_and_unavailable(standin, logs):
    make_stream(logs)
    ctl = standin.control
    ctl.add_fault("throttle", operation="PutLogEvents", count=2)
    ev = [{"timestamp": now_ms(), "message": "x"}]
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            put(logs, ev)
        assert error_of(exc) == ("ThrottlingException", "Rate exceeded")
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    put(logs, ev)
    ctl.add_fault("unavailable", operation="PutLogEvents")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        put(logs, ev)
    assert error_of(exc)[0] == "ServiceUnavailableException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert len(ctl.events("g", "s")) == 1
    assert ctl.counters()["faults_applied"] == {"throttle": 2, "unavailable": 1}
    assert ctl.faults() == []
    # Faults only hit matching operations.
    ctl.add_fault("throttle", operation="GetLogEvents")
    put(logs, ev)
    assert len(ctl.faults()) == 1


def test_fault_connection_resets(standin, logs):
    make_stream(logs)
    ctl = standin.control
    ctl.add_fault("reset_before", operation="PutLogEvents")
    with pytest.raises((botocore.exceptions.ConnectionClosedError,
                        botocore.exceptions.EndpointConnectionError)):
        put(logs, [{"timestamp": now_ms(), "message": "lost"}])
    assert ctl.events("g", "s") == []
    ctl.add_fault("reset_after", operation="PutLogEvents")
    with pytest.raises((botocore.exceptions.ConnectionClosedError,
                        botocore.exceptions.EndpointConnectionError)):
        put(logs, [{"timestamp": now_ms(), "message": "stored anyway"}])
    assert [e["message"] for e in ctl.events("g", "s")] == ["stored anyway"]
    log = ctl.requests(operation="PutLogEvents")["requests"]
    assert [(e["status"], e["fault"]) for e in log] == [("reset", "reset_before"),
                                                        ("reset", "reset_after")]
    assert log[1]["processed_status"] == 200


def test_fault_delay(standin):
    ctl = standin.control
    ctl.create_stream("g", "s")
    slow = standin.logs_client(read_timeout=0.5)
    ctl.add_fault("delay", operation="PutLogEvents", seconds=1.5)
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        put(slow, [{"timestamp": now_ms(), "message": "late"}])
    deadline = time.time() + 5
    while not ctl.events("g", "s") and time.time() < deadline:
        time.sleep(0.1)
    # The server kept going after the client gave up: the event is stored.
    assert [e["message"] for e in ctl.events("g", "s")] == ["late"]
    ctl.add_fault("delay", operation="DescribeLogGroups", seconds=0.4, phase="after")
    started = time.monotonic()
    standin.logs_client().describe_log_groups()
    assert time.monotonic() - started >= 0.4


def test_fault_expired_token_and_stream_deleted(standin, logs):
    make_stream(logs)
    ctl = standin.control
    ctl.add_fault("expired_token", operation="PutLogEvents")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        put(logs, [{"timestamp": now_ms(), "message": "x"}])
    assert error_of(exc)[0] == "ExpiredTokenException"
    ctl.add_fault("stream_deleted", operation="PutLogEvents")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        put(logs, [{"timestamp": now_ms(), "message": "x"}])
    assert error_of(exc) == ("ResourceNotFoundException",
                             "The specified log stream does not exist.")
    with pytest.raises(botocore.exceptions.ClientError):
        put(logs, [{"timestamp": now_ms(), "message": "x"}])   # stays deleted
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    put(logs, [{"timestamp": now_ms(), "message": "back"}])
    assert [e["message"] for e in ctl.events("g", "s")] == ["back"]


def test_fault_scoped_to_a_stream(standin, logs):
    # IAM can deny an action on one log stream's ARN: the fault hits calls
    # naming that stream only, and is not used up by the others.
    make_stream(logs)
    logs.create_log_stream(logGroupName="g", logStreamName="other")
    ctl = standin.control
    mark = ctl.requests()["last_seq"]
    ctl.add_fault("access_denied", operation="PutLogEvents", stream="other", count=None)
    put(logs, [{"timestamp": now_ms(), "message": "fine"}])
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        logs.put_log_events(logGroupName="g", logStreamName="other",
                            logEvents=[{"timestamp": now_ms(), "message": "x"}])
    assert error_of(exc)[0] == "AccessDeniedException"
    assert [e["message"] for e in ctl.events("g", "s")] == ["fine"]
    assert ctl.faults()[0]["applied"] == 1
    # The request log names the stream of each call, answered or refused.
    log = ctl.requests(since=mark, operation="PutLogEvents")["requests"]
    assert [(q["logStreamName"], q["error"]) for q in log] == [("s", None), ("other", "AccessDeniedException")]


def test_fault_scoped_to_a_principal(standin, logs):
    make_stream(logs)
    ctl = standin.control
    ctl.add_credentials("AKIASTANDINOTHER0001", "other/secret")
    other = standin.logs_client(access_key="AKIASTANDINOTHER0001", secret_key="other/secret")
    ctl.add_fault("access_denied", operation="FilterLogEvents", access_key="AKIASTANDINOTHER0001", count=None)
    logs.filter_log_events(logGroupName="g")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        other.filter_log_events(logGroupName="g")
    assert error_of(exc)[0] == "AccessDeniedException"
    assert ctl.faults()[0]["applied"] == 1


def test_rate_limits(standin, logs):
    defaults = standin.control.config(logs={"rate_limits_enabled": True})
    assert defaults["logs"]["rate_limits"]["FilterLogEvents"] == 5
    standin.control.config(logs={"rate_limits": {"CreateLogStream": 2}})
    logs.create_log_group(logGroupName="g")
    # The limit is per second: a third call is only bound to be throttled if
    # all three were made within one second, which a loaded machine may miss;
    # then the attempt proves nothing and is made again.
    for n in range(5):
        t0 = time.monotonic()
        logs.create_log_stream(logGroupName="g", logStreamName=f"a{n}")
        logs.create_log_stream(logGroupName="g", logStreamName=f"b{n}")
        try:
            logs.create_log_stream(logGroupName="g", logStreamName=f"c{n}")
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "ThrottlingException", e.response
            break
        took = time.monotonic() - t0
        assert took >= 1.0, f"a third CreateLogStream {took:.2f}s after the first was not throttled"
        time.sleep(1.05)
    else:
        pytest.fail("no three CreateLogStream calls within one second in 5 attempts")
    time.sleep(1.05)
    logs.create_log_stream(logGroupName="g", logStreamName=f"c{n}")


def test_request_log_for_idle_checks(standin, logs):
    ctl = standin.control
    logs.describe_log_groups()
    mark = ctl.requests()["last_seq"]
    time.sleep(1.0)
    ctl.counters()                            # control calls are not logged
    assert ctl.requests(since=mark)["requests"] == []
    logs.describe_log_groups()
    new = ctl.requests(since=mark)["requests"]
    assert [(e["service"], e["operation"], e["status"]) for e in new] == \
        [("logs", "DescribeLogGroups", 200)]


# -- credential endpoints ------------------------------------------------------

def http(method, url, headers=None, data=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def test_imdsv2_flow(standin):
    base = standin.url
    ttl_header = "X-aws-ec2-metadata-token-ttl-seconds"
    for bad in (None, "0", "21601", "abc"):
        headers = {} if bad is None else {ttl_header: bad}
        assert http("PUT", base + "/latest/api/token", headers)[0] == 400
    assert http("PUT", base + "/latest/api/token",
                {ttl_header: "60", "X-Forwarded-For": "1.2.3.4"})[0] == 403
    status, headers, token = http("PUT", base + "/latest/api/token", {ttl_header: "21600"})
    assert status == 200 and token
    assert headers["X-Aws-Ec2-Metadata-Token-Ttl-Seconds"] == "21600"
    role_url = base + "/latest/meta-data/iam/security-credentials/"
    assert http("GET", role_url)[0] == 401
    assert http("GET", role_url, {"X-aws-ec2-metadata-token": "bogus"})[0] == 401
    auth = {"X-aws-ec2-metadata-token": token}
    status, _, role = http("GET", role_url, auth)
    assert status == 200 and role == "standin-instance-role"
    status, _, body = http("GET", role_url + role, auth)
    doc = json.loads(body)
    assert doc["Code"] == "Success" and doc["Type"] == "AWS-HMAC"
    assert set(doc) >= {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "LastUpdated"}
    assert http("GET", base + "/latest/meta-data/placement/region", auth)[2] == "us-east-1"
    identity = json.loads(http("GET", base + "/latest/dynamic/instance-identity/document",
                               auth)[2])
    assert identity["region"] == "us-east-1" and identity["accountId"] == "123456789012"
    assert http("GET", base + "/latest/meta-data/nothing-here", auth)[0] == 404
    # The credentials work against the Logs endpoint.
    client = standin.logs_client(access_key=doc["AccessKeyId"],
                                 secret_key=doc["SecretAccessKey"],
                                 session_token=doc["Token"])
    client.describe_log_groups()
    # Tokens expire.
    short = http("PUT", base + "/latest/api/token", {ttl_header: "1"})[2]
    time.sleep(1.2)
    assert http("GET", role_url, {"X-aws-ec2-metadata-token": short})[0] == 401


def test_botocore_imds_fetcher(standin):
    from botocore.utils import InstanceMetadataFetcher
    fetcher = InstanceMetadataFetcher(timeout=5, num_attempts=1,
                                      base_url=standin.url + "/")
    creds = fetcher.retrieve_iam_role_credentials()
    assert creds["role_name"] == "standin-instance-role"
    assert creds["access_key"].startswith("ASIA")
    client = standin.logs_client(access_key=creds["access_key"],
                                 secret_key=creds["secret_key"], session_token=creds["token"])
    client.describe_log_groups()


def test_container_credentials(standin, monkeypatch):
    from botocore.credentials import ContainerProvider
    ctl = standin.control
    full_uri = standin.url + "/v2/credentials/standin-creds"
    status, _, body = http("GET", full_uri)
    doc = json.loads(body)
    assert status == 200
    assert set(doc) >= {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}
    # botocore's own provider, configured the way the container is.  The
    # credentials must outlive making a client and calling with it on a
    # loaded machine; then the test sleeps until they have expired.
    lifetime = 5
    ctl.config(container_credentials={"auth_token": "secret-auth", "expires_in": lifetime})
    assert http("GET", full_uri)[0] == 401
    status, _, body = http("GET", full_uri, {"Authorization": "nope"})
    assert status == 403 and set(json.loads(body)) == {"code", "message"}
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": full_uri,
           "AWS_CONTAINER_AUTHORIZATION_TOKEN": "secret-auth"}
    creds = ContainerProvider(environ=env).load().get_frozen_credentials()
    fetched = time.time()  # the credentials were minted before this
    client = standin.logs_client(access_key=creds.access_key, secret_key=creds.secret_key,
                                 session_token=creds.token)
    client.describe_log_groups()
    time.sleep(max(0.0, fetched + lifetime + 0.2 - time.time()))
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        client.describe_log_groups()
    assert error_of(exc)[0] == "ExpiredTokenException"
    fresh = json.loads(http("GET", full_uri, {"Authorization": "secret-auth"})[2])
    assert fresh["AccessKeyId"] != creds.access_key
    # Faults apply to the credential endpoints too.
    ctl.add_fault("unavailable", service="container_credentials")
    assert http("GET", full_uri, {"Authorization": "secret-auth"})[0] == 500


# -- S3 ------------------------------------------------------------------------

@pytest.fixture
def s3(standin):
    return sc.logs_client(standin.url, service="s3",
                          s3={"addressing_style": "path"})


def test_s3_get_object(standin, s3):
    ctl = standin.control
    ctl.put_object("bucket", "dir/key one.txt", "hello s3", content_type="text/plain")
    ctl.put_object("bucket", "bin", bytes(range(256)))
    obj = s3.get_object(Bucket="bucket", Key="dir/key one.txt")
    assert obj["Body"].read() == b"hello s3"
    assert obj["ContentType"] == "text/plain" and obj["ETag"].startswith('"')
    assert s3.get_object(Bucket="bucket", Key="bin")["Body"].read() == bytes(range(256))
    assert s3.get_object(Bucket="bucket", Key="bin", Range="bytes=10-19")["Body"].read() == \
        bytes(range(10, 20))
    assert s3.head_object(Bucket="bucket", Key="bin")["ContentLength"] == 256

    def code(call):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            call()
        return exc.value.response["Error"]["Code"], \
            exc.value.response["ResponseMetadata"]["HTTPStatusCode"]

    assert code(lambda: s3.get_object(Bucket="bucket", Key="missing")) == ("NoSuchKey", 404)
    assert code(lambda: s3.get_object(Bucket="nobucket", Key="k")) == ("NoSuchBucket", 404)
    bad = sc.logs_client(standin.url, service="s3", secret_key="wrong",
                         s3={"addressing_style": "path"})
    assert code(lambda: bad.get_object(Bucket="bucket", Key="bin")) == \
        ("SignatureDoesNotMatch", 403)
    unknown = sc.logs_client(standin.url, service="s3", access_key="AKIAUNKNOWN000000000",
                             s3={"addressing_style": "path"})
    assert code(lambda: unknown.get_object(Bucket="bucket", Key="bin")) == \
        ("InvalidAccessKeyId", 403)
    ctl.put_bucket("private", allowed_access_keys=["AKIASOMEONEELSE00000"], list_allowed=False)
    ctl.put_object("private", "k", "x")
    assert code(lambda: s3.get_object(Bucket="private", Key="k")) == ("AccessDenied", 403)
    ctl.put_bucket("nolist", list_allowed=False)
    assert code(lambda: s3.get_object(Bucket="nolist", Key="missing")) == ("AccessDenied", 403)
    # S3 insists on x-amz-content-sha256 and answers XML.
    raw = signed_request(standin.url, method="GET", path="/bucket/bin", service="s3")
    assert raw.status == 400 and b"<Code>InvalidRequest</Code>" in raw.body
    assert raw.headers["content-type"] == "application/xml"
    raw = signed_request(standin.url, method="GET", path="/bucket/bin", service="s3", s3=True)
    assert raw.status == 200 and raw.body == bytes(range(256))
    ctl.add_fault("throttle", service="s3")
    assert code(lambda: s3.get_object(Bucket="bucket", Key="bin")) == ("SlowDown", 503)
