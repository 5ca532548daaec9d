"""on_bad_rows: fail (the default) stops at an unreadable row; skip leaves it out, warns, reads on."""

from __future__ import annotations

from pathlib import Path

from unit_tests.exports.builder import export_zip, history_csv, stories_csv, story
from unit_tests.exports.reading import read_export

# A merge conflict committed into an export, as found in a public repository: the stories CSV was
# versioned, two branches changed it, and the markers were committed with both sides' rows.
# 43 good rows, 6 marker lines; the first marker is line 2, right after the header.
CONFLICT_SHAPE = (
    "<<<<<<< HEAD",
    20,
    "=======",
    10,
    ">>>>>>> origin/master",
    5,
    "<<<<<<< HEAD",
    4,
    "=======",
    4,
    ">>>>>>> origin/master",
)


def conflicted(content: bytes) -> tuple[bytes, list[int]]:
    """The CSV's rows with the markers laid among them; and the markers' line numbers."""
    header, *rows = content.decode().splitlines(keepends=True)
    lines, markers = [header], []
    for part in CONFLICT_SHAPE:
        if isinstance(part, str):
            lines.append(part + "\n")
            markers.append(len(lines))
        else:
            lines += rows[:part]
            rows = rows[part:]
    assert not rows
    return "".join(lines).encode(), markers


def _stories(tmp_path: Path) -> tuple[Path, list[int]]:
    content, markers = conflicted(stories_csv("E", [story(n, labels=[f"l{n}"]) for n in range(1, 44)]))
    path = tmp_path / "web_app_20200310_101010.csv"
    path.write_bytes(content)
    return path, markers


def test_by_default_a_conflict_marker_fails_the_file_naming_line_2(tmp_path: Path) -> None:
    path, _ = _stories(tmp_path)
    result = read_export([str(path)])

    assert result.errors and f"{path}, line 2: Id '<<<<<<< HEAD' is not an integer" in result.errors[0]
    assert ("stories", "INCOMPLETE") in result.statuses


def test_skip_reads_the_43_good_rows_of_a_merge_conflicted_export(tmp_path: Path) -> None:
    path, markers = _stories(tmp_path)
    result = read_export([str(path)], on_bad_rows="skip")

    assert result.errors == []
    assert sorted(s["id"] for s in result.records["stories"]) == list(range(1, 44))
    assert len(result.records["comments"]) == 43 * 2
    warnings = [log for log in result.logs if "row skipped" in log]
    assert warnings == [
        f"{path}, line {line}: row skipped (Id {marker!r} is not an integer)"
        for line, marker in zip(markers, [p for p in CONFLICT_SHAPE if isinstance(p, str)], strict=True)
    ]
    assert "6 rows skipped in 1 file" in result.logs
    assert ("stories", "COMPLETE") in result.statuses


def test_skip_leaves_out_a_history_row_and_sums_up_both_files(tmp_path: Path) -> None:
    stories, _ = _stories(tmp_path)
    rows = [[str(n), "story_update", f"Ana edited story {n}", "Ana", "Mar 3, 2020"] for n in range(1, 6)]
    rows.insert(2, ["7", "story_update", "when?", "Ana", "yesterday"])
    history = tmp_path / "web_app_20200310_101010_history.csv"
    history.write_bytes(history_csv(rows))
    result = read_export([str(stories), str(history)], on_bad_rows="skip")

    assert result.errors == []
    assert [a["project_version"] for a in result.records["activity"]] == [1, 2, 3, 4, 5]
    assert f"{history}, line 4: row skipped ('yesterday' is not a date" in "\n".join(result.logs)
    assert "7 rows skipped in 2 files" in result.logs


def test_a_skipped_row_adds_nothing_to_labels_or_iterations(tmp_path: Path) -> None:
    bad = story(2, labels=["only-on-the-bad-row"], iteration=9, created_at="Feb 31, 2020")
    path = tmp_path / "stories.csv"
    path.write_bytes(stories_csv("D", [story(1), bad, story(3)]))
    result = read_export([str(path)], on_bad_rows="skip")

    assert [s["id"] for s in result.records["stories"]] == [1, 3]
    assert "only-on-the-bad-row" not in {label["name"] for label in result.records["labels"]}
    assert [i["number"] for i in result.records["iterations"]] == [3]


def test_skip_still_fails_a_file_whose_quoting_swallows_the_rest(tmp_path: Path) -> None:
    content = stories_csv("D", [story(n) for n in range(1, 6)])
    broken = content.replace(b",Story 3,", b',"Story 3,', 1)  # a quote never closed
    damaged = export_zip(tmp_path / "damaged.zip", broken)
    good = tmp_path / "good.csv"
    good.write_bytes(stories_csv("D", [story(10)]))
    result = read_export([str(damaged), str(good)], on_bad_rows="skip")

    assert result.errors and f"{damaged}!stories.csv, line" in result.errors[0]
    assert "unreadable row" in result.errors[0]
    assert 10 in {s["id"] for s in result.records["stories"]}
    assert ("stories", "INCOMPLETE") in result.statuses


def test_the_spec_offers_on_bad_rows_fail_by_default() -> None:
    from source_pivotal_tracker.runtime.spec_source import connector_spec

    option = connector_spec().connectionSpecification["properties"]["on_bad_rows"]
    assert option["enum"] == ["fail", "skip"] and option["default"] == "fail"
