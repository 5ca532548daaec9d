"""The connector: the declarative manifest, its stream schemas, and the config it runs with."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    FailureType,
    Status,
    SyncMode,
)
from airbyte_cdk.sources.declarative.concurrent_declarative_source import (
    ConcurrentDeclarativeSource,
)
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    InlineSchemaLoader as InlineSchemaLoaderModel,
)
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    SimpleRetriever as SimpleRetrieverModel,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from .cdk_seams.declarative_source import (
    bound_record_queue,
    named_streams,
    read_catalog_streams,
    set_source_config,
    source_config,
)
from .cdk_seams.factory_table import component_factory, wrap_constructor
from .cdk_seams.state_throttle import emit_state_per_partition
from .check_deadline import check_deadline
from .components import TrackerRetriever, cacheable
from .failure_summary import honest_failure_type
from .http_safety import guard_requesters, with_timeouts
from .input_checks import check_catalog, check_state, warn_unmatched_project_ids
from .login import signed_in
from .manifest_loading import manifest_with_placeholders, parsed_manifest, schema_for
from .skipped_projects import SKIPPED_PROJECTS
from .stream_schemas import stream_schemas

PACKAGE_DIR = Path(__file__).parent
PARENT_STREAM = "projects"
RECORD_QUEUE_SIZE = 1000
logger = logging.getLogger("airbyte")


@lru_cache(maxsize=1)
def load_manifest() -> dict[str, Any]:
    """manifest.yaml with the stream schemas of schemas/*.json filled into its `schemas` map.

    One JSON file per stream keeps the manifest readable (stream_schemas.py). This is the
    manifest as a generic CDK runner would take it; the source itself is built from
    manifest_for(), which keeps the schemas out of the CDK's copying (manifest_loading.py).
    """
    manifest = copy.deepcopy(parsed_manifest())
    manifest["schemas"] = copy.deepcopy(stream_schemas())
    return manifest


def manifest_for(catalog: ConfiguredAirbyteCatalog | None) -> dict[str, Any]:
    """The manifest for one read: streams the catalog reads in full refresh lose their cursor.

    CDK 7 builds a stream's cursor whatever the sync mode, and the cursor parses the timestamps of
    every record (half of the connector's work per record); a full refresh reads everything and
    has no use for it. Without a catalog (spec, check, discover) the manifest is whole. An
    operator's timeout (SOURCE_PIVOTAL_TRACKER_TIMEOUT_SECONDS) goes into the requesters' fields.
    """
    manifest = manifest_with_placeholders()
    with_timeouts(manifest["definitions"]["base_requester"])
    full_refresh = {
        configured.stream.name
        for configured in (catalog.streams if catalog else [])
        if configured.sync_mode == SyncMode.full_refresh
    }
    for name, definition in manifest["definitions"]["streams"].items():
        if name in full_refresh:
            definition.pop("incremental_sync", None)
            definition.pop("state_migrations", None)
    return manifest


def spec_defaults() -> Mapping[str, Any]:
    properties = parsed_manifest()["spec"]["connection_specification"]["properties"]
    return {name: prop["default"] for name, prop in properties.items() if "default" in prop}


def with_defaults(config: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The user's config with the spec's defaults for the options left out (a copy)."""
    if config is None:
        return None
    merged = {**spec_defaults(), **config}
    merged["api_url"] = str(merged["api_url"]).rstrip("/")
    return merged


class SourcePivotalTracker(ConcurrentDeclarativeSource):
    """Config, catalog and state go to the constructor: CDK 7 builds every stream from them.

    The CDK validates the manifest at every start against its own component schema (0.07 s): an
    airbyte-cdk that lacks a field the manifest uses says so at once.
    """

    def __init__(
        self,
        catalog: ConfiguredAirbyteCatalog | None = None,
        config: Mapping[str, Any] | None = None,
        state: list[AirbyteStateMessage] | None = None,
        **kwargs: Any,
    ) -> None:
        check_state(state)
        super().__init__(
            source_config=manifest_for(catalog),
            catalog=catalog,
            config=with_defaults(config),
            state=state,
            **kwargs,
        )
        factory = component_factory(self)
        self._build_tracker_retrievers(factory)
        self._build_schema_loaders(factory)
        guard_requesters(factory, cacheable)
        # The docs promise a STATE after every finished project: a sync stopped after 5 of 6
        # projects must not read the 5 again. The CDK holds states back for 600 s.
        emit_state_per_partition(factory)
        # The CDK queues up to 10,000 records for the main thread, which writes them out; workers
        # that parse pages faster than it writes fill that queue, tens of MB of records that buy
        # no speed. Two pages' worth keeps the workers busy and the memory flat.
        bound_record_queue(self, RECORD_QUEUE_SIZE)

    def _build_tracker_retrievers(self, factory: Any) -> None:
        """Builds every SimpleRetriever of the manifest as a components.TrackerRetriever.

        A CustomRetriever would have to redo the factory's wiring of a SimpleRetriever (cursor
        request options, paginator, partition router), which the CDK does not pass to custom
        classes; so the factory builds each SimpleRetriever as usual and the subclass adopts it,
        with the stream's cursor field for its progress log and `verified_pages_bound` from the
        manifest's parameters.
        """

        def adopting(build_simple: Any) -> Any:
            def build(model: SimpleRetrieverModel, config: Mapping[str, Any], **kwargs: Any) -> Any:
                return adopted(build_simple(model=model, config=config, **kwargs), model, config, kwargs)

            return build

        def adopted(
            retriever: Any, model: SimpleRetrieverModel, config: Mapping[str, Any], kwargs: Any
        ) -> Any:
            incremental = kwargs.get("incremental_sync")
            cursor_field = (
                InterpolatedString.create(str(incremental.cursor_field), parameters={}).eval(config)
                if incremental is not None
                else None
            )
            parameters = model.parameters or {}
            bound, key = parameters.get("verified_pages_bound"), parameters.get("verified_pages_key")
            return TrackerRetriever.adopt(retriever, bound, cursor_field, key)

        wrap_constructor(factory, SimpleRetrieverModel, adopting)

    def _build_schema_loaders(self, factory: Any) -> None:
        """InlineSchemaLoaders get the real schema where the manifest holds a placeholder."""

        def filling(build_inline: Any) -> Any:
            def build(model: InlineSchemaLoaderModel, config: Mapping[str, Any], **kwargs: Any) -> Any:
                schema = schema_for(model.schema_)
                if schema is not None:
                    model = model.copy(update={"schema_": schema})
                return build_inline(model=model, config=config, **kwargs)

            return build

        wrap_constructor(factory, InlineSchemaLoaderModel, filling)

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        check_catalog(catalog, parsed_manifest()["definitions"]["streams"])
        SKIPPED_PROJECTS.clear()
        self._sign_in()
        selected = self._fetch_projects_once()
        yield from honest_failure_type(self._read_catalog_streams(catalog))
        yield from SKIPPED_PROJECTS.report(selected)

    def _read_catalog_streams(self, catalog: ConfiguredAirbyteCatalog) -> Iterator[AirbyteMessage]:
        """ConcurrentDeclarativeSource.read, building only the streams the catalog names.

        The CDK's read builds all fourteen streams (each child with its own parent projects
        stream and request cache) and then picks the catalog's: most of the start-up of a
        one-stream read. A name that is not a stream of the manifest falls back to the CDK's
        way, which reports that stream INCOMPLETE.
        """
        yield from read_catalog_streams(self, catalog)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Within the check deadline (check_deadline.py), whatever the server does.

        When the deadline ends the check, its reason is the message: the CDK's would wrap it in
        "Encountered an error while checking availability of stream projects".
        """
        with check_deadline() as deadline:
            try:
                self._sign_in()
                status = super().check(logger, config)
            except AirbyteTracedException as error:
                if deadline.reason is None and error.failure_type == FailureType.config_error:
                    raise  # the CDK reports a config error as it always did
                return AirbyteConnectionStatus(status=Status.FAILED, message=deadline.reason or error.message)
            if deadline.reason is not None:
                return AirbyteConnectionStatus(status=Status.FAILED, message=deadline.reason)
            return status

    def _sign_in(self) -> None:
        """Streams are built from this config: with username/password, give them the token."""
        set_source_config(self, signed_in(source_config(self)))

    def _fetch_projects_once(self) -> list[Any]:
        """Reads GET /projects before the concurrent read starts.

        Every per-project stream lists the projects through its parent stream, whose responses
        the CDK caches; but a dozen streams starting at once all miss the empty cache. Read once
        first, every stream finds the list in the cache: one request per sync. Without the
        project list no stream can be read, so its failure (rejected credentials, retries
        exhausted) ends the sync here, after one attempt, rather than once per stream. Returns the
        ids of the projects the sync selected.
        """
        built = named_streams(self, [PARENT_STREAM])
        projects = next((s for s in built if s.name == PARENT_STREAM), None)
        if projects is None:
            return []
        read = [
            record.data.get("id")
            for partition in projects.generate_partitions()
            for record in partition.read()
        ]
        warn_unmatched_project_ids(source_config(self), read)
        return read
