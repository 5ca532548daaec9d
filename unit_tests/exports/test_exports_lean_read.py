"""An export read through the installed command writes what the CDK's own entrypoint writes.

The command writes export records without an AirbyteMessage per record and outside the CDK's
print buffer (fast_output.py: read_items, item_line, write_records). Here the same export is read
once by `source-pivotal-tracker read` and once by the CDK's `launch()` over the same ExportSource,
both as processes, and their stdout is compared message for message (emitted_at aside).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from integration_tests.harness import CONNECTOR, configured_catalog, run_connector
from unit_tests.exports.test_exports_records import _rich_export

CDK_LAUNCH = (
    "import sys\n"
    "from airbyte_cdk.entrypoint import launch\n"
    "from source_pivotal_tracker.exports.source import ExportSource\n"
    "launch(ExportSource(), sys.argv[1:])\n"
)


def _messages(stdout: str) -> list[Any]:
    messages = []
    for line in stdout.splitlines():
        message = orjson.loads(line)
        for part in ("record", "trace", "control"):
            if part in message:
                message[part].pop("emitted_at", None)
        if message["type"] == "LOG" and message["log"]["level"] == "FATAL":
            # The uncaught exception's log ends with its traceback: the two programs' frames.
            message["log"]["message"] = message["log"]["message"].split("\nTraceback")[0]
        if "trace" in message and "error" in message["trace"]:
            message["trace"]["error"].pop("stack_trace", None)
            message["trace"]["error"].pop("internal_message", None)
        messages.append(message)
    return messages


def _both(tmp_path: Path, config: dict[str, Any]) -> tuple[list[Any], list[Any], tuple[int, int]]:
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(configured_catalog(discovered, incremental=False)))
    args = ["read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")]
    runs = [
        subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        for command in ([CONNECTOR, *args], [sys.executable, "-c", CDK_LAUNCH, *args])
    ]
    ours, cdk = (_messages(run.stdout) for run in runs)
    return ours, cdk, (runs[0].returncode, runs[1].returncode)


def test_an_export_read_writes_every_message_the_cdk_entrypoint_writes(tmp_path: Path) -> None:
    ours, cdk, exit_codes = _both(tmp_path, {"export_files": [str(_rich_export(tmp_path))]})
    assert exit_codes == (0, 0)
    assert ours == cdk
    kinds = [message["type"] for message in ours]
    assert kinds.count("RECORD") > 20 and "TRACE" in kinds and "LOG" in kinds


def test_a_failing_export_read_writes_every_message_the_cdk_entrypoint_writes(tmp_path: Path) -> None:
    config = {"export_files": [str(_rich_export(tmp_path)), str(tmp_path / "missing.zip")]}
    ours, cdk, exit_codes = _both(tmp_path, config)
    assert exit_codes[0] != 0 and exit_codes[1] != 0
    assert ours == cdk
    statuses = [
        m["trace"]["stream_status"]["status"]
        for m in ours
        if m["type"] == "TRACE" and "stream_status" in m["trace"]
    ]
    assert "INCOMPLETE" in statuses
    assert any(m["type"] == "RECORD" for m in ours)


def test_many_records_keep_their_order_around_status_messages(tmp_path: Path) -> None:
    """Runs of records (bytes, outside the print buffer) and statuses (through it) interleave in order."""
    from unit_tests.exports.builder import export_zip, history_csv, stories_csv, story

    stories = [story(n, comments=["a (Ana - Jan 1, 2020)"] * 3) for n in range(1, 700)]
    export = export_zip(
        tmp_path / "big_20250101_120000-export.zip",
        stories_csv("E", stories),
        history_csv([["1", "story_update", "x", "Ana", "2024-01-01T00:00:00Z"]]),
        {},
    )
    ours, cdk, exit_codes = _both(tmp_path, {"export_files": [str(export)]})
    assert exit_codes == (0, 0)
    assert ours == cdk
    assert sum(message["type"] == "RECORD" for message in ours) > 2000
