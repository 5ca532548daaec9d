"""Tracker's datetimes: ISO 8601 UTC with whole seconds and a Z out; ISO 8601 or epoch ms in."""

from __future__ import annotations

import time
from datetime import datetime, timezone


def iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def parse_datetime_param(value: str) -> int:
    """Return epoch milliseconds; Tracker accepts datetime parameters as ISO 8601 or epoch ms."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        # Tracker interprets naive datetimes as UTC as far as any client relied on it.
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1000)


def now() -> int:
    return int(time.time())
