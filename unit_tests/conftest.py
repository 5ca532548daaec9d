"""Shared builders: stream bodies from the real samples, the in-process fake, reads, a local server."""

from __future__ import annotations

import contextlib
import copy
import importlib
import os
import sys
import tempfile
import time as real_time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import backoff._sync
import pytest
import requests_mock
from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from airbyte_cdk.sources.streams.http import rate_limiting
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.models.outcome import ExpectedOutcome

from source_pivotal_tracker.source import SourcePivotalTracker
from unit_tests.tracker_fake import (
    PROJECT_ID,
    TrackerFake,
    TrackerResponse,
    projects_body,
    sample,
    sample_bodies,
)

INCREMENTAL_STREAMS = {"stories", "notifications", "activity"}


# --------------------------------------------------------------------------- bodies (real samples)


def stories_body() -> list[dict[str, Any]]:
    """The 70 stories of project 1027488 (GET /projects/1027488/stories?limit=300)."""
    return sample("client_get_all_stories_with_pagination", f"/projects/{PROJECT_ID}/stories", limit="300")


def epics_body() -> list[dict[str, Any]]:
    return sample("get_epics", f"/projects/{PROJECT_ID}/epics")


def labels_body() -> list[dict[str, Any]]:
    return sample("get_labels", f"/projects/{PROJECT_ID}/labels")


def releases_body() -> list[dict[str, Any]]:
    return sample("get_releases", f"/projects/{PROJECT_ID}/releases")


def activity_body() -> list[dict[str, Any]]:
    return sample("get_project_activity", f"/projects/{PROJECT_ID}/activity")


def notifications_body() -> list[dict[str, Any]]:
    return sample("get_all_notifications", "/my/notifications")


def me_body() -> dict[str, Any]:
    return sample("get_me", "/me")


def story_transitions_body() -> list[dict[str, Any]]:
    """Transitions have the same shape at project level; the recordings have them per story."""
    return sample("get_story_transitions", f"/projects/{PROJECT_ID}/stories/66728000/transitions")


def iterations_body() -> list[dict[str, Any]]:
    """Every distinct iteration in the recordings, ascending by number, with the connector's fields."""
    by_number: dict[int, dict[str, Any]] = {}
    for file in (
        "client_done_iterations_with_pagination",
        "get_done_iterations",
        "get_iteration_by_number",
        "get_current_iteration",
    ):
        for entry in sample_bodies(file, f"/projects/{PROJECT_ID}/iterations"):
            for iteration in entry:
                by_number.setdefault(iteration["number"], iteration)
    result = []
    for number in sorted(by_number):
        iteration = copy.deepcopy(by_number[number])
        stories = iteration.pop("stories", [])
        iteration["story_ids"] = [story["id"] for story in stories]
        result.append(iteration)
    return result


def memberships_body() -> list[dict[str, Any]]:
    """GET /projects/{id}/memberships, built from the membership summaries and person of /me."""
    me = me_body()
    person = {key: me[key] for key in ("id", "name", "email", "initials", "username")}
    return [
        {
            "kind": "project_membership",
            "id": summary["id"],
            "project_id": summary["project_id"],
            "last_viewed_at": summary["last_viewed_at"],
            "created_at": me["created_at"],
            "updated_at": me["updated_at"],
            "role": summary["role"],
            "project_color": summary["project_color"],
            "favorite": summary["favorite"],
            "wants_comment_notification_emails": True,
            "will_receive_mention_notifications_or_emails": True,
            "person": {"kind": "person", **person},
        }
        for summary in me["projects"]
    ]


def accounts_body() -> list[dict[str, Any]]:
    """GET /accounts, built from the account summary embedded in the recorded project listing."""
    summary = sample("get_all_projects", "/projects")[0]["account"]
    return [{**summary, "kind": "account", "days_left": 0, "over_the_limit": False}]


