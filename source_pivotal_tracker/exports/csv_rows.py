"""One export CSV (or its .xlsx re-save) opened for streaming: its layout, its rows, its errors by line."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from .csv_format import MAX_CELL_CHARS, HistoryLayout, StoriesLayout, layout_of, sniff_delimiter
from .errors import ExportError
from .inputs import CHUNK, ExportMember
from .xlsx_rows import is_workbook, sheet_rows

NOT_AN_EXPORT = (
    "is not a Tracker export: its header has neither the story columns (Id, Title or Story) "
    "nor the history columns (ID, Type, Message, Performed By, Occurred At)"
)
# Tracker wrote UTF-8; a spreadsheet's plain "CSV" is in a code page the file does not name.
NOT_UTF8 = (
    "is not valid UTF-8 (a spreadsheet may have re-saved it in another encoding: "
    'open it there and save it as "CSV UTF-8")'
)
# Longest header line read: 118 columns fit in 2 KB; this bounds a binary file without newlines.
MAX_HEADER_CHARS = 1024 * 1024
# Longest physical line handed to csv, which takes each string it gets as a whole line: csv's cell
# limit fires only once a line is in memory, so a broken file of one 1 GB line held 1 GB (and
# more while it was decoded). Two cells at the cell limit fit; a real row is far shorter (Tracker
# capped descriptions and comments at 20,000 characters, and a long cell's paragraphs are lines).
MAX_LINE_CHARS = 2 * MAX_CELL_CHARS


class Rows(Protocol):
    """csv's reader, or a workbook's SheetRows: rows of cells, and how many lines they took."""

    @property
    def line_num(self) -> int: ...  # the lines read after the header

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


@dataclass
class OpenCsv:
    layout: StoriesLayout | HistoryLayout
    reader: Rows


@contextmanager
def open_csv(member: ExportMember) -> Iterator[OpenCsv]:
    """The member's layout and rows; decoding, CSV and archive errors become ExportErrors.

    A workbook's line is its sheet's row number: the header is row 1, as it is line 1 of a CSV.
    """
    reader: Rows | None = None

    def line() -> int | None:
        # The header is line 1; csv counts the physical lines it read after it.
        return reader.line_num + 1 if reader is not None else None

    if is_workbook(member.path):
        with reading(member, line), sheet_rows(member) as (header, reader):
            yield OpenCsv(_layout(member, header), reader)
        return
    with member.open(check_nul=True) as binary, reading(member, line):
        # utf-8-sig drops the BOM that spreadsheet re-saves add; newline="" keeps CRLF and
        # line breaks inside quoted cells for the csv module to handle.
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        header_line = text.readline(MAX_HEADER_CHARS)
        delimiter = sniff_delimiter(header_line)
        header = next(csv.reader([header_line], delimiter=delimiter, strict=True), [])
        layout = _layout(member, header)
        reader = csv.reader(_bounded_lines(text, member.display), delimiter=delimiter, strict=True)
        yield OpenCsv(layout, reader)


def _layout(member: ExportMember, header: list[str]) -> StoriesLayout | HistoryLayout:
    if not any(cell.strip() for cell in header):
        raise ExportError(member.display, "is empty, not a Tracker export")
    layout = layout_of(header)
    if layout is None:
        raise ExportError(member.display, NOT_AN_EXPORT, 1)
    return layout


def _bounded_lines(text: io.TextIOWrapper, display: str) -> Iterator[str]:
    """The lines after the header, each read at most MAX_LINE_CHARS at a time; a longer one is an error."""
    readline = text.readline
    number = 1
    while line := readline(MAX_LINE_CHARS):
        number += 1
        if len(line) == MAX_LINE_CHARS and line[-1] not in "\r\n":
            raise ExportError(
                display,
                f"has a line longer than {MAX_LINE_CHARS} characters, the limit "
                "(a quote never closed, or not a text CSV)",
                number,
            )
        yield line


@contextmanager
def reading(member: ExportMember, line: Callable[[], int | None] = lambda: None) -> Iterator[None]:
    """Errors while reading the member, named by file and, for a row, the line `line()` says."""
    try:
        yield
    except ExportError:
        raise
    except UnicodeDecodeError:
        raise ExportError(member.display, NOT_UTF8, _invalid_utf8_line(member)) from None
    except csv.Error as error:
        raise ExportError(member.display, f"has an unreadable row ({error})", line()) from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise ExportError(member.display, f"is damaged or truncated ({error})") from None
    except OSError as error:
        raise ExportError(member.display, f"cannot be read ({error.strerror or error})") from None


def _invalid_utf8_line(member: ExportMember) -> int | None:
    """The line of the first byte that is not UTF-8 (a newline byte is never inside a character)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        with member.open() as binary:
            while chunk := binary.readline(CHUNK):
                ends_line = chunk.endswith(b"\n")
                try:
                    decoder.decode(chunk, final=ends_line)
                except UnicodeDecodeError:
                    return line
                if ends_line:
                    line += 1
                    decoder.reset()
    except (ExportError, OSError, zipfile.BadZipFile, zlib.error, EOFError):
        return None
    return None
