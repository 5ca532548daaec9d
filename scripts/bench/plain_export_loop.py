"""The limit for reading an export: `csv.reader` + `orjson`, with none of the CDK's machinery.

`python scripts/bench/plain_export_loop.py EXPORT.zip [...]`. Reads each project export ZIP's
stories CSV and history CSV with `csv.reader`, builds the records the connector's export mode
delivers (stories, epics, releases, comments, tasks, blockers, labels, iterations, activity,
attachments: the same field names and shapes, persons as {"name": ...}) and prints each as the
RECORD line it becomes. Single-threaded and streaming, as a careful hand-written script would be.

Why it is a fair limit: it does the work any reader of this export must do and nothing more. It
opens the same ZIP member by member (zipfile, a utf-8-sig text wrapper, csv.reader), hashes the
same attachments, derives the same ids, builds exactly the records the connector writes (a test
holds the two equal stream by stream: unit_tests/exports/test_plain_export_loop.py), drops the
top-level nulls the protocol's serializer drops, and writes the same compact RECORD lines with
orjson to a buffered stdout. It leaves out what only a connector needs: the CDK's import, spec,
config and catalog handling, stream statuses and logs, the other header families' column
names, per-row error reporting, and the hostile-archive checks, so no faster honest reader of
these files is likely to exist in Python.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import orjson

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}


export_file = ""  # the export being read (read_export)
_DATES: dict[str, str | None] = {"": None}  # a file holds a few thousand distinct days


def iso_date(text: str) -> str | None:
    found = _DATES.get(text, "")
    if found != "":
        return found
    month, day, year = text.replace(",", "").split()
    value = _DATES[text] = f"{int(year):04d}-{MONTHS[month]:02d}-{int(day):02d}T00:00:00Z"
    return value


def next_day(text: str) -> str | None:
    """Iteration End is the iteration's last day; the API's finish is the day after."""
    last = iso_date(text)
    return (
        None if last is None else (date.fromisoformat(last[:10]) + timedelta(days=1)).isoformat() + last[10:]
    )


def stable_id(text: str) -> int:
    """53 bits of BLAKE2b-64 over a text naming the thing: the reader's rule for ids exports lack."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 11


ID_MASK = (1 << 53) - 1


def item_id(kind: str, story_id: int, position: int) -> int:
    """The reader's rule: one hash per story and kind, plus the item's 1-based position."""
    return (stable_id(f"{kind}:{story_id}") + position) & ID_MASK


def split_comment(cell: str) -> tuple[str, str | None, str | None]:
    """The last `(Author - Mon D, YYYY)` tail: text, author, date."""
    if cell.endswith(")"):
        open_at = cell.rfind(" (")
        dash = cell.rfind(" - ")
        if 0 <= open_at < dash:
            return cell[:open_at], cell[open_at + 2 : dash], iso_date(cell[dash + 3 : -1])
    return cell, None, None


def project_of(stem: str) -> dict[str, Any]:
    """`<name>_<YYYYMMDD>_<HHMMSS>-export`: the project's record (the reader's id rule)."""
    exported_at = None
    name = stem
    if stem.endswith("-export"):
        name, day, clock = stem.removesuffix("-export").rsplit("_", 2)
        clock = clock.ljust(6, "0")
        exported_at = f"{day[:4]}-{day[4:6]}-{day[6:]}T{clock[:2]}:{clock[2:4]}:{clock[4:]}Z"
    return {
        "kind": "project",
        "id": stable_id(f"project:{name}"),
        "name": name,
        "exported_at": exported_at,
        "export_file": export_file,
    }


def read_export(path: str, emit: Callable[[str, dict[str, Any]], None]) -> None:
    global export_file  # every record names the export it came from: the ZIP's file name
    export_file = path.rsplit("/", 1)[-1]
    project = project_of(export_file.removesuffix(".zip"))
    project_id = project["id"]
    emit("projects", project)
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            with archive.open(info) as raw:
                if info.filename.endswith(".csv"):
                    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                    rows = csv.reader(text)
                    header = next(rows)
                    if header[0] == "ID" and "Occurred At" in header:
                        history(rows, project_id, emit)
                    else:
                        stories(header, rows, project_id, emit)
                    continue
                digest, size = hashlib.sha256(), 0
                while chunk := raw.read(1 << 16):
                    digest.update(chunk)
                    size += len(chunk)
            story_id, _slash, file_name = info.filename.partition("/")
            emit(
                "attachments",
                {
                    "project_id": project_id,
                    "export_file": export_file,
                    "story_id": int(story_id),
                    "file_name": file_name,
                    "size": size,
                    "sha256": digest.hexdigest(),
                    "path": info.filename,
                },
            )


