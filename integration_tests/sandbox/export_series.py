"""The same world exported several times, as a team that exported every quarter holds it.

`write_export_series` writes `count` exports of every project, `days_apart` days apart, the newest
now. Between two exports some stories change (name, description, state; never to accepted) and
new ones are created, through the store as a user's edits would be, so the newest export and the
API show the newest state. Each export holds the stories created by its time and its own 6 months
of history (export_writer.py), so the history windows move. As teams kept them:
- the older exports' ZIPs are renamed (`download (<n>).zip`: no project, no time; the CSVs inside
  keep Tracker's names);
- the newest export leaves out the Done stories the oldest one holds (an export of the current
  work only), so those exist only in an older export.
A merged read of every export must give the newest state of every story (never a changed story's
older version) and the history of every window.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from .export_writer import ExportedProject, ExportOptions, write_exports
from .store import Store

DAY = 86400
# Stories changed between two exports, per project, and stories created.
CHANGED, CREATED = 5, 2


def write_export_series(
    store: Store,
    directory: Path,
    options: ExportOptions,
    count: int = 2,
    days_apart: int = 90,
    leave_out_done: bool = True,
) -> list[list[ExportedProject]]:
    """`count` exports of every project, oldest first, each in `directory/export-<n>/`.

    `leave_out_done=False`: the newest export holds every story too (as for the benchmark).
    """
    if count < 1:
        raise ValueError("an export series has at least one export")
    if count == 1:
        return [write_exports(store, directory, options)]
    oldest = store.now() - (count - 1) * days_apart * DAY
    series: list[list[ExportedProject]] = []
    for number in range(1, count + 1):
        newest = number == count
        if number > 1:
            change_stories(store, random.Random(number))
        at = store.now() if newest else oldest + (number - 1) * days_apart * DAY
        done_before = oldest if newest and leave_out_done else None
        written = write_exports(
            store,
            directory / f"export-{number}",
            dataclasses.replace(options, at=at, done_before=done_before),
        )
        if not newest:
            first = (number - 1) * len(written) + 1  # download names unique across the series
            written = [_renamed(exported, index) for index, exported in enumerate(written, start=first)]
        series.append(written)
    return series


def change_stories(store: Store, rng: random.Random) -> None:
    """What a team did between two exports: edits to unfinished stories, and new stories."""
    for project in store.projects:
        open_stories = [s for s in project.stories if s.current_state not in ("accepted",) and not s.deleted]
        for story in rng.sample(open_stories, min(CHANGED, len(open_stories))):
            fields: dict[str, object] = {
                "name": f"{story.name} (revised)",
                "description": f"{story.description or ''}\nRevised after the export.".strip(),
            }
            if story.current_state in ("unstarted", "unscheduled"):
                fields["current_state"] = "started"
            store.update_story(story.id, **fields)
        for number in range(CREATED):
            store.create_story(project.id, name=f"Created after the export ({number + 1})")


def _renamed(exported: ExportedProject, index: int) -> ExportedProject:
    """A download renamed as browsers and people do: the name says neither project nor time."""
    if exported.path.suffix != ".zip":
        return exported
    target = exported.path.with_name(f"download ({index}).zip")
    exported.path.rename(target)
    return dataclasses.replace(exported, path=target)
