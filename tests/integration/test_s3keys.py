# SPDX-License-Identifier: Apache-2.0
"""Authorized keys from s3://bucket/key (PORTHOLE_AUTHORIZED_KEYS_S3): PID 1
fetches the object through the signed AWS client from the stand-in's S3, and
the SSH endpoint accepts the keys in it."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from awsstandin.client import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY  # noqa: E402
from sshutil import SshServer, make_key, pub  # noqa: E402

BUCKET = "team-keys"


def s3_env(standin, url):
    return {
        "PORTHOLE_AUTHORIZED_KEYS_S3": url,
        "AWS_ENDPOINT_URL_S3": standin.url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def test_keys_from_s3_log_in(sb, standin):
    key = make_key(sb.root / "id_s3")
    other = make_key(sb.root / "id_other")
    standin.control.put_bucket(BUCKET)
    standin.control.put_object(BUCKET, "ml/authorized_keys", f"# team keys\n{pub(key)}\n")
    srv = SshServer(sb, keys=[key], authorized="", env=s3_env(standin, f"s3://{BUCKET}/ml/authorized_keys"))
    srv.wait_log(f"authorized keys from s3://{BUCKET}/ml/authorized_keys")
    r = srv.ssh("echo", "in-via-s3", key=key)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == b"in-via-s3"
    # A key that is not in the object is still refused.
    r = srv.ssh("true", key=other)
    assert r.returncode == 255
    # The request was signed and reached S3 as GetObject.
    reqs = standin.control.call("GET", "requests", query={"service": "s3"})["requests"]
    assert any(q.get("operation") == "GetObject" and q.get("status") == 200 for q in reqs), reqs


def test_missing_object_one_clear_warning(sb, standin):
    standin.control.put_bucket(BUCKET)
    url = f"s3://{BUCKET}/nope"
    srv = SshServer(sb, authorized="", env=s3_env(standin, url))
    log = srv.wait_log("cannot fetch authorized keys")
    line = next(x for x in log.splitlines() if "cannot fetch authorized keys" in x)
    assert url in line and "NoSuchKey" in line and "PORTHOLE_AUTHORIZED_KEYS_S3" in line, line
    # porthole goes on: still up and answering.
    assert sb.cli("status").returncode == 0


def test_not_an_s3_url(sb, standin):
    srv = SshServer(sb, authorized="", env=s3_env(standin, "https://example.invalid/keys"))
    log = srv.wait_log("PORTHOLE_AUTHORIZED_KEYS_S3")
    assert "expected s3://bucket/key" in log, log
