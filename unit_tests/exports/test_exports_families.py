"""Every header family (2010-2025) and every CSV mechanic read into the API's field names."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from unit_tests.exports.builder import FAMILIES, header_and_rows, stories_csv, story, write_csv
from unit_tests.exports.reading import read_export


def _write(tmp_path: Path, content: bytes, name: str = "web_app_20250324_1443.csv") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_header_family_reads_stories_with_owners_comments_and_labels(
    tmp_path: Path, family: str
) -> None:
    stories = [
        story(101, owners=["Georgia", "Li Wei", "Ana"]),
        story(
            102,
            labels=[],
            comments=[],
            tasks=[],
            owners=[],
            estimate="",
            accepted_at="",
            current_state="started",
        ),
    ]
    result = read_export([_write(tmp_path, stories_csv(family, stories))])

    assert result.errors == []
    assert any(log.endswith(": 2 rows read (project web_app)") for log in result.logs)
    first = result.one("stories", id=101)
    assert first["name"] == "Story 101"
    assert first["story_type"] == "feature"
    assert first["current_state"] == "accepted"
    assert first["estimate"] == 2
    assert first["created_at"] == "2020-02-28T00:00:00Z"
    assert first["accepted_at"] == "2020-03-05T00:00:00Z"
    assert first["requested_by"] == {"name": "Karl Anderson"}
    assert first["labels"] == [{"name": "backend"}, {"name": "ui"}]
    assert first["url"] == "https://www.pivotaltracker.com/story/show/101"
    # Families A and B had one `Owned By` column; C-E repeat it.
    expected_owners = ["Georgia"] if family in ("A", "B") else ["Georgia", "Li Wei", "Ana"]
    assert [o["name"] for o in first["owners"]] == expected_owners
    assert first.get("story_priority") == ("p2" if family == "E" else None)
    second = result.one("stories", id=102)
    assert second["labels"] == [] and second["owners"] == [] and second.get("estimate") is None
    assert second.get("accepted_at") is None
    comments = [c for c in result.records["comments"] if c["story_id"] == 101]
    assert [(c["text"], c["person"]["name"], c["created_at"]) for c in comments] == [
        ("First look", "Georgia", "2020-03-03T00:00:00Z"),
        ("Done 👍", "Li Wei", "2020-03-04T00:00:00Z"),
    ]
    tasks = result.records["tasks"]
    if family in ("D", "E"):
        assert [(t["description"], t["complete"], t["position"]) for t in tasks] == [
            ("Write it", True, 1),
            ("Test it", False, 2),
        ]
    else:
        assert tasks == []
    assert {label["name"] for label in result.records["labels"]} == {"backend", "ui"}
    (iteration,) = result.records["iterations"]
    assert iteration["number"] == 3 and iteration["story_ids"] == [101, 102]
    assert iteration["start"] == "2020-03-02T00:00:00Z" and iteration["finish"] == "2020-03-09T00:00:00Z"


def test_family_e_reads_blockers_pull_requests_branches_and_reviews(tmp_path: Path) -> None:
    rich = story(
        200,
        blockers=[("#201", "resolved"), ("waiting for design", "blocked")],
        pull_requests=["https://github.com/acme/web/pull/42", "not a url"],
        branches=["feature/login"],
        reviews=[("Georgia", "Code", "pass")],
        priority="None",
    )
    result = read_export([_write(tmp_path, stories_csv("E", [rich, story(201)]))])

    assert result.errors == []
    record = result.one("stories", id=200)
    assert record["story_priority"] == "none"
    assert record["pull_requests"][0] == {
        "original_url": "https://github.com/acme/web/pull/42",
        "host_url": "https://github.com/",
        "owner": "acme",
        "repo": "web",
        "number": 42,
    }
    assert record["pull_requests"][1]["original_url"] == "not a url"
    assert record["branches"] == [{"name": "feature/login"}]
    assert record["reviews"] == [
        {"reviewer": {"name": "Georgia"}, "review_type": {"name": "Code"}, "status": "pass"}
    ]
    blockers = sorted(result.records["blockers"], key=lambda b: b["description"])
    assert [(b["description"], b["resolved"], b.get("blocking_story_id")) for b in blockers] == [
        ("#201", True, 201),
        ("waiting for design", False, None),
    ]


def test_epic_rows_become_epics_never_stories_and_releases_feed_both(tmp_path: Path) -> None:
    epic = story(
        42,
        name="Checkout",
        story_type="epic",
        labels=["checkout"],
        current_state="",
        requested_by="",
        iteration="",
        iteration_start="",
        iteration_end="",
        owners=[],
        tasks=[],
        url="https://www.pivotaltracker.com/epic/show/42",
        comments=[("Scope agreed", "Georgia", "Jan 5, 2020")],
    )
    release = story(
        300, story_type="release", deadline="Apr 1, 2020", current_state="unstarted", accepted_at=""
    )
    result = read_export([_write(tmp_path, stories_csv("D", [epic, story(42 + 10**8), release]))])

    assert result.errors == []
    assert [s["id"] for s in result.records["stories"]] == [42 + 10**8, 300]
    (epic_record,) = result.records["epics"]
    assert epic_record["id"] == 42 and epic_record["name"] == "Checkout"
    assert epic_record["label"] == {"name": "checkout"}
    assert epic_record["url"].endswith("/epic/show/42")
    epic_comment = result.one("comments", epic_id=42)
    assert epic_comment["text"] == "Scope agreed" and "story_id" not in epic_comment
    (release_record,) = result.records["releases"]
    assert release_record["kind"] == "release" and release_record["id"] == 300
    assert release_record["deadline"] == "2020-04-01T00:00:00Z"
    assert "checkout" in {label["name"] for label in result.records["labels"]}


def test_ragged_and_padded_rows_read_alike(tmp_path: Path) -> None:
    stories = [
        story(1, owners=["A", "B", "C"], tasks=[]),
        story(2, owners=["A"], comments=[], tasks=[("t", "")]),
    ]
    padded = read_export([_write(tmp_path, stories_csv("D", stories), "padded.csv")])
    ragged_content = stories_csv("D", stories, ragged=True)
    widths = [len(row) for row in csv.reader(io.StringIO(ragged_content.decode()))]
    assert widths[2] < widths[0]
    ragged = read_export([_write(tmp_path, ragged_content, "padded.csv")])

    assert padded.errors == ragged.errors == []
    assert padded.records == ragged.records
    assert ragged.one("tasks", story_id=2).get("complete") is None


@pytest.mark.parametrize(
    ("line_ending", "delimiter", "bom"),
    [("\r\n", ",", False), ("\n", ",", True), ("\r\n", ";", True), ("\n", "\t", False)],
    ids=["crlf", "bom", "semicolon-resave", "tab"],
)
def test_line_endings_bom_and_spreadsheet_delimiters(
    tmp_path: Path, line_ending: str, delimiter: str, bom: bool
) -> None:
    stories = [story(7, description="line one\nline two; with, commas\ttabs", name="Émoji 😀 title")]
    content = stories_csv("E", stories, line_ending=line_ending, delimiter=delimiter, bom=bom)
    result = read_export([_write(tmp_path, content)])

    assert result.errors == []
    record = result.one("stories", id=7)
    assert record["name"] == "Émoji 😀 title"
    # Inside a quoted cell the line break is kept as written, whatever ends the rows.
    assert record["description"] == "line one\nline two; with, commas\ttabs"
    assert [c["text"] for c in result.records["comments"]] == ["First look", "Done 👍"]


def test_a_cell_larger_than_the_csv_default_limit_is_read_whole(tmp_path: Path) -> None:
    huge = "x" * 300_000
    result = read_export([_write(tmp_path, stories_csv("D", [story(8, description=huge)]))])

    assert result.errors == []
    assert result.one("stories", id=8)["description"] == huge


def test_leading_apostrophe_and_equals_are_kept(tmp_path: Path) -> None:
    stories = [story(9, name="'No tasks' doesn't go away", description="=SUM(A1:A2)", labels=["=x"])]
    result = read_export([_write(tmp_path, stories_csv("A", stories))])

    record = result.one("stories", id=9)
    assert record["name"] == "'No tasks' doesn't go away"
    assert record["description"] == "=SUM(A1:A2)"
    assert record["labels"] == [{"name": "=x"}]


def test_columns_match_by_name_in_any_case_and_order(tmp_path: Path) -> None:
    header, rows = header_and_rows("D", [story(10)])
    order = list(reversed(range(len(header))))
    shuffled_header = [header[i].upper() for i in order]
    content = write_csv(shuffled_header, [[row[i] for i in order] for row in rows])
    result = read_export([_write(tmp_path, content)])

    assert result.errors == []
    record = result.one("stories", id=10)
    assert record["name"] == "Story 10" and record["story_type"] == "feature"
    # Repeated groups keep column order: reversed columns reverse the comments.
    assert [c["text"] for c in result.records["comments"]] == ["Done 👍", "First look"]


def test_blank_lines_and_rows_of_empty_cells_are_not_stories(tmp_path: Path) -> None:
    content = stories_csv("D", [story(11)]) + b"\n,,,,\n"
    result = read_export([_write(tmp_path, content)])

    assert result.errors == []
    assert [s["id"] for s in result.records["stories"]] == [11]


def test_unknown_columns_are_reported_in_the_log(tmp_path: Path) -> None:
    header, rows = header_and_rows("D", [story(12)])
    content = write_csv([*header, "Follower"], [[*rows[0], "Ana"]])
    result = read_export([_write(tmp_path, content)])

    assert result.errors == []
    assert any("Follower" in log and "not read" in log for log in result.logs)
