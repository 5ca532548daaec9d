"""Memory bounded by the cell limit: no line is held whole much past it, however long it is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from source_pivotal_tracker.exports.csv_format import MAX_CELL_CHARS
from unit_tests.exports.builder import comment_cell, stories_csv, story
from unit_tests.exports.reading import read_export

REPO = Path(__file__).resolve().parents[2]
ONE_GB = 1 << 30
# The child reads one file through the connector and reports its own peak RSS: VmHWM, the high-water
# mark of its own memory map. (getrusage's ru_maxrss is not: Linux carries the parent's RSS at fork
# over the exec, so a child of a large pytest process reported the parent's 300 MB.)
CHILD = """
import json, re, sys
from pathlib import Path
from unit_tests.exports.reading import read_export
result = read_export([sys.argv[1]], ("stories",))
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
stories = len(result.records["stories"])
print(json.dumps({"errors": result.errors, "stories": stories, "peak_mb": peak_kb / 1024}))
"""


def test_a_1_gb_line_is_refused_naming_the_line_within_250_mb(tmp_path: Path) -> None:
    path = tmp_path / "one_line.csv"
    with path.open("wb") as out:  # streamed: the test holds 1 MB of it at a time
        out.write(b"Id,Title,Description\n1,Broken,")
        block = b"x" * (1 << 20)
        for _ in range(ONE_GB // len(block)):
            out.write(block)
        out.write(b"\n")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    report = json.loads(done.stdout.splitlines()[-1])

    assert report["peak_mb"] < 250, report
    assert report["stories"] == 0
    assert f"{path}, line 2: has a line longer than" in report["errors"][0]


def test_a_long_row_of_big_cells_on_one_line_still_reads(tmp_path: Path) -> None:
    # Three comments of 10 MB each: a 30 MB physical line, every cell under the cell limit.
    big = "c" * (10 * 1024 * 1024)
    comments = [comment_cell(big + str(n), "Ana", "Mar 3, 2020") for n in range(3)]
    path = tmp_path / "long_row.csv"
    path.write_bytes(stories_csv("D", [story(1), story(2, comments=comments), story(3)]))
    result = read_export([str(path)], ("stories", "comments"))

    assert result.errors == []
    assert [s["id"] for s in result.records["stories"]] == [1, 2, 3]
    texts = [c["text"] for c in result.records["comments"] if c["story_id"] == 2]
    assert texts == [big + str(n) for n in range(3)]


def test_a_quoted_cell_of_many_lines_past_the_line_limit_in_total_still_reads(tmp_path: Path) -> None:
    # A description near the cell limit made of short lines: many physical lines, one cell.
    description = ("a line of a long description\n" * (MAX_CELL_CHARS // 40)).rstrip("\n")
    path = tmp_path / "multi_line.csv"
    path.write_bytes(stories_csv("D", [story(1, description=description), story(2)]))
    result = read_export([str(path)], ("stories",))

    assert result.errors == []
    assert [s["description"] for s in result.records["stories"]][0] == description
    assert len(result.records["stories"]) == 2
