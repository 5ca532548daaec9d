"""A stories or history CSV re-saved as `.xlsx`: its first sheet's rows, as the CSV's cells.

openpyxl in read-only mode streams the sheet's XML row by row; python-calamine reads 8-15x faster
but holds the whole sheet (261 MB for 100,000 stories, past the 300 MB budget with the connector):
`scripts/benchmark.py xlsx` measures both. A workbook is a ZIP, so it gets the archive limits of
inputs.py before any of it is parsed, and openpyxl parses its XML with defusedxml (a dependency):
a DTD's entities are refused, never expanded.

A spreadsheet turns cells into numbers and dates; each is given back as the text the CSV held, or
one the CSV parsers read to the same value: `123.0` -> `123`, a date -> `2014-11-22T00:00:00`.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from .errors import ExportError

# refuse_hostile: the archive limits themselves, one definition for every ZIP the reader opens.
from .inputs import CHUNK, ExportMember, refuse_hostile

WORKBOOK_SUFFIX = ".xlsx"
# What openpyxl raises on a workbook that is damaged or made to hurt: a missing part (KeyError), a
# DTD or entity (defusedxml's errors are ValueErrors), XML that does not parse (a SyntaxError).
UNREADABLE = (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, SyntaxError, TypeError)
HALF_SECOND = timedelta(microseconds=500_000)


def is_workbook(path: str) -> bool:
    return path.lower().endswith(WORKBOOK_SUFFIX)


class SheetRows:
    """The rows after the header as lists of strings; `line_num` counts them, as csv's reader does."""

    def __init__(self, rows: Iterator[tuple[Any, ...]], display: str) -> None:
        self._rows, self._display = rows, display
        self.line_num = 0

    def __iter__(self) -> SheetRows:
        return self

    def __next__(self) -> list[str]:
        with unreadable(self._display):
            values = next(self._rows)
        self.line_num += 1
        return [cell_text(value) for value in values]


@contextmanager
def sheet_rows(member: ExportMember) -> Iterator[tuple[list[str], SheetRows]]:
    """The first sheet's header and rows; a hostile or unreadable workbook is an ExportError."""
    # zipfile needs to seek; a member of an archive or a download's body cannot.
    with member.open() as binary, tempfile.TemporaryFile(prefix="tracker-xlsx-") as copy:
        shutil.copyfileobj(binary, copy, CHUNK)
        with unreadable(member.display):
            copy.seek(0)
            with zipfile.ZipFile(copy) as archive:
                refuse_hostile([info for info in archive.infolist() if not info.is_dir()], member.display)
            copy.seek(0)
            workbook = openpyxl.load_workbook(copy, read_only=True, data_only=True)
            if not workbook.worksheets:
                raise ExportError(member.display, "is a workbook without a sheet")
            rows = workbook.worksheets[0].iter_rows(values_only=True)
            header = [cell_text(value) for value in next(rows, ())]
        try:
            yield header, SheetRows(rows, member.display)
        finally:
            workbook.close()


@contextmanager
def unreadable(display: str) -> Iterator[None]:
    """openpyxl's errors on a damaged or hostile workbook, as the ExportError naming it."""
    try:
        yield
    except UNREADABLE as error:
        raise ExportError(display, f"is not a readable .xlsx workbook ({_reason(error)})") from None


def cell_text(value: object) -> str:
    """A cell as the CSV's text: numbers without a spurious `.0`, dates in ISO 8601 to the second."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        # A spreadsheet stores a time as a fraction of a day: 10:11:12 can come back 10:11:11.999999.
        return (value + HALF_SECOND).replace(microsecond=0).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _reason(error: BaseException) -> str:
    """The first cause: openpyxl wraps a refused entity in a ValueError of its own, many lines long."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
