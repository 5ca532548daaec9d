"""Every export record validates against the schema its stream discovers (the API's schema files)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, Type
from jsonschema import Draft7Validator

from source_pivotal_tracker.exports.source import EXPORT_STREAMS, ExportSource, primary_key
from source_pivotal_tracker.source import SourcePivotalTracker, load_manifest
from unit_tests.exports.builder import export_zip, history_csv, stories_csv, story
from unit_tests.exports.reading import catalog
from unit_tests.test_schemas_match_real_responses import FORMAT_CHECKER
from unit_tests.tracker_fake import ConfigBuilder

LOGGER = logging.getLogger("airbyte")
ATTACHMENTS_KEY = ["project_id", "path", "sha256"]


def _rich_export(tmp_path: Path) -> Path:
    stories = [
        story(
            1,
            blockers=[("#2", "resolved"), ("design", "blocked")],
            pull_requests=["https://github.com/acme/web/pull/1"],
            branches=["main"],
            reviews=[("Ana", "Design", "in_review"), ("", "", "")],
        ),
        story(2, estimate="0.5", priority="None", comments=["no tail at all", " (Ana - Jan 1, 2020)"]),
        story(3, story_type="release", deadline="Apr 1, 2020", accepted_at="", current_state="unstarted"),
        story(
            4, story_type="epic", labels=["checkout"], current_state="", requested_by="", owners=[], tasks=[]
        ),
        story(5, labels=[], iteration="", iteration_start="", iteration_end="", owners=[], requested_by=""),
    ]
    return export_zip(
        tmp_path / "shop_20250101_120000-export.zip",
        stories_csv("E", stories),
        history_csv(
            [["10", "story_update", "Ana moved it", "Ana", "2024-01-01T00:00:00Z"], ["11", "", "", "", ""]]
        ),
        {"1/spec.pdf": b"%PDF"},
    )


def _records(tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    config = {"export_files": [str(_rich_export(tmp_path))]}
    records: dict[str, list[dict[str, Any]]] = {name: [] for name in EXPORT_STREAMS}
    for message in ExportSource().read(LOGGER, config, catalog()):
        if message.type == Type.RECORD:
            records[message.record.stream].append(message.record.data)
    return records


def test_every_stream_has_records_that_validate_against_its_discovered_schema(tmp_path: Path) -> None:
    schemas = {s.name: s.json_schema for s in ExportSource().discover(LOGGER, {}).streams}
    records = _records(tmp_path)

    for stream, rows in records.items():
        assert rows, f"the rich export gives no {stream}"
        validator = Draft7Validator(schemas[stream], format_checker=FORMAT_CHECKER)
        for row in rows:
            problems = [
                f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(row)
            ]
            assert not problems, f"{stream} {row}: {problems}"
            # Strict standard tests want every field declared, not only allowed.
            undeclared = set(row) - set(schemas[stream]["properties"])
            assert not undeclared, f"{stream} fields missing from its schema: {undeclared}"
            for key in primary_key(stream):
                assert row[key] is not None


def test_primary_keys_are_unique_within_each_stream(tmp_path: Path) -> None:
    for stream, rows in _records(tmp_path).items():
        keys = [tuple(row[k] for k in primary_key(stream)) for row in rows]
        assert len(keys) == len(set(keys)), stream


def test_discover_offers_the_export_streams_with_the_api_keys_and_full_refresh_only() -> None:
    streams = {s.name: s for s in ExportSource().discover(LOGGER, {}).streams}
    api_streams = load_manifest()["definitions"]["streams"]

    assert list(streams) == list(EXPORT_STREAMS)
    for name, stream in streams.items():
        # Two exports of a project may hold two versions of a story's file under one name.
        expected = api_streams[name]["primary_key"] if name != "attachments" else ATTACHMENTS_KEY
        assert stream.source_defined_primary_key == [[key] for key in expected]
        assert [mode.value for mode in stream.supported_sync_modes] == ["full_refresh"]


def test_api_mode_does_not_offer_the_attachments_stream() -> None:
    config = ConfigBuilder().build()
    names = {s.name for s in SourcePivotalTracker(config=config).discover(LOGGER, config).streams}
    assert "attachments" not in names and "stories" in names


def test_export_mode_spec_is_the_api_mode_spec() -> None:
    api = SourcePivotalTracker().spec(LOGGER)
    exports = ExportSource().spec(LOGGER)
    assert exports.connectionSpecification == api.connectionSpecification
    assert exports.documentationUrl == api.documentationUrl
    assert "export_files" in exports.connectionSpecification["properties"]


def test_a_catalog_stream_exports_cannot_fill_is_named_in_a_warning_and_marked_incomplete(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = {"export_files": [str(_rich_export(tmp_path))]}
    configured = catalog(("stories",))
    api_catalog = ConfiguredAirbyteCatalogSerializer.dump(configured)
    api_catalog["streams"].append(
        {
            "stream": {"name": "notifications", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite",
        }
    )
    messages = list(ExportSource().read(LOGGER, config, ConfiguredAirbyteCatalogSerializer.load(api_catalog)))

    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "The catalog names unknown streams, which are not read: notifications." in warnings
    statuses = [
        (m.trace.stream_status.stream_descriptor.name, m.trace.stream_status.status.value)
        for m in messages
        if m.type == Type.TRACE and m.trace.stream_status is not None
    ]
    assert ("notifications", "INCOMPLETE") in statuses
    assert {m.record.stream for m in messages if m.type == Type.RECORD} == {"stories"}
