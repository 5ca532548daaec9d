"""Rows of an export as records of the API's streams, with the API's field names and shapes.

One pass over a stories CSV fills every stream it feeds (stories, epics, releases, comments,
tasks, blockers) and the small aggregates read at the end (labels, iterations). The per-row work
is plain indexing into the row: column positions are resolved once per file (StoriesLayout).
Every record names the export it came from (`export_file`); of a project read from several exports,
a row whose story (epic, history entry) a newer export already gave is left out (merge.py).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..runtime.stream_schemas import stream_schemas
from .csv_format import (
    HistoryLayout,
    StoriesLayout,
    day_after,
    parse_comment,
    parse_date,
    parse_estimate,
    parse_int,
    parse_priority,
    parse_pull_request,
    split_labels,
)
from .ids import ID_MASK, derived_ids, label_id

if TYPE_CHECKING:
    from .merge import Seen

Record = dict[str, object]
STORY_STREAMS = ("stories", "epics", "releases", "comments", "tasks", "blockers")
# Whether a full export also held an epics CSV (and with which columns) is not known: a row whose
# Type is missing or blank is an epic when its URL is an epic's, as on the epic rows of 2015.
EPIC_URL_PATH = "/epic/show/"


def is_epic_row(story_type: str | None, url: str) -> bool:
    """Whether a row is an epic: by its (lower-cased) Type, or by its URL where the Type is blank."""
    return story_type == "epic" or (not story_type and EPIC_URL_PATH in url)


@dataclass
class ProjectAggregates:
    """What a project's rows add up to: its labels and iterations (small, kept until the end)."""

    labels: dict[str, str] = field(default_factory=dict)  # name: the export_file that first had it
    # Story ids as 64-bit ints (8 bytes each, not 36 as a list of Python ints): every story of a
    # project is in one, so it grows with the export. An id past 64 bits turns that one to a list.
    iterations: dict[int, tuple[str | None, str | None, array[int] | list[int]]] = field(default_factory=dict)

    def add_to_iteration(self, number: int, story_id: int, start: str | None, finish: str | None) -> None:
        known = self.iterations.get(number)
        if known is None:
            known = self.iterations[number] = (start, finish, array("q"))
        try:
            known[2].append(story_id)
        except OverflowError:
            self.iterations[number] = (known[0], known[1], [*known[2], story_id])

    def label_records(self, project_id: int) -> Iterable[Record]:
        for name, export_file in self.labels.items():
            yield {
                "kind": "label",
                "id": label_id(project_id, name),
                "project_id": project_id,
                "name": name,
                "export_file": export_file,
            }

    def iteration_records(self, project_id: int, export_file: str) -> Iterable[Record]:
        for number in sorted(self.iterations):
            start, finish, story_ids = self.iterations[number]
            yield {
                "kind": "iteration",
                "project_id": project_id,
                "number": number,
                "start": start,
                "finish": finish,
                # A story listed twice in one file is one story of the iteration.
                "story_ids": list(dict.fromkeys(story_ids)),
                "export_file": export_file,
            }


def _pairs(
    row: list[str], pairs: list[tuple[int | None, int]], kind: str, story_id: int
) -> Iterator[tuple[int, int, str, str]]:
    """(derived id, position, text, lower-cased status) of each non-empty item of a row's pairs."""
    position = base = 0
    for main, status in pairs:
        text = row[main] if main is not None else ""
        if text:
            position += 1
            base = base or derived_ids(kind, story_id)
            yield (base + position) & ID_MASK, position, text, row[status].strip().lower()


def pad(row: list[str], width: int, padding: list[str]) -> None:
    """Ragged rows (cells left out after the last non-empty one) and padded rows read alike:
    the row becomes the header's width plus one empty cell, where absent columns point."""
    if len(row) > width:
        if any(row[width:]):
            raise ValueError(f"the row has {len(row)} cells, more than the {width} columns of the header")
        del row[width:]
    row.extend(padding[len(row) :])


def _name(cell: str) -> dict[str, str] | None:
    return {"name": cell} if cell else None