def stories(header: list[str], rows: Iterator[list[str]], project_id: int, emit: Any) -> None:
    index = {name.lower(): i for i, name in reversed(list(enumerate(header)))}
    # Families D and E name them Title and Type, older ones Story and Story Type.
    position = {
        "title": index["title"] if "title" in index else index["story"],
        "type": index["type"] if "type" in index else index["story type"],
    }
    repeated: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        if name in ("Owned By", "Comment", "Task", "Blocker", "Pull Request", "Git Branch", "Reviewer"):
            repeated.setdefault(name, []).append(i)
    labels_seen: dict[str, None] = {}
    iterations: dict[int, dict[str, Any]] = {}
    width = len(header)
    get = index.get
    for row in rows:
        if len(row) < width:
            row = row + [""] * (width - len(row))
        story_id = int(row[0])
        label_names = [name for name in (part.strip() for part in row[index["labels"]].split(",")) if name]
        for name in label_names:
            labels_seen.setdefault(name)
        kind = row[position["type"]].strip().lower() or None
        if kind == "epic":
            emit(
                "epics",
                {
                    "kind": "epic",
                    "id": story_id,
                    "project_id": project_id,
                    "export_file": export_file,
                    "name": row[position["title"]],
                    "description": row[index["description"]] or None,
                    "url": row[index["url"]] or None,
                    "label": {"name": label_names[0]} if label_names else None,
                    "created_at": iso_date(row[index["created at"]]),
                    "completed_at": iso_date(row[index["accepted at"]]),
                },
            )
            # Comments on epics: ids of the kind "epic_comment", keyed by epic_id.
            comments(row, repeated, "epic_comment", "epic_id", story_id, project_id, emit)
            continue
        estimate = row[index["estimate"]]
        priority_at = get("priority")
        requested_by = row[index["requested by"]]
        record = {
            "kind": "story",
            "id": story_id,
            "project_id": project_id,
            "export_file": export_file,
            "name": row[position["title"]],
            "description": row[index["description"]] or None,
            "story_type": kind,
            "current_state": row[index["current state"]] or None,
            "estimate": int(estimate) if estimate else None,
            "story_priority": priority(row[priority_at]) if priority_at is not None else None,
            "created_at": iso_date(row[index["created at"]]),
            "accepted_at": iso_date(row[index["accepted at"]]),
            "deadline": iso_date(row[index["deadline"]]),
            "url": row[index["url"]] or None,
            "requested_by": {"name": requested_by} if requested_by else None,
            "owners": [{"name": row[i]} for i in repeated.get("Owned By", ()) if row[i]],
            "labels": [{"name": name} for name in label_names],
            "pull_requests": [pull_request(row[i]) for i in repeated.get("Pull Request", ()) if row[i]],
            "branches": [{"name": row[i]} for i in repeated.get("Git Branch", ()) if row[i]],
            "reviews": [
                {
                    "reviewer": {"name": row[i]} if row[i] else None,
                    "review_type": {"name": row[i + 1]} if row[i + 1] else None,
                    "status": row[i + 2] or None,
                }
                for i in repeated.get("Reviewer", ())
                if row[i] or row[i + 1] or row[i + 2]
            ],
        }
        emit("stories", record)
        if kind == "release":
            emit("releases", {"kind": "release", **{key: record[key] for key in RELEASE_FIELDS}})
        comments(row, repeated, "comment", "story_id", story_id, project_id, emit)
        position_in_row = 0
        for i in repeated.get("Task", ()):
            if row[i]:
                position_in_row += 1
                state = row[i + 1].strip().lower()
                emit(
                    "tasks",
                    {
                        "kind": "task",
                        "id": item_id("task", story_id, position_in_row),
                        "story_id": story_id,
                        "project_id": project_id,
                        "export_file": export_file,
                        "description": row[i],
                        "complete": True if state == "completed" else (False if state else None),
                        "position": position_in_row,
                    },
                )
        position_in_row = 0
        for i in repeated.get("Blocker", ()):
            if row[i]:
                position_in_row += 1
                text = row[i]
                reference = text.strip()
                state = row[i + 1].strip().lower()
                emit(
                    "blockers",
                    {
                        "kind": "blocker",
                        "id": item_id("blocker", story_id, position_in_row),
                        "story_id": story_id,
                        "project_id": project_id,
                        "export_file": export_file,
                        "description": text,
                        "resolved": True if state == "resolved" else (False if state else None),
                        "blocking_story_id": int(reference[1:])
                        if reference[:1] == "#" and reference[1:].isdigit()
                        else None,
                    },
                )
        number = row[index["iteration"]]
        if number:
            iteration = iterations.get(int(number))
            if iteration is None:
                iteration = iterations[int(number)] = {
                    "kind": "iteration",
                    "project_id": project_id,
                    "export_file": export_file,
                    "number": int(number),
                    "start": iso_date(row[index["iteration start"]]),
                    "finish": next_day(row[index["iteration end"]]),
                    "story_ids": [],
                }
            iteration["story_ids"].append(story_id)
    for name in labels_seen:
        emit(
            "labels",
            {
                "kind": "label",
                "id": stable_id(f"label:{project_id}:{name}"),
                "project_id": project_id,
                "export_file": export_file,
                "name": name,
            },
        )
    for number in sorted(iterations):
        emit("iterations", iterations[number])


