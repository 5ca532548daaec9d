"""Reading synthetic exports in-process, and a file server on 127.0.0.1 for URL entries."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
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


def read_export(entries: list[str], streams: tuple[str, ...] = EXPORT_STREAMS) -> ExportRead:
    output = read(ExportSource(), {"export_files": entries}, catalog(streams))
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


@dataclass
class FileServer:
    """Serves `files` by path on 127.0.0.1; `failures[path]` answers that many 503s first."""

    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        assert self.server is not None
        return f"http://{host}:{self.server.server_address[1]}{path}"


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    served = FileServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            served.requests.append(self.path)
            if served.failures.get(path, 0) > 0:
                served.failures[path] -= 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            content = served.files.get(path)
            if content is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    served.server = server
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
