"""Tracker's export CSVs: which file is which, where each column sits, and what a cell means.

Columns are matched by lower-cased name, with the names of every generation (2010-2025):
`Story`/`Title`, `Story Type`/`Type`, `Note`/`Comment`, `Owned By` anywhere. Repeated columns are
grouped in column order; a status column belongs to the column right before it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

# Long comment threads and descriptions can pass csv's default of 131,072 characters per cell.
# A bound (not sys.maxsize) keeps one broken quote from swallowing a whole file into one cell.
MAX_CELL_CHARS = 16 * 1024 * 1024
csv.field_size_limit(MAX_CELL_CHARS)

# Spreadsheets of some locales re-save with `;`, and "text" exports use tabs.
DELIMITERS = (",", ";", "\t")

FIXED_COLUMNS = {
    "id": "id",
    "title": "title",
    "story": "title",
    "labels": "labels",
    "iteration": "iteration",
    "iteration start": "iteration_start",
    "iteration end": "iteration_end",
    "type": "type",
    "story type": "type",
    "estimate": "estimate",
    "priority": "priority",
    "current state": "current_state",
    "created at": "created_at",
    "accepted at": "accepted_at",
    "deadline": "deadline",
    "requested by": "requested_by",
    "description": "description",
    "url": "url",
}
REPEATED_COLUMNS = {
    "owned by": "owners",
    "comment": "comments",
    "note": "comments",
    "pull request": "pull_requests",
    "git branch": "branches",
}
# A repeated column and the status columns that follow it, in order.
GROUPED_COLUMNS = {
    "task": ("tasks", ("task status",)),
    "blocker": ("blockers", ("blocker status",)),
    "reviewer": ("reviews", ("review type", "review status")),
}
FOLLOWER_COLUMNS = {name for _, followers in GROUPED_COLUMNS.values() for name in followers}
HISTORY_COLUMNS = ("id", "type", "message", "performed by", "occurred at")


@dataclass(frozen=True)
class StoriesLayout:
    """Where each column of one stories CSV sits; indexes past a short row read as empty."""

    width: int
    fixed: dict[str, int]
    repeated: dict[str, tuple[int, ...]]
    # Each group: (main column, *status columns), None where the file lacks a status column.
    groups: dict[str, tuple[tuple[int | None, ...], ...]]
    unknown: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class HistoryLayout:
    width: int
    columns: dict[str, int]


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a file, from its header: header names never contain any of them."""
    return max(DELIMITERS, key=header_line.count)


def layout_of(header: list[str]) -> StoriesLayout | HistoryLayout | None:
    """The layout a header row describes, or None when it is not a Tracker export's header."""
    names = [name.strip().lower() for name in header]
    if "id" not in names:
        return None
    if "title" not in names and "story" not in names:
        if all(name in names for name in HISTORY_COLUMNS):
            return HistoryLayout(len(names), {name: names.index(name) for name in HISTORY_COLUMNS})
        return None
    fixed: dict[str, int] = {}
    repeated: dict[str, list[int]] = {}
    groups: dict[str, list[tuple[int | None, ...]]] = {}
    unknown: list[str] = []
    for index, name in enumerate(names):
        if name in FIXED_COLUMNS and FIXED_COLUMNS[name] not in fixed:
            fixed[FIXED_COLUMNS[name]] = index
        elif name in REPEATED_COLUMNS:
            repeated.setdefault(REPEATED_COLUMNS[name], []).append(index)
        elif name in GROUPED_COLUMNS:
            key, followers = GROUPED_COLUMNS[name]
            members: list[int | None] = [index]
            for offset, follower in enumerate(followers, start=1):
                position = index + offset
                paired = position < len(names) and names[position] == follower
                members.append(position if paired else None)
            groups.setdefault(key, []).append(tuple(members))
        elif name not in FOLLOWER_COLUMNS and name:
            unknown.append(header[index])
    return StoriesLayout(
        width=len(names),
        fixed=fixed,
        repeated={key: tuple(indexes) for key, indexes in repeated.items()},
        groups={key: tuple(members) for key, members in groups.items()},
        unknown=tuple(unknown),
    )


