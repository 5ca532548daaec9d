"""Every stream reads real Tracker bodies: one page, several pages, an empty answer.

Paging is limit/offset driven by the X-Tracker-Pagination-* headers. The fake clamps the limit
the connector asks for (500) to a small page, as Tracker does above an endpoint's maximum, so a
stream has to follow the headers to get every item, and must stop once the total is reached
without asking for an empty trailing page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests_mock
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput

from tracker_fixtures.streams import ALL_STREAMS
from unit_tests.conftest import (
    STREAM_CASES,
    STREAM_CASES_BY_NAME,
    StreamCase,
    error_messages,
    read_streams,
    records_of,
)
from unit_tests.tracker_fake import (
    API_TOKEN,
    OTHER_PROJECT_ID,
    PROJECT_ID,
    ConfigBuilder,
    TrackerFake,
    TrackerResponse,
    projects_body,
)

PAGED = [case for case in STREAM_CASES if case.paged]
UNPAGED = [case for case in STREAM_CASES if not case.paged]
ITERATION_FIELDS = (
    "number,project_id,kind,length,team_strength,start,finish,story_ids,velocity,points,"
    "accepted_points,effective_points,planned"
)


@dataclass
class Sync:
    fake: TrackerFake
    output: EntrypointOutput


def _sync_every_stream(serve: Callable[[StreamCase], TrackerResponse]) -> Sync:
    """One read of all 14 streams against one fake: what a real sync does, at the cost of one read."""
    fake = TrackerFake()
    with requests_mock.Mocker() as mocker:
        fake.install(mocker)
        for case in STREAM_CASES:
            case.serve(fake, serve(case))
        output = read_streams(ConfigBuilder().build(), *ALL_STREAMS, expect_failure=True)
    return Sync(fake, output)


@pytest.fixture(scope="module")
def single_page_sync() -> Sync:
    return _sync_every_stream(
        lambda case: (
            TrackerResponse.ok(case.body()).paged() if case.paged else TrackerResponse.ok(case.body())
        )
    )


@pytest.fixture(scope="module")
def several_pages_sync() -> Sync:
    return _sync_every_stream(
        lambda case: (
            TrackerResponse.ok(case.body()).paged(max_limit=case.page_size)
            if case.paged
            else TrackerResponse.ok(case.body())
        )
    )


@pytest.fixture(scope="module")
def empty_sync() -> Sync:
    # The user still sees one project, so every project stream asks for its (empty) items.
    def serve(case: StreamCase) -> TrackerResponse:
        if case.name == "projects":
            return TrackerResponse.ok(case.body())
        return TrackerResponse.ok([]).paged() if case.paged else TrackerResponse.ok([])

    return _sync_every_stream(serve)


def _paging(requests: list) -> list[tuple[str | None, str | None]]:
    return [(request.query.get("limit"), request.query.get("offset")) for request in requests]


def _without_added(record: dict, case: StreamCase) -> dict:
    if case.project_id_added:
        return {key: value for key, value in record.items() if key != "project_id"}
    return record


def test_sync_of_every_stream_ends_without_error_and_asks_only_for_known_endpoints(
    single_page_sync: Sync, several_pages_sync: Sync, empty_sync: Sync
) -> None:
    for sync in (single_page_sync, several_pages_sync, empty_sync):
        assert error_messages(sync.output) == []
        assert sync.fake.unrouted() == []
        assert {record.record.stream for record in sync.output.records} <= set(ALL_STREAMS)


# --------------------------------------------------------------------------- one page


@pytest.mark.parametrize("case", STREAM_CASES, ids=lambda case: case.name)
def test_read_single_page_returns_every_item_of_the_real_answer(
    single_page_sync: Sync, case: StreamCase
) -> None:
    expected = case.records_of(case.body())
    assert expected, "the fixture must hold records"

    records = records_of(single_page_sync.output, case.name)

    assert [_without_added(record, case) for record in records] == expected
    if case.project_id_added:
        # Tracker leaves project_id out of these items; the connector adds the partition's.
        assert all("project_id" not in item for item in expected)
        assert [record["project_id"] for record in records] == [PROJECT_ID] * len(records)
    requests = case.requests(single_page_sync.fake)
    if case.paged:
        # The largest page, and no offset on the first request.
        assert _paging(requests) == [(case.asked_limit, None)]
    elif case.name == "projects":
        # Every project stream lists the projects too; none of those requests is paged.
        assert requests and set(_paging(requests)) == {(None, None)}
    else:
        # Tracker sends no pagination headers here and returns the whole collection at once.
        assert _paging(requests) == [(None, None)]


# --------------------------------------------------------------------------- several pages


@pytest.mark.parametrize("case", PAGED, ids=lambda case: case.name)
def test_read_stops_on_total_header_without_empty_trailing_request(
    several_pages_sync: Sync, case: StreamCase
) -> None:
    body = case.body()
    total = len(body)
    assert total > case.page_size, "the fixture must span several pages"
    expected_offsets = list(range(0, total, case.page_size))

    requests = case.requests(several_pages_sync.fake)

    assert len(expected_offsets) >= 2
    assert _paging(requests) == [
        (case.asked_limit, None if offset == 0 else str(offset)) for offset in expected_offsets
    ]
    records = records_of(several_pages_sync.output, case.name)
    assert [_without_added(record, case) for record in records] == case.records_of(body)


@pytest.mark.parametrize("case", UNPAGED, ids=lambda case: case.name)
def test_read_unpaginated_endpoint_is_fetched_once_even_when_others_page(
    several_pages_sync: Sync, case: StreamCase
) -> None:
    requests = case.requests(several_pages_sync.fake)

    assert requests and set(_paging(requests)) == {(None, None)}
    if case.name != "projects":
        assert len(requests) == 1
    assert len(records_of(several_pages_sync.output, case.name)) == len(case.records_of(case.body()))


@pytest.mark.parametrize("stream", ["stories", "iterations"])
def test_read_follows_returned_header_when_total_is_an_exact_multiple_of_the_page(
    tracker: TrackerFake, stream: str
) -> None:
    case = STREAM_CASES_BY_NAME[stream]
    body = case.body()
    pages = 2
    page_size = len(body) // pages
    body = body[: page_size * pages]
    case.serve(tracker, TrackerResponse.ok(body).paged(max_limit=page_size))

    output = read_streams(ConfigBuilder().build(), case.name)

    limit = case.asked_limit
    assert _paging(case.requests(tracker)) == [(limit, None), (limit, str(page_size))]
    assert len(records_of(output, case.name)) == len(case.records_of(body))


# --------------------------------------------------------------------------- empty answers


@pytest.mark.parametrize("case", STREAM_CASES[1:], ids=lambda case: case.name)
def test_read_empty_answer_gives_no_record_and_no_error(empty_sync: Sync, case: StreamCase) -> None:
    # projects: test_read_empty_project_list_gives_no_record_and_no_project_request
    assert records_of(empty_sync.output, case.name) == []
    requests = case.requests(empty_sync.fake)
    assert _paging(requests) == ([(case.asked_limit, None)] if case.paged else [(None, None)])
    statuses = [status.name for status in empty_sync.output.get_stream_statuses(case.name)]
    assert statuses[-1] == "COMPLETE"


def test_read_empty_project_list_gives_no_record_and_no_project_request(tracker: TrackerFake) -> None:
    tracker.on("/projects", TrackerResponse.ok([]))

    output = read_streams(ConfigBuilder().build(), "projects", "stories", "epics", "comments")

    assert error_messages(output) == []
    assert output.records == []
    assert set(tracker.paths()) == {"/projects"}
    for stream in ("projects", "stories", "epics", "comments"):
        assert [status.name for status in output.get_stream_statuses(stream)][-1] == "COMPLETE"


# --------------------------------------------------------------------------- what the records carry


@pytest.mark.parametrize("stream", ["activity", "comments"])
def test_read_child_records_of_two_projects_carry_each_their_own_project_id(
    tracker: TrackerFake, stream: str
) -> None:
    case = STREAM_CASES_BY_NAME[stream]
    tracker.on("/projects", TrackerResponse.ok(projects_body(PROJECT_ID, OTHER_PROJECT_ID)))
    body = case.body()
    other_path = case.path.replace(str(PROJECT_ID), str(OTHER_PROJECT_ID))
    tracker.on(case.path, TrackerResponse.ok(body).paged())
    tracker.on(other_path, TrackerResponse.ok(body[:1]).paged())

    output = read_streams(ConfigBuilder().build(), stream)

    records = records_of(output, stream)
    by_project = {PROJECT_ID: 0, OTHER_PROJECT_ID: 0}
    for record in records:
        by_project[record["project_id"]] += 1
    assert by_project[PROJECT_ID] == len(case.records_of(body))
    assert by_project[OTHER_PROJECT_ID] == len(case.records_of(body[:1]))


def test_read_stories_request_carries_fields_and_created_window(single_page_sync: Sync) -> None:
    (request,) = STREAM_CASES_BY_NAME["stories"].requests(single_page_sync.fake)

    assert request.query["fields"].split(",")[0] == ":default"
    assert request.query["created_after"].endswith("Z")
    assert request.query["created_before"].endswith("Z")
    assert request.query["created_after"] < request.query["created_before"]
    assert request.query["limit"] == "500"


@pytest.mark.parametrize("stream", ["comments", "tasks", "blockers"])
def test_read_embedded_items_come_from_the_story_listing_with_fields(
    several_pages_sync: Sync, stream: str
) -> None:
    case = STREAM_CASES_BY_NAME[stream]

    requests = case.requests(several_pages_sync.fake)

    assert len(requests) == len(range(0, len(case.body()), case.page_size))
    assert all(request.query["fields"] == stream for request in requests)
    # Never one request per story.
    assert not any(
        path.startswith(f"/projects/{PROJECT_ID}/stories/") for path in several_pages_sync.fake.paths()
    )
    assert len(records_of(several_pages_sync.output, stream)) == len(case.records_of(case.body()))


def test_read_iterations_request_carries_the_explicit_fields_list(single_page_sync: Sync) -> None:
    case = STREAM_CASES_BY_NAME["iterations"]

    (request,) = case.requests(single_page_sync.fake)

    assert request.query["fields"] == ITERATION_FIELDS
    assert "stories" not in request.query["fields"].split(",")
    records = records_of(single_page_sync.output, "iterations")
    assert [(record["project_id"], record["number"]) for record in records] == [
        (PROJECT_ID, iteration["number"]) for iteration in case.body()
    ]


def test_read_projects_asks_for_current_velocity(single_page_sync: Sync) -> None:
    requests = single_page_sync.fake.requests_to("/projects")

    assert requests
    assert all(request.query == {"fields": ":default,current_velocity"} for request in requests)
    assert records_of(single_page_sync.output, "projects")[0]["current_velocity"] == 10


def test_read_keeps_only_the_configured_project_ids(tracker: TrackerFake) -> None:
    tracker.on("/projects", TrackerResponse.ok(projects_body(PROJECT_ID, OTHER_PROJECT_ID)))
    labels = STREAM_CASES_BY_NAME["labels"].body()
    tracker.on(f"/projects/{OTHER_PROJECT_ID}/labels", TrackerResponse.ok(labels))

    output = read_streams(ConfigBuilder().with_project_ids(OTHER_PROJECT_ID).build(), "projects", "labels")

    assert error_messages(output) == []
    assert [record["id"] for record in records_of(output, "projects")] == [OTHER_PROJECT_ID]
    assert not tracker.requests_to(f"/projects/{PROJECT_ID}/labels")
    assert len(records_of(output, "labels")) == len(labels)


def test_read_sends_the_api_token_header_on_every_request(single_page_sync: Sync) -> None:
    history = single_page_sync.fake.history

    assert len(history) >= len(ALL_STREAMS)
    assert {request.header("X-TrackerToken") for request in history} == {API_TOKEN}


def test_read_uses_the_configured_api_url(tracker: TrackerFake) -> None:
    # A trailing slash in the config must not double the slash in the paths.
    config = ConfigBuilder().with_api_url("https://tracker.example.com/services/v5/").build()
    tracker.on(f"/projects/{PROJECT_ID}/epics", TrackerResponse.ok(STREAM_CASES_BY_NAME["epics"].body()))

    output = read_streams(config, "epics")

    assert error_messages(output) == []
    assert tracker.paths() == ["/projects", f"/projects/{PROJECT_ID}/epics"]
    assert {request.host for request in tracker.history} == {"tracker.example.com"}
