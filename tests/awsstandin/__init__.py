# SPDX-License-Identifier: Apache-2.0
"""Local AWS stand-in: CloudWatch Logs, S3 GetObject, container credentials
and IMDSv2 on one loopback port, checked against AWS's documented rules.

See README.md.  Entry points: ``standin.py`` (CLI / ``StandIn`` class) and
``client.py`` (helpers for tests).
"""
