"""Facts of real exports (docs/pivotal-tracker.md, "Reading exports") that the family tests leave out.

Every fixture is synthetic, shaped like the real files: Tracker's import template header, a file
cut without a final newline, history times of an unknown format, `-1` estimates, epics outside
the stories CSV, comment authors whose names hold parentheses, and what a spreadsheet's re-save
does to dates and to the encoding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from source_pivotal_tracker.exports.csv_format import parse_comment, parse_date
from unit_tests.exports.builder import header_and_rows, history_csv, stories_csv, story, write_csv
from unit_tests.exports.reading import read_export


def _write(tmp_path: Path, content: bytes, name: str = "web_app_20250324_1443.csv") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_the_import_template_header_without_iteration_and_url_columns_is_read(tmp_path: Path) -> None:
    # Tracker's own import template (projects seeded from it were exported with its shape), with
    # its example row: two `Note` columns, a label cell without a space after the comma.
    content = (
        b"Id,Story,Labels,Story Type,Estimate,Current State,Created at,Accepted at,Deadline,"
        b"Requested By,Owned By,Description,Note,Note\n"
        b'100,existing started story,"label one,label two",feature,1,started,"Nov 22, 2007",,,'
        b"user1,user2,this will update story 100,,\n"
    )
    result = read_export([_write(tmp_path, content)])

    assert result.errors == []
    record = result.one("stories", id=100)
    assert record["name"] == "existing started story"
    assert record["labels"] == [{"name": "label one"}, {"name": "label two"}]
    assert record["created_at"] == "2007-11-22T00:00:00Z"
    assert record["owners"] == [{"name": "user2"}]
    assert record.get("url") is None and result.records["iterations"] == []
    assert result.records["comments"] == []


def test_a_file_without_a_final_newline_keeps_its_last_row(tmp_path: Path) -> None:
    content = stories_csv("D", [story(1), story(2, comments=[("Last words", "Ana", "Mar 9, 2021")])])
    result = read_export([_write(tmp_path, content.rstrip(b"\n"))])

    assert result.errors == []
    assert [s["id"] for s in result.records["stories"]] == [1, 2]
    assert result.one("comments", story_id=2)["text"] == "Last words"


def test_dates_with_a_leading_zero_day_read_like_trackers_own(tmp_path: Path) -> None:
    # Shortcut reads dates with strptime("%b %d, %Y"): a re-written file may carry `Mar 05, 2020`.
    content = stories_csv(
        "D", [story(3, accepted_at="Mar 05, 2020", comments=[("x", "Ana", "Mar 04, 2020")])]
    )
    result = read_export([_write(tmp_path, content)])

    assert result.one("stories", id=3)["accepted_at"] == "2020-03-05T00:00:00Z"
    assert result.one("comments", story_id=3)["created_at"] == "2020-03-04T00:00:00Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Ruby's Time#to_s, what a Rails app writes for a time it does not format.
        ("2025-03-24 14:43:03 UTC", "2025-03-24T14:43:03Z"),
        ("2025-03-24 14:43:03 GMT", "2025-03-24T14:43:03Z"),
        ("2025-03-24 07:43:03 -0700", "2025-03-24T14:43:03Z"),
        # Tracker's own date with a time and a numeric offset.
        ("Mar 24, 2025 2:43 PM +0100", "2025-03-24T13:43:00Z"),
        ("Mar 24, 2025, 14:43:03 -07:00", "2025-03-24T21:43:03Z"),
        ("Mar 24, 2025 2:43 PM UTC", "2025-03-24T14:43:00Z"),
    ],
)
def test_history_times_of_the_plausible_forms_are_read_in_utc(value: str, expected: str) -> None:
    assert parse_date(value) == expected


def test_a_history_csv_with_rails_times_reads_as_activity(tmp_path: Path) -> None:
    content = history_csv([["7", "story_update", "Ana edited it", "Ana", "2025-03-24 14:43:03 UTC"]])
    result = read_export([_write(tmp_path, content, "web_app_20250324_1443_history.csv")])

    assert result.errors == []
    assert result.one("activity", project_version=7)["occurred_at"] == "2025-03-24T14:43:03Z"


def test_an_estimate_of_minus_one_is_unestimated(tmp_path: Path) -> None:
    # Tracker's older APIs wrote -1 for "no estimate"; no sample shows it in a CSV, so both read.
    content = stories_csv("C", [story(4, estimate="-1"), story(5, estimate=""), story(6, estimate="0")])
    result = read_export([_write(tmp_path, content)])

    assert result.errors == []
    assert result.one("stories", id=4).get("estimate") is None
    assert result.one("stories", id=5).get("estimate") is None
    assert result.one("stories", id=6)["estimate"] == 0


def test_an_estimate_that_is_not_a_number_is_an_error_naming_the_column(tmp_path: Path) -> None:
    path = _write(tmp_path, stories_csv("D", [story(4, estimate="two")]))
    result = read_export([path])

    assert result.errors and f"{path}, line 2: Estimate 'two' is not a number" in result.errors[0]


def test_epic_rows_without_a_type_are_known_by_their_epic_url(tmp_path: Path) -> None:
    # Whether a full export also held a separate epics CSV, and its columns, is not known: an epic
    # row is one whose Type says `epic`, or, where the Type is blank or absent, whose URL is an epic's.
    header, rows = header_and_rows("D", [story(7, story_type="", labels=["checkout"])])
    url = header.index("URL")
    blank_type = list(rows[0])
    blank_type[0], blank_type[url] = "2195568", "https://www.pivotaltracker.com/epic/show/2195568"
    story_row = list(rows[0])
    story_row[0], story_row[url] = "108574082", "https://www.pivotaltracker.com/story/show/108574082"
    stories_file = _write(tmp_path, write_csv(header, [blank_type, story_row]))
    epics_only = write_csv(
        ["Id", "Title", "Labels", "Created at", "Description", "URL"],
        [
            [
                "2195570",
                "Search",
                "search",
                "Nov 2, 2015",
                "Find it",
                "https://www.pivotaltracker.com/epic/show/2195570",
            ]
        ],
    )
    result = read_export([stories_file, _write(tmp_path, epics_only, "web_app_20250324_1443_epics.csv")])

    assert result.errors == []
    assert [(e["id"], e["label"]) for e in result.records["epics"]] == [
        (2195568, {"name": "checkout"}),
        (2195570, {"name": "search"}),
    ]
    assert [s["id"] for s in result.records["stories"]] == [108574082]
    assert {c.get("epic_id") for c in result.records["comments"]} == {2195568, None}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Shipped (Ana (QA) - Mar 9, 2019)", ("Shipped", "Ana (QA)", "2019-03-09T00:00:00Z")),
        (
            "See (this) (Li Wei (contractor) - Oct 6, 2019)",
            ("See (this)", "Li Wei (contractor)", "2019-10-06T00:00:00Z"),
        ),
        # An unbalanced name still reads by the last `(`.
        ("Nice (Ana :) - Mar 9, 2019)", ("Nice", "Ana :)", "2019-03-09T00:00:00Z")),
    ],
)
def test_comment_authors_whose_names_hold_parentheses(cell: str, expected: tuple) -> None:
    assert parse_comment(cell) == expected


def test_dates_a_spreadsheet_rewrote_with_a_month_name_still_read(tmp_path: Path) -> None:
    # Excel takes `Nov 22, 2014` for a date and saves it back as it shows it: `22-Nov-14`. Dates
    # inside comment cells are text to it, and stay as Tracker wrote them.
    resaved = story(8, created_at="22-Nov-14", accepted_at="3 Mar 2020", iteration_start="2-Mar-2020")
    result = read_export([_write(tmp_path, stories_csv("D", [resaved], line_ending="\r\n"))])

    assert result.errors == []
    record = result.one("stories", id=8)
    assert (record["created_at"], record["accepted_at"]) == ("2014-11-22T00:00:00Z", "2020-03-03T00:00:00Z")
    assert result.records["iterations"][0]["start"] == "2020-03-02T00:00:00Z"


@pytest.mark.parametrize("value", ["11/22/2014", "22.11.2014", "22-Foo-14", "32-Nov-14"])
def test_numeric_or_impossible_day_month_dates_stay_errors(value: str) -> None:
    # 11/12/2014 could be either month first or day first: which one is not guessed.
    with pytest.raises(ValueError, match="is not a date"):
        parse_date(value)


def test_a_csv_a_spreadsheet_saved_in_a_windows_code_page_is_an_error_saying_what_to_do(
    tmp_path: Path,
) -> None:
    # Excel's plain "CSV" on Windows saves in the ANSI code page (emoji become `?`): which page
    # is not guessed.
    content = stories_csv("D", [story(9, name="Café")]).decode().encode("cp1252", errors="replace")
    path = _write(tmp_path, content)
    result = read_export([path])

    assert result.errors and f"{path}, line 2: is not valid UTF-8" in result.errors[0]
    assert "CSV UTF-8" in result.errors[0]
