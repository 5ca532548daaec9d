"""The header families A–E of Tracker's stories CSV, 2010–2025 (export format doc §2).

Each family is a fixed block of named columns, then repeated groups in a fixed order; a group is
written as often as the busiest story of the file needs it, and not at all when no story does.
Keys name the fact a column carries, so one row builder serves every family.
"""

from __future__ import annotations

from dataclasses import dataclass

Group = tuple[str, ...]  # header names of one repetition, e.g. ("Task", "Task Status")


@dataclass(frozen=True)
class Family:
    name: str
    era: str
    fixed: tuple[tuple[str, str], ...]  # (header name, key)
    groups: tuple[tuple[str, Group], ...]  # (key, header names of one repetition)
    # Ragged rows (cut after the last non-empty cell) in the samples up to 2019, padded later.
    padded: bool
    # Epics arrived in Tracker after 2012: families A and B have no epic rows.
    has_epics: bool
    url_scheme: str

    def header(self, counts: dict[str, int]) -> list[str]:
        names = [name for name, _key in self.fixed]
        for key, group in self.groups:
            names.extend(list(group) * counts.get(key, 0))
        return names


def _fixed(story: str, story_type: str, owned_by_early: bool, priority: bool) -> tuple[tuple[str, str], ...]:
    columns = [
        ("Id", "id"),
        (story, "title"),
        ("Labels", "labels"),
        ("Iteration", "iteration"),
        ("Iteration Start", "iteration_start"),
        ("Iteration End", "iteration_end"),
        (story_type, "type"),
        ("Estimate", "estimate"),
    ]
    if priority:
        columns.append(("Priority", "priority"))
    columns += [
        ("Current State", "current_state"),
        ("Created at", "created_at"),
        ("Accepted at", "accepted_at"),
        ("Deadline", "deadline"),
        ("Requested By", "requested_by"),
    ]
    if owned_by_early:
        columns.append(("Owned By", "owned_by"))
    columns += [("Description", "description"), ("URL", "url")]
    return tuple(columns)


_OWNERS = ("owners", ("Owned By",))
_COMMENTS = ("comments", ("Comment",))
_TASKS = ("tasks", ("Task", "Task Status"))
_LATE_GROUPS = (
    _OWNERS,
    ("blockers", ("Blocker", "Blocker Status")),
    _COMMENTS,
    _TASKS,
    ("pull_requests", ("Pull Request",)),
    ("branches", ("Git Branch",)),
)
_EARLY = _fixed("Story", "Story Type", owned_by_early=True, priority=False)

# name: (era, fixed block, repeated groups, padded, has epics, URL scheme)
FAMILIES: dict[str, Family] = {
    name: Family(name, *row)
    for name, row in {
        "A": ("up to 2011", _EARLY, (("comments", ("Note",)),), False, False, "http"),
        "B": ("2012", _EARLY, (_COMMENTS,), False, False, "http"),
        "C": (
            "2014",
            _fixed("Story", "Story Type", False, False),
            (_OWNERS, _COMMENTS),
            False,
            True,
            "https",
        ),
        "D": (
            "2015 - 2021",
            _fixed("Title", "Type", False, False),
            (_OWNERS, _COMMENTS, _TASKS),
            False,
            True,
            "https",
        ),
        "E": ("late, by 2025", _fixed("Title", "Type", False, True), _LATE_GROUPS, True, True, "https"),
    }.items()
}

HISTORY_HEADER = ("ID", "Type", "Message", "Performed By", "Occurred At")
