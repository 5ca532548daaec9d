"""fast_output.py writes what the CDK's entrypoint writes, message for message (apart from emitted_at)."""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteControlConnectorConfigMessage,
    AirbyteControlMessage,
    AirbyteErrorTraceMessage,
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteRecordMessageFileReference,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStream,
    AirbyteStreamState,
    AirbyteTraceMessage,
    ConnectorSpecification,
    Level,
    OrchestratorType,
    Status,
    StreamDescriptor,
    SyncMode,
    TraceType,
    Type,
)
from airbyte_cdk.models.airbyte_protocol import AirbyteRecordMessageMeta
from airbyte_cdk.models.airbyte_protocol_serializers import ConfiguredAirbyteCatalogSerializer

from source_pivotal_tracker.runtime import fast_output
from source_pivotal_tracker.runtime.fast_output import FastRecordEntrypoint, item_line, record_to_string
from source_pivotal_tracker.source import SourcePivotalTracker
from unit_tests.conftest import _environ, catalog_for, stories_body
from unit_tests.tracker_fake import PROJECT_ID, ConfigBuilder, TrackerFake, TrackerResponse


def record(data: Any, stream: str = "stories", **fields: Any) -> AirbyteMessage:
    return AirbyteMessage(
        type=Type.RECORD,
        record=AirbyteRecordMessage(stream=stream, data=data, emitted_at=1_700_000_000_123, **fields),
    )


def state(stream: str, value: dict[str, Any], namespace: str | None = None) -> AirbyteMessage:
    descriptor = StreamDescriptor(name=stream, namespace=namespace)
    return AirbyteMessage(
        type=Type.STATE,
        state=AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(stream_descriptor=descriptor, stream_state=AirbyteStateBlob(value)),
        ),
    )


RECORDS = {
    "story": record(stories_body()[0]),
    "nested, unicode, floats": record(
        {
            "name": 'Ünïcødé ✓ \u2028 "quoted" \\',
            "points": 2.5,
            "tiny": 1e-300,
            "big": 1.7e308,
            "labels": [{"id": 1, "name": "ä", "extra": None}],
            "empty": {},
            "list": [],
            "flag": False,
            "zero": 0,
            "negative": -9_223_372_036_854_775_808,
        },
    ),  # fmt: skip
    "top-level None left out, nested kept": record({"a": None, "b": {"c": None}, "d": [None], "e": 0}),
    "every value None": record({"a": None}),
    "empty data": record({}),
    "namespace": record({"id": 1}, namespace="tracker"),
    "another stream": record({"id": 2, "kind": "label"}, stream="labels"),
    "meta (the CDK's way)": record({"id": 3}, meta=AirbyteRecordMessageMeta(changes=[])),
    "file reference (the CDK's way)": record(
        {"id": 4}, file_reference=AirbyteRecordMessageFileReference(staging_file_url="/tmp/x")
    ),
    "integer beyond 64 bits (the CDK's json fallback)": record({"id": 2**70}),
    "non-string key (the CDK's json fallback)": record({1: "one"}),
}
OTHERS = {
    "state": state("stories", {"1027488": {"created_at": "2024-01-01T00:00:00Z"}}),
    "state with namespace": state("stories", {"cursor": 1}, namespace="tracker"),
    "legacy state": AirbyteMessage(
        type=Type.STATE, state=AirbyteStateMessage(type=AirbyteStateType.LEGACY, data={"a": None})
    ),
    "trace error": AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.ERROR,
            emitted_at=1.5,
            error=AirbyteErrorTraceMessage(message="Ünïcødé failure", internal_message=None),
        ),
    ),
    "log": AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.WARN, message="Stream ✓ done")),
    "spec": AirbyteMessage(type=Type.SPEC, spec=ConnectorSpecification(connectionSpecification={"a": None})),
    "catalog": AirbyteMessage(
        type=Type.CATALOG,
        catalog=AirbyteCatalog(
            streams=[AirbyteStream(name="s", json_schema={}, supported_sync_modes=[SyncMode.full_refresh])]
        ),
    ),
    "connection status": AirbyteMessage(
        type=Type.CONNECTION_STATUS, connectionStatus=AirbyteConnectionStatus(status=Status.SUCCEEDED)
    ),
    "control": AirbyteMessage(
        type=Type.CONTROL,
        control=AirbyteControlMessage(
            type=OrchestratorType.CONNECTOR_CONFIG,
            emitted_at=2.0,
            connectorConfig=AirbyteControlConnectorConfigMessage(config={"k": "v"}),
        ),
    ),
    "a RECORD message with a log as well": AirbyteMessage(
        type=Type.RECORD,
        record=AirbyteRecordMessage(stream="s", data={"a": 1}, emitted_at=1),
        log=AirbyteLogMessage(level=Level.INFO, message="both"),
    ),
}


