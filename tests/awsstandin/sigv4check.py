# SPDX-License-Identifier: Apache-2.0
"""Server-side verification of AWS Signature Version 4 (Authorization header).

The expected signature is computed by botocore's own signer
(``botocore.auth.SigV4Auth`` / ``S3SigV4Auth``): the received method, path,
query, the headers named in ``SignedHeaders`` (with their received values)
and the body are rebuilt into an ``AWSRequest``, the signing time is taken
from the request's X-Amz-Date (or Date), and the secret is looked up in the
stand-in's credential table.  The result is compared with the Signature
the client sent.

Verification failures are raised as ``AuthFailure(kind, message)``; each
service turns the kind into its own wire error (CloudWatch Logs answers
JSON, S3 answers XML with different codes and statuses).

Checks, in order (the order AWS reports them in, as far as observed):
 1. Authorization header present (else MISSING)
 2. well formed: algorithm, Credential, SignedHeaders, Signature, a date
    header, 'host' signed (else INCOMPLETE)
 3. credential scope: terminator, region, service, date == X-Amz-Date day
 4. request time within the allowed skew (SIGNATURE_EXPIRED / NOT_YET_CURRENT)
 5. access key known (UNKNOWN_KEY)
 6. security token matches the key (INVALID_TOKEN)
 7. credentials not expired (EXPIRED_TOKEN)
 8. payload hash header (S3: required, must match the body)
 9. signature matches (SIGNATURE_MISMATCH)
"""

import datetime
import email.utils
import hashlib
import hmac

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

# Failure kinds.
MISSING = "missing"
INCOMPLETE = "incomplete"
BAD_DATE = "bad_date"
WRONG_TERMINATOR = "wrong_terminator"
WRONG_REGION = "wrong_region"
WRONG_SERVICE = "wrong_service"
SCOPE_DATE = "scope_date"
SIGNATURE_EXPIRED = "signature_expired"
SIGNATURE_NOT_YET_CURRENT = "signature_not_yet_current"
UNKNOWN_KEY = "unknown_key"
INVALID_TOKEN = "invalid_token"
EXPIRED_TOKEN = "expired_token"
MISSING_CONTENT_SHA = "missing_content_sha256"
CONTENT_SHA_MISMATCH = "content_sha256_mismatch"
SIGNATURE_MISMATCH = "signature_mismatch"


class AuthFailure(Exception):
    def __init__(self, kind, message, **details):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details


class Verified:
    """A request whose signature checked out."""

    def __init__(self, credential, scope_region, scope_service, signed_headers):
        self.credential = credential
        self.access_key = credential.access_key
        self.region = scope_region
        self.service = scope_service
        self.signed_headers = signed_headers


class _ExactHeaders:
    """Mixin: sign exactly the headers we were given.

    botocore's client-side signer leaves out a few headers it never signs
    (User-Agent, Expect, X-Amzn-Trace-Id), but a server must honour whatever
    list the client put in SignedHeaders (libcurl, for one, signs every
    header it was handed).  We build the AWSRequest with only the signed
    headers, so "all of them" is the right set.
    """

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map

    def payload(self, request):
        # The payload hash the service uses: S3 takes x-amz-content-sha256
        # as given (after checking it against the body); other services
        # hash the body they received.
        return request.context["standin_payload_hash"]


class _ServiceSigner(_ExactHeaders, SigV4Auth):
    pass


class _S3Signer(_ExactHeaders, S3SigV4Auth):
    pass


def parse_authorization(value):
    """Split an AWS4-HMAC-SHA256 Authorization header into its parameters.

    Raises AuthFailure(INCOMPLETE) with AWS's wording when malformed.
    """
    value = value.strip()
    algorithm, _, rest = value.partition(" ")
    if algorithm != ALGORITHM:
        raise AuthFailure(
            INCOMPLETE,
            f"Unsupported AWS 'algorithm': '{algorithm}'",
            s3_message="The authorization mechanism you have provided is not supported. "
                       "Please use AWS4-HMAC-SHA256.",
        )
    params = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise AuthFailure(
                INCOMPLETE,
                f"'{part}' not a valid key=value pair (missing equal-sign) "
                f"in Authorization header: '{value}'.",
            )
        key, _, val = part.partition("=")
        params[key.strip()] = val.strip()
    return params


