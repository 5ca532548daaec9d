"""Synthetic Tracker exports, built to the shapes of every header family (no real export is copied).

A story is a plain dict; `stories_csv` lays a list of them out as one family would, with the
repeated columns as wide as the busiest story needs, ragged or padded rows, any line ending,
delimiter or BOM. `history_csv` and `export_zip` build the other parts of a project export.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

Story = dict[str, Any]

FIXED_A = [
    "Id",
    "Story",
    "Labels",
    "Iteration",
    "Iteration Start",
    "Iteration End",
    "Story Type",
    "Estimate",
    "Current State",
    "Created at",
    "Accepted at",
    "Deadline",
    "Requested By",
    "Owned By",
    "Description",
    "URL",
]
FIXED_C = [name for name in FIXED_A if name != "Owned By"]
FIXED_D = ["Title" if n == "Story" else "Type" if n == "Story Type" else n for n in FIXED_C]
FIXED_E = FIXED_D[:8] + ["Priority"] + FIXED_D[8:]
FAMILIES = ("A", "B", "C", "D", "E")

# Which value of a story each fixed column shows.
FIELD_OF = {
    "Id": "id",
    "Story": "name",
    "Title": "name",
    "Iteration": "iteration",
    "Iteration Start": "iteration_start",
    "Iteration End": "iteration_end",
    "Story Type": "story_type",
    "Type": "story_type",
    "Estimate": "estimate",
    "Priority": "priority",
    "Current State": "current_state",
    "Created at": "created_at",
    "Accepted at": "accepted_at",
    "Deadline": "deadline",
    "Requested By": "requested_by",
    "Description": "description",
    "URL": "url",
}


def story(story_id: int, **values: Any) -> Story:
    """A story with every fact a family can carry; dates as Tracker writes them."""
    base: Story = {
        "id": story_id,
        "name": f"Story {story_id}",
        "labels": ["backend", "ui"],
        "iteration": 3,
        "iteration_start": "Mar 2, 2020",
        "iteration_end": "Mar 8, 2020",  # the last day; the API's finish is Mar 9
        "story_type": "feature",
        "estimate": 2,
        "priority": "p2 - Medium",
        "current_state": "accepted",
        "created_at": "Feb 28, 2020",
        "accepted_at": "Mar 5, 2020",
        "deadline": "",
        "requested_by": "Karl Anderson",
        "owners": ["Georgia", "Li Wei"],
        "description": f"Description of {story_id}",
        "url": f"https://www.pivotaltracker.com/story/show/{story_id}",
        "comments": [("First look", "Georgia", "Mar 3, 2020"), ("Done 👍", "Li Wei", "Mar 4, 2020")],
        "tasks": [("Write it", "completed"), ("Test it", "not completed")],
        "blockers": [],
        "pull_requests": [],
        "branches": [],
        "reviews": [],
    }
    base.update(values)
    return base


def comment_cell(text: str, author: str, date: str) -> str:
    return f"{text} ({author} - {date})"


def _repeat(stories: list[Story], key: str) -> int:
    return max((len(s[key]) for s in stories), default=0)


def header_and_rows(family: str, stories: list[Story]) -> tuple[list[str], list[list[str]]]:
    """The header and the full-width rows of a stories CSV of one family."""
    owners = _repeat(stories, "owners")
    comments = _repeat(stories, "comments")
    tasks = _repeat(stories, "tasks")
    blockers = _repeat(stories, "blockers")
    pulls = _repeat(stories, "pull_requests")
    branches = _repeat(stories, "branches")
    reviews = _repeat(stories, "reviews")
    note = "Note" if family == "A" else "Comment"
    fixed = {"A": FIXED_A, "B": FIXED_A, "C": FIXED_C, "D": FIXED_D, "E": FIXED_E}[family]
    header = list(fixed)
    if family in ("C", "D", "E"):
        header += ["Owned By"] * owners
    if family == "E":
        header += ["Blocker", "Blocker Status"] * blockers
    header += [note] * comments
    if family in ("D", "E"):
        header += ["Task", "Task Status"] * tasks
    if family == "E":
        header += ["Pull Request"] * pulls + ["Git Branch"] * branches
        header += ["Reviewer", "Review Type", "Review Status"] * reviews
    rows = []
    for s in stories:
        row = []
        for name in fixed:
            if name == "Labels":
                row.append(", ".join(s["labels"]))
            elif name == "Owned By":  # families A and B: one owner, in the fixed block
                row.append(s["owners"][0] if s["owners"] else "")
            else:
                value = s.get(FIELD_OF[name], "")
                row.append("" if value is None else str(value))
        if family in ("C", "D", "E"):
            row += _padded(s["owners"], owners)
        if family == "E":
            row += _flat_padded(s["blockers"], blockers, 2)
        row += _padded([comment_cell(*c) if isinstance(c, tuple) else c for c in s["comments"]], comments)
        if family in ("D", "E"):
            row += _flat_padded(s["tasks"], tasks, 2)
        if family == "E":
            row += _padded(s["pull_requests"], pulls) + _padded(s["branches"], branches)
            row += _flat_padded(s["reviews"], reviews, 3)
        rows.append(row)
    return header, rows


def _padded(values: list[str], width: int) -> list[str]:
    return list(values) + [""] * (width - len(values))


def _flat_padded(groups: list[tuple[str, ...]], count: int, size: int) -> list[str]:
    cells = [cell for group in groups for cell in group]
    return cells + [""] * (count * size - len(cells))


def stories_csv(
    family: str,
    stories: list[Story],
    ragged: bool = False,
    line_ending: str = "\n",
    delimiter: str = ",",
    bom: bool = False,
) -> bytes:
    header, rows = header_and_rows(family, stories)
    return write_csv(header, rows, ragged, line_ending, delimiter, bom)


def write_csv(
    header: list[str],
    rows: list[list[str]],
    ragged: bool = False,
    line_ending: str = "\n",
    delimiter: str = ",",
    bom: bool = False,
) -> bytes:
    """Tracker's dialect: minimal quoting, except dates and comments (they hold commas anyway)."""
    out = io.StringIO()
    out.write(delimiter.join(header) + line_ending)
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_ending)
    for row in rows:
        if ragged:
            while row and row[-1] == "":
                row = row[:-1]
        writer.writerow(row)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


