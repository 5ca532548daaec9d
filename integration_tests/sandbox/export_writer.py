"""The sandbox's world as the files Tracker's "Export CSV" produced: ground truth for the reader.

Per project (all of them: the UI exported projects whose API access was off, too):

- `zip`: `<project>_<YYYYMMDD>_<HHMMSS>-export.zip`, holding at its root the stories CSV
  (`<project>_<YYYYMMDD>_<HHMM>.csv`: story rows and epic rows), the project-history CSV
  (`<project>_<YYYYMMDD>_<HHMM>_history.csv`) and one folder per story id with its attachments;
- `folder`: the same entries, unzipped into `<project>_<YYYYMMDD>_<HHMMSS>-export/`;
- `csv`: the stories CSV alone.

Choices no real export shows (say so when comparing):
- dates are the day the project's own time zone shows; `Iteration End` is the iteration's last
  day (the 2015 export shows Monday `Nov 16` to Sunday `Nov 22`), i.e. the API's `finish` - 1 day;
- the history CSV holds the last 6 months of the project's activity, newest first, one row per
  activity, as the API's activity has it: ID = its `project_version` (what makes its guid),
  Type = its `kind`, Message, Performed By = `performed_by.name`, Occurred At as ISO 8601 UTC
  (`2025-03-24T14:43:03Z`);
- the export time is the world's `t0`, unless `ExportOptions.at` says when (export_series.py
  writes the same world several times): an export then holds the stories and epics created by
  then, and the 6 months of history before then.

The writer only reads the store: nothing in the store or the API imports it.
"""

from __future__ import annotations

import io
import itertools
import re
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from . import export_extras, messages, resources
from .export_cells import (
    blocker_status,
    comment_cell,
    date_cell,
    labels_cell,
    plain,
    priority_cell,
    row_text,
    task_status,
)
from .export_extras import Attachment
from .export_families import FAMILIES, HISTORY_HEADER, Family
from .model import Epic, Iteration, Project, Story
from .store import Store
from .timeutil import iso

LAYOUTS = ("zip", "csv", "folder")
HISTORY_DAYS = 6 * 30  # Export CSV wrote "project history limited to 6 months"
_BLOCKING_STORY = re.compile(r"#(\d+)")
_UNSAFE_IN_FILE_NAMES = re.compile(r'[/\\:*?"<>|\x00-\x1f]')


