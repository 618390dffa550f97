# SPDX-License-Identifier: Apache-2.0
"""Request and response objects passed between the HTTP layer and services."""

import email.utils
import json
import urllib.parse
import uuid


class Request:
    """A received HTTP request, exactly as it came off the wire."""

    def __init__(self, method, target, headers, body, client_address):
        self.method = method
        self.target = target                  # raw request-target, e.g. "/a%20b?x=1"
        split = urllib.parse.urlsplit(target)
        self.raw_path = split.path or "/"     # still percent-encoded
        self.raw_query = split.query
        self.path = urllib.parse.unquote(self.raw_path)
        self.query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        self.header_list = list(headers)      # [(name, value)] in arrival order
        self.body = body
        self.client_address = client_address

    def header(self, name, default=None):
        """First value of a header, case-insensitively."""
        lname = name.lower()
        for key, value in self.header_list:
            if key.lower() == lname:
                return value
        return default

    def header_values(self, name):
        lname = name.lower()
        return [v for k, v in self.header_list if k.lower() == lname]

    def has_header(self, name):
        return bool(self.header_values(name))

    def query_value(self, name, default=None):
        values = self.query.get(name)
        return values[0] if values else default


class Response:
    """What a service wants sent back.

    ``drop`` means: send nothing and reset the TCP connection (fault
    injection).  ``error_code``/``error_message`` and ``operation`` are for
    the request log only.
    """

    def __init__(self, status=200, body=b"", headers=None, content_type=None,
                 error_code=None, error_message=None):
        self.status = status
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.body = body
        self.headers = list(headers or [])
        if content_type:
            self.headers.append(("Content-Type", content_type))
        self.error_code = error_code
        self.error_message = error_message
        self.drop = False
        self.head_only = False       # HEAD: send headers incl. length, no body
        self.delay_after = 0.0       # seconds to wait before sending
        self.fault = None            # fault type applied, for the request log
        self.extra_log = {}

    @classmethod
    def dropped(cls):
        r = cls(status=0)
        r.drop = True
        return r

    @classmethod
    def json(cls, status, obj, headers=None):
        return cls(status, json.dumps(obj, separators=(",", ":")),
                   headers=headers, content_type="application/json")

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def http_date(epoch_seconds):
    return email.utils.formatdate(epoch_seconds, usegmt=True)


def request_id():
    return str(uuid.uuid4())
