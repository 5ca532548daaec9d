"""Every bad input is named in one run: each gets its own error, the good ones are still read."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from airbyte_cdk.models import Status

from source_pivotal_tracker.exports.source import ExportSource
from unit_tests.exports.builder import stories_csv, story
from unit_tests.exports.reading import read_export


def _folder_of_good_and_bad(folder: Path) -> list[Path]:
    """A good stories CSV beside two damaged ZIPs and a CSV that is no export: the bad ones."""
    (folder / "web_app_20240101_1200.csv").write_bytes(stories_csv("D", [story(1), story(2)]))
    bad = [folder / "alpha_20240101_1200-export.zip", folder / "beta_20240101_1200-export.zip"]
    for path in bad:
        path.write_bytes(b"PK\x03\x04" + b"damaged" * 40)
    (folder / "budget.csv").write_text("Month,Cost\nJan,3\n")
    return [*bad, folder / "budget.csv"]


@pytest.mark.parametrize("on_bad_rows", ["fail", "skip"])
@pytest.mark.parametrize("as_glob", [False, True], ids=["folder", "glob"])
def test_a_read_names_every_bad_file_reads_the_good_one_and_fails(
    tmp_path: Path, on_bad_rows: str, as_glob: bool
) -> None:
    bad = _folder_of_good_and_bad(tmp_path)
    entry = str(tmp_path / "*") if as_glob else str(tmp_path)

    result = read_export([entry], on_bad_rows=on_bad_rows)

    assert sorted(s["id"] for s in result.records["stories"]) == [1, 2]
    *each, last = result.errors
    for path in bad:
        assert len([e for e in each if str(path) in e]) == 1, (path, result.errors)
    assert last.startswith("3 export file(s) could not be read")
    assert ("stories", "INCOMPLETE") in result.statuses


def test_check_names_every_bad_file_each_on_its_own_error_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = _folder_of_good_and_bad(tmp_path)

    with caplog.at_level(logging.ERROR, logger="airbyte"):
        status = ExportSource().check(logging.getLogger("airbyte"), {"export_files": [str(tmp_path)]})

    assert status.status == Status.FAILED and status.message is not None
    assert status.message.startswith("3 export files cannot be read")
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    for path in bad:
        assert str(path) in status.message
        assert len([line for line in errors if str(path) in line]) == 1, (path, errors)