HISTORY_HEADER = ["ID", "Type", "Message", "Performed By", "Occurred At"]


def history_csv(rows: list[list[str]], line_ending: str = "\n") -> bytes:
    return write_csv(HISTORY_HEADER, rows, line_ending=line_ending)


def export_zip(
    path: Path,
    stories: bytes,
    history: bytes | None = None,
    attachments: dict[str, bytes] | None = None,
    folder: str | None = None,
    stories_name: str = "stories.csv",
) -> Path:
    """A project export ZIP as Tracker's MORE -> Export CSV made it (inner names are not known)."""
    prefix = f"{folder}/" if folder else ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(prefix + stories_name, stories)
        if history is not None:
            archive.writestr(prefix + "project_history.csv", history)
        for name, content in (attachments or {}).items():
            archive.writestr(prefix + name, content)
    return path


# `Nov 22, 2014`: what a spreadsheet takes for a date when it opens a Tracker CSV.
TRACKER_DAY = re.compile(r"[A-Z][a-z]{2} \d{1,2}, \d{4}")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def spreadsheet_cell(cell: str) -> object:
    """A CSV cell as a spreadsheet keeps it: numbers as doubles, Tracker's days as dates."""
    if not cell:
        return None
    if NUMBER.fullmatch(cell) and len(cell) < 16:
        number = float(cell)
        # `00123` or `1.0` would lose their text in a spreadsheet too: a title is kept as text.
        if (str(int(number)) if number.is_integer() else repr(number)) == cell:
            return number
    if TRACKER_DAY.fullmatch(cell):
        return datetime.strptime(cell, "%b %d, %Y")
    if ISO_UTC.fullmatch(cell):  # the history's Occurred At, taken for a date and a time of day
        return datetime.strptime(cell, "%Y-%m-%dT%H:%M:%SZ")
    return cell


def xlsx_copy(content: bytes, path: Path, shared_strings: bool = True) -> Path:
    """The CSV re-saved as a workbook, with typed cells; Excel's shared strings unless told not to."""
    from openpyxl import Workbook  # only the tests and the benchmark write workbooks

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("stories")
    rows = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    sheet.append(next(rows))
    for row in rows:
        sheet.append([spreadsheet_cell(cell) for cell in row])
    workbook.save(path)
    if shared_strings:
        _share_strings(path)
    return path


INLINE_STRING = re.compile(r't="inlineStr"><is><t(?: xml:space="preserve")?>(.*?)</t></is>', re.DOTALL)
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHARED_STRINGS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def _share_strings(path: Path) -> None:
    """openpyxl writes each string in its cell; Excel writes each once, in xl/sharedStrings.xml."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    strings: dict[str, int] = {}

    def shared(match: re.Match[str]) -> str:
        return f't="s"><v>{strings.setdefault(match[1], len(strings))}</v>'

    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = INLINE_STRING.sub(shared, parts[sheet].decode()).encode()
    items = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in strings)
    parts["xl/sharedStrings.xml"] = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'uniqueCount="{len(strings)}">{items}</sst>'
    ).encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace(
        "</Types>",
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_STRINGS_TYPE}"/></Types>',
    ).encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdShared" Type="{SHARED_STRINGS_REL}" Target="sharedStrings.xml"/>'
        "</Relationships>",
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