# ---------------------------------------------------------------------------------- cells

MONTHS = {
    name: f"{number:02d}"
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
# A zone after a time: UTC, or a numeric offset (`-0700`, `+01:00`).
_ZONE = r"(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)"
# `Nov 22, 2014` (every export), optionally with a time of day and a zone: the history file's
# format is not known, so a time as Tracker's pages showed one is read too.
TRACKER_DATE = re.compile(
    r"([A-Za-z]{3,9})\.? (\d{1,2}), (\d{4})"
    r"(?:,? (?:at )?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?\s*" + _ZONE + "?",
    re.IGNORECASE,
)
# ISO 8601 (a spreadsheet re-save), and Ruby's Time#to_s (`2025-03-24 14:43:03 UTC`), which a Rails
# app writes for a time it does not format. Parsed here, not by datetime.fromisoformat, whose
# accepted forms differ between Python 3.10 and 3.11.
ISO_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*" + _ZONE + "?",
    re.IGNORECASE,
)
# A spreadsheet takes `Nov 22, 2014` for a date and saves it as it shows it: Excel's `22-Nov-14`,
# or `22 Nov 2014`. Two-digit years are 20YY (Tracker ran 2006-2025). Numeric forms such as
# `11/12/2014` stay errors: month-first or day-first cannot be told apart.
DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[- ]([A-Za-z]{3,9})\.?[- ](\d{4}|\d{2})")
_DATE_CACHE: dict[str, str] = {}
# Emptied when full: a file holds a few thousand distinct days, and history timestamps (to the
# second) rarely repeat; 100,000 of them held ~20 MB.
DATE_CACHE_SIZE = 8192


def parse_date(value: str) -> str | None:
    """A date cell as an RFC 3339 timestamp: `Nov 22, 2014` -> `2014-11-22T00:00:00Z`.

    Tracker wrote dates without a time or zone; midnight UTC stands for "that day". ISO 8601
    and `22-Nov-14` (from a spreadsheet re-save) are accepted too. Raises ValueError on anything
    else.
    """
    if not value:
        return None
    cached = _DATE_CACHE.get(value)
    if cached is None:
        cached = _parse_timestamp(value.strip())
        if len(_DATE_CACHE) >= DATE_CACHE_SIZE:
            _DATE_CACHE.clear()
        _DATE_CACHE[value] = cached
    return cached


def day_after(timestamp: str | None) -> str | None:
    """The timestamp one day later: an export's `Iteration End` (the iteration's last day, e.g.
    Monday Nov 16 to Sunday Nov 22) as the API's `finish`, the moment the next iteration starts."""
    if timestamp is None:
        return None
    return (date.fromisoformat(timestamp[:10]) + timedelta(days=1)).isoformat() + timestamp[10:]


def _parse_timestamp(value: str) -> str:
    match = TRACKER_DATE.fullmatch(value)
    if match:
        month_name, day, year, hour, minute, second, half, zone = match.groups()
        hours = int(hour or 0)
        if half:
            if not 1 <= hours <= 12:
                raise ValueError(f"{value!r} is not a date (no such time of day)")
            hours = hours % 12 + (12 if half.lower() == "pm" else 0)
        month = _month(value, month_name)
        parsed = _datetime(value, int(year), month, int(day), hours, int(minute or 0), int(second or 0))
        return _utc(parsed, zone)
    match = DAY_MONTH_YEAR.fullmatch(value)
    if match:
        day, month_name, year = match.groups()
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        return _utc(_datetime(value, full_year, _month(value, month_name), int(day)), None)
    match = ISO_TIMESTAMP.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a date (expected `Mon D, YYYY` or ISO 8601)")
    numbers = [int(part or 0) for part in match.groups()[:6]]
    return _utc(_datetime(value, *numbers), match.group(7))


