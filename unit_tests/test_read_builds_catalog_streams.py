"""A read builds the streams of its catalog only, and still reports a stream the manifest lacks."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest
from airbyte_cdk.models import AirbyteStream, ConfiguredAirbyteStream, DestinationSyncMode, SyncMode
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    DeclarativeStream as DeclarativeStreamModel,
)
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.test.entrypoint_wrapper import read

from source_pivotal_tracker.cdk_seams.declarative_source import builds_streams_by_name
from source_pivotal_tracker.source import SourcePivotalTracker
from tracker_fixtures.streams import ALL_STREAMS
from unit_tests.conftest import _environ, catalog_for, epics_body, records_of, stories_body
from unit_tests.tracker_fake import PROJECT_ID, ConfigBuilder, TrackerFake, TrackerResponse


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the top-level streams the factory builds, in order (any supported CDK)."""
    names: list[str] = []
    create = ModelToComponentFactory.create_component

    def spy(self: Any, model_type: Any, component_definition: Any, config: Any, **kwargs: Any) -> Any:
        if model_type is DeclarativeStreamModel:
            names.append(component_definition["name"])
        return create(self, model_type, component_definition, config, **kwargs)

    monkeypatch.setattr(ModelToComponentFactory, "create_component", spy)
    return names


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
    if builds_streams_by_name():
        # The projects list read once before the sync, then the catalog's two streams.
        assert built == ["projects", "epics", "stories"]
    else:  # before airbyte-cdk 7.39.1: every stream, for the projects list and for the read
        assert sorted(built) == sorted(ALL_STREAMS * 2)


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
    assert sorted(built[-len(ALL_STREAMS) :]) == sorted(ALL_STREAMS)  # the CDK's way: all, then picked