@dataclass(frozen=True)
class ExportOptions:
    family: str = "E"
    layout: str = "zip"
    crlf: bool = False
    bom: bool = False
    # None: the family's own era (ragged rows up to family D, padded in E).
    padded: bool | None = None
    # None: tiny attachments; else screenshots of real sizes, up to this many bytes.
    attachment_bytes: int | None = None
    # When the export was made (epoch seconds; None: the world's t0).
    at: int | None = None
    # Leave out the stories accepted before this time: Done stories an older export holds.
    done_before: int | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {', '.join(FAMILIES)}, not {self.family!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {self.layout!r}")

    @property
    def line_end(self) -> str:
        return "\r\n" if self.crlf else "\n"


@dataclass
class ExportedProject:
    """What one project's export holds, for tests to check the reader against."""

    project_id: int
    project_name: str
    path: Path
    stories_csv: str
    history_csv: str | None
    attachments: list[Attachment] = field(default_factory=list)
    story_ids: list[int] = field(default_factory=list)  # the stories (not epics) it holds
    exported_at: int = 0  # when it was made (epoch seconds)


def file_stem(project_name: str) -> str:
    """`<project name, lower-case, spaces -> _>`, as in real export names, safe on every OS."""
    return _UNSAFE_IN_FILE_NAMES.sub("", "_".join(project_name.lower().split()))


def write_exports(
    store: Store, directory: Path, options: ExportOptions | None = None
) -> list[ExportedProject]:
    options = options or ExportOptions()
    directory.mkdir(parents=True, exist_ok=True)
    with store.lock:
        return [_write_project(store, project, directory, options) for project in store.projects]


def _write_project(
    store: Store, project: Project, directory: Path, options: ExportOptions
) -> ExportedProject:
    stem = file_stem(project.name)
    at = store.t0 if options.at is None else options.at
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime(at))
    stories_name = f"{stem}_{stamp[:-2]}.csv"
    history_name = f"{stem}_{stamp[:-2]}_history.csv"
    stories = [s for s in project.stories if not s.deleted and s.created_at <= at and _kept(s, options)]
    files = [a for s in stories for a in export_extras.attachments(s, options.attachment_bytes)]
    ids = [s.id for s in stories]
    if options.layout == "csv":
        path = directory / stories_name
        with path.open("w", encoding="utf-8", newline="") as out:
            _write_stories(out, store, project, stories, options)
        return ExportedProject(
            project.id, project.name, path, stories_name, None, story_ids=ids, exported_at=at
        )
    if options.layout == "folder":
        path = directory / f"{stem}_{stamp}-export"
        path.mkdir(exist_ok=True)
        with (path / stories_name).open("w", encoding="utf-8", newline="") as out:
            _write_stories(out, store, project, stories, options)
        with (path / history_name).open("w", encoding="utf-8", newline="") as out:
            _write_history(out, store, project, options)
        for attachment in files:
            (path / str(attachment.story_id)).mkdir(exist_ok=True)
            (path / attachment.path).write_bytes(attachment.content)
        return ExportedProject(project.id, project.name, path, stories_name, history_name, files, ids, at)
    path = directory / f"{stem}_{stamp}-export.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, write in (
            (stories_name, lambda out: _write_stories(out, store, project, stories, options)),
            (history_name, lambda out: _write_history(out, store, project, options)),
        ):
            with archive.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as out:
                write(out)
        for attachment in files:
            archive.writestr(attachment.path, attachment.content)
    return ExportedProject(project.id, project.name, path, stories_name, history_name, files, ids, at)


def _kept(story: Story, options: ExportOptions) -> bool:
    done_before = options.done_before
    return done_before is None or story.accepted_at is None or story.accepted_at >= done_before


# ----------------------------------------------------------------------------- stories CSV


def _write_stories(
    out: IO[str], store: Store, project: Project, stories: list[Story], options: ExportOptions
) -> None:
    family = FAMILIES[options.family]
    offset = project.time_zone[2]
    iteration_of = {s.id: it for it in store.iterations(project) for s in it.stories}
    at = store.t0 if options.at is None else options.at
    epics = [e for e in project.epics if e.created_at <= at] if family.has_epics else []
    # The repeated groups are as wide as the busiest story needs: count first, then stream rows.
    counts = dict.fromkeys((key for key, _group in family.groups), 0)
    for story in stories:
        sizes = _repeated_sizes(story)
        for key, most in counts.items():
            counts[key] = max(most, len(sizes[key]))
    header = family.header(counts)
    keep = len(family.fixed)
    padded = family.padded if options.padded is None else options.padded
    end = options.line_end
    if options.bom:
        out.write("\ufeff")
    out.write(",".join(header) + end)
    rows = itertools.chain(
        (_epic_row(e, family, offset) for e in epics),
        (_story_row(store, s, iteration_of.get(s.id), family, offset) for s in stories),
    )
    for fixed, repeated, is_epic in rows:
        cells = [fixed[key] for _name, key in family.fixed]
        for key, group in family.groups:
            values = repeated.get(key, ())
            for value in values:
                cells.extend(value)
            cells.extend([""] * (len(group) * (counts[key] - len(values))))
        # Epic rows came padded even in files whose story rows are ragged (the 2015 export).
        out.write(row_text(cells, len(header), keep, padded or is_epic) + end)


def _repeated_sizes(story: Story) -> dict[str, Sequence[object]]:
    return {
        "owners": story.owner_ids,
        "comments": story.comments,
        "tasks": story.tasks,
        "blockers": story.blockers,
        "pull_requests": export_extras.pull_requests(story),
        "branches": export_extras.branches(story),
    }