class StoryRows:
    """Turns the rows of one stories CSV into records of the selected streams."""

    def __init__(
        self,
        layout: StoriesLayout,
        project_id: int,
        selected: set[str],
        aggregates: ProjectAggregates,
        export_file: str,
        seen: Seen | None = None,
        iterations: bool = True,
    ) -> None:
        """`seen`: of a merged project, what newer exports gave; `iterations`: whether this export
        is the one that gives its project's iterations (the newest)."""
        self.project_id = project_id
        self.export_file = export_file
        self.seen = seen
        self.selected = selected
        self.aggregates = aggregates
        self.width = layout.width
        self.padding = [""] * (layout.width + 1)
        fixed = layout.fixed
        # A column the file lacks reads the padding cell past the row's end: always empty.
        missing = layout.width
        self.columns = {key: fixed.get(key, missing) for key in _FIXED_KEYS}
        self.owners = layout.repeated.get("owners", ())
        self.comments = layout.repeated.get("comments", ())
        self.pull_requests = layout.repeated.get("pull_requests", ())
        self.branches = layout.repeated.get("branches", ())
        self.tasks = [
            (main, status if status is not None else missing)
            for main, status in layout.groups.get("tasks", ())
        ]
        self.blockers = [
            (main, status if status is not None else missing)
            for main, status in layout.groups.get("blockers", ())
        ]
        self.reviews = [
            tuple(index if index is not None else missing for index in members)
            for members in layout.groups.get("reviews", ())
        ]
        self.want = {name: name in selected for name in STORY_STREAMS}
        self.want_labels = "labels" in selected
        self.want_iterations = iterations and "iterations" in selected

    def records(self, row: list[str]) -> list[tuple[str, Record]]:
        """The records of one row (padded in place to the header's width plus one empty cell)."""
        pad(row, self.width, self.padding)
        columns = self.columns
        story_id = parse_int(row[columns["id"]], "Id")
        if story_id is None:
            if not any(row):  # a blank line, or a spreadsheet's row of empty cells
                return []
            raise ValueError("the row has no Id")
        story_type = row[columns["type"]].strip().lower() or None
        is_epic = is_epic_row(story_type, row[columns["url"]])
        if self.seen is not None and not self.seen.first(is_epic, story_id):
            return []
        labels = split_labels(row[columns["labels"]])
        if is_epic:
            epic = self._epic(row, story_id, labels)
            self._add_labels(labels)
            return epic
        out: list[tuple[str, Record]] = []
        project_id, export_file = self.project_id, self.export_file
        want = self.want
        created_at = parse_date(row[columns["created_at"]])
        accepted_at = parse_date(row[columns["accepted_at"]])
        deadline = parse_date(row[columns["deadline"]])
        label_objects = [{"name": name} for name in labels]
        if want["stories"] or (want["releases"] and story_type == "release"):
            story: Record = {
                "kind": "story",
                "id": story_id,
                "project_id": project_id,
                "export_file": export_file,
                "name": row[columns["title"]],
                "description": row[columns["description"]] or None,
                "story_type": story_type,
                "current_state": row[columns["current_state"]] or None,
                "estimate": parse_estimate(row[columns["estimate"]]),
                "story_priority": parse_priority(row[columns["priority"]]),
                "created_at": created_at,
                "accepted_at": accepted_at,
                "deadline": deadline,
                "url": row[columns["url"]] or None,
                "requested_by": _name(row[columns["requested_by"]]),
                "owners": [{"name": row[i]} for i in self.owners if row[i]],
                "labels": label_objects,
                "pull_requests": [parse_pull_request(row[i]) for i in self.pull_requests if row[i]],
                "branches": [{"name": row[i]} for i in self.branches if row[i]],
                "reviews": [
                    {"reviewer": _name(row[r]), "review_type": _name(row[t]), "status": row[s] or None}
                    for r, t, s in self.reviews
                    if row[r] or row[t] or row[s]
                ],
            }
            if want["stories"]:
                out.append(("stories", story))
            if want["releases"] and story_type == "release":
                out.append(("releases", _release(story)))
        if want["comments"]:
            self._comments(row, out, "story_id", story_id)
        if want["tasks"]:
            for item_id, position, description, state in _pairs(row, self.tasks, "task", story_id):
                out.append(
                    (
                        "tasks",
                        {
                            "kind": "task",
                            "id": item_id,
                            "story_id": story_id,
                            "project_id": project_id,
                            "export_file": export_file,
                            "description": description,
                            "complete": True if state == "completed" else (False if state else None),
                            "position": position,
                        },
                    )
                )
        if want["blockers"]:
            for item_id, _, description, state in _pairs(row, self.blockers, "blocker", story_id):
                reference = description.strip()
                blocking = int(reference[1:]) if reference[1:].isdigit() and reference[:1] == "#" else None
                out.append(
                    (
                        "blockers",
                        {
                            "kind": "blocker",
                            "id": item_id,
                            "story_id": story_id,
                            "project_id": project_id,
                            "export_file": export_file,
                            "description": description,
                            "resolved": True if state == "resolved" else (False if state else None),
                            "blocking_story_id": blocking,
                        },
                    )
                )
        if self.want_iterations:
            number = parse_int(row[columns["iteration"]], "Iteration")
            if number is not None:
                if number in self.aggregates.iterations:
                    self.aggregates.add_to_iteration(number, story_id, None, None)
                else:
                    start = parse_date(row[columns["iteration_start"]])
                    finish = day_after(parse_date(row[columns["iteration_end"]]))
                    self.aggregates.add_to_iteration(number, story_id, start, finish)
        self._add_labels(labels)
        return out

    def _add_labels(self, labels: list[str]) -> None:
        """Last, once the row has read without error: a row skipped (on_bad_rows) adds no label."""
        if self.want_labels:
            for name in labels:
                self.aggregates.labels.setdefault(name, self.export_file)

    def _comments(
        self, row: list[str], out: list[tuple[str, Record]], owner_field: str, owner_id: int
    ) -> None:
        position = base = 0
        kind = "comment" if owner_field == "story_id" else "epic_comment"
        for index in self.comments:
            cell = row[index]
            if not cell:
                continue
            position += 1
            base = base or derived_ids(kind, owner_id)
            text, author, created_at = parse_comment(cell)
            out.append(
                (
                    "comments",
                    {
                        "kind": "comment",
                        "id": (base + position) & ID_MASK,
                        owner_field: owner_id,
                        "project_id": self.project_id,
                        "export_file": self.export_file,
                        "text": text,
                        "person": {"name": author} if author else None,
                        "created_at": created_at,
                    },
                )
            )

    def _epic(self, row: list[str], epic_id: int, labels: list[str]) -> list[tuple[str, Record]]:
        """Epic rows feed epics (and comments on epics), never stories: their ids are another sequence."""
        out: list[tuple[str, Record]] = []
        columns = self.columns
        if self.want["epics"]:
            out.append(
                (
                    "epics",
                    {
                        "kind": "epic",
                        "id": epic_id,
                        "project_id": self.project_id,
                        "export_file": self.export_file,
                        "name": row[columns["title"]],
                        "description": row[columns["description"]] or None,
                        "url": row[columns["url"]] or None,
                        "label": {"name": labels[0]} if labels else None,
                        "created_at": parse_date(row[columns["created_at"]]),
                        "completed_at": parse_date(row[columns["accepted_at"]]),
                    },
                )
            )
        if self.want["comments"]:
            self._comments(row, out, "epic_id", epic_id)
        return out


