""".xlsx re-saves: a workbook's first sheet reads as the CSV it was saved from, field for field."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import Status

from integration_tests.harness import write_export
from source_pivotal_tracker.exports import inputs
from source_pivotal_tracker.exports.source import EXPORT_STREAMS
from unit_tests.exports.builder import FAMILIES, history_csv, stories_csv, story, xlsx_copy
from unit_tests.exports.reading import check_export, read_export

HISTORY = history_csv(
    [
        ["101", "story_update", 'Ana accepted "Login"', "Ana", "2020-03-05T10:11:12Z"],
        ["102", "comment_create", 'Li Wei added a comment:\n"two\nlines"', "Li Wei", "2020-03-05T23:59:59Z"],
        ["103", "story_create", "", "", "Mar 6, 2020"],
    ]
)


def _stories() -> list[dict[str, object]]:
    """Cells a spreadsheet turns into numbers and dates, and cells it must leave alone."""
    return [
        story(1001),
        story(1002, estimate=0.5, deadline="Apr 1, 2020", description="two\nlines\n\nand a gap"),
        story(1003, estimate="", accepted_at="", labels=[], owners=[], comments=[], tasks=[]),
        story(1004, story_type="release", estimate="", name="1.0", current_state="unstarted"),
        story(
            1005, name="00123", description="- a list\n- of two", requested_by=""
        ),  # text that looks like a number
        story(1006, story_type="epic", url="https://www.pivotaltracker.com/epic/show/1006"),
    ]


def _both(tmp_path: Path, name: str, content: bytes, shared_strings: bool = True) -> tuple[Path, Path]:
    csv_path = tmp_path / "csv" / f"{name}.csv"
    csv_path.parent.mkdir(exist_ok=True)
    csv_path.write_bytes(content)
    (tmp_path / "xlsx").mkdir(exist_ok=True)
    return csv_path, xlsx_copy(content, tmp_path / "xlsx" / f"{name}.xlsx", shared_strings)


@pytest.mark.parametrize("shared_strings", [True, False], ids=["excel-shared-strings", "inline-strings"])
@pytest.mark.parametrize("family", FAMILIES)
def test_a_workbook_reads_as_the_csv_it_was_saved_from(
    tmp_path: Path, family: str, shared_strings: bool
) -> None:
    content = stories_csv(family, _stories())
    csv_path, xlsx_path = _both(tmp_path, "web_app_20200310_1010", content, shared_strings)
    history_csv_path, history_xlsx_path = _both(
        tmp_path, "web_app_20200310_1010_history", HISTORY, shared_strings
    )

    from_csv = read_export([str(csv_path), str(history_csv_path)])
    from_xlsx = read_export([str(xlsx_path), str(history_xlsx_path)])

    assert from_csv.errors == [] and from_xlsx.errors == []
    assert from_xlsx.records.keys() == from_csv.records.keys()
    for stream, records in from_csv.records.items():
        assert _same_but_export_file(from_xlsx.records[stream], records), stream
    assert from_xlsx.one("stories", id=1001)["export_file"] == xlsx_path.name
    assert from_xlsx.one("stories", id=1002)["estimate"] == 0.5
    assert from_xlsx.one("stories", id=1005)["name"] == "00123"
    assert [a["occurred_at"] for a in from_xlsx.records["activity"]][:2] == [
        "2020-03-05T10:11:12Z",
        "2020-03-05T23:59:59Z",
    ]


def test_the_sandbox_export_re_saved_as_workbooks_reads_the_same(tmp_path: Path) -> None:
    export = write_export(
        tmp_path / "export", "--projects", "1", "--stories", "120", "--disabled-projects", "0"
    )[0]
    entries: dict[str, list[str]] = {"csv": [], "xlsx": []}
    with zipfile.ZipFile(export) as archive:
        for name in archive.namelist():
            if name.endswith(".csv"):
                csv_path, xlsx_path = _both(tmp_path, Path(name).stem, archive.read(name))
                entries["csv"].append(str(csv_path))
                entries["xlsx"].append(str(xlsx_path))
    assert len(entries["xlsx"]) == 2  # the stories and the history CSV
    streams = EXPORT_STREAMS  # projects too: the CSV and its workbook have one name

    from_csv = read_export(entries["csv"], streams)
    from_xlsx = read_export(entries["xlsx"], streams)

    assert from_csv.errors == [] and from_xlsx.errors == []
    assert len(from_csv.records["stories"]) > 50 and from_csv.records["activity"]
    for stream in streams:
        assert _same_but_export_file(from_xlsx.records[stream], from_csv.records[stream]), stream


def test_check_accepts_a_workbook_that_holds_a_table(tmp_path: Path) -> None:
    _, xlsx_path = _both(tmp_path, "web_app", stories_csv("E", [story(1)]))
    assert check_export([str(xlsx_path)]) == (Status.SUCCEEDED, None)


def test_a_workbook_in_a_folder_is_a_table_and_in_a_story_folder_an_attachment(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    (folder / "1").mkdir(parents=True)
    xlsx_copy(stories_csv("E", [story(1)]), folder / "web_app.xlsx")
    xlsx_copy(stories_csv("E", [story(2)]), folder / "1" / "budget.xlsx")
    result = read_export([str(folder)], ("stories", "attachments"))

    assert result.errors == []
    assert [s["id"] for s in result.records["stories"]] == [1]
    assert [a["path"] for a in result.records["attachments"]] == ["1/budget.xlsx"]


def test_a_bad_row_of_a_workbook_is_named_by_its_row(tmp_path: Path) -> None:
    content = stories_csv("D", [story(1), story(2, created_at="someday"), story(3)])
    _, xlsx_path = _both(tmp_path, "web_app", content)

    failed = read_export([str(xlsx_path)], ("stories",))
    skipped = read_export([str(xlsx_path)], ("stories",), on_bad_rows="skip")

    assert failed.errors and f"{xlsx_path}, line 3: 'someday' is not a date" in failed.errors[0]
    assert [s["id"] for s in skipped.records["stories"]] == [1, 3]


def _workbook_with(tmp_path: Path, extra: dict[str, bytes], replace: dict[str, bytes] | None = None) -> Path:
    _, good = _both(tmp_path, "web_app", stories_csv("E", [story(1)]))
    path = tmp_path / "hostile.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, (replace or {}).get(name, source.read(name)))
        for name, data in extra.items():
            target.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return path


def test_a_workbook_with_a_zip_bomb_is_refused_as_an_archive_would_be(tmp_path: Path) -> None:
    path = _workbook_with(tmp_path, {"xl/media/zeros.bin": b"\0" * (20 * 1024 * 1024)})
    result = read_export([str(path)], ("stories",))
    assert result.errors and f"{path}: refused:" in result.errors[0] and "zip bomb" in result.errors[0]
    assert result.records["stories"] == []


def test_a_workbook_with_a_member_leaving_it_is_refused(tmp_path: Path) -> None:
    path = _workbook_with(tmp_path, {"../../evil.xml": b"<x/>"})
    result = read_export([str(path)], ("stories",))
    assert result.errors and "outside the archive" in result.errors[0]


def test_a_workbook_of_too_many_parts_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "MAX_MEMBERS", 20)
    path = _workbook_with(tmp_path, {f"xl/media/{n}.bin": b"x" for n in range(20)})
    result = read_export([str(path)], ("stories",))
    assert result.errors and "more than the limit of 20" in result.errors[0]


# Billion laughs: ten levels of ten references, a 3-character entity becomes 3 GB when expanded.
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    + "]>"
)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml"])
def test_xml_entity_expansion_in_a_workbook_is_refused_not_expanded(tmp_path: Path, part: str) -> None:
    _, good = _both(tmp_path, "web_app", stories_csv("E", [story(1)]))
    with zipfile.ZipFile(good) as archive:
        original = archive.read(part).decode()
    root = original.index("<", original.index("?>") + 2) if original.startswith("<?xml") else 0
    hostile = LAUGHS + original[root:].replace('<t xml:space="preserve">Id</t>', "<t>&lol9;</t>", 1)
    path = _workbook_with(tmp_path, {}, {part: hostile.encode()})

    result = read_export([str(path)], ("stories",))

    assert result.errors and f"{path}: is not a readable .xlsx workbook" in result.errors[0]
    assert "Entities" in result.errors[0] or "DTD" in result.errors[0]


def test_a_damaged_workbook_is_named(tmp_path: Path) -> None:
    path = tmp_path / "web_app.xlsx"
    path.write_bytes(b"not a workbook at all")
    result = read_export([str(path)], ("stories",))
    assert result.errors and f"{path}: is not a readable .xlsx workbook" in result.errors[0]


def test_a_workbook_inside_an_export_zip_is_read_as_a_table(tmp_path: Path) -> None:
    workbook = xlsx_copy(stories_csv("E", [story(7), story(8)]), tmp_path / "web_app.xlsx")
    archive = tmp_path / "re-saved.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(workbook, "web_app.xlsx")
    result = read_export([str(archive)], ("stories",))

    assert result.errors == []
    assert [s["id"] for s in result.records["stories"]] == [7, 8]


def _same_but_export_file(these: list[dict[str, Any]], those: list[dict[str, Any]]) -> bool:
    """Equal records but for `export_file`, which names the workbook or the CSV it was read from."""

    def without(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{key: value for key, value in record.items() if key != "export_file"} for record in records]

    return without(these) == without(those)