Row = tuple[dict[str, str], dict[str, list[tuple[str, ...]]], bool]


def _epic_row(epic: Epic, family: Family, offset: int) -> Row:
    fixed = dict.fromkeys((key for _name, key in family.fixed), "")
    fixed.update(
        id=str(epic.id),
        title=plain(epic.name),
        labels=labels_cell([epic.label.name]),
        type="epic",
        created_at=date_cell(epic.created_at, offset),
        description=plain(epic.description or ""),
        url=f"{family.url_scheme}://www.pivotaltracker.com/epic/show/{epic.id}",
    )
    return fixed, {}, True


def _story_row(store: Store, story: Story, iteration: Iteration | None, family: Family, offset: int) -> Row:
    people = store.people
    owners = [people[i].name for i in story.owner_ids if i in people]
    requester = people.get(story.requested_by_id)
    fixed = {
        "id": str(story.id),
        "title": plain(story.name),
        "labels": labels_cell([label.name for label in story.labels]),
        "iteration": str(iteration.number) if iteration else "",
        "iteration_start": date_cell(iteration.start, offset) if iteration else "",
        # The iteration's last day; the API's finish is the next iteration's first moment.
        "iteration_end": date_cell(iteration.finish - 1, offset) if iteration else "",
        "type": story.story_type,
        "estimate": "" if story.estimate is None else str(story.estimate),
        "priority": priority_cell(story.story_priority),
        "current_state": story.current_state,
        "created_at": date_cell(story.created_at, offset),
        "accepted_at": date_cell(story.accepted_at, offset),
        "deadline": date_cell(story.deadline, offset),
        "requested_by": plain(requester.name) if requester else "",
        # Before multiple owners (families A and B) the one owner sat in the fixed block.
        "owned_by": plain(owners[0]) if owners else "",
        "description": plain(story.description or ""),
        "url": f"{family.url_scheme}://www.pivotaltracker.com/story/show/{story.id}",
    }
    repeated: dict[str, list[tuple[str, ...]]] = {
        "owners": [(plain(name),) for name in owners],
        "comments": [
            (comment_cell(c.text, people[c.person_id].name, c.created_at, offset),) for c in story.comments
        ],
        "tasks": [
            (plain(t.description), task_status(t.complete))
            for t in sorted(story.tasks, key=lambda t: t.position)
        ],
        "blockers": [
            (plain(_blocker_text(b.description)), blocker_status(b.resolved)) for b in story.blockers
        ],
        "pull_requests": [(url,) for url in export_extras.pull_requests(story)],
        "branches": [(plain(name),) for name in export_extras.branches(story)],
    }
    return fixed, repeated, False


def _blocker_text(description: str) -> str:
    """`#<story id>` when the blocker points at a story, as Tracker wrote it; else its text."""
    found = _BLOCKING_STORY.search(description)
    return f"#{found.group(1)}" if found else description


# ----------------------------------------------------------------------------- history CSV


def history_rows(
    store: Store, project: Project, at: int | None = None
) -> Iterator[tuple[str, str, str, str, str]]:
    """The activity of the six months before the export (made at `at`, default t0), newest first."""
    at = store.t0 if at is None else at
    cutoff = at - HISTORY_DAYS * 86400
    ctx = resources.Ctx(store)
    for event in reversed(project.events):
        if event.occurred_at > at:
            continue
        if event.occurred_at < cutoff:
            break
        activity = messages.activity_dict(event, ctx)
        yield (
            str(event.version),
            activity["kind"],
            activity["message"],
            activity["performed_by"]["name"],
            iso(event.occurred_at),
        )


def _write_history(out: IO[str], store: Store, project: Project, options: ExportOptions) -> None:
    end = options.line_end
    if options.bom:
        out.write("\ufeff")
    out.write(",".join(HISTORY_HEADER) + end)
    for row in history_rows(store, project, options.at):
        out.write(",".join(plain(cell) for cell in row) + end)
