"""How Tracker's stories CSV wrote a cell (docs: tracker-export-format §3–§4, copied into the tests).

Minimal quoting, except that dates and comments are always quoted (they contain a comma) and an
empty Labels cell is written `""`. Dates are `Mon D, YYYY` in English whatever the locale, with
no time and no zone: the sandbox writes the date the project's own time zone shows.
"""

from __future__ import annotations

import time

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PRIORITIES = {
    "p0": "p0 - Critical",
    "p1": "p1 - High",
    "p2": "p2 - Medium",
    "p3": "p3 - Low",
    "none": "None",
}
_NEEDS_QUOTES = (",", '"', "\n", "\r")


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def plain(text: str) -> str:
    """Minimal quoting, as the csv module's QUOTE_MINIMAL would write the cell."""
    if any(char in text for char in _NEEDS_QUOTES):
        return quoted(text)
    return text


def tracker_date(ts: int, utc_offset: int) -> str:
    """`Nov 22, 2014`: the local date at `utc_offset` seconds east of UTC."""
    local = time.gmtime(ts + utc_offset)
    return f"{MONTHS[local.tm_mon - 1]} {local.tm_mday}, {local.tm_year}"


def date_cell(ts: int | None, utc_offset: int) -> str:
    return "" if ts is None else quoted(tracker_date(ts, utc_offset))


def labels_cell(names: list[str]) -> str:
    # An empty Labels cell is `""` in every sample, unlike any other empty cell.
    return plain(", ".join(names)) if names else '""'


def comment_cell(text: str, author: str, ts: int, utc_offset: int) -> str:
    return quoted(f"{text} ({author} - {tracker_date(ts, utc_offset)})")


def task_status(complete: bool) -> str:
    return "completed" if complete else "not completed"


def blocker_status(resolved: bool) -> str:
    return "resolved" if resolved else "blocked"


def priority_cell(story_priority: str) -> str:
    return PRIORITIES[story_priority]


def row_text(cells: list[str], width: int, keep: int, padded: bool) -> str:
    """One record without its line end: padded to `width`, or ragged after column `keep`.

    A ragged row stops after its last non-empty cell, but never inside the fixed block.
    """
    if padded:
        return ",".join(cells + [""] * (width - len(cells)))
    end = len(cells)
    while end > keep and cells[end - 1] == "":
        end -= 1
    return ",".join(cells[:end])
