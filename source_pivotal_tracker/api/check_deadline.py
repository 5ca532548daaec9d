"""`check` answers within one deadline (60 s by default), whatever the server does.

A `read` is patient: it retries timeouts and waits out 429s and 5xx for minutes. `check` answers a
person at the "Test the source" form, who must learn in under a minute whether the server is dead,
slow or busy. While a check runs, every request it makes (sign-in, /projects) is bounded by what
is left of the deadline, half of it at most, so a second request still has time; a timeout is not
retried; and a wait that would pass the deadline ends the check at once with a message that says
which of these it was. `read` never enters this mode: its retries and caps are unchanged.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from ..runtime.limits import check_deadline_seconds
from .http_safety import origin, retry_after_seconds


class CheckDeadline:
    """The deadline of one check, and the reason it gave up, in the words a person reads."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.reason: str | None = None

    def remaining(self) -> float:
        return max(self.seconds - (time.monotonic() - self.started), 0.0)

    def request_seconds(self, configured: float) -> float:
        """The longest one request may take now: its own limit, within the deadline."""
        return max(min(configured, self.seconds / 2, self.remaining()), 0.001)

    def give_up(self, message: str) -> AirbyteTracedException:
        self.reason = message
        return AirbyteTracedException(message=message, failure_type=FailureType.transient_error)

    def refuse_wait(self, answer: requests.Response | BaseException | None, wait: float) -> None:
        """Ends the check unless retrying `answer` after `wait` seconds fits in the deadline.

        A timeout is never retried: a second try would only wait as long again.
        """
        if isinstance(answer, requests.Timeout):
            raise self.give_up(f"{answer}.")
        response = answer if isinstance(answer, requests.Response) else None
        request = response.request if response is not None else getattr(answer, "request", None)
        url = (response.url if response is not None else None) or (request.url if request else None) or ""
        where = f"Pivotal Tracker at {origin(str(url))}"
        path = urlsplit(str(url)).path
        asked = retry_after_seconds(response)
        # A Retry-After longer than half the deadline is the server's word that it is busy for
        # long; short ones that keep coming are a server failing at every attempt (below).
        if asked is not None and asked >= self.remaining() and asked > self.seconds / 2:
            raise self.give_up(
                f"{where} asks to wait {human_duration(asked)} (Retry-After) before it answers {path}; "
                "try again later."
            )
        if wait < self.remaining():
            return
        elapsed = time.monotonic() - self.started
        if response is not None:
            raise self.give_up(
                f"{where} answered HTTP {response.status_code} to every attempt at {path} for "
                f"{elapsed:.0f} s; the server is failing or overloaded: try again later."
            )
        raise self.give_up(
            f"{where} could not be reached for {elapsed:.0f} s ({type(answer).__name__}); "
            "check api_url and the network, or try again later."
        )


_lock = threading.Lock()
_running: CheckDeadline | None = None


def running_check() -> CheckDeadline | None:
    """The deadline of the check in progress, or None outside a check (in a read)."""
    return _running


def refuse_wait_past_check(answer: requests.Response | BaseException | None, wait: float) -> None:
    """Before a retry's wait: in a check, ends it unless the retry fits its deadline; else nothing."""
    check = _running
    if check is not None:
        check.refuse_wait(answer, wait)


@contextmanager
def check_deadline() -> Iterator[CheckDeadline]:
    global _running
    deadline = CheckDeadline(check_deadline_seconds())
    with _lock:
        _running = deadline
    try:
        yield deadline
    finally:
        with _lock:
            _running = None


def human_duration(seconds: float) -> str:
    """277 h, 45 min, 30 s: how long, as a person reads it."""
    if not math.isfinite(seconds):
        return "forever"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600:.0f} h"
    if seconds >= 120:
        return f"{seconds // 60:.0f} min"
    return f"{seconds:g} s"
