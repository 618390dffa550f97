#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the committed seed corpus of each fuzz harness (tests/fuzz/<name>/corpus/):
well-formed examples of what each parser reads, which the fuzzer mutates.  Run it
again after changing it; the files are committed so `make fuzz` needs nothing else."""

import hashlib
import json
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
SK = ("sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIEX8I+PjjkF5wHLhG3Ns4CRRd4xH4XEsJk"
      "NeadA8t6xfAAAABHNzaDo=")
SEP = "\n---\n"


def s(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def put(name: str, items):
    d = HERE / name / "corpus"
    d.mkdir(parents=True, exist_ok=True)
    for old in d.iterdir():
        old.unlink()
    for it in items:
        data = it.encode() if isinstance(it, str) else it
        (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


put("authkeys", [
    ED + " me@laptop\n",
    f'from="10.0.0.0/8,!10.1.*",permitopen="localhost:8888",permitopen="[::1]:22" {ED}\n',
    f'restrict,pty,command="echo $SSH_ORIGINAL_COMMAND",environment="A=b" {ED} c\n',
    f'expiry-time="20300101Z",permitlisten="*:9000",no-agent-forwarding {ED}\n',
    f"no-touch-required,verify-required {SK} yubikey\n",
    "# comment\n\n" + ED + "\r\nssh-foo AAAA bad\ncert-authority " + ED + "\n",
    'from="*" ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x\n',
])
put("match", [
    "10.1.2.3" + SEP + "10.0.0.0/8,!10.1.*" + SEP + "host:22" + SEP + "22",
    "fd00::5" + SEP + "fd00::/8,127.*" + SEP + "[::1]:*" + SEP + "8080",
    "::ffff:192.168.1.1" + SEP + "192.168.?.*" + SEP + "*:443" + SEP + "443",
    "localhost" + SEP + "!*" + SEP + "LocalHost:22" + SEP + "0",
])
put("duration", ["90s", "1h30m", "2d", "0", "100", "36500d", "1d2h3m4s", "5m", "", "-1", "1h1h"])
put("config", [
    "PORTHOLE_WINDOW=5m\nPORTHOLE_HOLD=always\n# c\n" + SEP + '{"porthole_window": "\\"30m\\""}',
    'PORTHOLE_SSH_PORT="2222"\nPORTHOLE_MAX_STARTUPS=10:30:100\nPORTHOLE_PER_SOURCE_NETBLOCK_SIZE=24:64\n' + SEP +
    '{"porthole_hold": "never", "porthole_ssh_listen": "127.0.0.1,::1", "porthole_bogus": 1}',
    "no equals here\nPORTHOLE_LOG_LEVEL=loud\n" + SEP + '["x"]',
    "PORTHOLE_PER_SOURCE_PENALTY_EXEMPT=loopback,10.0.0.0/8\n" + SEP + '{"porthole_cluster_ssh": true}',
])


def sftp(*packets):
    return b"".join(s(p) for p in packets)


def req(t, rid, body=b""):
    return bytes([t]) + struct.pack(">I", rid) + body


put("sftp", [
    sftp(req(16, 1, s(b".")), req(11, 2, s(b".")), req(12, 3, s(b"\0\0\0\0")), req(4, 4, s(b"\0\0\0\0"))),
    sftp(req(17, 1, s(b"/")), req(7, 2, s(b"x")), req(3, 3, s(b"f") + struct.pack(">II", 1, 0)),
         req(5, 4, s(b"\0\0\0\0") + struct.pack(">QI", 0, 4096))),
    sftp(req(200, 1, s(b"limits@openssh.com")), req(200, 2, s(b"statvfs@openssh.com") + s(b"/")),
         req(200, 3, s(b"expand-path@openssh.com") + s(b"~/x")), req(200, 4, s(b"home-directory") + s(b"root"))),
    sftp(req(19, 1, s(b"l")), req(9, 2, s(b"f") + struct.pack(">II", 4, 0o644)), req(13, 3, s(b"f"))),
])

RC = {"current_host": "algo-1", "hosts": ["algo-1", "algo-2"], "network_interface_name": "lo",
      "current_instance_type": "ml.m5.xlarge",
      "instance_groups": [{"instance_group_name": "g", "instance_type": "ml.m5.xlarge", "hosts": ["algo-1"]}]}
HP = {"ClusterConfig": {"ClusterArn": "arn:aws:sagemaker:us-west-2:123456789012:cluster/abc123",
                        "ClusterName": "ml-cluster"},
      "InstanceGroups": [{"Name": "w", "InstanceType": "ml.g5.8xlarge",
                          "Instances": [{"InstanceName": "w-1", "CustomerIpAddress": "10.1.2.3"},
                                        {"InstanceName": "w-2", "CustomerIpAddress": "fd00::1"}]}]}
put("identity", [json.dumps(RC) + SEP + json.dumps(HP), json.dumps(RC), SEP + json.dumps(HP),
                 '{"current_host": 1}' + SEP + '{"ClusterConfig": {}}'])


def record(host, ip, event="identity"):
    return {"version": 1, "ts": "2026-11-23T10:50:48Z", "level": "info", "event": event, "job": "job", "host": host,
            "msg": "x", "data": {"host": host, "job": "job", "ip": ip, "port": 22, "host_key": ED,
                                 "client_key": ED + " porthole-cluster@" + host, "gpus": 2, "state": "holding",
                                 "deadline": "2026-11-23T11:50:48Z", "ssm": {"target": "mi-0"}}}


page = {"events": [{"timestamp": 1700000000000 + i, "message": json.dumps(record(h, ip))}
                   for i, (h, ip) in enumerate([("algo-1", "10.0.0.1"), ("algo-2", "10.0.0.2")])]
        + [{"timestamp": 1700000000100, "message": json.dumps({"event": "hold_end", "job": "job", "host": "algo-2",
                                                                "data": {"reason": "release"}})}],
        "nextToken": "t"}
roster = {"porthole": "roster", "version": 1, "job": "job", "leader": "algo-1",
          "hosts": [{"host": h, "ip": f"10.0.0.{i + 1}", "port": 22, "host_key": ED,
                     "client_key": ED + " porthole-cluster@" + h, "gpus": 1, "record_ms": 1700000000000, "ts": None}
                    for i, h in enumerate(["algo-1", "algo-2", "algo-3"])]}
put("records", [json.dumps(page), json.dumps(roster),
                json.dumps({"events": [{"timestamp": 1700000000000, "message": json.dumps(roster)}],
                            "nextForwardToken": "f/1"})])
put("control", ['{"cmd":"status"}', '{"cmd":"breakpoint","name":"x","timeout":"5s"}', '{"cmd":"extend","duration":1e19}',
                '{"cmd":"log","msg":"x","count":2,"level":"error"}', '{"cmd":"hold","window":3}', '{"cmd":"attach"}',
                '{"cmd":"continue","name":"x"}', '{"cmd":"extend","duration":"15m"}', '{"cmd":"release"}', "not json"])
put("responses", [
    '{"nextSequenceToken":"1","rejectedLogEventsInfo":{"tooNewLogEventStartIndex":3,"tooOldLogEventEndIndex":1,'
    '"expiredLogEventEndIndex":0}}',
    '{"ActivationId":"e488f2f6-1234-5678-9abc-def012345678","ActivationCode":"ABCDEFGHIJKLMNOPQRST"}',
    "Instance registered successfully (mi-0123456789abcdef0)\n",
    '{"AccessKeyId":"AKIDEXAMPLE","SecretAccessKey":"s","Token":"t","Expiration":"2030-02-25T06:03:31Z"}',
    '{"Code":"Success","AccessKeyId":"A","SecretAccessKey":"S","Expiration":"2016-02-25T06:03:31.123+00:00"}',
    "2016-02-25T06:03:31Z", "http://169.254.170.23/v1/credentials", "https://example.com/creds",
    "com.amazonaws.logs#ResourceNotFoundException:http://x",
])
put("spool", ["1 0 0\n" + SEP + "1700000000000 hello\n1700000000001 world\n",
              "1 6 1\n" + SEP + "1700000000000 a\n17000000 torn" + SEP + "1700000000002 b\n",
              "x\n" + SEP + SEP + SEP + "1 c\n"])


def pcap_record(payload: bytes, etm: bool) -> bytes:
    pad = 8
    body = bytes([pad]) + payload + b"\0" * pad
    pkt = body if etm else struct.pack(">I", len(body)) + body
    data = b"\0" * 40 + pkt
    return struct.pack(">IIII", 0, 0, len(data), len(data)) + data


key_blob = s(b"sk-ssh-ed25519@openssh.com") + s(b"\x11" * 32) + s(b"ssh:")
sig = s(b"sk-ssh-ed25519@openssh.com") + s(b"\x22" * 64) + b"\x01" + struct.pack(">I", 7)
userauth = (bytes([50]) + s(b"root") + s(b"ssh-connection") + s(b"publickey") + b"\x01" +
            s(b"sk-ssh-ed25519@openssh.com") + s(key_blob) + s(sig))
header = b"\xa1\xb2\xc3\xd4" + b"\0" * 20
put("authsig", [header + pcap_record(bytes([5]) + s(b"ssh-userauth"), False) + pcap_record(userauth, False),
                header + pcap_record(userauth, True), header])
put("relay", [
    '{"level":"info","event":"ssh_login","msg":"ssh: root logged in","fields":{"user":"root","addr":"1.2.3.4"}}\n',
    '{"level":"warning","msg":"x\\u001b[2Jy"}\n{"level":"info","event":"ssh_auth_failure","msg":"m",'
    '"fields":{"user":"x\\nporthole: info: forged","nested":{"a":["\\u0007"]}}}\n',
    "not json\n{}\n",
])
