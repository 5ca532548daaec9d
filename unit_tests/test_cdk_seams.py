"""A canary per CDK seam (cdk_seams/), the start-up self-check, and what the seams promise, in-process.

A canary fails, naming its seam, when the installed CDK no longer has what the seam relies on;
the behaviour tests fail when a seam's effect is gone (a redirect followed, states held back,
requests without timeouts, an unbounded record queue).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from importlib import import_module, metadata
from pathlib import Path
from typing import Any

import pytest
import requests_mock
from airbyte_cdk.models import Type
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import (
    ConcurrentPerPartitionCursor,
)
from packaging.version import Version

from source_pivotal_tracker import run as run_module
from source_pivotal_tracker.cdk_seams import SEAMS, SeamBroken, supported_cdk, verify
from source_pivotal_tracker.cdk_seams.cdk_range import CDK_REQUIREMENT
from source_pivotal_tracker.cdk_seams.declarative_source import (
    STREAMS_BY_NAME_SINCE,
    builds_streams_by_name,
    record_queue_size,
)
from source_pivotal_tracker.cdk_seams.entrypoint_read import copies_current
from source_pivotal_tracker.runtime.limits import TIMEOUT_ENV
from source_pivotal_tracker.source import RECORD_QUEUE_SIZE, SourcePivotalTracker
from unit_tests.conftest import (
    STREAM_CASES_BY_NAME,
    catalog_for,
    error_messages,
    read_streams,
)
from unit_tests.tracker_fake import (
    BASE_URL,
    OTHER_PROJECT_ID,
    PROJECT_ID,
    ConfigBuilder,
    TrackerFake,
    TrackerResponse,
    projects_body,
)

OTHER_HOST = "http://127.0.0.2/services/v5/projects"


# --------------------------------------------------------------------------- canaries


@pytest.mark.parametrize("module", sorted(SEAMS))
def test_canary_the_installed_cdk_still_has_what_the_seam_needs(module: str) -> None:
    import_module(f"source_pivotal_tracker.cdk_seams.{module}").check()  # SeamBroken names the seam


def test_canary_a_cdk_from_7_39_1_on_builds_only_the_catalogs_streams() -> None:
    # Before 7.39.1 every stream is built for a read (the same records, a slower start); from it
    # on, a CDK without `_streams_by_name` would lose most of a one-stream read's start-up.
    if Version(metadata.version("airbyte-cdk")) >= Version(STREAMS_BY_NAME_SINCE):
        assert builds_streams_by_name(), (
            "seam catalog-streams-only: this airbyte-cdk has no ConcurrentDeclarativeSource."
            "_streams_by_name; every read builds all streams again (README, CDK seams)"
        )
    else:
        assert not builds_streams_by_name()


def test_canary_entrypoint_read_copy_matches_the_installed_cdk_run_and_read() -> None:
    changed = copies_current()
    assert not changed, (
        f"seam entrypoint-read-copy: the installed CDK changed {', '.join(changed)}; read the change, bring "
        "cdk_seams/entrypoint_read.py level with it, then record the new RUN_SHA256/READ_SHA256."
    )


def test_a_cdk_without_what_a_seam_needs_is_named_with_the_supported_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(ConcurrentPerPartitionCursor, "_throttle_state_message")
    with pytest.raises(SeamBroken) as broken:
        verify()
    message = str(broken.value)
    assert broken.value.seam == "per-partition-state-throttle"
    assert "'per-partition-state-throttle'" in message and "_throttle_state_message" in message
    assert f"Supported: {supported_cdk()}" in message and supported_cdk().startswith("airbyte-cdk")


def test_the_connector_stops_at_start_up_naming_the_broken_seam(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(ConfigBuilder().build()))
    for side_effect in ("stop_on_signals", "limit_malloc_arenas", "pause_collection"):
        monkeypatch.setattr(run_module, side_effect, lambda *args: None)
    monkeypatch.delattr(ConcurrentDeclarativeSource, "_select_streams")
    monkeypatch.setattr("sys.argv", ["source-pivotal-tracker", "check", "--config", str(config)])
    with pytest.raises(SystemExit) as exited:
        run_module.run()
    assert exited.value.code == 1
    (trace,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    message = trace["trace"]["error"]["message"]
    assert "'catalog-streams-only'" in message and "_select_streams" in message
    assert f"Supported: {supported_cdk()}" in message and "Something went wrong" not in message
    # No config fixes the installation: the platform must not ask the user to edit the config.
    assert trace["trace"]["error"]["failure_type"] == "system_error"


def test_the_seams_name_the_one_supported_range_that_setup_py_pins() -> None:
    assert supported_cdk() == CDK_REQUIREMENT  # setup.py's pin: unit_tests/test_cdk_range.py


# --------------------------------------------------------------------------- what the seams promise


def test_a_redirect_is_refused_before_anything_reaches_the_other_host() -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(f"{BASE_URL}/projects", status_code=302, headers={"Location": OTHER_HOST})
        other = mocker.get(OTHER_HOST, json=[])
        output = read_streams(ConfigBuilder().build(), "projects", expect_failure=True)
    assert not other.called, "nothing may follow the redirect to another host"
    assert any("redirect to http://127.0.0.2" in message for message in error_messages(output))
    assert [e.trace.error.failure_type.value for e in output.errors][-1] == "config_error"


def test_a_3xx_without_a_location_is_refused_too() -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(f"{BASE_URL}/projects", status_code=300)
        output = read_streams(ConfigBuilder().build(), "projects", expect_failure=True)
    assert any("HTTP 300, a redirect to an unnamed address" in m for m in error_messages(output))


def test_every_finished_project_gets_its_own_state(tracker: TrackerFake) -> None:
    projects = (PROJECT_ID, OTHER_PROJECT_ID, 1027495)
    stories = STREAM_CASES_BY_NAME["stories"].body()
    tracker.on("/projects", TrackerResponse.ok(projects_body(*projects)))
    for project in projects:
        tracker.on(f"/projects/{project}/stories", TrackerResponse.ok(stories[:5]).paged())

    output = read_streams(ConfigBuilder().with_num_workers(1).build(), "stories")

    states = [
        message.state.stream.stream_state
        for message in output.state_messages
        if message.state.stream.stream_descriptor.name == "stories"
    ]
    # One STATE as each project closes, then the sync's final one; the CDK alone holds all but
    # the first back for 600 s.
    assert len(states) == len(projects) + 1, states


@pytest.mark.parametrize(("override", "expected"), [(None, (30.0, 120.0)), ("7.5", (7.5, 7.5))])
def test_every_request_carries_the_timeouts(
    override: str | None, expected: tuple[float, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    if override is None:
        monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    else:
        monkeypatch.setenv(TIMEOUT_ENV, override)
    with requests_mock.Mocker() as mocker:
        fake = TrackerFake().install(mocker)
        fake.on("/projects", TrackerResponse.ok(projects_body(PROJECT_ID)))
        fake.on(f"/projects/{PROJECT_ID}/labels", TrackerResponse.ok([]))
        read_streams(ConfigBuilder().build(), "projects", "labels")
        timeouts = {request.timeout for request in mocker.request_history}
    assert timeouts == {expected}


def _many_stories(count: int) -> list[dict[str, Any]]:
    template = STREAM_CASES_BY_NAME["stories"].body()[0]
    return [{**template, "id": 10_000_000 + index} for index in range(count)]


def test_the_record_queue_holds_at_most_two_pages_of_records(tracker: TrackerFake) -> None:
    """The workers stop fetching pages once the queue is full, while the main thread is busy."""
    pages = 24
    tracker.on(f"/projects/{PROJECT_ID}/stories", TrackerResponse.ok(_many_stories(500 * pages)).paged())
    config = ConfigBuilder().build()
    catalog = catalog_for("stories", full_refresh=True)
    source = SourcePivotalTracker(catalog=catalog, config=config)
    assert record_queue_size(source) == RECORD_QUEUE_SIZE
    messages = source.read(logging.getLogger("airbyte"), config, catalog)
    fetched_while_waiting = _pages_fetched_after_first_record(messages, tracker)
    records = 1 + sum(1 for message in messages if message.type == Type.RECORD)
    assert records == 500 * pages
    # 1,000 queued records and a page in hand: three or four pages; the CDK's 10,000 would be 20+.
    assert fetched_while_waiting <= 5, f"{fetched_while_waiting} pages fetched ahead of the writer"


def _pages_fetched_after_first_record(messages: Iterator[Any], tracker: TrackerFake) -> int:
    next(message for message in messages if message.type == Type.RECORD)
    stories = f"/projects/{PROJECT_ID}/stories"
    fetched = -1
    while fetched != len(tracker.requests_to(stories)):  # until the workers block on the full queue
        fetched = len(tracker.requests_to(stories))
        time.sleep(0.5)
    return fetched