# The API release's fields that a story carries (the releases schema's, as the reader takes them).
RELEASE_FIELDS = ("id", "project_id", "name", "description", "current_state", "accepted_at", "deadline",
                  "labels", "url", "created_at", "export_file")  # fmt: skip
PRIORITIES = ("p0", "p1", "p2", "p3", "none")


def priority(cell: str) -> str | None:
    """`p2 - Medium` -> `p2`, `None` -> `none`; anything else as written."""
    if not cell:
        return None
    code = cell.split(" - ", 1)[0].strip().lower()
    return code if code in PRIORITIES else cell


def comments(
    row: list[str], repeated: dict[str, list[int]], kind: str, owner: str, owner_id: int, project_id: int,
    emit: Any,
) -> None:  # fmt: skip
    position_in_row = 0
    for i in repeated.get("Comment", ()):
        if row[i]:
            position_in_row += 1
            text, author, date = split_comment(row[i])
            emit(
                "comments",
                {
                    "kind": "comment",
                    "id": item_id(kind, owner_id, position_in_row),
                    owner: owner_id,
                    "project_id": project_id,
                    "export_file": export_file,
                    "text": text,
                    "person": {"name": author} if author else None,
                    "created_at": date,
                },
            )


def pull_request(url: str) -> dict[str, Any]:
    """`https://github.com/<owner>/<repo>/pull/<n>` as the API's pull request."""
    host, _sep, rest = url.partition("://")
    parts = rest.split("/")
    if len(parts) >= 5 and parts[4].isdigit():
        return {"original_url": url, "host_url": f"{host}://{parts[0]}/", "owner": parts[1], "repo": parts[2],
                "number": int(parts[4])}  # fmt: skip
    return {"original_url": url, "host_url": None, "owner": None, "repo": None, "number": None}


def history(rows: Iterator[list[str]], project_id: int, emit: Any) -> None:
    for row in rows:
        emit(
            "activity",
            {
                "kind": row[1],
                "guid": f"{project_id}_{row[0]}",
                "project_version": int(row[0]),
                "message": row[2],
                "performed_by": {"name": row[3]},
                "occurred_at": row[4],
                "project_id": project_id,
                "export_file": export_file,
            },
        )


def main() -> int:
    out = sys.stdout.buffer
    dumps = orjson.dumps
    heads = {}

    def emit(stream: str, data: dict[str, Any]) -> None:
        head = heads.get(stream)
        if head is None:
            head = heads[stream] = b'{"type":"RECORD","record":{"stream":"%s","data":' % stream.encode()
        if None in data.values():  # the protocol's serializer leaves out top-level nulls
            data = {key: value for key, value in data.items() if value is not None}
        out.write(head + dumps(data) + b',"emitted_at":%d}}\n' % int(time.time() * 1000))

    for path in sys.argv[1:]:
        read_export(path, emit)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
