"""Composite cells: comment tails, dates with and without a time, priorities, file names."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from source_pivotal_tracker.exports.csv_format import layout_of, parse_comment, parse_date, parse_priority
from source_pivotal_tracker.exports.ids import project_id
from source_pivotal_tracker.exports.projects import Origin, export_identity
from unit_tests.exports.builder import stories_csv, story
from unit_tests.exports.reading import read_export


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Looks good (Georgia - Nov 22, 2014)", ("Looks good", "Georgia", "2014-11-22T00:00:00Z")),
        # The LAST tail is the author; the one before is text (a real 2019 export).
        (
            "Not working (Lisandro Montano -October 18, 2018) (Unknown - Mar 9, 2019)",
            ("Not working (Lisandro Montano -October 18, 2018)", "Unknown", "2019-03-09T00:00:00Z"),
        ),
        (
            "Mid (a - Jan 1, 2020) text (Li Wei - Feb 2, 2020)",
            ("Mid (a - Jan 1, 2020) text", "Li Wei", "2020-02-02T00:00:00Z"),
        ),
        # An attachment-only comment: empty text, kept.
        (" (Georgia - Mar 1, 2021)", ("", "Georgia", "2021-03-01T00:00:00Z")),
        (
            "multi\nline (see below)\n\ndone (Ana - Oct 6, 2019)",
            ("multi\nline (see below)\n\ndone", "Ana", "2019-10-06T00:00:00Z"),
        ),
        (
            "Jean - Luc was here (Jean - Luc - Oct 6, 2019)",
            ("Jean - Luc was here", "Jean - Luc", "2019-10-06T00:00:00Z"),
        ),
        # No tail, or something tail-like that is not one: all text, no author.
        ("Just text", ("Just text", None, None)),
        ("Ends in (parentheses)", ("Ends in (parentheses)", None, None)),
        ("Looks like (a - tail)", ("Looks like (a - tail)", None, None)),
        ("Bad date (Ana - Foo 40, 2019)", ("Bad date (Ana - Foo 40, 2019)", None, None)),
    ],
)
def test_comment_tail_is_parsed_by_the_last_author_and_date(cell: str, expected: tuple) -> None:
    assert parse_comment(cell) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Nov 22, 2014", "2014-11-22T00:00:00Z"),
        ("Oct 6, 2019", "2019-10-06T00:00:00Z"),
        ("October 6, 2019", "2019-10-06T00:00:00Z"),
        ("Sept 6, 2019", "2019-09-06T00:00:00Z"),
        ("Oct 6, 2019 3:04 PM", "2019-10-06T15:04:00Z"),
        ("Oct 6, 2019 12:04 am", "2019-10-06T00:04:00Z"),
        ("Oct 6, 2019, 15:04:05 UTC", "2019-10-06T15:04:05Z"),
        ("2019-10-06", "2019-10-06T00:00:00Z"),
        ("2019-10-06T15:04:05Z", "2019-10-06T15:04:05Z"),
        ("2019-10-06T17:04:05+02:00", "2019-10-06T15:04:05Z"),
        ("2019-10-06 15:04:05", "2019-10-06T15:04:05Z"),
        ("", None),
    ],
)
def test_dates_become_rfc3339_timestamps(value: str, expected: str | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value", ["Feb 30, 2020", "yesterday", "22/11/2014", "Oct 6, 2019 13:04 PM", "Foo 6, 2019"]
)
def test_an_unparseable_date_is_an_error_not_a_null(value: str) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        parse_date(value)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("p0 - Critical", "p0"),
        ("p2 - Medium", "p2"),
        ("P3 - Low", "p3"),
        ("None", "none"),
        ("", None),
        ("urgent", "urgent"),
    ],
)
def test_priority_uses_the_api_codes(cell: str, expected: str | None) -> None:
    assert parse_priority(cell) == expected


@pytest.mark.parametrize(
    ("container", "archive", "stories", "others", "name", "exported_at"),
    [
        ("web_app_20250324_144303-export.zip", True, [], [], "web_app", "2025-03-24T14:43:03Z"),
        ("tracker", False, ["project91_20191009_0939.csv"], [], "project91", "2019-10-09T09:39:00Z"),
        (
            "my_sample_project_20151117_1439-export.zip",
            True,
            ["stories.csv"],
            ["history.csv"],
            "my_sample_project",
            "2015-11-17T14:39:00Z",
        ),
        # A renamed ZIP, or a URL ending in an opaque key: the CSVs inside name the project.
        ("p1.zip", True, ["web_app_20250324_1443.csv"], ["x.csv"], "web_app", "2025-03-24T14:43:00Z"),
        ("3f9a8c7d", True, ["w/web_app_20250324_1443.csv"], [], "web_app", "2025-03-24T14:43:00Z"),
        ("p1.zip", True, ["web_app-export/stories.csv"], [], "p1", None),
        ("p1.zip", True, ["web_app_20250324_144303-export/s.csv"], [], "web_app", "2025-03-24T14:43:03Z"),
        ("web_app_20250324_144303-export", False, ["stories.csv"], [], "web_app", "2025-03-24T14:43:03Z"),
        # A folder of plain CSVs: each CSV names its own project, never the folder.
        ("unzipped", False, [], ["history.csv"], "history", None),
        ("tracker", False, ["Team Board.csv"], [], "Team Board", None),
        ("tracker", False, [], [], "tracker", None),
        # A second download of the same file, as browsers name it, is the same project.
        ("web_app_20250324_144303-export (1).zip", True, [], [], "web_app", "2025-03-24T14:43:03Z"),
        ("tracker", False, ["project91_20191009_0939 (12).csv"], [], "project91", "2019-10-09T09:39:00Z"),
        ("tracker", False, ["Team Board (2).csv"], [], "Team Board", None),
        ("export (2).zip", True, ["a.csv"], [], "export", None),
    ],
)
def test_an_exports_project_name_comes_from_the_first_name_made_as_tracker_made_them(
    container: str,
    archive: bool,
    stories: list[str],
    others: list[str],
    name: str,
    exported_at: str | None,
) -> None:
    origin = Origin(f"/somewhere/{container}", container, archive)
    found = export_identity(origin, stories, others).name
    assert (found.name, found.exported_at) == (name, exported_at)


def test_project_id_is_stable_and_fits_a_double() -> None:
    assert project_id("web_app") == project_id("web_app") != project_id("web_app2")
    assert 0 < project_id("web_app") < 2**53


def test_status_columns_pair_with_the_column_before_them() -> None:
    header = [
        "Id",
        "Title",
        "Task",
        "Task Status",
        "Task",
        "Blocker",
        "Blocker Status",
        "Reviewer",
        "Review Type",
    ]
    layout = layout_of(header)
    assert layout is not None and not isinstance(layout, type(None))
    assert layout.groups["tasks"] == ((2, 3), (4, None))
    assert layout.groups["blockers"] == ((5, 6),)
    assert layout.groups["reviews"] == ((7, 8, None),)


def test_headers_that_are_not_tracker_exports_are_not_recognised() -> None:
    assert layout_of(["Name", "Email"]) is None
    assert layout_of(["Id", "Summary"]) is None
    history = layout_of(["ID", "Type", "Message", "Performed By", "Occurred At"])
    assert history is not None and type(history).__name__ == "HistoryLayout"


def test_derived_ids_follow_the_documented_rule(tmp_path: Path) -> None:
    """docs/pivotal-tracker.md: (first 53 bits of BLAKE2b-64 of `comment:<story id>` + position) mod 2^53."""
    path = tmp_path / "web_app_20250324_1443.csv"
    path.write_bytes(stories_csv("E", [story(101, blockers=[("#1", "blocked")])]))
    result = read_export([str(path)])

    def documented(text: str) -> int:
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 11

    assert [c["id"] for c in result.records["comments"]] == [
        (documented("comment:101") + position) % 2**53 for position in (1, 2)
    ]
    assert [t["id"] for t in result.records["tasks"]] == [
        (documented("task:101") + p) % 2**53 for p in (1, 2)
    ]
    assert result.records["blockers"][0]["id"] == (documented("blocker:101") + 1) % 2**53
    web_app = documented("project:web_app")
    assert result.records["projects"][0]["id"] == web_app
    assert {label["id"] for label in result.records["labels"]} == {
        documented(f"label:{web_app}:backend"),
        documented(f"label:{web_app}:ui"),
    }
