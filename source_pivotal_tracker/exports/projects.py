"""Which export a file belongs to, which exports hold one project, and that project's id and name.

An *export* is what one Export CSV produced, whatever its files are called:
- a ZIP: every member of it (stories CSV, history CSV, attachment folders);
- the files of one folder on disk (an unzipped ZIP), read as a folder, a glob or a list alike;
  a folder holding several stories CSVs holds several exports, one per stories CSV.

Exports hold one project when
- they share a story or epic id: Tracker's ids are unique across all projects;
- their names carry the same project name in Tracker's naming, `<name>_<YYYYMMDD>_<HHMM[SS]>`;
- the same `export_projects` rule of the config matches them; the rule also gives the project its
  real id and name (see docs/pivotal-tracker.md, "Projects and merging").
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ExportError
from .ids import ProjectName, export_name, project_id, stem


@dataclass(frozen=True)
class Origin:
    """The container a file was found in: an archive, or a folder on disk."""

    key: str  # the archive's real path (or its URL), or the folder's real path
    name: str  # the archive's file name (a URL's last path part), or the folder's name
    archive: bool


def folder_origin(folder: Path) -> Origin:
    real = folder.resolve()
    return Origin(str(real), real.name, archive=False)


def archive_origin(path: Path | None, shown: str, name: str) -> Origin:
    """A ZIP on disk (`path`) or downloaded from the URL `shown`."""
    return Origin(str(path.resolve()) if path is not None else shown, name, archive=True)


@dataclass(frozen=True)
class Identity:
    """What an export's names say: its project name, its time, and how records name the export."""

    name: ProjectName
    named: bool  # the name follows Tracker's naming (so exports with the same one are one project)
    label: str  # the records' `export_file`: the archive's or the main CSV's file name
    names: tuple[str, ...]  # what an export_projects rule's glob is matched against


def export_identity(origin: Origin, stories: Sequence[str], others: Sequence[str]) -> Identity:
    """The identity of one export from its container and the paths of its CSVs.

    The project name and time come from the first of (the archive or the folder on disk, its
    stories CSVs and the folder in the archive holding them, its other CSVs and theirs) named as
    Tracker named exports; failing that, from the archive's name, else the stories CSV's (else
    another CSV's, else the folder's): a folder of plain CSVs is not one project.
    """
    candidates: list[str] = [origin.name]
    for paths in (stories, others):
        candidates += [_file_name(path) for path in paths]
        candidates += [_folder(path) for path in paths]
    names = [name for name in candidates if name]
    found = next((parsed for parsed in map(export_name, names) if parsed is not None), None)
    main = _file_name(stories[0]) if stories else _file_name(others[0]) if others else ""
    # The label is the file's own name, never its folder's: a mount point must not change records.
    label = origin.name if origin.archive else main or origin.name
    name = found or ProjectName(stem(label), None)
    return Identity(name, found is not None, label, tuple(dict.fromkeys([name.name, *names])))


def _file_name(path: str) -> str:
    return path.rpartition("/")[2]


def _folder(path: str) -> str:
    """The folder a CSV sits in inside an archive (a folder on disk is the origin's)."""
    return path.rpartition("/")[0].rpartition("/")[2]


# ------------------------------------------------------------------------- export_projects


@dataclass(frozen=True)
class ProjectRule:
    """One `export_projects` entry: exports whose project or file name its glob matches."""

    match: str
    id: int
    name: str | None

    def matches(self, names: Iterable[str]) -> bool:
        pattern = self.match.lower()
        return any(fnmatch.fnmatchcase(name.lower(), pattern) for name in names)


def project_rules(config: Mapping[str, Any]) -> list[ProjectRule]:
    return [
        ProjectRule(str(rule["match"]), int(rule["id"]), rule.get("name") or None)
        for rule in config.get("export_projects") or ()
    ]


# ------------------------------------------------------------------------------ grouping


@dataclass
class ExportFacts:
    """What grouping needs of one export: its identity, age and the ids it holds."""

    identity: Identity
    # When it was made: the time in its name, else the newest date of its stories (merge.py).
    age: str = ""
    story_ids: Sequence[int] = ()  # sorted
    epic_ids: Sequence[int] = ()
    complete: bool = False  # every row of its stories CSVs gave its id


@dataclass
class ProjectPlan:
    id: int
    name: str
    exports: list[int] = field(default_factory=list)  # indexes into the facts, newest first


def group_projects(facts: Sequence[ExportFacts], rules: Sequence[ProjectRule]) -> list[ProjectPlan]:
    """The projects the exports hold, in the order their first export was given."""
    groups = _UnionFind(len(facts))
    for ids in ([export.story_ids for export in facts], [export.epic_ids for export in facts]):
        owner: dict[int, int] = {}
        for index, held in enumerate(ids):
            for identifier in held:
                other = owner.setdefault(identifier, index)
                if other != index:
                    groups.union(other, index)
    by_name: dict[str, int] = {}
    by_rule: dict[int, int] = {}
    chosen: list[ProjectRule | None] = []
    for index, export in enumerate(facts):
        if export.identity.named:
            groups.union(by_name.setdefault(export.identity.name.name, index), index)
        rule = next((r for r in rules if r.matches(export.identity.names)), None)
        chosen.append(rule)
        if rule is not None:
            groups.union(by_rule.setdefault(rule.id, index), index)
    members: dict[int, list[int]] = {}
    for index in range(len(facts)):
        members.setdefault(groups.find(index), []).append(index)
    plans: list[ProjectPlan] = []
    taken: set[int] = set()
    for indexes in members.values():
        newest_first = sorted(indexes, key=lambda i: (facts[i].age, facts[i].identity.label), reverse=True)
        plans.append(_plan(facts, newest_first, [chosen[i] for i in newest_first], taken))
    return plans


def _plan(
    facts: Sequence[ExportFacts], newest_first: list[int], rules: list[ProjectRule | None], taken: set[int]
) -> ProjectPlan:
    ids = {rule.id for rule in rules if rule is not None}
    if len(ids) > 1:
        labels = ", ".join(facts[i].identity.label for i in newest_first)
        raise ExportError(
            labels,
            f"export_projects gives these exports the ids {', '.join(map(str, sorted(ids)))}, "
            "but they hold one project (they share story ids or a project name)",
        )
    rule = next((rule for rule in rules if rule is not None), None)
    named = [facts[i].identity.name.name for i in newest_first if facts[i].identity.named]
    derived = named[0] if named else facts[newest_first[0]].identity.name.name
    if rule is not None:
        name = next((r.name for r in rules if r is not None and r.name), None) or derived
        identifier = rule.id
    else:
        name, identifier = derived, project_id(derived)
        if identifier in taken:
            # Two projects of one name that share no story: one keeps the name's id.
            smallest = min((min(facts[i].story_ids, default=0) for i in newest_first), default=0)
            identifier = project_id(f"{derived}#{smallest}")
    taken.add(identifier)
    return ProjectPlan(identifier, name, newest_first)


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, index: int) -> int:
        parent = self.parent
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    def union(self, first: int, second: int) -> None:
        a, b = self.find(first), self.find(second)
        if a != b:
            self.parent[max(a, b)] = min(a, b)
