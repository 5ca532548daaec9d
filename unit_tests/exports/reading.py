"""Reading synthetic exports in-process, through the CDK's entrypoint as the platform would."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, Status
from airbyte_cdk.test.entrypoint_wrapper import read

from source_pivotal_tracker.exports.source import EXPORT_STREAMS, ExportSource

LOGGER = logging.getLogger("airbyte")


@dataclass
class ExportRead:
    records: dict[str, list[dict[str, Any]]]
    errors: list[str]
    statuses: list[tuple[str, str]]
    logs: list[str]

    def without_export_file(self) -> dict[str, list[dict[str, Any]]]:
        """The records as another way in to the same files gives them: `export_file` aside."""
        return {
            stream: [{k: v for k, v in record.items() if k != "export_file"} for record in records]
            for stream, records in self.records.items()
        }

    def one(self, stream: str, **match: Any) -> dict[str, Any]:
        found = [r for r in self.records[stream] if all(r.get(k) == v for k, v in match.items())]
        assert len(found) == 1, f"{stream} {match}: {found}"
        return found[0]


def catalog(streams: tuple[str, ...] = EXPORT_STREAMS) -> Any:
    discovered = {s.name: s for s in ExportSource().discover(LOGGER, {}).streams}
    return ConfiguredAirbyteCatalogSerializer.load(
        {
            "streams": [
                {
                    "stream": {
                        "name": name,
                        "json_schema": discovered[name].json_schema,
                        "supported_sync_modes": ["full_refresh"],
                    },
                    "sync_mode": "full_refresh",
                    "destination_sync_mode": "overwrite",
                }
                for name in streams
            ]
        }
    )


def read_export(entries: list[str], streams: tuple[str, ...] = EXPORT_STREAMS, **options: Any) -> ExportRead:
    """`options`: other settings of the config, e.g. on_bad_rows="skip"."""
    output = read(ExportSource(), {"export_files": entries, **options}, catalog(streams))
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in output.records:
        records[message.record.stream].append(message.record.data)
    statuses = [
        (m.trace.stream_status.stream_descriptor.name, m.trace.stream_status.status.name)
        for m in output.trace_messages
        if m.trace.stream_status is not None
    ]
    return ExportRead(
        records=records,
        errors=[m.trace.error.message for m in output.errors],
        statuses=statuses,
        logs=[m.log.message for m in output.logs],
    )


def check_export(entries: list[str]) -> tuple[Status, str | None]:
    status = ExportSource().check(LOGGER, {"export_files": entries})
    return status.status, status.message
