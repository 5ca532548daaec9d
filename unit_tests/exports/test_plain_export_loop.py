"""The benchmark's limit for export reads builds exactly the records the connector reads.

scripts/bench/plain_export_loop.py is the plain csv.reader + orjson loop that `make benchmark`
measures the connector against. It is a fair limit only if it does the same work: here both
read the same generated export ZIP and every stream's records must be equal, in order.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

from integration_tests.harness import REPO, write_export
from source_pivotal_tracker.exports.source import ExportSource
from unit_tests.exports.reading import catalog

PLAIN_LOOP = REPO / "scripts" / "bench" / "plain_export_loop.py"


def test_the_plain_export_loop_writes_the_connectors_records(tmp_path: Path) -> None:
    export = write_export(tmp_path, "--projects", "1", "--disabled-projects", "0", "--stories", "400")[0]
    done = subprocess.run([sys.executable, str(PLAIN_LOOP), str(export)], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    plain: dict[str, list[Any]] = defaultdict(list)
    for line in done.stdout.splitlines():
        record = orjson.loads(line)["record"]
        plain[record["stream"]].append(record["data"])

    ours: dict[str, list[Any]] = defaultdict(list)
    for item in ExportSource().read_items(logging.getLogger(), {"export_files": [str(export)]}, catalog()):
        if type(item) is tuple:
            stream, data, _ = item
            # As the protocol writes it: top-level nulls left out (fast_output.item_line).
            ours[stream].append({key: value for key, value in data.items() if value is not None})

    assert set(ours) == set(plain) and len(ours) == 11
    for stream, records in ours.items():
        assert plain[stream] == records, stream
    assert len(ours["comments"]) > 100 and len(ours["tasks"]) > 100 and ours["attachments"]