@pytest.mark.parametrize("message", [*RECORDS.values(), *OTHERS.values()], ids=[*RECORDS, *OTHERS])
def test_record_to_string_is_the_cdk_serialization(message: AirbyteMessage) -> None:
    assert record_to_string(message) == AirbyteEntrypoint.airbyte_message_to_string(message)


ITEMS = {name: message for name, message in RECORDS.items() if "meta" not in name and "namespace" not in name}


@pytest.mark.parametrize("message", ITEMS.values(), ids=ITEMS)
def test_an_export_item_line_is_the_cdk_serialization_of_its_record(message: AirbyteMessage) -> None:
    # What read_items gives: (stream, data, emitted_at[, file_reference]); no meta, no namespace.
    record = message.record
    assert record is not None
    parts = (record.stream, record.data, record.emitted_at)
    line = item_line(*parts, record.file_reference) if record.file_reference else item_line(*parts)
    text = line.decode() if isinstance(line, bytes) else line
    assert text == AirbyteEntrypoint.airbyte_message_to_string(message)


def test_records_take_the_fast_path_and_the_rest_the_cdk_path(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[AirbyteMessage] = []
    cdk = AirbyteEntrypoint.airbyte_message_to_string

    def spy(message: AirbyteMessage) -> str:
        taken.append(message)
        return cdk(message)

    monkeypatch.setattr(fast_output.AirbyteEntrypoint, "airbyte_message_to_string", staticmethod(spy))
    for message in [RECORDS["story"], RECORDS["namespace"], RECORDS["top-level None left out, nested kept"]]:
        record_to_string(message)
    assert taken == []
    record_to_string(RECORDS["meta (the CDK's way)"])
    record_to_string(OTHERS["state"])
    assert len(taken) == 2


def counted(handler: Any, messages: list[AirbyteMessage]) -> tuple[dict[Any, float], list[Any]]:
    counts: defaultdict[Any, float] = defaultdict(float)
    stats = []
    for message in messages:
        out = handler(message, counts)
        if out.type == Type.STATE:
            stats.append(out.state.sourceStats.recordCount)
    return dict(counts), stats


def test_record_counts_and_state_stats_are_the_cdk_ones() -> None:
    def sequence() -> list[AirbyteMessage]:
        return [
            record({"id": 1}),
            record({"id": 2}),
            record({"id": 3}, namespace="tracker"),
            record({"id": 4}, stream="labels"),
            state("stories", {"c": 1}),
            record({"id": 5}),
            state("stories", {"c": 2}),
            state("stories", {"c": 3}, namespace="tracker"),
            state("labels", {}),
            OTHERS["log"],
        ]

    ours = counted(FastRecordEntrypoint.handle_record_counts, sequence())
    assert ours == counted(AirbyteEntrypoint.handle_record_counts, sequence())
    assert ours[1] == [2.0, 1.0, 1.0, 1.0]


def lines_of(strings: list[Any]) -> list[str]:
    """The lines of what run() gives; an export read's runs of records come as bytes."""
    texts = [string.decode() if isinstance(string, bytes) else string for string in strings]
    return [line for text in texts for line in text.split("\n")]


def test_export_runs_hold_every_line_in_order_and_end_at_other_messages() -> None:
    lines: list[bytes | str] = [b'{"id":%d}' % n for n in range(250)]
    lines[120:120] = ["a state", "a log"]
    lines.append("a trace")

    strings = list(fast_output._encoded_batches(lines))

    assert lines_of(strings) == lines_of(lines)
    sizes = [len(lines_of([string])) for string in strings]
    assert sizes == [100, 20, 1, 1, 100, 30, 1]  # the state and the log alone, each after its records


def test_export_records_read_before_a_failure_are_written_before_it() -> None:
    def failing() -> Iterator[bytes | str]:
        yield b'{"id":1}'
        yield b'{"id":2}'
        raise RuntimeError("the read failed")

    runs = fast_output._encoded_batches(failing())
    assert lines_of([next(runs)]) == ['{"id":1}', '{"id":2}']
    with pytest.raises(RuntimeError, match="the read failed"):
        next(runs)


def without_emitted_at(line: str) -> Any:
    assert "\n" not in line  # one message per string, as run() writes it
    message = orjson.loads(line)
    for part in ("record", "trace", "control"):
        if part in message:
            message[part].pop("emitted_at", None)
    return message


def test_a_read_writes_what_the_cdk_entrypoint_writes(tracker: TrackerFake) -> None:
    """Stories, incremental (records, states, statuses), through both entrypoints' run()."""
    tracker.on(f"/projects/{PROJECT_ID}/stories", TrackerResponse.ok(stories_body()).paged(max_limit=25))
    config = ConfigBuilder().build()
    catalog = catalog_for("stories")
    outputs = []
    with tempfile.TemporaryDirectory() as tmp:
        config_path, catalog_path = Path(tmp) / "config.json", Path(tmp) / "catalog.json"
        config_path.write_text(json.dumps(config))
        catalog_path.write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(catalog)))
        args = ["read", "--config", str(config_path), "--catalog", str(catalog_path)]
        for entrypoint_class in (AirbyteEntrypoint, FastRecordEntrypoint):
            with tempfile.TemporaryDirectory() as cache, _environ("REQUEST_CACHE_PATH", cache):
                entrypoint = entrypoint_class(SourcePivotalTracker(catalog, config))
                outputs.append(list(entrypoint.run(entrypoint.parse_args(args))))
    cdk, ours = ([without_emitted_at(line) for line in output] for output in outputs)
    assert ours == cdk
    kinds = [message["type"] for message in ours]
    assert kinds.count("RECORD") == len(stories_body()) and "STATE" in kinds


def test_an_export_read_writes_what_the_cdk_entrypoint_writes(tmp_path: Path) -> None:
    """The export reader's messages (every stream of a rich export) through both entrypoints' run()."""
    from source_pivotal_tracker.exports.source import ExportSource
    from unit_tests.exports.reading import catalog as export_catalog
    from unit_tests.exports.test_exports_records import _rich_export

    config_path, catalog_path = tmp_path / "config.json", tmp_path / "catalog.json"
    config_path.write_text(json.dumps({"export_files": [str(_rich_export(tmp_path))]}))
    catalog_path.write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(export_catalog())))
    args = ["read", "--config", str(config_path), "--catalog", str(catalog_path)]
    outputs = []
    for entrypoint_class in (AirbyteEntrypoint, FastRecordEntrypoint):
        entrypoint = entrypoint_class(ExportSource())
        outputs.append(
            [without_emitted_at(line) for line in lines_of(list(entrypoint.run(entrypoint.parse_args(args))))]
        )
    assert outputs[1] == outputs[0]
    streams = {m["record"]["stream"] for m in outputs[1] if m["type"] == "RECORD"}
    assert len(streams) > 5
