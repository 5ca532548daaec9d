"""Seams on ConcurrentDeclarativeSource's own state.

- `catalog-streams-only`: the CDK's read builds all fourteen streams, then picks the catalog's;
  `_streams_by_name` builds only the named ones (most of a one-stream read's start-up), and
  `_select_streams` / `_concurrent_source.read` are the CDK's read itself. `_streams_by_name`
  came with airbyte-cdk 7.39.1: on an older CDK of the supported range every stream is built, as
  the CDK's own read does (the same records, a slower start), so only its canary names it.
- `record-queue-bound`: the CDK queues up to 10,000 records for the main thread
  (`_concurrent_source._queue`); 1,000 keeps the workers busy and the memory flat.
- `source-config`: `_config` is the config every stream is built from; the username/password
  sign-in puts the API token there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from queue import Queue
from typing import Any

from airbyte_cdk.models import AirbyteMessage, ConfiguredAirbyteCatalog
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream

from .broken import code_names, require

STREAMS_SEAM = "catalog-streams-only"
QUEUE_SEAM = "record-queue-bound"
CONFIG_SEAM = "source-config"
# The first airbyte-cdk that builds streams by name (its canary expects it from there on).
STREAMS_BY_NAME_SINCE = "7.39.1"


def named_streams(source: ConcurrentDeclarativeSource, names: list[str]) -> list[AbstractStream]:
    """The streams of these names, built alone when the CDK can; else all of them."""
    built: list[AbstractStream] | None = source._streams_by_name(names) if builds_streams_by_name() else None
    return built if built is not None else source.streams(config=source_config(source))


def read_catalog_streams(
    source: ConcurrentDeclarativeSource, catalog: ConfiguredAirbyteCatalog
) -> Iterator[AirbyteMessage]:
    """ConcurrentDeclarativeSource.read, building only the streams the catalog names."""
    streams = named_streams(source, [configured.stream.name for configured in catalog.streams])
    selected = source._select_streams(streams=streams, configured_catalog=catalog)
    if selected:  # the CDK's concurrent read loops forever on no streams
        yield from source._concurrent_source.read(selected)


def bound_record_queue(source: ConcurrentDeclarativeSource, size: int) -> None:
    queue = getattr(getattr(source, "_concurrent_source", None), "_queue", None)
    require(QUEUE_SEAM, isinstance(queue, Queue), "ConcurrentDeclarativeSource._concurrent_source._queue")
    assert isinstance(queue, Queue)
    queue.maxsize = size


def record_queue_size(source: ConcurrentDeclarativeSource) -> int:
    return int(source._concurrent_source._queue.maxsize)


def source_config(source: ConcurrentDeclarativeSource) -> Mapping[str, Any]:
    config: Mapping[str, Any] = source._config
    return config


def set_source_config(source: ConcurrentDeclarativeSource, config: Mapping[str, Any]) -> None:
    source._config = config


def builds_streams_by_name() -> bool:
    """Whether the installed CDK builds streams one by one (7.39.1+), or only all at once."""
    return callable(getattr(ConcurrentDeclarativeSource, "_streams_by_name", None))


def check() -> None:
    require(
        STREAMS_SEAM,
        callable(getattr(ConcurrentDeclarativeSource, "_select_streams", None)),
        "ConcurrentDeclarativeSource._select_streams",
    )
    init = code_names(ConcurrentDeclarativeSource.__init__)
    require(STREAMS_SEAM, "_concurrent_source" in init, "ConcurrentDeclarativeSource._concurrent_source")
    require(QUEUE_SEAM, "_concurrent_source" in init, "ConcurrentDeclarativeSource._concurrent_source")
    require(CONFIG_SEAM, "_config" in init, "ConcurrentDeclarativeSource._config")
    read = code_names(ConcurrentDeclarativeSource.read)
    require(CONFIG_SEAM, "_config" in read, "ConcurrentDeclarativeSource.read building streams from _config")
