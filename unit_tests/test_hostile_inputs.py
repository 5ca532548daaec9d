"""Hostile answers and careless inputs, in-process against the fake (issue 9).

- Every wait (the CDK's retries and the /me sign-in) has one ceiling; a Retry-After that is not a
  finite, non-negative number of seconds falls back to the backoff.
- A retried GET /projects reaches the server again; the CDK's cache never replays a broken answer.
- Every paged listing is verified like the stories: a changed listing is read again without
  emitting anything twice, and a listing that never settles ends with a warning.
- A state, a catalog, a pagination header or project_ids that make no sense give an error or a
  warning naming what is wrong.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from airbyte_cdk.models import (
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    FailureType,
    StreamDescriptor,
)
from airbyte_cdk.models.airbyte_protocol import AirbyteStateBlob
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pivotal_tracker.api.login import fetch_api_token
from source_pivotal_tracker.checks.config_checks import config_problem
from source_pivotal_tracker.components import TrackerRetriever
from source_pivotal_tracker.source import SourcePivotalTracker, load_manifest
from unit_tests.conftest import (
    STREAM_CASES_BY_NAME,
    error_messages,
    log_lines,
    me_body,
    read_streams,
    records_of,
)
from unit_tests.tracker_fake import (
    BASE_URL,
    PASSWORD,
    PROJECT_ID,
    USERNAME,
    ConfigBuilder,
    TrackerFake,
    TrackerResponse,
    projects_body,
)

LABELS = f"/projects/{PROJECT_ID}/labels"
STORIES = f"/projects/{PROJECT_ID}/stories"
ODD_RETRY_AFTER = ["999999", "inf", "nan", "-5"]
MAX_WAIT_SECONDS = 120  # the documented ceiling of every wait (README)

# The listings that must be verified, with the key of their items and the upper time bound that
# pins them (None where the API has none).
VERIFIED_LISTINGS = {
    "stories": ("id", "created_before"),
    "comments": ("id", "created_before"),
    "tasks": ("id", "created_before"),
    "blockers": ("id", "created_before"),
    "story_transitions": ("story_id,project_version", "occurred_before"),
    "activity": ("guid", "occurred_before"),
    "releases": ("id", None),
    "iterations": ("number", None),
}


# --------------------------------------------------------------------------- 6. Retry-After


@pytest.mark.parametrize("retry_after", ODD_RETRY_AFTER)
def test_an_odd_retry_after_is_capped_or_falls_back_to_the_backoff(
    retry_after: str, tracker: TrackerFake, sleeps: list[float]
) -> None:
    labels = STREAM_CASES_BY_NAME["labels"].body()
    tracker.on(
        LABELS,
        TrackerResponse.text("Too Many Requests", 429).with_header("Retry-After", retry_after),
        TrackerResponse.ok(labels),
    )

    output = read_streams(ConfigBuilder().build(), "labels")

    assert error_messages(output) == []
    assert len(records_of(output, "labels")) == len(labels)
    # The CDK adds a second of margin to the wait it is given.
    assert sleeps and all(0 < wait <= MAX_WAIT_SECONDS + 1 for wait in sleeps), sleeps


def test_a_429_without_retry_after_is_retried_with_the_backoff(
    tracker: TrackerFake, sleeps: list[float]
) -> None:
    # No recorded Tracker answer ever carried Retry-After: a 429 from Tracker would come without one.
    labels = STREAM_CASES_BY_NAME["labels"].body()
    tracker.on(LABELS, TrackerResponse.error(429, "rate_limit_exceeded"), TrackerResponse.ok(labels))

    output = read_streams(ConfigBuilder().build(), "labels")

    assert error_messages(output) == []
    assert len(records_of(output, "labels")) == len(labels)
    assert len(sleeps) == 1 and 0 < sleeps[0] <= MAX_WAIT_SECONDS + 1, sleeps


@pytest.mark.parametrize("retry_after", ODD_RETRY_AFTER)
def test_the_sign_in_caps_an_odd_retry_after_too(
    retry_after: str, tracker: TrackerFake, sleeps: list[float]
) -> None:
    tracker.on(
        "/me",
        TrackerResponse.text("Too Many Requests", 429).with_header("Retry-After", retry_after),
        TrackerResponse.ok(me_body()),
    )

    token = fetch_api_token(BASE_URL, USERNAME, PASSWORD)

    assert token == me_body()["api_token"]
    assert len(sleeps) == 1 and 0 < sleeps[0] <= MAX_WAIT_SECONDS, sleeps


def test_one_ceiling_bounds_every_wait_and_can_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from source_pivotal_tracker.api import http_safety
    from source_pivotal_tracker.runtime import limits

    assert limits.MAX_WAIT_SECONDS == MAX_WAIT_SECONDS
    assert http_safety.wait_seconds(None, attempt=30) == limits.MAX_WAIT_SECONDS
    unparseable = requests.Response()
    unparseable.headers["Retry-After"] = "in a while"
    assert http_safety.wait_seconds(unparseable, attempt=2) == 4, "the backoff, not a crash"
    monkeypatch.setenv(limits.MAX_WAIT_ENV, "0.25")
    assert http_safety.wait_seconds(None, attempt=3) == 0.25


# --------------------------------------------------------------------------- 9. no cached failure


def test_a_cut_off_project_list_is_asked_for_again_not_replayed_from_the_cache(
    tracker: TrackerFake, sleeps: list[float]
) -> None:
    tracker.on(
        "/projects",
        TrackerResponse.ok(projects_body(PROJECT_ID)).truncated(),
        TrackerResponse.ok(projects_body()),
    )
    tracker.on(LABELS, TrackerResponse.ok(STREAM_CASES_BY_NAME["labels"].body()))

    output = read_streams(ConfigBuilder().build(), "projects", "labels")

    assert error_messages(output) == []
    assert len(tracker.requests_to("/projects")) == 2, "the retry reached the server"
    assert records_of(output, "labels")


# --------------------------------------------------------------------------- 10. verified paging


def _stories(count: int) -> list[dict[str, Any]]:
    return STREAM_CASES_BY_NAME["stories"].body()[:count]


def test_a_changed_total_reads_the_listing_again_and_emits_nothing_twice(tracker: TrackerFake) -> None:
    before = _stories(4)
    after = [story for story in before if story["id"] != before[1]["id"]]  # one story deleted
    # Page 1 comes from the listing before the deletion, every later page from the one after.
    tracker.on(
        STORIES, TrackerResponse.ok(before).paged(max_limit=2), TrackerResponse.ok(after).paged(max_limit=2)
    )

    output = read_streams(ConfigBuilder().build(), "stories", full_refresh=True)

    ids = [story["id"] for story in records_of(output, "stories")]
    assert sorted(ids) == sorted(story["id"] for story in before), "the story the shift hid was read"
    assert len(ids) == len(set(ids)), "the second pass emitted nothing twice"
    assert len(tracker.requests_to(STORIES)) == 4, "two passes of two pages"


def test_a_listing_that_never_settles_ends_with_a_warning(tracker: TrackerFake) -> None:
    before = _stories(4)
    after = before[:1] + before[2:]
    changing = [TrackerResponse.ok(body).paged(max_limit=2) for body in (before, after) * 8]
    tracker.on(STORIES, *changing)

    output = read_streams(ConfigBuilder().build(), "stories", full_refresh=True)

    assert any("kept changing during 4 passes" in line for line in log_lines(output))
    ids = [story["id"] for story in records_of(output, "stories")]
    assert len(ids) == len(set(ids))


def test_every_paged_listing_is_a_tracker_retriever_verifying_its_pages() -> None:
    """A CDK upgrade that builds these another way must fail here, not stop verifying silently."""
    source = SourcePivotalTracker(config=ConfigBuilder().build())
    streams = {stream.name: stream for stream in source.streams(source._config)}
    for name, (key, bound) in VERIFIED_LISTINGS.items():
        retriever = streams[name]._stream_partition_generator._partition_factory._retriever
        assert isinstance(retriever, TrackerRetriever), name
        assert (retriever.verified_key, retriever.upper_bound_parameter) == (key, bound), name
    paged = {
        name
        for name, definition in load_manifest()["definitions"]["streams"].items()
        if "paginator" in str(definition["retriever"])
    }
    assert paged <= set(VERIFIED_LISTINGS), f"paged but not verified: {paged - set(VERIFIED_LISTINGS)}"


# --------------------------------------------------------------------------- 12. bad values


def test_days_back_has_a_maximum_that_cannot_overflow_a_date(tracker: TrackerFake) -> None:
    spec = load_manifest()["spec"]["connection_specification"]
    problem = config_problem(ConfigBuilder().with_days_back(1_000_000).build(), spec)
    assert problem == "The config field 'days_back' must be at most 36500."
    tracker.on(STORIES, TrackerResponse.ok(_stories(3)).paged())
    output = read_streams(ConfigBuilder().with_days_back(36500).build(), "stories")
    assert error_messages(output) == []


def _state(stream: str, blob: dict[str, Any]) -> list[AirbyteStateMessage]:
    return [
        AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(
                stream_descriptor=StreamDescriptor(name=stream), stream_state=AirbyteStateBlob(**blob)
            ),
        )
    ]


@pytest.mark.parametrize(
    "blob",
    [
        {"created_at": "yesterday"},
        {"states": [{"partition": {"project_id": PROJECT_ID}, "cursor": {"created_at": "2024-13-45"}}]},
    ],
    ids=["flat", "per-project"],
)
def test_a_state_cursor_that_is_not_a_date_is_a_config_error_naming_the_stream(blob: dict[str, Any]) -> None:
    with pytest.raises(AirbyteTracedException) as raised:
        SourcePivotalTracker(config=ConfigBuilder().build(), state=_state("stories", blob))
    assert raised.value.failure_type == FailureType.config_error
    assert "stream 'stories'" in raised.value.message and "created_at" in raised.value.message


def test_a_non_numeric_pagination_header_is_the_servers_fault(tracker: TrackerFake) -> None:
    tracker.on(STORIES, TrackerResponse.ok(_stories(3)).with_header("X-Tracker-Pagination-Total", "lots"))

    output = read_streams(ConfigBuilder().build(), "stories", expect_failure=True)

    errors = [message.trace.error for message in output.errors]
    assert any("malformed X-Tracker-Pagination-Total" in (error.message or "") for error in errors)
    assert all(error.failure_type != FailureType.config_error for error in errors)


def test_a_catalog_of_only_unknown_streams_says_so(tracker: TrackerFake) -> None:
    output = read_streams(ConfigBuilder().build(), "storeys", expect_failure=True)
    assert any("names no stream of this connector" in message for message in error_messages(output))


def test_a_stream_listed_twice_is_a_config_error(tracker: TrackerFake) -> None:
    output = read_streams(ConfigBuilder().build(), "labels", "labels", expect_failure=True)
    errors = [message.trace.error for message in output.errors]
    assert any("labels more than once" in (error.message or "") for error in errors)
    assert all(error.failure_type == FailureType.config_error for error in errors)


def test_project_ids_that_match_no_project_give_a_warning_naming_them(tracker: TrackerFake) -> None:
    config = ConfigBuilder().with_project_ids(PROJECT_ID, 4242).build()

    output = read_streams(config, "projects")

    assert [record["id"] for record in records_of(output, "projects")] == [PROJECT_ID]
    assert any("project_ids 4242 match no project" in line for line in log_lines(output))