def _month(value: str, name: str) -> int:
    month = MONTHS.get(name.lower())
    if month is None:
        raise ValueError(f"{value!r} is not a date (unknown month)")
    return int(month)


def _datetime(
    value: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """The date (and time), or a ValueError naming the value."""
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a date ({error})") from None


def _utc(parsed: datetime, zone: str | None) -> str:
    """The moment as RFC 3339 UTC; a value without a zone is taken as UTC."""
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
        parsed -= timedelta(minutes=-minutes if zone[0] == "-" else minutes)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_comment(cell: str) -> tuple[str, str | None, str | None]:
    """`text (Author - Mon D, YYYY)` -> (text, author, created_at), by the LAST such tail.

    The text may itself end in something tail-like or be empty (an attachment-only comment);
    a cell without a valid tail is all text, with no author or date. A display name may hold
    parentheses (`Ana (QA)`): the tail then opens at the `(` that balances its final `)`.
    """
    end = cell.rstrip()
    if not end.endswith(")"):
        return cell, None, None
    start = end.rfind("(")
    if start < 0:
        return cell, None, None
    if ")" in end[start + 1 : -1]:
        balanced = _opening_of_last(end)
        found = _tail(end, balanced) if balanced >= 0 else None
        if found is not None:
            return found
    return _tail(end, start) or (cell, None, None)


def _opening_of_last(text: str) -> int:
    """The index of the `(` matching the `)` that ends the text, or -1."""
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        char = text[index]
        if char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _tail(end: str, start: int) -> tuple[str, str | None, str] | None:
    """(text, author, created_at) when `end[start:]` is an `(Author - Mon D, YYYY)` tail."""
    author, dash, date = end[start + 1 : -1].rpartition(" - ")
    if not dash:
        return None
    created_at = _DATE_CACHE.get(date)
    if created_at is None:
        if not TRACKER_DATE.fullmatch(date):
            return None
        try:
            created_at = parse_date(date)
        except ValueError:
            return None
    if created_at is None:
        return None
    text = end[:start]
    if text.endswith(" "):
        text = text[:-1]
    return text, author.strip() or None, created_at


def parse_priority(cell: str) -> str | None:
    """`p2 - Medium` -> `p2`, `None` -> `none` (the API's values); anything else as written."""
    if not cell:
        return None
    code = cell.split(" - ", 1)[0].strip().lower()
    return code if code in ("p0", "p1", "p2", "p3", "none") else cell


def parse_estimate(cell: str) -> int | float | None:
    """Points (custom scales allow fractions). Blank is unestimated, and so is `-1`: Tracker's
    older APIs wrote it for "no estimate"; no export sample shows it, so both forms read alike."""
    if not cell or cell.strip() == "-1":
        return None
    try:
        return int(cell)
    except ValueError:
        try:
            return float(cell)
        except ValueError:
            raise ValueError(f"Estimate {cell!r} is not a number") from None


def parse_int(cell: str, column: str) -> int | None:
    if not cell:
        return None
    try:
        return int(cell)
    except ValueError:
        raise ValueError(f"{column} {cell!r} is not an integer") from None


def split_labels(cell: str) -> list[str]:
    return [name for name in (part.strip() for part in cell.split(",")) if name] if cell else []


PULL_REQUEST_URL = re.compile(r"(https?://[^/]+/)([^/]+)/([^/]+)/pulls?/(\d+)/?")


def parse_pull_request(url: str) -> dict[str, object]:
    """A `Pull Request` cell as the API's pull request (host_url, owner, repo, number)."""
    match = PULL_REQUEST_URL.fullmatch(url.strip())
    if match is None:
        return {"original_url": url, "host_url": None, "owner": None, "repo": None, "number": None}
    host, owner, repo, number = match.groups()
    return {"original_url": url, "host_url": host, "owner": owner, "repo": repo, "number": int(number)}
