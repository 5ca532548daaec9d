"""Several exports of one project read as one snapshot: each story, epic and history row once, from
the newest export that holds it; what only an older export holds still read."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from unit_tests.exports.builder import export_zip, header_and_rows, history_csv, stories_csv, story, write_csv
from unit_tests.exports.reading import ExportRead, read_export

OLD, NEW = "web_app_20240101_120000-export.zip", "web_app_20250101_120000-export.zip"


def _history(*versions: int) -> bytes:
    return history_csv(
        [
            [str(v), "story_update", f"change {v}", "Ana", f"2024-06-{v % 28 + 1:02d}T10:00:00Z"]
            for v in versions
        ]
    )


def _old_and_new(tmp_path: Path) -> tuple[Path, Path]:
    """The 2024 export: stories 1 (as it was), 2 (done since, left out of 2025's), epic 50.
    The 2025 export: story 1 changed (name, comment, task, label, iteration), story 3 new."""
    old = export_zip(
        tmp_path / OLD,
        stories_csv(
            "E",
            [
                story(1, name="Old name", labels=["legacy"], comments=[("old note", "Ana", "Jan 1, 2024")]),
                story(2, labels=["done"], iteration=1),
                story(50, story_type="epic", name="Epic then", labels=["epic-label"], owners=[], tasks=[]),
            ],
        ),
        _history(10, 11, 12),
        {"1/spec.pdf": b"v1", "2/shot.png": b"same"},
        stories_name="web_app_20240101_1200.csv",
    )
    new = export_zip(
        tmp_path / NEW,
        stories_csv(
            "E",
            [
                story(
                    1,
                    name="New name",
                    labels=["current"],
                    iteration=7,
                    comments=[("new note", "Li Wei", "Jan 2, 2025")],
                    tasks=[("Ship it", "completed")],
                ),
                story(3, iteration=7, labels=["current"]),
                story(50, story_type="epic", name="Epic now", labels=["epic-label"], owners=[], tasks=[]),
            ],
        ),
        _history(12, 13),
        {"1/spec.pdf": b"v2", "3/a.txt": b"a"},
        stories_name="web_app_20250101_1200.csv",
    )
    return old, new


def _by_id(result: ExportRead, stream: str) -> dict[int, dict]:
    records = result.records[stream]
    found = {r["id"]: r for r in records}
    assert len(found) == len(records), f"{stream}: a record twice"
    return found


def test_each_story_and_epic_comes_once_from_the_newest_export_that_holds_it(tmp_path: Path) -> None:
    old, new = _old_and_new(tmp_path)

    result = read_export([str(old), str(new)])

    assert result.errors == []
    stories = _by_id(result, "stories")
    assert sorted(stories) == [1, 2, 3]  # 2 is only in the older export: absence is not deletion
    assert stories[1]["name"] == "New name" and stories[1]["labels"] == [{"name": "current"}]
    assert {i: s["export_file"] for i, s in stories.items()} == {1: NEW, 2: OLD, 3: NEW}
    assert _by_id(result, "epics")[50]["name"] == "Epic now"
    # Comments, tasks and owners of a story are its newest export's, none of the older one's.
    comments = [(c.get("story_id"), c["text"], c["export_file"]) for c in result.records["comments"]]
    assert (1, "new note", NEW) in comments and not any(text == "old note" for _, text, _ in comments)
    assert [t["description"] for t in result.records["tasks"] if t["story_id"] == 1] == ["Ship it"]
    assert len(_by_id(result, "comments")) == len(comments)  # each comment once
    labels = {label["name"]: label["export_file"] for label in result.records["labels"]}
    assert labels == {"current": NEW, "epic-label": NEW, "done": OLD}  # "legacy" is no story's now
    (project,) = result.records["projects"]
    assert project["exported_at"] == "2025-01-01T12:00:00Z" and project["export_file"] == NEW


def test_the_order_the_exports_are_given_in_does_not_change_the_read(tmp_path: Path) -> None:
    old, new = _old_and_new(tmp_path)

    assert read_export([str(new), str(old)]).records == read_export([str(old), str(new)]).records


def test_history_of_every_export_is_joined_each_id_once(tmp_path: Path) -> None:
    old, new = _old_and_new(tmp_path)

    result = read_export([str(old), str(new)])

    versions = sorted((a["project_version"], a["export_file"]) for a in result.records["activity"])
    assert versions == [(10, OLD), (11, OLD), (12, NEW), (13, NEW)]


def test_attachments_are_kept_once_per_story_file_name_and_content(tmp_path: Path) -> None:
    old, new = _old_and_new(tmp_path)
    # A third export holding the older export's screenshot again, under a renamed ZIP.
    again = export_zip(
        tmp_path / "copy.zip", stories_csv("E", [story(2)]), attachments={"2/shot.png": b"same"}
    )

    result = read_export([str(old), str(new), str(again)])

    found = sorted((a["path"], a["sha256"]) for a in result.records["attachments"])
    sha = {content: hashlib.sha256(content).hexdigest() for content in (b"v1", b"v2", b"same", b"a")}
    # The story's file changed between the exports: both versions are kept, under their own sha256.
    assert found == sorted(
        [
            ("1/spec.pdf", sha[b"v1"]),
            ("1/spec.pdf", sha[b"v2"]),
            ("2/shot.png", sha[b"same"]),
            ("3/a.txt", sha[b"a"]),
        ]
    )


def test_iterations_come_from_the_newest_export(tmp_path: Path) -> None:
    old, new = _old_and_new(tmp_path)

    result = read_export([str(old), str(new)])

    assert [(i["number"], i["story_ids"], i["export_file"]) for i in result.records["iterations"]] == [
        (7, [1, 3], NEW)
    ]


def test_an_export_without_a_time_in_its_name_is_dated_by_its_newest_story_date(tmp_path: Path) -> None:
    dated = export_zip(
        tmp_path / "web_app_20240101_120000-export.zip",
        stories_csv("D", [story(1, name="Named 2024", accepted_at="Dec 1, 2023")]),
    )
    # Renamed, with plain names inside: its newest Accepted at (Mar 2025) makes it the newer.
    undated = export_zip(
        tmp_path / "p1.zip",
        stories_csv("D", [story(1, name="Accepted in 2025", accepted_at="Mar 5, 2025")]),
        stories_name="stories.csv",
    )

    result = read_export([str(dated), str(undated)])

    (only,) = result.records["stories"]
    assert (only["name"], only["export_file"]) == ("Accepted in 2025", "p1.zip")
    (project,) = result.records["projects"]
    assert project["name"] == "web_app"  # the name Tracker gave it, though the newest export lacks it


def test_one_export_read_alone_is_read_as_before(tmp_path: Path) -> None:
    # A story listed twice in one file is still read twice: only exports are merged, not rows.
    archive = export_zip(tmp_path / NEW, stories_csv("D", [story(1), story(1)]))

    result = read_export([str(archive)], ("stories",))

    assert [s["id"] for s in result.records["stories"]] == [1, 1]


def test_a_file_an_older_zip_holds_again_is_known_by_its_crc_and_not_read_again(tmp_path: Path) -> None:
    content = b"screenshot bytes " * 100
    newer = export_zip(tmp_path / NEW, stories_csv("D", [story(1)]), attachments={"1/shot.png": content})
    older = tmp_path / OLD
    with zipfile.ZipFile(older, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("stories.csv", stories_csv("D", [story(1)]))
        archive.writestr("1/shot.png", content)
    # Damage the older copy's bytes (its directory still declares the CRC of the good ones): read
    # again, it would fail its CRC check.
    data = older.read_bytes()
    at = data.index(content)
    older.write_bytes(data[:at] + b"X" + data[at + 1 :])

    result = read_export([str(older), str(newer)], ("attachments",))

    assert result.errors == []
    (only,) = result.records["attachments"]
    assert only["sha256"] == hashlib.sha256(content).hexdigest() and only["export_file"] == NEW


def test_an_older_export_whose_every_story_a_newer_one_holds_is_not_read_again(tmp_path: Path) -> None:
    old = export_zip(tmp_path / OLD, stories_csv("E", [story(1, name="Old"), story(2)]), _history(10))
    new = export_zip(
        tmp_path / NEW, stories_csv("E", [story(1, name="New"), story(2), story(3)]), _history(11)
    )

    result = read_export([str(old), str(new)])

    assert result.errors == []
    assert sorted((s["id"], s["export_file"]) for s in result.records["stories"]) == [
        (1, NEW),
        (2, NEW),
        (3, NEW),
    ]
    assert [log for log in result.logs if "not read again" in log] == [
        f"{old}!stories.csv: every story of it is in a newer export, not read again"
    ]
    assert sorted(a["project_version"] for a in result.records["activity"]) == [10, 11]  # its history is


def test_an_older_export_with_a_row_the_read_reports_is_read_whole(tmp_path: Path) -> None:
    header, rows = header_and_rows("D", [story(1), story(2)])
    rows[1][0] = "2x"  # an Id that is not an integer
    old = export_zip(tmp_path / OLD, write_csv(header, rows))
    new = export_zip(tmp_path / NEW, stories_csv("D", [story(1), story(2)]))

    result = read_export([str(old), str(new)], ("stories",))

    assert len(result.errors) == 2 and "line 3: Id '2x' is not an integer" in result.errors[0]