def blockers_of(story: dict[str, Any]) -> list[dict[str, Any]]:
    """The recordings hold no blocker; this is the documented blocker shape on real story ids."""
    if story["id"] != 66728004:
        return []
    return [
        {
            "kind": "blocker",
            "id": 5001 + n,
            "story_id": story["id"],
            "person_id": 1266314,
            "description": f"blocked by #{blocking}",
            "resolved": n == 0,
            "created_at": "2017-05-03T23:23:40Z",
            "updated_at": "2017-05-03T23:23:41Z",
        }
        for n, blocking in enumerate((66728000, 66728030))
    ]


def stories_with(field_name: str) -> list[dict[str, Any]]:
    """GET /projects/{id}/stories?fields=<field>: only the id and the embedded items per story."""
    comments = sample("get_comments", f"/projects/{PROJECT_ID}/stories/66728004/comments")
    tasks = sample("get_tasks_for_story", f"/projects/{PROJECT_ID}/stories/66728004/tasks")
    embedded: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
        "comments": lambda story: comments if story["id"] == 66728004 else [],
        "tasks": lambda story: tasks if story["id"] == 66728004 else [],
        "blockers": blockers_of,
    }
    return [
        {"id": story["id"], field_name: copy.deepcopy(embedded[field_name](story))}
        for story in stories_body()
    ]


# --------------------------------------------------------------------------- stream cases


