"""Several exports of one project read as one snapshot: the plan of a read, made before it starts.

Two cheap passes come before the real read:
1. every file is put in its export (projects.py), and every CSV's header says what it is;
2. when there is more than one export, each stories CSV is scanned for its ids (and, for an export
   whose name has no time, its newest date): projects are then the exports that share ids or a
   name (projects.py).
Only sorted arrays of ids per export are held (8 bytes an id), never records. The read then goes
project by project, newest export first: a story, epic or history row is emitted from the first
(newest) export that holds it, the others' rows of it are skipped (Seen), so absence from a newer
export never deletes anything. Attachments are emitted once per story, file name and SHA-256.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from .csv_format import HistoryLayout, StoriesLayout, parse_date
from .csv_rows import open_csv
from .errors import ExportError
from .inputs import ExportMember, Members
from .projects import ExportFacts, Identity, Origin, ProjectRule, export_identity, group_projects
from .records import is_epic_row

# A member of the read: (its group in ResolvedInputs.groups, its index there).
MemberRef = tuple[int, int]
# Ids are scanned into 64-bit arrays; a larger one is no Tracker id (the read reports its row).
MAX_ID = 2**63 - 1


@dataclass
class Seen:
    """What a project read from several exports has emitted: each key once, newest export first."""

    stories: set[int] = field(default_factory=set)
    epics: set[int] = field(default_factory=set)
    history: set[str] = field(default_factory=set)
    attachments: set[tuple[int | None, str, str]] = field(default_factory=set)
    # (story, file name, size, CRC-32) of the ZIP members read: the same file in an older ZIP is
    # known from the archive's directory, not hashed again (a CRC and size match by chance: ~2**-32).
    zipped: set[tuple[int | None, str, int, int]] = field(default_factory=set)

    def first(self, is_epic: bool, identifier: int) -> bool:
        held = self.epics if is_epic else self.stories
        if identifier in held:
            return False
        held.add(identifier)
        return True

    def first_history(self, version: str) -> bool:
        if version in self.history:
            return False
        self.history.add(version)
        return True

    def known_attachment(self, member: ExportMember) -> bool:
        """Whether a ZIP member is a file already read, by its story, name, size and CRC-32."""
        crc, size = member.crc32, member.size
        return (
            crc is not None and size is not None and (member.story_id, member.path, size, crc) in self.zipped
        )

    def first_attachment(self, member: ExportMember, sha256: str) -> bool:
        if member.crc32 is not None and member.size is not None:
            self.zipped.add((member.story_id, member.path, member.size, member.crc32))
        key = (member.story_id, member.path.rpartition("/")[2], sha256)
        if key in self.attachments:
            return False
        self.attachments.add(key)
        return True


@dataclass
class PlannedExport:
    identity: Identity
    members: list[MemberRef] = field(default_factory=list)
    stories: list[MemberRef] = field(default_factory=list)
    facts: ExportFacts | None = None
    gives_iterations: bool = False  # the newest export of its project that has stories
    covered: list[MemberRef] = field(default_factory=list)  # stories CSVs newer exports hold whole

    @property
    def label(self) -> str:
        return self.identity.label


@dataclass
class PlannedProject:
    id: int
    name: str
    exports: list[PlannedExport]  # newest first
    seen: Seen | None  # None when there is one export: nothing to merge

    @property
    def exported_at(self) -> str | None:
        """The newest export's time, as its name gives it."""
        return self.exports[0].identity.name.exported_at


@dataclass
class ReadPlan:
    projects: list[PlannedProject]
    problems: list[ExportError]


def plan_read(groups: Sequence[Members], rules: Sequence[ProjectRule]) -> ReadPlan:
    """The projects of a read, each with its exports newest first; problems found on the way."""
    problems: list[ExportError] = []
    containers = _containers(groups, problems)
    split = [(container, _split(container)) for container in containers]
    exports = [export for _, found in split for export in found]
    if len(exports) > 1:
        for export in exports:
            export.facts = _scan(export, groups)
    for container, found in split:
        _place_attachments(container, found)
    facts = [export.facts or _named_facts(export) for export in exports]
    try:
        plans = group_projects(facts, rules)
    except ExportError as problem:
        return ReadPlan([], [*problems, problem])
    projects = []
    for plan in plans:
        ordered = [exports[index] for index in plan.exports]
        with_stories = next((export for export in ordered if export.stories), None)
        if with_stories is not None:
            with_stories.gives_iterations = True
        if len(ordered) > 1:
            _leave_out_covered(ordered)
        projects.append(PlannedProject(plan.id, plan.name, ordered, Seen() if len(ordered) > 1 else None))
    return ReadPlan(projects, problems)


def _leave_out_covered(newest_first: list[PlannedExport]) -> None:
    """An older export's stories CSVs are not read again when newer exports hold every story and
    epic of them (and every row of them gave its id): each of their rows would be skipped."""
    stories: set[int] = set()
    epics: set[int] = set()
    for export in newest_first:
        facts = export.facts
        if facts is None:
            continue
        if (
            export.stories
            and facts.complete
            and stories.issuperset(facts.story_ids)
            and epics.issuperset(facts.epic_ids)
        ):
            export.covered, export.stories = export.stories, []
            export.members = [ref for ref in export.members if ref not in export.covered]
        stories.update(facts.story_ids)
        epics.update(facts.epic_ids)


def _named_facts(export: PlannedExport) -> ExportFacts:
    """A lone export's facts, from its names only (nothing to group it with)."""
    return ExportFacts(export.identity, export.identity.name.exported_at or "")