def _signing_time(request):
    """(datetime, 'YYYYMMDDTHHMMSSZ') from X-Amz-Date, else Date."""
    amz_date = request.header("X-Amz-Date")
    if amz_date is not None:
        try:
            when = datetime.datetime.strptime(amz_date.strip(), SIGV4_TIMESTAMP)
        except ValueError:
            raise AuthFailure(
                BAD_DATE,
                f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
                "See http://en.wikipedia.org/wiki/ISO_8601",
            )
        return when.replace(tzinfo=datetime.timezone.utc), amz_date.strip()
    date = request.header("Date")
    if date is not None:
        try:
            when = email.utils.parsedate_to_datetime(date)
        except (TypeError, ValueError):
            when = None
        if when is None:
            raise AuthFailure(BAD_DATE, f"Unable to parse Date header: '{date}'")
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        when = when.astimezone(datetime.timezone.utc)
        return when, when.strftime(SIGV4_TIMESTAMP)
    return None, None


def _fmt(dt):
    return dt.strftime(SIGV4_TIMESTAMP)


def verify(request, *, service, region, lookup_credential, now,
           max_skew_seconds=300, s3=False):
    """Verify ``request`` (a wire.Request) or raise AuthFailure.

    ``lookup_credential(access_key)`` returns a state.Credential or None.
    ``now`` is the stand-in's current time in epoch seconds.
    """
    auth = request.header("Authorization")
    if auth is None:
        raise AuthFailure(MISSING, "Missing Authentication Token")

    params = parse_authorization(auth)
    when, timestamp = _signing_time(request)
    missing = []
    for required in ("Credential", "Signature", "SignedHeaders"):
        if required not in params:
            missing.append(f"Authorization header requires '{required}' parameter.")
    if when is None:
        missing.append("Authorization header requires existence of either a "
                       "'X-Amz-Date' or a 'Date' header.")
    if missing:
        raise AuthFailure(
            INCOMPLETE,
            " ".join(missing) + f" Authorization={auth}",
            s3_message="The authorization header is malformed; the authorization "
                       "header requires three components: Credential, "
                       "SignedHeaders, and Signature.",
        )

    scope = params["Credential"].split("/")
    if len(scope) != 5 or not scope[0]:
        raise AuthFailure(
            INCOMPLETE,
            f"Credential should be of the form "
            f"'<access key>/<date>/<region>/<service>/aws4_request', "
            f"not '{params['Credential']}'.",
            s3_message="The authorization header is malformed; the Credential is "
                       "mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
        )
    access_key, scope_date, scope_region, scope_service, terminator = scope

    signed_headers = [h.strip().lower() for h in params["SignedHeaders"].split(";")
                      if h.strip()]
    if "host" not in signed_headers:
        raise AuthFailure(
            INCOMPLETE,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        )

    if terminator != "aws4_request":
        raise AuthFailure(
            WRONG_TERMINATOR,
            f"Credential should be scoped with a valid terminator: 'aws4_request', "
            f"not '{terminator}'. ",
        )
    if scope_region != region:
        raise AuthFailure(
            WRONG_REGION,
            f"Credential should be scoped to a valid region, not '{scope_region}'. ",
            scope_region=scope_region, expected_region=region,
        )
    if scope_service != service:
        raise AuthFailure(
            WRONG_SERVICE,
            f"Credential should be scoped to correct service: '{service}'. ",
            scope_service=scope_service,
        )
    if scope_date != timestamp[:8]:
        raise AuthFailure(
            SCOPE_DATE,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
            f"of date from HTTP: '{scope_date}' != '{timestamp[:8]}', from "
            f"'{timestamp}'.",
        )

    now_dt = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)
    skew = datetime.timedelta(seconds=max_skew_seconds)
    minutes = int(max_skew_seconds // 60)
    if when < now_dt - skew:
        raise AuthFailure(
            SIGNATURE_EXPIRED,
            f"Signature expired: {timestamp} is now earlier than "
            f"{_fmt(now_dt - skew)} ({_fmt(now_dt)} - {minutes} min.)",
            request_time=timestamp, server_time=_fmt(now_dt),
        )
    if when > now_dt + skew:
        raise AuthFailure(
            SIGNATURE_NOT_YET_CURRENT,
            f"Signature not yet current: {timestamp} is still later than "
            f"{_fmt(now_dt + skew)} ({_fmt(now_dt)} + {minutes} min.)",
            request_time=timestamp, server_time=_fmt(now_dt),
        )

    credential = lookup_credential(access_key)
    if credential is None:
        raise AuthFailure(
            UNKNOWN_KEY,
            "The security token included in the request is invalid.",
            access_key=access_key,
        )

    token = request.header("X-Amz-Security-Token")
    if credential.session_token is not None:
        if token is None or token != credential.session_token:
            raise AuthFailure(
                INVALID_TOKEN,
                "The security token included in the request is invalid.",
                access_key=access_key,
            )
    elif token is not None:
        # A long-term key does not take a session token; AWS rejects it.
        raise AuthFailure(
            INVALID_TOKEN,
            "The security token included in the request is invalid.",
            access_key=access_key,
        )

    if credential.is_expired(now):
        if credential.session_token is not None:
            raise AuthFailure(
                EXPIRED_TOKEN,
                "The security token included in the request is expired",
                access_key=access_key,
            )
        # A deactivated long-term key looks like an unknown one.
        raise AuthFailure(
            UNKNOWN_KEY,
            "The security token included in the request is invalid.",
            access_key=access_key,
        )

    body = request.body or b""
    body_sha = hashlib.sha256(body).hexdigest()
    content_sha = request.header("X-Amz-Content-SHA256")
    if s3:
        if content_sha is None:
            raise AuthFailure(
                MISSING_CONTENT_SHA,
                "Missing required header for this request: x-amz-content-sha256",
            )
        content_sha = content_sha.strip()
        if content_sha != UNSIGNED_PAYLOAD:
            if content_sha.startswith("STREAMING-"):
                raise AuthFailure(
                    INCOMPLETE,
                    "The stand-in does not implement streaming (chunked) SigV4 payloads.",
                    s3_message="The stand-in does not implement streaming SigV4 payloads.",
                )
            if content_sha.lower() != body_sha:
                raise AuthFailure(
                    CONTENT_SHA_MISMATCH,
                    "The provided 'x-amz-content-sha256' header does not match what "
                    "was computed.",
                    client_sha=content_sha, server_sha=body_sha,
                )
    elif content_sha is not None and "x-amz-content-sha256" in signed_headers:
        # Non-S3 services hash the body they received themselves.  botocore's
        # signer would trust the header instead, so a header that lies about
        # the body has to be caught here: AWS's signature would not match.
        if content_sha.strip().lower() != body_sha:
            raise AuthFailure(
                SIGNATURE_MISMATCH,
                "The request signature we calculated does not match the signature "
                "you provided. Check your AWS Secret Access Key and signing method. "
                "Consult the service documentation for details.",
                access_key=access_key,
            )

    # Rebuild the request with exactly the signed headers and let botocore
    # compute the canonical request, string to sign and signature.
    headers = HTTPHeaders()
    for name in signed_headers:
        values = request.header_values(name)
        headers[name] = ",".join(" ".join(v.split()) for v in values)
    host = request.header("Host", "localhost")
    url = f"http://{host}{request.raw_path}"
    if request.raw_query:
        url += "?" + request.raw_query
    aws_request = AWSRequest(method=request.method, url=url, headers=headers,
                             data=body)
    aws_request.context["timestamp"] = timestamp
    aws_request.context["standin_payload_hash"] = (
        content_sha if s3 else body_sha)
    signer_class = _S3Signer if s3 else _ServiceSigner
    signer = signer_class(
        Credentials(credential.access_key, credential.secret_key,
                    credential.session_token),
        scope_service, scope_region,
    )
    canonical_request = signer.canonical_request(aws_request)
    string_to_sign = signer.string_to_sign(aws_request, canonical_request)
    expected = signer.signature(string_to_sign, aws_request)
    provided = params["Signature"]
    if not hmac.compare_digest(expected, provided):
        raise AuthFailure(
            SIGNATURE_MISMATCH,
            "The request signature we calculated does not match the signature you "
            "provided. Check your AWS Secret Access Key and signing method. Consult "
            "the service documentation for details.",
            access_key=access_key,
            canonical_request=canonical_request,
            string_to_sign=string_to_sign,
            signature_provided=provided,
        )
    return Verified(credential, scope_region, scope_service, signed_headers)