@dataclass(frozen=True)
class StreamCase:
    name: str
    path: str  # API path, relative to the API root
    paged: bool
    body: Callable[[], list[dict[str, Any]]]
    embedded: str | None = None  # the key whose items are the records (comments, tasks, blockers)
    project_id_added: bool = False
    page_size: int = 25  # the limit the fake clamps to in the several-pages tests
    # The limit the connector asks for: the endpoint's largest page as far as it is known.
    asked_limit: str = "500"

    def records_of(self, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.embedded is None:
            return body
        return [item for story in body for item in story[self.embedded]]

    @property
    def match(self) -> dict[str, str]:
        """The query parameters that tell this stream's requests apart from another's on the same path."""
        return {"fields": self.embedded} if self.embedded else {}

    def serve(self, fake: TrackerFake, response: TrackerResponse) -> None:
        fake.on(self.path, response, query=self.match)

    def requests(self, fake: TrackerFake) -> list[Any]:
        """This stream's requests (stories share their path with comments, tasks and blockers)."""
        if self.embedded:
            return fake.requests_to(self.path, **self.match)
        embedded = {"comments", "tasks", "blockers"}
        return [
            request for request in fake.requests_to(self.path) if request.query.get("fields") not in embedded
        ]


STREAM_CASES = [
    StreamCase("projects", "/projects", False, lambda: projects_body(PROJECT_ID)),
    StreamCase("epics", f"/projects/{PROJECT_ID}/epics", False, epics_body),
    StreamCase("stories", f"/projects/{PROJECT_ID}/stories", True, stories_body),
    StreamCase("notifications", "/my/notifications", False, notifications_body),
    StreamCase("project_memberships", f"/projects/{PROJECT_ID}/memberships", False, memberships_body),
    StreamCase("labels", f"/projects/{PROJECT_ID}/labels", False, labels_body),
    StreamCase("releases", f"/projects/{PROJECT_ID}/releases", True, releases_body, page_size=1),
    StreamCase(
        "activity",
        f"/projects/{PROJECT_ID}/activity",
        True,
        activity_body,
        project_id_added=True,
        page_size=30,
    ),
    StreamCase(
        "iterations",
        f"/projects/{PROJECT_ID}/iterations",
        True,
        iterations_body,
        page_size=6,
        asked_limit="50",
    ),
    StreamCase(
        "story_transitions",
        f"/projects/{PROJECT_ID}/story_transitions",
        True,
        story_transitions_body,
        page_size=1,
    ),
    StreamCase(
        "comments",
        f"/projects/{PROJECT_ID}/stories",
        True,
        lambda: stories_with("comments"),
        embedded="comments",
        project_id_added=True,
    ),
    StreamCase(
        "tasks",
        f"/projects/{PROJECT_ID}/stories",
        True,
        lambda: stories_with("tasks"),
        embedded="tasks",
        project_id_added=True,
    ),
    StreamCase(
        "blockers",
        f"/projects/{PROJECT_ID}/stories",
        True,
        lambda: stories_with("blockers"),
        embedded="blockers",
        project_id_added=True,
    ),
    StreamCase("accounts", "/accounts", False, accounts_body),
]
STREAM_CASES_BY_NAME = {case.name: case for case in STREAM_CASES}


# --------------------------------------------------------------------------- reading


def catalog_for(*streams: str, full_refresh: bool = False) -> Any:
    builder = CatalogBuilder()
    for stream in streams:
        incremental = stream in INCREMENTAL_STREAMS and not full_refresh
        mode = SyncMode.incremental if incremental else SyncMode.full_refresh
        builder.with_stream(stream, mode)
    return builder.build()


def read_streams(
    config: dict[str, Any],
    *streams: str,
    state: list[AirbyteStateMessage] | None = None,
    expect_failure: bool = False,
    debug: bool = False,
    full_refresh: bool = False,
) -> EntrypointOutput:
    """Read ``streams`` in-process, the CDK 7 way: config, catalog and state to the constructor too."""
    catalog = catalog_for(*streams, full_refresh=full_refresh)
    # The CDK caches parent-stream answers (GET /projects) in one in-memory SQLite database per
    # process unless REQUEST_CACHE_PATH is set: give every read a cache of its own, so that no
    # read is served another test's projects.
    with tempfile.TemporaryDirectory() as cache_dir, _environ("REQUEST_CACHE_PATH", cache_dir):
        source = SourcePivotalTracker(catalog=catalog, config=config, state=state)
        return read(
            source,
            config,
            catalog,
            state=state,
            expected_outcome=(
                ExpectedOutcome.EXPECT_EXCEPTION if expect_failure else ExpectedOutcome.EXPECT_SUCCESS
            ),
            debug=debug,
        )


@contextlib.contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def stream_state(output: EntrypointOutput, stream: str) -> dict[str, Any]:
    """The last state the read emitted for ``stream``, as a plain dict."""
    states = [
        message.state.stream.stream_state
        for message in output.state_messages
        if message.state.stream.stream_descriptor.name == stream
    ]
    assert states, f"no state emitted for {stream}"
    blob = states[-1]
    return blob.__dict__ if hasattr(blob, "__dict__") else dict(blob)


def records_of(output: EntrypointOutput, stream: str) -> list[dict[str, Any]]:
    return [message.record.data for message in output.records if message.record.stream == stream]


def error_messages(output: EntrypointOutput) -> list[str]:
    return [message.trace.error.message for message in output.errors]


def log_lines(output: EntrypointOutput) -> list[str]:
    return [message.log.message for message in output.logs]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def tracker() -> Iterator[TrackerFake]:
    """The fake Tracker, in-process; it serves one project (1027488) unless a test says otherwise."""
    with requests_mock.Mocker() as mocker:
        fake = TrackerFake().install(mocker)
        fake.on("/projects", TrackerResponse.ok(projects_body(PROJECT_ID)))
        yield fake


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Makes the HTTP retry backoff instant, and records each wait it asked for (in seconds).

    Only the two places the CDK's HTTP retries sleep are patched (its rate-limit handler and the
    ``backoff`` library), not ``time.sleep`` for everyone.
    """
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        # The CDK's rate-limit handler does its own waiting and has `backoff` sleep 0 s after it.
        if seconds > 0:
            waits.append(float(seconds))

    fake_time = types.SimpleNamespace(
        **{name: getattr(real_time, name) for name in dir(real_time) if name[0] != "_"}
    )
    fake_time.sleep = sleep
    monkeypatch.setattr(rate_limiting, "time", fake_time)
    monkeypatch.setattr(backoff._sync, "time", fake_time)
    # The username/password sign-in (GET /me) retries on its own.
    login = sys.modules.get("source_pivotal_tracker.api.login") or _import_optional(
        "source_pivotal_tracker.api.login"
    )
    if login is not None and hasattr(login, "time"):
        monkeypatch.setattr(login, "time", fake_time)
    return waits


def _import_optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None
