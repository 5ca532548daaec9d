"""A small fake of the Pivotal Tracker v5 API for the unit tests, fed with real recorded bodies.

- ``sample(...)`` reads a body from ``tracker_fixtures/tracker_samples`` (responses recorded against the
  live API); every fixture starts from one of them.
- ``ConfigBuilder`` builds connector configs fluently.
- ``TrackerResponse`` is the one response builder: a real body, served either whole (like the
  endpoints Tracker does not paginate) or sliced by ``limit``/``offset`` with the four
  ``X-Tracker-Pagination-*`` headers Tracker sends (clamping a limit above the endpoint's maximum,
  as Tracker does), or an error, a cut-off body, a dropped connection.
- ``TrackerFake`` routes paths to responses (a sequence: the last one repeats), answers any other
  path with Tracker's real 404 ``route_not_found``, and keeps every request it saw. It can be served
  through ``requests_mock`` (in-process) or through a stdlib HTTP server (for the CLI tests).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from tracker_fixtures import SAMPLES_DIR, error_body

BASE_URL = "https://www.pivotaltracker.com/services/v5"
API_PREFIX = urlsplit(BASE_URL).path  # /services/v5

# A token of the shape Tracker hands out (32 lowercase hex characters), distinct from the one the
# recorded /me answer carries, so a test can tell which of the two a request sent.
API_TOKEN = "5f3c2a9be0d14c7a8b6e1f2d3c4b5a69"
ME_API_TOKEN = "0123456789abcdef0123456789abcdef"  # the api_token in the recorded get_me.json
USERNAME = "trackerapi1"
PASSWORD = "s3cret-Pa55word!"

PROJECT_ID = 1027488  # "My Sample Project" of the recordings
OTHER_PROJECT_ID = 1027494  # the project of search_project.json

CONTENT_TYPE = "application/json; charset=utf-8"


# --------------------------------------------------------------------------- real samples


def _entries(file: str) -> list[dict[str, Any]]:
    return json.loads((SAMPLES_DIR / f"{file}.json").read_text())


def sample(file: str, path: str | None = None, **query: str) -> Any:
    """The body of the first recorded GET in ``file`` (to ``path``, with exactly ``query``)."""
    for entry in _entries(file):
        if entry["method"] != "GET" or (path is not None and entry["path"] != path):
            continue
        if query and entry["query"] != query:
            continue
        return copy.deepcopy(entry["body"])
    raise LookupError(f"no GET {path or ''} {query or ''} in {file}.json")


def sample_bodies(file: str, path: str) -> list[Any]:
    """The bodies of every recorded GET to ``path`` in ``file``, in recording order."""
    return [copy.deepcopy(e["body"]) for e in _entries(file) if e["method"] == "GET" and e["path"] == path]


# --------------------------------------------------------------------------- config


class ConfigBuilder:
    """``ConfigBuilder().with_days_back(3).with_project_ids(1027488).build()``."""

    def __init__(self) -> None:
        self._config: dict[str, Any] = {"credentials": {"auth_type": "api_token", "api_token": API_TOKEN}}

    def with_api_token(self, token: str = API_TOKEN) -> ConfigBuilder:
        self._config["credentials"] = {"auth_type": "api_token", "api_token": token}
        return self

    def with_username_password(self, username: str = USERNAME, password: str = PASSWORD) -> ConfigBuilder:
        self._config["credentials"] = {
            "auth_type": "username_password",
            "username": username,
            "password": password,
        }
        return self

    def with_days_back(self, days: Any) -> ConfigBuilder:
        return self.with_field("days_back", days)

    def with_project_ids(self, *project_ids: Any) -> ConfigBuilder:
        return self.with_field("project_ids", list(project_ids))

    def with_stories_cursor(self, cursor: str) -> ConfigBuilder:
        return self.with_field("stories_cursor", cursor)

    def with_num_workers(self, workers: Any) -> ConfigBuilder:
        return self.with_field("num_workers", workers)

    def with_api_url(self, url: str) -> ConfigBuilder:
        return self.with_field("api_url", url)

    def with_field(self, name: str, value: Any) -> ConfigBuilder:
        self._config[name] = value
        return self

    def without(self, name: str) -> ConfigBuilder:
        self._config.pop(name, None)
        return self

    def build(self) -> dict[str, Any]:
        return copy.deepcopy(self._config)


def basic_auth(username: str = USERNAME, password: str = PASSWORD) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


# --------------------------------------------------------------------------- responses


class ConnectionDropped(requests.exceptions.ConnectionError):
    """The server closed the connection without an answer."""


@dataclass
class Rendered:
    status: int
    headers: dict[str, str]
    content: bytes


class TrackerResponse:
    """One answer of the fake Tracker, built from a (real) body."""

    def __init__(self, body: Any = None, status: int = 200) -> None:
        self._body = copy.deepcopy(body) if body is not None else []
        self._status = status
        self._headers: dict[str, str] = {"Content-Type": CONTENT_TYPE}
        self._max_limit: int | None = None
        self._default_limit = 100
        self._paged = False
        self._truncated = False
        self._dropped = False
        self._raw: bytes | None = None

    # ---- constructors
    @classmethod
    def ok(cls, body: Any) -> TrackerResponse:
        return cls(body)

    @classmethod
    def error(cls, status: int, name: str) -> TrackerResponse:
        """Tracker's error object ``tracker_fixtures/errors/<name>.json``, with its status."""
        return cls(error_body(name), status).with_header("Cache-Control", "no-cache")

    @classmethod
    def text(cls, content: str, status: int, content_type: str = "text/plain") -> TrackerResponse:
        """A non-JSON answer (a proxy's error page, say)."""
        response = cls(status=status).with_header("Content-Type", content_type)
        response._raw = content.encode()
        return response

    @classmethod
    def dropped(cls) -> TrackerResponse:
        response = cls()
        response._dropped = True
        return response

    # ---- modifiers
    def paged(self, max_limit: int = 500, default_limit: int = 100) -> TrackerResponse:
        """Serve the list body page by page, as Tracker's paginated endpoints do."""
        if not isinstance(self._body, list):
            raise TypeError("only a list body can be paged")
        self._paged = True
        self._max_limit = max_limit
        self._default_limit = default_limit
        return self

    def with_status(self, status: int) -> TrackerResponse:
        self._status = status
        return self

    def with_header(self, name: str, value: str) -> TrackerResponse:
        self._headers[name] = value
        return self

    def truncated(self) -> TrackerResponse:
        """A 200 whose JSON body is cut off halfway (a dropped transfer)."""
        self._truncated = True
        return self

    @property
    def body(self) -> Any:
        return copy.deepcopy(self._body)

    # ---- rendering
    def render(self, query: Mapping[str, str]) -> Rendered:
        if self._dropped:
            raise ConnectionDropped("Connection aborted: the server closed the connection")
        headers = dict(self._headers)
        body = self._body
        if self._paged:
            offset = int(query.get("offset", "0") or 0)
            requested = int(query.get("limit", self._default_limit) or self._default_limit)
            limit = min(requested, self._max_limit or requested)
            start = max(offset, 0)
            body = self._body[start : start + limit]
            headers.update(
                {
                    "X-Tracker-Pagination-Total": str(len(self._body)),
                    "X-Tracker-Pagination-Limit": str(limit),
                    "X-Tracker-Pagination-Offset": str(offset),
                    "X-Tracker-Pagination-Returned": str(len(body)),
                }
            )
        content = self._raw if self._raw is not None else json.dumps(body).encode()
        if self._truncated:
            content = content[: max(1, len(content) // 2)]
        return Rendered(self._status, headers, content)


# --------------------------------------------------------------------------- the fake server


@dataclass
class SentRequest:
    method: str
    path: str  # relative to the API root, e.g. /projects/1027488/stories
    query: dict[str, str]
    headers: dict[str, str]
    host: str = ""

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class _Route:
    responses: list[TrackerResponse]
    match: dict[str, str]  # query parameters a request must carry to take this route
    served: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def matches(self, query: Mapping[str, str]) -> bool:
        return all(query.get(name) == value for name, value in self.match.items())

    def next(self) -> TrackerResponse:
        with self.lock:
            response = self.responses[min(self.served, len(self.responses) - 1)]
            self.served += 1
        return response


@dataclass
class TrackerFake:
    """Routes (exact API paths) to responses, and the history of every request received."""

    routes: dict[str, list[_Route]] = field(default_factory=dict)
    history: list[SentRequest] = field(default_factory=list)
    # When set, requests are authenticated like Tracker does: the token header everywhere, HTTP
    # Basic on /me only; anything else gets 403 invalid_authentication.
    accepted_tokens: set[str] = field(default_factory=set)
    accepted_basic: str | None = None

    def requiring(
        self, tokens: Iterable[str], username: str | None = None, password: str | None = None
    ) -> TrackerFake:
        self.accepted_tokens = set(tokens)
        self.accepted_basic = f"Basic {basic_auth(username, password)}" if username is not None else None
        return self

    def _authorized(self, path: str, request: SentRequest) -> bool:
        if not self.accepted_tokens and self.accepted_basic is None:
            return True
        if request.header("X-TrackerToken") in self.accepted_tokens:
            return True
        return (
            path == "/me"
            and self.accepted_basic is not None
            and request.header("Authorization") == self.accepted_basic
        )

    def on(
        self, path: str, *responses: TrackerResponse, query: Mapping[str, str] | None = None
    ) -> TrackerFake:
        """Answer GET ``path`` with ``responses`` in turn; the last one answers every later call.

        With ``query``, only the requests carrying those parameters take this route (the stories
        listing serves stories, comments, tasks and blockers, told apart by ``fields``).
        """
        if not responses:
            raise ValueError("give at least one response")
        match = dict(query or {})
        routes = [route for route in self.routes.get(path, []) if route.match != match]
        self.routes[path] = [*routes, _Route(list(responses), match)]
        return self

    def _route(self, request: SentRequest) -> _Route | None:
        candidates = [route for route in self.routes.get(request.path, []) if route.matches(request.query)]
        return max(candidates, key=lambda route: len(route.match)) if candidates else None

    def handle(
        self,
        method: str,
        url_path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        host: str = "",
    ) -> Rendered:
        path = url_path[len(API_PREFIX) :] if url_path.startswith(API_PREFIX) else url_path
        path = path.rstrip("/") or "/"
        request = SentRequest(method, path, dict(query), dict(headers), host)
        self.history.append(request)
        if not self._authorized(path, request):
            return TrackerResponse.error(403, "invalid_token").render(query)
        route = self._route(request)
        if route is None or method != "GET":
            return TrackerResponse.error(404, "route_not_found").render(query)
        return route.next().render(query)

    # ---- history
    def requests_to(self, path: str, **query: str) -> list[SentRequest]:
        """The requests to ``path`` (carrying the ``query`` parameters given), in arrival order."""
        return [
            request
            for request in self.history
            if request.path == path and all(request.query.get(k) == v for k, v in query.items())
        ]

    def paths(self) -> list[str]:
        return [request.path for request in self.history]

    def unrouted(self) -> list[SentRequest]:
        return [request for request in self.history if self._route(request) is None]

    # ---- requests_mock wiring
    def install(self, mocker: Any) -> TrackerFake:
        import requests_mock

        def answer(request: Any, context: Any) -> bytes:
            parts = urlsplit(request.url)
            rendered = self.handle(
                request.method,
                parts.path,
                dict(parse_qsl(parts.query, keep_blank_values=True)),
                request.headers,
                parts.netloc,
            )
            context.status_code = rendered.status
            context.headers.update(rendered.headers)
            return rendered.content

        mocker.register_uri(requests_mock.ANY, re.compile(r".*"), content=answer)
        return self


def project_body(project_id: int = PROJECT_ID, name: str | None = None) -> dict[str, Any]:
    """A real project object (GET /projects/{id}), re-identified for the extra projects a test needs."""
    if project_id == OTHER_PROJECT_ID:
        body = sample("search_project", f"/projects/{OTHER_PROJECT_ID}")
    else:
        body = sample("get_project", f"/projects/{PROJECT_ID}")
        if project_id != PROJECT_ID:
            body["id"] = project_id
            body["name"] = name or f"{body['name']} {project_id}"
    body["current_velocity"] = 10  # asked for with fields=:default,current_velocity
    return body


def projects_body(*project_ids: int) -> list[dict[str, Any]]:
    return [project_body(project_id) for project_id in (project_ids or (PROJECT_ID,))]
