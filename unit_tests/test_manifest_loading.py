"""The start-up shortcuts of manifest_loading.py and spec_source.py give what the CDK's own path gives.

The CDK's path: ConcurrentDeclarativeSource built from the manifest with its schemas inline (as
`source-declarative-manifest` would run it), validated against the CDK's component schema.
"""

from __future__ import annotations

import logging
import pkgutil
from typing import Any

import jsonschema
import orjson
import pytest
import yaml
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import ConfiguredAirbyteCatalog
from airbyte_cdk.models.airbyte_protocol_serializers import AirbyteCatalogSerializer
from airbyte_cdk.sources.declarative import concurrent_declarative_source
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

from source_pivotal_tracker.run import TrackerEntrypoint
from source_pivotal_tracker.runtime.manifest_loading import (
    PLACEHOLDER,
    fill_schemas,
    manifest_with_placeholders,
    schema_for,
)
from source_pivotal_tracker.runtime.spec_source import SpecOnlySource
from source_pivotal_tracker.runtime.stream_schemas import stream_schemas
from source_pivotal_tracker.source import SourcePivotalTracker, load_manifest, manifest_for, with_defaults
from tracker_fixtures.streams import ALL_STREAMS
from unit_tests.conftest import catalog_for
from unit_tests.tracker_fake import ConfigBuilder

CATALOGS: dict[str, ConfiguredAirbyteCatalog | None] = {
    "no catalog (spec, check, discover)": None,
    "every stream, full refresh": catalog_for(*ALL_STREAMS, full_refresh=True),
    "every stream, incremental where it can": catalog_for(*ALL_STREAMS),
}


def cdk_source(catalog: ConfiguredAirbyteCatalog | None) -> ConcurrentDeclarativeSource:
    """The CDK's own source on the manifest with its schemas inline (trimmed for the catalog as ours)."""
    inline = fill_schemas(manifest_for(catalog))
    config = with_defaults(ConfigBuilder().build())
    return ConcurrentDeclarativeSource(catalog=catalog, config=config, source_config=inline)


@pytest.mark.parametrize("catalog", CATALOGS.values(), ids=CATALOGS.keys())
def test_source_resolves_the_manifest_the_cdk_resolves_with_schemas_inline(
    catalog: ConfiguredAirbyteCatalog | None,
) -> None:
    ours = SourcePivotalTracker(catalog, ConfigBuilder().build())
    assert fill_schemas(ours.resolved_manifest) == cdk_source(catalog).resolved_manifest


@pytest.mark.parametrize("catalog", CATALOGS.values(), ids=CATALOGS.keys())
def test_every_manifest_the_source_is_built_from_passes_the_cdk_validation(
    catalog: ConfiguredAirbyteCatalog | None,
) -> None:
    # What ConcurrentDeclarativeSource._validate_source checks, on the manifest with its schemas.
    resolved = SourcePivotalTracker(catalog, ConfigBuilder().build()).resolved_manifest
    jsonschema.validate(fill_schemas(resolved), cdk_component_schema())


def test_an_invalid_manifest_fails_that_validation() -> None:
    resolved = fill_schemas(SourcePivotalTracker(None, ConfigBuilder().build()).resolved_manifest)
    resolved["streams"][0]["retriever"]["requester"]["http_method"] = "FETCH"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(resolved, cdk_component_schema())


def test_discover_gives_the_catalog_of_the_cdk_path_with_each_schema_file() -> None:
    config = ConfigBuilder().build()
    ours = SourcePivotalTracker(None, config).discover(logging.getLogger(), config)
    theirs = cdk_source(None).discover(logging.getLogger(), config)
    assert AirbyteCatalogSerializer.dump(ours) == AirbyteCatalogSerializer.dump(theirs)
    discovered = {stream.name: stream.json_schema for stream in ours.streams}
    assert set(discovered) == set(load_manifest()["definitions"]["streams"])
    assert discovered == {name: stream_schemas()[name] for name in discovered}


def test_each_schema_loader_gets_a_copy_of_its_own() -> None:
    config = ConfigBuilder().build()
    streams = {s.name: s for s in SourcePivotalTracker(None, config).streams(config)}
    streams["projects"].get_json_schema()["properties"]["id"]["type"] = "changed"
    assert stream_schemas()["projects"]["properties"]["id"]["type"] != "changed"
    again = {s.name: s for s in SourcePivotalTracker(None, config).streams(config)}
    assert again["projects"].get_json_schema() == stream_schemas()["projects"]


def test_the_manifest_the_cdk_copies_carries_no_schema() -> None:
    manifest = manifest_with_placeholders()
    placeholders = manifest["schemas"]
    assert set(placeholders) == set(stream_schemas())
    assert all(set(schema) == {"type", PLACEHOLDER} for schema in placeholders.values())
    assert len(orjson.dumps(manifest)) < len(orjson.dumps(load_manifest())) / 5


def test_a_placeholder_without_a_schema_file_is_named() -> None:
    with pytest.raises(ValueError, match=r"schemas/nope\.json"):
        schema_for({"type": "object", PLACEHOLDER: "nope"})


def test_building_the_source_rewires_none_of_the_cdk_source_modules_globals() -> None:
    # The dropped validation skip swapped one of them (README, Performance).
    before = dict(vars(concurrent_declarative_source))
    SourcePivotalTracker(None, ConfigBuilder().build())
    after = vars(concurrent_declarative_source)
    assert set(after) == set(before) and all(after[name] is value for name, value in before.items())


def cdk_component_schema() -> Any:
    """The component schema airbyte-cdk ships and validates every manifest against."""
    raw = pkgutil.get_data("airbyte_cdk", "sources/declarative/declarative_component_schema.yaml")
    assert raw is not None
    return yaml.safe_load(raw)


def spec_lines(entrypoint: AirbyteEntrypoint) -> list[Any]:
    return [orjson.loads(line) for line in entrypoint.run(entrypoint.parse_args(["spec"]))]


def test_spec_without_a_source_prints_the_spec_of_the_built_source() -> None:
    built = spec_lines(TrackerEntrypoint(SourcePivotalTracker()))
    assert spec_lines(TrackerEntrypoint(SpecOnlySource())) == built  # type: ignore[arg-type]
    assert [line["type"] for line in built] == ["SPEC"]
    assert built[0]["spec"]["connectionSpecification"] == load_manifest()["spec"]["connection_specification"]
