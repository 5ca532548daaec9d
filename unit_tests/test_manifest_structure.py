"""What discover tells the platform about every stream: names, primary keys, cursors, schemas."""

from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import discover

from source_pivotal_tracker.source import SourcePivotalTracker
from tracker_fixtures.streams import ALL_STREAMS, PRIMARY_KEYS
from unit_tests.tracker_fake import ConfigBuilder

CURSORS = {"stories": "created_at", "notifications": "updated_at", "activity": "occurred_at"}


def _discover(config: dict[str, Any]) -> dict[str, Any]:
    output = discover(SourcePivotalTracker(config=config), config)
    assert output.errors == []
    return {stream.name: stream for stream in output.catalog.catalog.streams}


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return _discover(ConfigBuilder().build())


def test_discover_lists_all_fourteen_streams(catalog: dict[str, Any]) -> None:
    assert sorted(catalog) == sorted(ALL_STREAMS)
    assert len(catalog) == 14


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_every_stream_has_its_primary_key(catalog: dict[str, Any], stream: str) -> None:
    assert catalog[stream].source_defined_primary_key == [[key] for key in PRIMARY_KEYS[stream]]


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_every_stream_schema_declares_its_primary_key_non_null(catalog: dict[str, Any], stream: str) -> None:
    properties = catalog[stream].json_schema["properties"]
    for key in PRIMARY_KEYS[stream]:
        assert key in properties, f"{stream}.{key} is not in the schema"
        declared = properties[key]["type"]
        types = declared if isinstance(declared, list) else [declared]
        assert "null" not in types, f"{stream}.{key} may be null"
        assert set(types) <= {"integer", "string"}


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_incremental_streams_declare_their_cursor_and_the_others_none(
    catalog: dict[str, Any], stream: str
) -> None:
    discovered = catalog[stream]
    modes = set(discovered.supported_sync_modes)
    if stream in CURSORS:
        assert modes == {SyncMode.full_refresh, SyncMode.incremental}
        assert discovered.source_defined_cursor is True
        assert discovered.default_cursor_field == [CURSORS[stream]]
        cursor = discovered.json_schema["properties"][CURSORS[stream]]
        assert cursor.get("format") == "date-time"
    else:
        assert modes == {SyncMode.full_refresh}
        assert not discovered.default_cursor_field


def test_stories_cursor_updated_at_is_the_declared_cursor() -> None:
    catalog = _discover(ConfigBuilder().with_stories_cursor("updated_at").build())

    assert catalog["stories"].default_cursor_field == ["updated_at"]
    assert catalog["activity"].default_cursor_field == ["occurred_at"]


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_every_stream_schema_is_an_open_object_of_described_properties(
    catalog: dict[str, Any], stream: str
) -> None:
    schema = catalog[stream].json_schema
    assert schema["type"] == "object"
    assert schema["properties"]
    for path, node in _objects(stream, schema):
        # Open: a field Tracker adds later reaches the destination instead of failing validation.
        assert node.get("additionalProperties") is True, f"{path} is not an open object"
        for name, prop in node["properties"].items():
            # One JSON type besides null: destinations (and PyAirbyte's caches) give a property one
            # column type from it; an anyOf made nested objects plain string columns there.
            declared = prop.get("type")
            types = declared if isinstance(declared, list) else [declared]
            assert declared and len(set(types) - {"null"}) == 1, f"{path}.{name}: not one type, {declared}"
            assert isinstance(prop.get("description"), str) and prop["description"].strip(), (
                f"{path}.{name} has no description"
            )


def _objects(path: str, schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every object with declared properties in a schema, the schema itself first, with its path."""
    found = [(path, schema)] if "properties" in schema else []
    for name, prop in schema.get("properties", {}).items():
        found += _objects(f"{path}.{name}", prop)
    if isinstance(schema.get("items"), dict):
        found += _objects(f"{path}[]", schema["items"])
    for variant in schema.get("anyOf", []) + schema.get("oneOf", []):
        found += _objects(path, variant)
    return found
