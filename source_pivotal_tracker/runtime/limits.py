"""The connector's time limits: one setting each, for both ways in (API and export downloads).

Each has a default and an environment variable (documented in the README) with which operators and
tests shorten or lengthen it without a code change.
"""

from __future__ import annotations

import math
import os

TIMEOUT_ENV = "SOURCE_PIVOTAL_TRACKER_TIMEOUT_SECONDS"
MAX_WAIT_ENV = "SOURCE_PIVOTAL_TRACKER_MAX_WAIT_SECONDS"
RESPONSE_DEADLINE_ENV = "SOURCE_PIVOTAL_TRACKER_RESPONSE_DEADLINE_SECONDS"
CHECK_DEADLINE_ENV = "SOURCE_PIVOTAL_TRACKER_CHECK_DEADLINE_SECONDS"
CONNECT_TIMEOUT_SECONDS = 30.0
# A page of 500 stories with their comments takes Tracker seconds; two minutes of silence is a hang.
READ_TIMEOUT_SECONDS = 120.0
# The read timeout is the silence between two bytes: a server that sends a byte now and then
# holds a request forever. A whole API answer (at most a page of 500 stories, a few MB) arrives in
# seconds; five minutes from the request to its last byte is a server that will never finish.
RESPONSE_DEADLINE_SECONDS = 300.0
# `check` answers a person waiting at a form: the whole command, every request and wait included.
CHECK_DEADLINE_SECONDS = 60.0
# The CDK gives up retrying after 10 minutes in all; no single wait may take most of that.
MAX_WAIT_SECONDS = 120.0


def seconds_from_env(name: str, default: float) -> float:
    """A positive, finite number from the environment variable `name`, else the default."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if math.isfinite(value) and value > 0 else default


def timeouts() -> tuple[float, float]:
    """(connect, read) timeouts of every request, in seconds."""
    override = seconds_from_env(TIMEOUT_ENV, 0.0)
    if override:
        return override, override
    return CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS


def response_deadline_seconds() -> float:
    """How long an API request may take from its sending to the last byte of its answer."""
    return seconds_from_env(RESPONSE_DEADLINE_ENV, RESPONSE_DEADLINE_SECONDS)


def check_deadline_seconds() -> float:
    return seconds_from_env(CHECK_DEADLINE_ENV, CHECK_DEADLINE_SECONDS)


def max_wait_seconds() -> float:
    return seconds_from_env(MAX_WAIT_ENV, MAX_WAIT_SECONDS)
