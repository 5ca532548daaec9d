"""What every request of the connector obeys, whoever answers it.

- Timeouts: a server that accepts a connection and never answers must not hang a sync; a timed-out
  request is retried as a transient error, then fails with a message that says so.
- No redirects: ``requests`` would carry ``X-TrackerToken`` (a custom header it never strips) to
  whatever host a redirect names, another port or plain http included. A token or password goes
  only to the ``api_url`` the user configured, so a redirect is refused and reported. (Export
  downloads carry no token: they follow redirects, each target checked first; exports/downloads.py.)
- One ceiling for every wait: a ``Retry-After`` of days, ``inf``, ``nan`` or a negative number
  must neither stall nor crash a sync.
- A broken answer is never cached: the CDK caches the parent stream's responses (GET /projects),
  and a cut-off 200 in that cache would be served again to every retry.

Timeouts are the HttpRequester's own manifest fields (``connect_timeout_in_seconds``,
``read_timeout_in_seconds``), set in manifest.yaml; ``with_timeouts`` puts an operator's override into
the manifest before the CDK reads it. Redirects are refused by a requests response hook, which
runs before requests would follow one. The CDK builds a requests session per requester;
``guard_requesters`` makes its factory put the hook, the response deadline and the cache filter on
each (cdk_seams/requester_session.py), and the same functions serve the sign-in (login.py).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import InitVar, dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    HttpRequester as HttpRequesterModel,
)
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy

# Documented in the README: operators (and tests) shorten or lengthen these without a code change.
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


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """The server's Retry-After in seconds, or None when it is missing or makes no sense."""
    if response is None:
        return None
    raw = response.headers.get("Retry-After")
    try:
        value = float(raw) if raw is not None else math.nan
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def wait_seconds(response: requests.Response | None, attempt: int, factor: float = 1.0) -> float:
    """How long to wait before retry number ``attempt``: Retry-After, else exponential backoff.

    Both are bounded by one ceiling, so no answer of the server can make the connector sleep
    for days.
    """
    wait = retry_after_seconds(response)
    if wait is None:
        wait = factor * 2.0 ** min(max(attempt, 1), 30)
    return min(wait, max_wait_seconds())


@dataclass
class TrackerBackoff(BackoffStrategy):
    """The CDK's backoff for the manifest: ``wait_seconds``, the one rule for every wait."""

    parameters: InitVar[Mapping[str, Any]]
    config: Mapping[str, Any] | None = None
    factor: float = 1.0

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.factor = float(self.factor)

    def backoff_time(
        self,
        response_or_exception: requests.Response | requests.RequestException | None,
        attempt_count: int,
    ) -> float | None:
        from .check_deadline import refuse_wait_past_check  # imports this module

        response = response_or_exception if isinstance(response_or_exception, requests.Response) else None
        wait = wait_seconds(response, attempt_count, self.factor)
        refuse_wait_past_check(response_or_exception, wait)  # a check answers within its deadline
        return wait


def origin(url: str) -> str:
    """scheme://host:port of a URL, never its credentials, path or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def redirect_refused(response: requests.Response) -> str:
    """The user-facing message for a redirect the connector did not follow."""
    target = response.headers.get("Location", "")
    where = origin(requests.compat.urljoin(response.url or "", target)) if target else "an unnamed address"
    return (
        f"Pivotal Tracker at {origin(response.url or '')} answered HTTP {response.status_code}, a "
        f"redirect to {where}. The connector follows no redirect, so that the API token or password "
        "is sent only to the configured api_url: set api_url to the address the server redirects to."
    )


def redirect_response(
    error_or_response: requests.Response | BaseException | None,
) -> requests.Response | None:
    """The redirect answer behind a refused redirect, or None."""
    if isinstance(error_or_response, requests.TooManyRedirects):
        return error_or_response.response
    if isinstance(error_or_response, requests.Response) and error_or_response.is_redirect:
        return error_or_response
    return None


class RedirectRefused(requests.TooManyRedirects):
    """A 3xx answer, refused before requests could follow it (its `response` is the 3xx)."""


def refuse_redirect(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """A requests response hook: any 3xx ends the request here, before requests follows it.

    requests runs response hooks on each answer before it resolves redirects, so the other host is
    never contacted, whatever the status (301-308, or a 3xx it would not follow).
    """
    if 300 <= response.status_code < 400:
        message = redirect_refused(response)
        response.close()  # the body is not wanted: the connection goes back to the pool
        raise RedirectRefused(message, response=response, request=response.request)
    return response


def forbid_redirects(session: requests.Session) -> requests.Session:
    """Every answer the session receives passes refuse_redirect first."""
    if refuse_redirect not in session.hooks["response"]:
        session.hooks["response"].append(refuse_redirect)
    return session


def with_timeouts(requester: dict[str, Any]) -> dict[str, Any]:
    """A manifest HttpRequester definition with the operator's TIMEOUT_ENV, if set, as both timeouts."""
    if seconds_from_env(TIMEOUT_ENV, 0.0):
        connect, read = timeouts()
        requester["connect_timeout_in_seconds"], requester["read_timeout_in_seconds"] = connect, read
    return requester


def guard_requesters(factory: Any, cacheable: Callable[[requests.Response], bool]) -> None:
    """Makes the CDK's component factory put these rules on the session of every HttpRequester.

    Redirects, the cache filter and the response deadline (response_deadline.py: an adapter mounted
    on the session) are settings of the requests session the CDK keeps inside the requester, which
    it offers no option for (seam `requester-session`). If a CDK upgrade moves that session, the
    first requester built stops the connector, naming the seam.
    """
    from .cdk_seams.factory_table import wrap_constructor
    from .cdk_seams.requester_session import requester_session
    from .response_deadline import watch_deadlines  # imports this module

    def guarding(build: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(model: HttpRequesterModel, config: Mapping[str, Any], **kwargs: Any) -> Any:
            requester = build(model=model, config=config, **kwargs)
            session = requester_session(requester)
            watch_deadlines(forbid_redirects(session))
            settings = getattr(session, "settings", None)
            if settings is not None and hasattr(settings, "filter_fn"):
                settings.filter_fn = cacheable
            return requester

        return guarded

    wrap_constructor(factory, HttpRequesterModel, guarding)
