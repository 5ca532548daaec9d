"""Every `export_files` entry must give a stories or history table: check and read share the rule.

A sync that read nothing from an entry (a folder of other files, a ZIP without CSVs) once ended in
success with 0 records, while check refused it: the user believed their data was empty.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from airbyte_cdk.models import Status

from source_pivotal_tracker.exports.inputs import NO_TABLE
from unit_tests.exports.builder import stories_csv, story
from unit_tests.exports.reading import check_export, read_export

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def _folder_of_other_files(tmp_path: Path) -> Path:
    folder = tmp_path / "tracker"
    folder.mkdir()
    (folder / "readme.txt").write_text("notes of the team\n")
    (folder / "logo.png").write_bytes(PNG)
    return folder


def _zip_without_csv(tmp_path: Path) -> Path:
    path = tmp_path / "web_app_20200310_1010-export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "notes\n")
        archive.writestr("1001/screenshot.png", PNG)
    return path


def _folder_of_attachments_only(tmp_path: Path) -> Path:
    folder = tmp_path / "unzipped"
    (folder / "1001").mkdir(parents=True)
    (folder / "1001" / "screenshot.png").write_bytes(PNG)
    return folder


def _a_picture_named_directly(tmp_path: Path) -> Path:
    path = tmp_path / "logo.png"
    path.write_bytes(PNG)
    return path


def _text_that_is_not_an_export(tmp_path: Path) -> Path:
    path = tmp_path / "report.csv"
    path.write_text("Quarter,Revenue\nQ1,100\n")
    return path


BAD_ENTRIES: dict[str, Callable[[Path], Path]] = {
    "a folder of other files": _folder_of_other_files,
    "a ZIP without CSVs": _zip_without_csv,
    "a folder of attachments only": _folder_of_attachments_only,
    "a file of another kind": _a_picture_named_directly,
    "a CSV that is not an export": _text_that_is_not_an_export,
}


@pytest.mark.parametrize("make", BAD_ENTRIES.values(), ids=list(BAD_ENTRIES))
def test_an_entry_that_fails_check_fails_read_with_the_same_message(
    tmp_path: Path, make: Callable[[Path], Path]
) -> None:
    entry = str(make(tmp_path))

    status, message = check_export([entry])
    result = read_export([entry])

    assert status == Status.FAILED and message is not None and entry in message
    assert message in result.errors
    assert not any(result.records.values())
    assert ("stories", "INCOMPLETE") in result.statuses


@pytest.mark.parametrize(
    "make", [_folder_of_other_files, _zip_without_csv, _folder_of_attachments_only], ids=str
)
def test_an_entry_without_a_table_is_named_by_the_rule(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    entry = str(make(tmp_path))

    assert check_export([entry]) == (Status.FAILED, f"Export file {entry}: {NO_TABLE}")


def test_the_other_entries_are_still_read_beside_one_without_a_table(tmp_path: Path) -> None:
    good = tmp_path / "web_app_20200310_1010.csv"
    good.write_bytes(stories_csv("E", [story(1001), story(1002)]))
    empty = _folder_of_other_files(tmp_path)

    result = read_export([str(good), str(empty)])

    assert sorted(s["id"] for s in result.records["stories"]) == [1001, 1002]
    assert f"Export file {empty}: {NO_TABLE}" in result.errors
