"""Bad input and hostile archives: a clear error naming the file (and line), nothing lost silently."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from airbyte_cdk.models import Status

from source_pivotal_tracker.exports import inputs
from unit_tests.exports.builder import export_zip, history_csv, stories_csv, story
from unit_tests.exports.reading import check_export, read_export

GOOD = stories_csv("D", [story(1), story(2), story(3)])


def _file(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def _assert_fails_naming(result_errors: list[str], file: str, *phrases: str) -> None:
    assert result_errors, "the read should fail"
    assert file in result_errors[0], result_errors[0]
    for phrase in phrases:
        assert phrase in result_errors[0], result_errors[0]


def _line_of(content: bytes, marker: bytes) -> int:
    return content[: content.index(marker)].count(b"\n") + 1


@pytest.mark.parametrize(
    ("name", "content", "phrase", "line"),
    [
        ("people.csv", b"Name,Email\nAna,ana@example.com\n", "not a Tracker export", 1),
        ("empty.csv", b"", "is empty", None),
        ("latin1.csv", GOOD.replace(b"Story 2", b"Caf\xe9 2"), "not valid UTF-8", 3),
        ("nul.csv", GOOD.replace(b"Story 3", b"Story\x003"), "NUL byte", 4),
        ("quote.csv", GOOD.replace(b",Story 2,", b',"Story 2"x,'), "unreadable row", 3),
        ("truncated.csv", GOOD[: GOOD.index(b"Mar 5, 2020", GOOD.index(b"Story 3"))], "unreadable row", 4),
        ("badid.csv", GOOD.replace(b"\n2,Story 2", b"\nabc,Story 2"), "Id 'abc' is not an integer", 3),
        ("baddate.csv", GOOD.replace(b"Feb 28, 2020", b"Feb 31, 2020", 2)[::1], "is not a date", 2),
        ("noid.csv", GOOD.replace(b"\n3,Story 3", b"\n,Story 3"), "the row has no Id", 4),
        ("wide.csv", GOOD.rstrip(b"\n") + b",extra,cells\n", "more than the", 4),
    ],
    ids=lambda value: value if isinstance(value, str) and value.endswith(".csv") else "",
)
def test_a_bad_csv_is_an_error_naming_the_file_and_line(
    tmp_path: Path, name: str, content: bytes, phrase: str, line: int | None
) -> None:
    path = _file(tmp_path, name, content)
    result = read_export([path])

    where = f"{path}, line {line}:" if line else f"{path}:"
    _assert_fails_naming(result.errors, where, phrase)
    assert ("stories", "INCOMPLETE") in result.statuses
    assert ("stories", "COMPLETE") not in result.statuses


def test_a_cell_over_the_documented_bound_is_an_unreadable_row(tmp_path: Path) -> None:
    from source_pivotal_tracker.exports.csv_format import MAX_CELL_CHARS

    path = _file(
        tmp_path, "huge.csv", stories_csv("D", [story(1), story(2, description="y" * (MAX_CELL_CHARS + 1))])
    )
    result = read_export([path])

    _assert_fails_naming(result.errors, f"{path}, line 3:", "field larger than field limit")


def test_other_files_are_still_read_and_the_sync_then_fails(tmp_path: Path) -> None:
    bad = _file(tmp_path, "bad.csv", GOOD.replace(b"Story 2", b"Caf\xe9 2"))
    good = _file(tmp_path, "good.csv", stories_csv("D", [story(7)]))
    missing = str(tmp_path / "missing.zip")

    result = read_export([missing, bad, good])

    assert [s["id"] for s in result.records["stories"]] == [7]
    assert any(missing in e and "no such file or folder" in e for e in result.errors)
    assert any(bad in e and "line 3" in e for e in result.errors)
    assert "2 export file(s) could not be read" in result.errors[-1]


def test_a_glob_that_matches_nothing_is_an_error_naming_it(tmp_path: Path) -> None:
    pattern = str(tmp_path / "*.zip")
    result = read_export([pattern])
    _assert_fails_naming(result.errors, pattern, "matches no file")
    status, message = check_export([pattern])
    assert status == Status.FAILED and pattern in message


def test_a_history_row_with_an_unparseable_time_names_its_line(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "history.csv",
        history_csv([["1", "x", "m", "Ana", "Nov 4, 2024"], ["2", "x", "m", "Ana", "soon"]]),
    )
    result = read_export([path])
    _assert_fails_naming(result.errors, f"{path}, line 3:", "'soon' is not a date")


def test_a_folder_with_a_csv_that_is_not_an_export_fails_naming_that_csv(tmp_path: Path) -> None:
    (tmp_path / "web_app_20240101_1200.csv").write_bytes(GOOD)
    (tmp_path / "budget.csv").write_text("Month,Cost\nJan,3\n")
    result = read_export([str(tmp_path)])
    _assert_fails_naming(result.errors, str(tmp_path / "budget.csv"), "not a Tracker export")
    assert len(result.records["stories"]) == 3


# ------------------------------------------------------------------------------------ archives


def test_a_corrupt_zip_is_an_error_naming_it(tmp_path: Path) -> None:
    path = _file(tmp_path, "web_app_20250324_144303-export.zip", b"PK\x03\x04" + b"garbage" * 50)
    result = read_export([path])
    _assert_fails_naming(result.errors, path, "not a readable ZIP archive")
    status, message = check_export([path])
    assert status == Status.FAILED and path in message


def test_a_truncated_zip_is_an_error_naming_it(tmp_path: Path) -> None:
    archive = export_zip(tmp_path / "full.zip", GOOD, history_csv([["1", "x", "m", "Ana", "Nov 4, 2024"]]))
    content = archive.read_bytes()
    path = _file(tmp_path, "cut.zip", content[: len(content) // 2])
    result = read_export([path])
    _assert_fails_naming(result.errors, path, "not a readable ZIP archive")


def test_a_damaged_member_is_an_error_naming_the_member(tmp_path: Path) -> None:
    archive = export_zip(tmp_path / "web_app.zip", stories_csv("D", [story(i) for i in range(1, 200)]))
    content = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as opened:
        info = opened.infolist()[0]
    data_start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(data_start + 200, data_start + 260):
        content[offset] ^= 0x5A
    path = _file(tmp_path, "damaged.zip", bytes(content))

    result = read_export([path])
    _assert_fails_naming(result.errors, f"{path}!stories.csv", "damaged")


def test_a_member_inflating_past_its_declared_size_is_stopped(tmp_path: Path) -> None:
    archive = export_zip(tmp_path / "web_app.zip", GOOD)
    content = bytearray(archive.read_bytes())
    declared = len(GOOD)
    small = struct.pack("<I", 100)
    # Both the local header and the central directory say 100 bytes; the data holds more.
    for position in _all(content, struct.pack("<I", declared)):
        content[position : position + 4] = small
    path = _file(tmp_path, "lying.zip", bytes(content))

    result = read_export([path])
    # zipfile reads no further than the declared size, so the content fails its CRC.
    _assert_fails_naming(result.errors, f"{path}!stories.csv", "damaged or truncated")
    assert result.records["stories"] == []


def _all(content: bytearray, needle: bytes) -> list[int]:
    found, start = [], 0
    while (index := content.find(needle, start)) >= 0:
        found.append(index)
        start = index + 1
    return found


def test_a_zip_bomb_is_refused_before_anything_is_inflated(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("stories.csv", GOOD)
        archive.writestr("123/zeros.bin", b"\0" * (20 * 1024 * 1024))
    result = read_export([str(path)])
    _assert_fails_naming(result.errors, str(path), "refused", "zip bomb")
    assert result.records["stories"] == []


def test_an_absurd_declared_size_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A 4-byte size field holds at most 4 GiB; the (8 GiB) limit is lowered to below that.
    monkeypatch.setattr(inputs, "MAX_MEMBER_BYTES", 1024**3)
    path = tmp_path / "absurd.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("stories.csv", GOOD)
    content = bytearray(path.read_bytes())
    central = content.rfind(b"PK\x01\x02")
    content[central + 24 : central + 28] = struct.pack("<I", 0xFFFFFFF0)  # uncompressed size
    path.write_bytes(bytes(content))
    result = read_export([str(path)])
    _assert_fails_naming(
        result.errors, str(path), "refused", "declares 4294967280 bytes", "limit of 1073741824"
    )


@pytest.mark.parametrize("member", ["../evil.csv", "/etc/evil.csv", "a/../../evil.csv", "C:/evil.csv"])
def test_member_names_that_leave_the_archive_are_refused(tmp_path: Path, member: str) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("stories.csv", GOOD)
        archive.writestr(zipfile.ZipInfo(member), GOOD)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist()[1] == member  # written as given: only extraction sanitises names
    result = read_export([str(path)])
    _assert_fails_naming(result.errors, str(path), "refused", "outside the archive")


def test_too_many_members_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "MAX_MEMBERS", 50)
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("stories.csv", GOOD)
        for index in range(60):
            archive.writestr(f"1/{index}.txt", b"x")
    result = read_export([str(path)])
    _assert_fails_naming(result.errors, str(path), "refused", "61 files", "limit of 50")


def test_a_file_that_vanishes_from_a_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "web_app_20240101_1200.csv").write_bytes(GOOD)
    (tmp_path / "101").mkdir()
    dangling = tmp_path / "101" / "design.png"
    dangling.symlink_to(tmp_path / "gone.png")

    result = read_export([str(tmp_path)])

    _assert_fails_naming(result.errors, str(dangling), "cannot be read")
