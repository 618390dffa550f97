# SPDX-License-Identifier: Apache-2.0
"""The ready record (docs/ready-record.md) in what porthole printed: the
test harnesses of the sandbox, the netns bed and the image runs share it."""

import json


def ready_record_in(text: str) -> dict | None:
    """The first `{"porthole":"ready",…}` line of text as a dict, or None."""
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if isinstance(o, dict) and o.get("porthole") == "ready":
            return o
    return None