_FIXED_KEYS = (
    "id",
    "title",
    "labels",
    "iteration",
    "iteration_start",
    "iteration_end",
    "type",
    "estimate",
    "priority",
    "current_state",
    "created_at",
    "accepted_at",
    "deadline",
    "requested_by",
    "description",
    "url",
)
# The API release shape: the release schema's fields that a story record has.
RELEASE_FIELDS = tuple(name for name in stream_schemas()["releases"]["properties"] if name != "kind")


def _release(story: Record) -> Record:
    return {"kind": "release", **{key: story[key] for key in RELEASE_FIELDS if key in story}}


class HistoryRows:
    """Rows of a project-history CSV (`ID, Type, Message, Performed By, Occurred At`) as activity."""

    def __init__(
        self, layout: HistoryLayout, project_id: int, export_file: str, seen: Seen | None = None
    ) -> None:
        self.project_id = project_id
        self.export_file = export_file
        self.seen = seen
        self.width = layout.width
        self.padding = [""] * (layout.width + 1)
        columns = layout.columns
        self.id, self.type, self.message = columns["id"], columns["type"], columns["message"]
        self.performed_by, self.occurred_at = columns["performed by"], columns["occurred at"]

    def record(self, row: list[str]) -> Record | None:
        """The row's activity; None when a newer export of a merged project gave that ID."""
        pad(row, self.width, self.padding)
        version = row[self.id].strip()
        if not version:
            raise ValueError("the row has no ID")
        if self.seen is not None and not self.seen.first_history(version):
            return None
        return {
            "kind": row[self.type] or None,
            "guid": f"{self.project_id}_{version}",
            "project_version": int(version) if version.isdigit() else None,
            "message": row[self.message] or None,
            "performed_by": _name(row[self.performed_by]),
            "occurred_at": parse_date(row[self.occurred_at]),
            "project_id": self.project_id,
            "export_file": self.export_file,
        }