@dataclass
class _Container:
    """The files of one origin, sorted by kind: what its exports are made of."""

    origin: Origin
    stories: list[tuple[MemberRef, str]] = field(default_factory=list)
    history: list[tuple[MemberRef, str]] = field(default_factory=list)
    attachments: list[tuple[MemberRef, int]] = field(default_factory=list)


def _containers(groups: Sequence[Members], problems: list[ExportError]) -> list[_Container]:
    """Every file by the archive or folder it came from, CSVs told apart by their header."""
    containers: dict[str, _Container] = {}
    for group_index, group in enumerate(groups):
        for index, member in enumerate(group):
            container = containers.setdefault(member.origin.key, _Container(member.origin))
            ref = (group_index, index)
            if member.story_id is not None:
                container.attachments.append((ref, member.story_id))
                continue
            try:
                history = _is_history(member)
            except ExportError as problem:
                problems.append(problem)
                continue
            (container.history if history else container.stories).append((ref, member.path))
    return list(containers.values())


def _is_history(member: ExportMember) -> bool:
    with open_csv(member) as opened:
        return isinstance(opened.layout, HistoryLayout)


def _split(container: _Container) -> list[PlannedExport]:
    """An archive, or a folder with at most one stories CSV, is one export; a folder with several
    stories CSVs holds one export per stories CSV, with the history CSVs named after each."""
    origin = container.origin
    stories_paths = [path for _, path in container.stories]
    history_paths = [path for _, path in container.history]
    if origin.archive or len(container.stories) <= 1:
        export = PlannedExport(export_identity(origin, stories_paths, history_paths))
        export.stories = [ref for ref, _ in container.stories]
        export.members = [
            *export.stories,
            *(ref for ref, _ in container.history),
            *(ref for ref, _ in container.attachments),
        ]
        return [export]
    exports = []
    for ref, path in container.stories:
        history = [(r, p) for r, p in container.history if _owner(p, stories_paths) == path]
        export = PlannedExport(export_identity(origin, [path], [p for _, p in history]))
        export.stories = [ref]
        export.members = [ref, *(r for r, _ in history)]
        exports.append(export)
    for ref, path in container.history:
        if _owner(path, stories_paths) is None:
            alone = PlannedExport(export_identity(origin, [], [path]))
            alone.members = [ref]
            exports.append(alone)
    return exports


def _place_attachments(container: _Container, exports: list[PlannedExport]) -> None:
    """Attachments of a folder of several exports go with the one whose stories CSV holds their
    story (the first, for a story none holds); scanned exports hold their story ids."""
    if len(exports) < 2:
        return
    for ref, story_id in container.attachments:
        holder = next((e for e in exports if e.facts and holds(e.facts.story_ids, story_id)), exports[0])
        holder.members.append(ref)


def _without_csv(path: str) -> str:
    return path[:-4] if path.lower().endswith(".csv") else path


def _owner(history_path: str, stories_paths: list[str]) -> str | None:
    """The stories CSV whose name starts the history CSV's (`x_history.csv` goes with `x.csv`)."""
    name = _without_csv(history_path)
    owners = [path for path in stories_paths if name.startswith(_without_csv(path))]
    return max(owners, key=len) if owners else None


def _scan(export: PlannedExport, groups: Sequence[Members]) -> ExportFacts:
    """The ids an export holds and, when its name has no time, the newest date of its stories.

    Rows that do not read are left out here: the real read reports them, by file and line.
    """
    stories: array[int] = array("q")
    epics: array[int] = array("q")
    newest = ""
    dated = export.identity.name.exported_at is None
    complete = True
    for group, index in export.stories:
        member = groups[group][index]
        try:
            with open_csv(member) as opened:
                layout = opened.layout
                assert isinstance(layout, StoriesLayout)
                found, whole = _scan_rows(layout, opened.reader, stories, epics, dated)
                newest, complete = max(newest, found), complete and whole
        except (ExportError, ValueError):
            complete = False
    for group, index in export.members:
        story_id = groups[group][index].story_id
        if story_id is not None and story_id <= MAX_ID:
            stories.append(story_id)  # a story with attachments is a story of the export
    return ExportFacts(
        export.identity,
        export.identity.name.exported_at or newest,
        array("q", sorted(stories)),
        array("q", sorted(epics)),
        complete,
    )


def _scan_rows(
    layout: StoriesLayout,
    reader: Iterator[list[str]],
    stories: array[int],
    epics: array[int],
    dated: bool,
) -> tuple[str, bool]:
    """(the newest date, whether every row gave its id: a row the read would report spoils it)."""
    width = layout.width
    column = {key: layout.fixed.get(key, width) for key in ("id", "type", "url", "created_at", "accepted_at")}
    ident, kind, url = column["id"], column["type"], column["url"]
    dates = (column["created_at"], column["accepted_at"]) if dated else ()
    newest = ""
    complete = True
    for row in reader:
        if len(row) > width and any(row[width:]):
            complete = False
        row.extend([""] * (width + 1 - len(row)))
        cell = row[ident].strip()
        if not (cell.isascii() and cell.isdigit()) or int(cell) > MAX_ID:
            complete = complete and not any(row)
            continue
        (epics if is_epic_row(row[kind].strip().lower(), row[url]) else stories).append(int(cell))
        for index in dates:
            with suppress(ValueError):  # an unreadable date: the read reports its row
                newest = max(newest, parse_date(row[index]) or "")
    return newest, complete


def holds(ids: Sequence[int], identifier: int) -> bool:
    """Whether the sorted ids hold the id."""
    position = bisect_left(ids, identifier)
    return position < len(ids) and ids[position] == identifier
