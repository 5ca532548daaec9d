"""A read builds the streams of its catalog only, and still reports a stream the manifest lacks."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest
from airbyte_cdk.models import AirbyteStream, ConfiguredAirbyteStream, DestinationSyncMode, SyncMode
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.test.entrypoint_wrapper import read

from source_pivotal_tracker.source import SourcePivotalTracker
from unit_tests.conftest import _environ, catalog_for, epics_body, records_of, stories_body
from unit_tests.tracker_fake import PROJECT_ID, ConfigBuilder, TrackerFake, TrackerResponse


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The names of the top-level stream definitions of each _create_streams call."""
    calls: list[list[str]] = []
    create = ConcurrentDeclarativeSource._create_streams

    def spy(self: Any, selected: list[dict[str, Any]], all_configs: list[dict[str, Any]]) -> Any:
        calls.append([config["name"] for config in selected])
        return create(self, selected, all_configs)

    monkeypatch.setattr(ConcurrentDeclarativeSource, "_create_streams", spy)
    return calls


def run_read(catalog: Any) -> Any:
    config = ConfigBuilder().build()
    with tempfile.TemporaryDirectory() as cache, _environ("REQUEST_CACHE_PATH", cache):
        return read(SourcePivotalTracker(catalog, config), config, catalog)


def test_a_read_builds_only_the_streams_of_its_catalog(tracker: TrackerFake, built: list[list[str]]) -> None:
    tracker.on(f"/projects/{PROJECT_ID}/stories", TrackerResponse.ok(stories_body()).paged(max_limit=25))
    tracker.on(f"/projects/{PROJECT_ID}/epics", TrackerResponse.ok(epics_body()))

    output = run_read(catalog_for("stories", "epics", full_refresh=True))

    assert len(records_of(output, "stories")) == len(stories_body())
    assert len(records_of(output, "epics")) == len(epics_body())
    # The projects list read once before the sync, then the catalog's two streams.
    assert built == [["projects"], ["epics", "stories"]]


def test_a_stream_the_manifest_lacks_ends_incomplete_and_the_others_are_read(
    tracker: TrackerFake, built: list[list[str]]
) -> None:
    tracker.on(f"/projects/{PROJECT_ID}/epics", TrackerResponse.ok(epics_body()))
    catalog = catalog_for("epics", full_refresh=True)
    unknown = AirbyteStream(
        name="no_such_stream", json_schema={}, supported_sync_modes=[SyncMode.full_refresh]
    )
    catalog.streams.append(
        ConfiguredAirbyteStream(
            stream=unknown,
            sync_mode=SyncMode.full_refresh,
            destination_sync_mode=DestinationSyncMode.overwrite,
        )
    )

    output = run_read(catalog)

    assert len(records_of(output, "epics")) == len(epics_body())
    assert [status.name for status in output.get_stream_statuses("no_such_stream")] == ["INCOMPLETE"]
    assert len(built[-1]) == 14  # the CDK's way: every stream, then the catalog's picked
