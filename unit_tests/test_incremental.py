"""Incremental reads: where a first sync starts, how state carries over, per-project cursors.

Stories follow ``created_at`` (or ``updated_at`` with ``stories_cursor``), sent as
``created_after``/``created_before``; every later sync re-reads the second its state ends on
(``created_after = state - 1 s``). Activity follows ``occurred_at``. Notifications are filtered by
the connector on ``updated_at``.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.conftest import (
    STREAM_CASES_BY_NAME,
    error_messages,
    notifications_body,
    read_streams,
    records_of,
    stream_state,
)
from unit_tests.tracker_fake import (
    OTHER_PROJECT_ID,
    PROJECT_ID,
    ConfigBuilder,
    TrackerFake,
    TrackerResponse,
    projects_body,
)

FORMAT = "%Y-%m-%dT%H:%M:%SZ"
STORIES = f"/projects/{PROJECT_ID}/stories"
OTHER_STORIES = f"/projects/{OTHER_PROJECT_ID}/stories"
ACTIVITY = f"/projects/{PROJECT_ID}/activity"


def _time(value: str) -> datetime:
    return datetime.strptime(value, FORMAT).replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _stories() -> list[dict[str, Any]]:
    return STREAM_CASES_BY_NAME["stories"].body()


def _newest(items: list[dict[str, Any]], field: str) -> str:
    return max(item[field] for item in items)


def _per_project_state(cursor_field: str, cursors: dict[int, str]) -> dict[str, Any]:
    """The state shape the connector emits for a per-project cursor (see the first-sync test)."""
    return {
        "use_global_cursor": False,
        "states": [
            {"partition": {"parent_slice": {}, "project_id": project_id}, "cursor": {cursor_field: value}}
            for project_id, value in cursors.items()
        ],
        "state": {cursor_field: max(cursors.values())},
        "lookback_window": 1,
        "parent_state": {},
    }


def _cursor_of(state: dict[str, Any], project_id: int) -> dict[str, Any]:
    for entry in state["states"]:
        if entry["partition"]["project_id"] == project_id:
            return entry["cursor"]
    raise AssertionError(f"no state for project {project_id} in {state}")


# --------------------------------------------------------------------------- first sync


def test_first_sync_with_days_back_starts_that_many_days_ago(tracker: TrackerFake) -> None:
    tracker.on(STORIES, TrackerResponse.ok(_stories()).paged())

    before = _now()
    output = read_streams(ConfigBuilder().with_days_back(7).build(), "stories")
    after = _now() + timedelta(seconds=1)

    assert error_messages(output) == []
    (request,) = tracker.requests_to(STORIES)
    created_after = _time(request.query["created_after"])
    created_before = _time(request.query["created_before"])
    assert before - timedelta(days=7, seconds=1) <= created_after <= after - timedelta(days=7)
    assert before <= created_before <= after


def test_first_sync_without_days_back_reads_all_history(tracker: TrackerFake) -> None:
    tracker.on(STORIES, TrackerResponse.ok(_stories()).paged())

    output = read_streams(ConfigBuilder().build(), "stories")

    (request,) = tracker.requests_to(STORIES)
    assert _time(request.query["created_after"]) <= _time(min(story["created_at"] for story in _stories()))
    assert len(records_of(output, "stories")) == len(_stories())


def test_first_sync_emits_a_per_project_state_at_the_newest_story(tracker: TrackerFake) -> None:
    stories = _stories()
    tracker.on("/projects", TrackerResponse.ok(projects_body(PROJECT_ID, OTHER_PROJECT_ID)))
    tracker.on(STORIES, TrackerResponse.ok(stories).paged())
    tracker.on(OTHER_STORIES, TrackerResponse.ok(stories[:10]).paged())

    output = read_streams(ConfigBuilder().build(), "stories")

    state = stream_state(output, "stories")
    assert _cursor_of(state, PROJECT_ID) == {"created_at": _newest(stories, "created_at")}
    assert _cursor_of(state, OTHER_PROJECT_ID) == {"created_at": _newest(stories[:10], "created_at")}


def test_full_refresh_of_stories_reads_all_history_still_pinned_to_the_read_start(
    tracker: TrackerFake,
) -> None:
    tracker.on(STORIES, TrackerResponse.ok(_stories()).paged())

    before = _now()
    output = read_streams(ConfigBuilder().with_days_back(7).build(), "stories", full_refresh=True)

    (request,) = tracker.requests_to(STORIES)
    assert "created_after" not in request.query, "days_back is where incremental syncs start"
    assert before <= _time(request.query["created_before"]) <= _now() + timedelta(seconds=1)
    assert len(records_of(output, "stories")) == len(_stories())
    assert stream_state(output, "stories") == {"__ab_no_cursor_state_message": True}


# --------------------------------------------------------------------------- later syncs


def test_second_sync_from_the_emitted_state_starts_one_second_before_it(tracker: TrackerFake) -> None:
    tracker.on(STORIES, TrackerResponse.ok(_stories()).paged())
    first = read_streams(ConfigBuilder().with_days_back(3650).build(), "stories")
    emitted = stream_state(first, "stories")
    newest = _newest(_stories(), "created_at")
    assert _cursor_of(emitted, PROJECT_ID) == {"created_at": newest}
    tracker.history.clear()

    state = StateBuilder().with_stream_state("stories", copy.deepcopy(emitted)).build()
    second = read_streams(ConfigBuilder().with_days_back(3650).build(), "stories", state=state)

    assert error_messages(second) == []
    (request,) = tracker.requests_to(STORIES)
    assert request.query["created_after"] == (_time(newest) - timedelta(seconds=1)).strftime(FORMAT)


def test_each_project_resumes_from_its_own_cursor(tracker: TrackerFake) -> None:
    tracker.on("/projects", TrackerResponse.ok(projects_body(PROJECT_ID, OTHER_PROJECT_ID)))
    tracker.on(STORIES, TrackerResponse.ok([]).paged())
    tracker.on(OTHER_STORIES, TrackerResponse.ok([]).paged())
    state = StateBuilder().with_stream_state(
        "stories",
        _per_project_state(
            "created_at", {PROJECT_ID: "2017-05-03T23:23:32Z", OTHER_PROJECT_ID: "2016-01-10T10:00:00Z"}
        ),
    )

    output = read_streams(ConfigBuilder().build(), "stories", state=state.build())

    assert error_messages(output) == []
    assert [r.query["created_after"] for r in tracker.requests_to(STORIES)] == ["2017-05-03T23:23:31Z"]
    assert [r.query["created_after"] for r in tracker.requests_to(OTHER_STORIES)] == ["2016-01-10T09:59:59Z"]


@pytest.mark.parametrize("days_back", [None, 30])
def test_project_new_since_the_last_sync_starts_from_days_back_not_another_projects_cursor(
    tracker: TrackerFake, days_back: int | None
) -> None:
    tracker.on("/projects", TrackerResponse.ok(projects_body(PROJECT_ID, OTHER_PROJECT_ID)))
    tracker.on(STORIES, TrackerResponse.ok([]).paged())
    tracker.on(OTHER_STORIES, TrackerResponse.ok(_stories()).paged())
    known_cursor = (_now() - timedelta(days=1)).strftime(FORMAT)
    state = StateBuilder().with_stream_state(
        "stories", _per_project_state("created_at", {PROJECT_ID: known_cursor})
    )
    config = ConfigBuilder()
    if days_back:
        config.with_days_back(days_back)

    before = _now()
    output = read_streams(config.build(), "stories", state=state.build())

    assert error_messages(output) == []
    (new_project_request,) = tracker.requests_to(OTHER_STORIES)
    start = _time(new_project_request.query["created_after"])
    if days_back:
        assert abs(start - (before - timedelta(days=days_back))) <= timedelta(seconds=5)
    else:
        # All history: every story of the new project is read.
        assert start <= _time(min(story["created_at"] for story in _stories()))
        assert len(records_of(output, "stories")) == len(_stories())
    (known_request,) = tracker.requests_to(STORIES)
    assert known_request.query["created_after"] == (_time(known_cursor) - timedelta(seconds=1)).strftime(
        FORMAT
    )


def test_legacy_flat_state_is_accepted_as_the_start_of_every_project(tracker: TrackerFake) -> None:
    tracker.on("/projects", TrackerResponse.ok(projects_body(PROJECT_ID, OTHER_PROJECT_ID)))
    stories = _stories()
    tracker.on(STORIES, TrackerResponse.ok(stories).paged())
    tracker.on(OTHER_STORIES, TrackerResponse.ok([]).paged())
    legacy = "2016-07-01T00:00:00Z"
    state = StateBuilder().with_stream_state("stories", {"created_at": legacy}).build()

    output = read_streams(ConfigBuilder().build(), "stories", state=state)

    assert error_messages(output) == []
    for path in (STORIES, OTHER_STORIES):
        (request,) = tracker.requests_to(path)
        start = _time(request.query["created_after"])
        assert _time(legacy) - timedelta(seconds=1) <= start <= _time(legacy), request.query
    emitted = stream_state(output, "stories")
    assert _cursor_of(emitted, PROJECT_ID) == {"created_at": _newest(stories, "created_at")}


@pytest.mark.parametrize("shape", ["legacy", "per-project"])
def test_state_in_the_future_makes_no_story_request_and_does_not_fail(
    tracker: TrackerFake, shape: str
) -> None:
    future = "2999-01-01T00:00:00Z"
    tracker.on(STORIES, TrackerResponse.ok(_stories()).paged())
    value = (
        {"created_at": future}
        if shape == "legacy"
        else _per_project_state("created_at", {PROJECT_ID: future})
    )
    state = StateBuilder().with_stream_state("stories", value).build()

    output = read_streams(ConfigBuilder().build(), "stories", state=state)

    assert error_messages(output) == []
    assert tracker.requests_to(STORIES) == []
    assert records_of(output, "stories") == []
    assert [status.name for status in output.get_stream_statuses("stories")][-1] == "COMPLETE"


# --------------------------------------------------------------------------- stories_cursor


def test_stories_cursor_updated_at_filters_and_keys_state_on_updated_at(tracker: TrackerFake) -> None:
    stories = _stories()
    tracker.on(STORIES, TrackerResponse.ok(stories).paged())
    config = ConfigBuilder().with_stories_cursor("updated_at").with_days_back(3650).build()

    first = read_streams(config, "stories")

    (request,) = tracker.requests_to(STORIES)
    assert "updated_after" in request.query and "updated_before" in request.query
    assert "created_after" not in request.query
    # created_before may only pin the listing at the start of the read, never narrow the window.
    assert (
        request.query.get("created_before", request.query["updated_before"])
        >= request.query["updated_before"]
    )
    emitted = stream_state(first, "stories")
    assert _cursor_of(emitted, PROJECT_ID) == {"updated_at": _newest(stories, "updated_at")}
    tracker.history.clear()

    second = read_streams(
        config, "stories", state=StateBuilder().with_stream_state("stories", emitted).build()
    )

    assert error_messages(second) == []
    (request,) = tracker.requests_to(STORIES)
    expected = _time(_newest(stories, "updated_at")) - timedelta(seconds=1)
    assert request.query["updated_after"] == expected.strftime(FORMAT)


# --------------------------------------------------------------------------- activity


def test_activity_sends_occurred_after_and_resumes_from_its_state(tracker: TrackerFake) -> None:
    activity = STREAM_CASES_BY_NAME["activity"].body()
    tracker.on(ACTIVITY, TrackerResponse.ok(activity).paged())

    before = _now()
    first = read_streams(ConfigBuilder().with_days_back(3650).build(), "activity")

    assert error_messages(first) == []
    (request,) = tracker.requests_to(ACTIVITY)
    start = _time(request.query["occurred_after"])
    assert abs(start - (before - timedelta(days=3650))) <= timedelta(seconds=5)
    assert "occurred_before" in request.query
    emitted = stream_state(first, "activity")
    newest = _newest(activity, "occurred_at")
    assert _cursor_of(emitted, PROJECT_ID) == {"occurred_at": newest}
    tracker.history.clear()

    second = read_streams(
        ConfigBuilder().with_days_back(3650).build(),
        "activity",
        state=StateBuilder().with_stream_state("activity", emitted).build(),
    )

    (request,) = tracker.requests_to(ACTIVITY)
    assert request.query["occurred_after"] == (_time(newest) - timedelta(seconds=1)).strftime(FORMAT)
    assert error_messages(second) == []


# --------------------------------------------------------------------------- notifications


def _notifications_at(*updated_at: str) -> list[dict[str, Any]]:
    real = notifications_body()[0]
    return [
        {**copy.deepcopy(real), "id": real["id"] + n, "created_at": value, "updated_at": value}
        for n, value in enumerate(updated_at)
    ]


def test_notifications_are_filtered_client_side_on_updated_at_from_state(tracker: TrackerFake) -> None:
    notifications = _notifications_at("2017-05-01T10:00:00Z", "2017-05-03T23:34:05Z", "2017-06-01T08:00:00Z")
    tracker.on("/my/notifications", TrackerResponse.ok(notifications))
    state = StateBuilder().with_stream_state("notifications", {"updated_at": "2017-05-03T00:00:00Z"}).build()

    output = read_streams(ConfigBuilder().build(), "notifications", state=state)

    assert error_messages(output) == []
    assert len(tracker.requests_to("/my/notifications")) == 1
    assert [record["id"] for record in records_of(output, "notifications")] == [
        notification["id"] for notification in notifications[1:]
    ]
    assert stream_state(output, "notifications") == {"updated_at": "2017-06-01T08:00:00Z"}


def test_notifications_first_sync_with_days_back_drops_older_ones(tracker: TrackerFake) -> None:
    recent = (_now() - timedelta(days=2)).strftime(FORMAT)
    old = (_now() - timedelta(days=20)).strftime(FORMAT)
    notifications = _notifications_at(old, recent)
    tracker.on("/my/notifications", TrackerResponse.ok(notifications))

    output = read_streams(ConfigBuilder().with_days_back(7).build(), "notifications")

    assert [record["updated_at"] for record in records_of(output, "notifications")] == [recent]
