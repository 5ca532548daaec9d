"""The sandbox's export writer writes what Tracker's "Export CSV" wrote.

The expected headers and cell shapes are spelled out here from real exports, not taken from
the writer's own tables, and every value is checked against the sandbox's store.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import orjson
import pytest

from integration_tests.harness import REPO
from integration_tests.sandbox import SandboxOptions, export_extras
from integration_tests.sandbox.export_writer import ExportedProject, ExportOptions, write_exports
from integration_tests.sandbox.model import Project, Story
from integration_tests.sandbox.store import Store

# 2025-03-24 14:43:03 UTC, from a real export's name: cf_bosh_director_20250324_144303-export.zip
T0 = 1_742_827_383
FIXED = {
    "A": "Id,Story,Labels,Iteration,Iteration Start,Iteration End,Story Type,Estimate,Current State,"
    "Created at,Accepted at,Deadline,Requested By,Owned By,Description,URL",
    "C": "Id,Story,Labels,Iteration,Iteration Start,Iteration End,Story Type,Estimate,Current State,"
    "Created at,Accepted at,Deadline,Requested By,Description,URL",
    "D": "Id,Title,Labels,Iteration,Iteration Start,Iteration End,Type,Estimate,Current State,"
    "Created at,Accepted at,Deadline,Requested By,Description,URL",
    "E": "Id,Title,Labels,Iteration,Iteration Start,Iteration End,Type,Estimate,Priority,Current State,"
    "Created at,Accepted at,Deadline,Requested By,Description,URL",
}
FIXED["B"] = FIXED["A"]
# The repeated part of each family, in column order; pairs repeat together.
REPEATED = {
    "A": [("Note",)],
    "B": [("Comment",)],
    "C": [("Owned By",), ("Comment",)],
    "D": [("Owned By",), ("Comment",), ("Task", "Task Status")],
    "E": [
        ("Owned By",),
        ("Blocker", "Blocker Status"),
        ("Comment",),
        ("Task", "Task Status"),
        ("Pull Request",),
        ("Git Branch",),
    ],
}
DATE = re.compile(r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [1-9]\d?, \d{4}")
RAW_CELL = re.compile(r'("(?:[^"]|"")*"|[^,\r\n"]*)(,|\r\n|\n|$)')


@pytest.fixture(scope="module")
def store() -> Store:
    # Default sizes: 1,203 stories, 87, and an empty project.
    return Store(SandboxOptions(projects=3), t0=T0)


def raw_records(text: str) -> list[list[str]]:
    """Cells exactly as written, quotes included, record by record (quoted newlines stay inside)."""
    records: list[list[str]] = [[]]
    position = 0
    while position < len(text):
        match = RAW_CELL.match(text, position)
        assert match is not None and match.end() > position, f"unparsable CSV at {position}"
        records[-1].append(match.group(1))
        position = match.end()
        if match.group(2) in ("\n", "\r\n") and position < len(text):
            records.append([])
    return records


def local_date(ts: int, project: Project) -> str:
    day = time.gmtime(ts + project.time_zone[2])
    return time.strftime("%b ", day) + f"{day.tm_mday}, {day.tm_year}"


def read_text(export: ExportedProject, name: str) -> str:
    if export.path.suffix == ".zip":
        with zipfile.ZipFile(export.path) as archive:
            return archive.read(name).decode("utf-8")
    if export.path.is_dir():
        return (export.path / name).read_text(encoding="utf-8")
    return export.path.read_text(encoding="utf-8")


def stories_table(export: ExportedProject) -> tuple[list[str], list[list[str]], list[list[str]]]:
    text = read_text(export, export.stories_csv)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:], raw_records(text)[1:]


def write(store: Store, tmp_path: Path, **options: object) -> list[ExportedProject]:
    return write_exports(store, tmp_path, ExportOptions(**options))  # type: ignore[arg-type]


def by_id(store: Store, project: Project) -> dict[int, Story]:
    return {s.id: s for s in project.stories}


@pytest.mark.parametrize("family", ["A", "B", "C", "D", "E"])
def test_each_family_has_its_exact_header_with_groups_sized_by_the_busiest_story(
    store: Store, tmp_path: Path, family: str
) -> None:
    exports = write(store, tmp_path, family=family, layout="csv")
    for export, project in zip(exports, store.projects, strict=True):
        header, _rows, _raw = stories_table(export)
        fixed = FIXED[family].split(",")
        assert header[: len(fixed)] == fixed
        needed = {
            "Note": max((len(s.comments) for s in project.stories), default=0),
            "Comment": max((len(s.comments) for s in project.stories), default=0),
            "Owned By": max((len(s.owner_ids) for s in project.stories), default=0),
            "Task": max((len(s.tasks) for s in project.stories), default=0),
            "Blocker": max((len(s.blockers) for s in project.stories), default=0),
            # Not in the sandbox's model: derived per story for the export only.
            "Pull Request": max((len(export_extras.pull_requests(s)) for s in project.stories), default=0),
            "Git Branch": max((len(export_extras.branches(s)) for s in project.stories), default=0),
        }
        expected = list(fixed)
        for group in REPEATED[family]:
            expected += list(group) * needed[group[0]]
        assert header == expected
        if len(project.stories) > 1000:
            assert all(needed.values()), "the big project needs every repeated group"


def test_story_cells_carry_the_stores_facts_in_trackers_formats(store: Store, tmp_path: Path) -> None:
    project = store.projects[0]
    export = write(store, tmp_path, family="E", layout="csv")[0]
    header, rows, raw = stories_table(export)
    stories = by_id(store, project)
    people = store.people
    iteration_of = {s.id: it for it in store.iterations(project) for s in it.stories}
    col = {name: header.index(name) for name in header}
    story_rows = [(row, cells) for row, cells in zip(rows, raw, strict=True) if row[col["Type"]] != "epic"]
    assert [int(row[0]) for row, _ in story_rows] == [s.id for s in project.stories]
    checked = {"comments": 0, "tasks": 0, "blockers": 0, "story blockers": 0, "no labels": 0}
    for row, cells in story_rows:
        story = stories[int(row[0])]
        assert row[col["Title"]] == story.name
        assert row[col["Type"]] == story.story_type
        assert row[col["Current State"]] == story.current_state
        assert row[col["Estimate"]] == ("" if story.estimate is None else str(story.estimate))
        assert row[col["Requested By"]] == people[story.requested_by_id].name
        assert row[col["Description"]] == (story.description or "")
        assert row[col["URL"]] == f"https://www.pivotaltracker.com/story/show/{story.id}"
        assert row[col["Priority"]] in ("p0 - Critical", "p1 - High", "p2 - Medium", "p3 - Low", "None")
        assert row[col["Priority"]].startswith(story.story_priority) or row[col["Priority"]] == "None"
        for name, ts in (("Created at", story.created_at), ("Accepted at", story.accepted_at)):
            if ts is None:
                assert row[col[name]] == "" and cells[col[name]] == ""
            else:
                assert DATE.fullmatch(row[col[name]]) and row[col[name]] == local_date(ts, project)
                assert cells[col[name]] == f'"{row[col[name]]}"', "dates are always quoted"
        labels = [label.name for label in story.labels]
        assert row[col["Labels"]] == ", ".join(labels)
        if not labels:
            checked["no labels"] += 1
            assert cells[col["Labels"]] == '""', "an empty Labels cell is written as two quotes"
        iteration = iteration_of.get(story.id)
        if iteration is None:
            assert row[3:6] == ["", "", ""]
        else:
            assert row[3] == str(iteration.number)
            assert row[4] == local_date(iteration.start, project)
            assert row[5] == local_date(iteration.finish - 86400, project), "Iteration End is the last day"
        owners = [row[i] for i, name in enumerate(header) if name == "Owned By" and i < len(row) and row[i]]
        assert owners == [people[i].name for i in story.owner_ids]
        comments = [(row[i], cells[i]) for i, name in enumerate(header) if name == "Comment" and row[i]]
        assert len(comments) == len(story.comments)
        for (value, cell), comment in zip(comments, story.comments, strict=True):
            author = people[comment.person_id].name
            assert value == f"{comment.text} ({author} - {local_date(comment.created_at, project)})"
            assert cell.startswith('"') and cell.endswith('"'), "comments are always quoted"
            checked["comments"] += 1
        tasks = [(row[i], row[i + 1]) for i, name in enumerate(header) if name == "Task" and row[i]]
        expected_tasks = sorted(story.tasks, key=lambda t: t.position)
        assert tasks == [
            (t.description, "completed" if t.complete else "not completed") for t in expected_tasks
        ]
        checked["tasks"] += len(tasks)
        blockers = [(row[i], row[i + 1]) for i, name in enumerate(header) if name == "Blocker" and row[i]]
        assert len(blockers) == len(story.blockers)
        for (text, status), blocker in zip(blockers, story.blockers, strict=True):
            pointer = re.search(r"#(\d+)", blocker.description)
            assert text == (f"#{pointer.group(1)}" if pointer else blocker.description)
            assert status == ("resolved" if blocker.resolved else "blocked")
            checked["blockers"] += 1
            checked["story blockers"] += bool(pointer)
    assert all(checked.values()), f"the data set must exercise every cell kind: {checked}"


def test_pull_requests_and_branches_appear_only_in_family_e(store: Store, tmp_path: Path) -> None:
    header, rows, _raw = stories_table(write(store, tmp_path / "e", family="E", layout="csv")[0])
    pulls = [row[i] for row in rows for i, name in enumerate(header) if name == "Pull Request" and row[i]]
    branches = [row[i] for row in rows for i, name in enumerate(header) if name == "Git Branch" and row[i]]
    assert pulls and all(re.fullmatch(r"https://github\.com/[\w-]+/[\w-]+/pull/\d+", url) for url in pulls)
    assert branches and all(" " not in name for name in branches)
    header_d, _rows, _raw = stories_table(write(store, tmp_path / "d", family="D", layout="csv")[0])
    assert "Pull Request" not in header_d and "Git Branch" not in header_d and "Priority" not in header_d


@pytest.mark.parametrize("family", ["C", "D", "E"])
def test_epic_rows_share_the_stories_csv_with_label_and_epic_url(
    store: Store, tmp_path: Path, family: str
) -> None:
    project = store.projects[0]
    header, rows, _raw = stories_table(write(store, tmp_path, family=family, layout="csv")[0])
    type_col = header.index("Type" if family in "DE" else "Story Type")
    epic_rows = [row for row in rows if row[type_col] == "epic"]
    assert [int(row[0]) for row in epic_rows] == [e.id for e in project.epics]
    for row, epic in zip(epic_rows, project.epics, strict=True):
        cell = dict(zip(header, row, strict=True))  # the fixed block has unique names
        assert cell["Labels"] == epic.label.name
        assert (
            cell["Current State"] == cell["Requested By"] == cell["Iteration"] == cell["Iteration End"] == ""
        )
        assert cell["URL"] == f"https://www.pivotaltracker.com/epic/show/{epic.id}"
        assert cell["Created at"] == local_date(epic.created_at, project)
        assert len(row) == len(header), "epic rows are padded, as in the 2015 export"


def test_families_a_and_b_predate_epics_and_multiple_owners(store: Store, tmp_path: Path) -> None:
    project = store.projects[0]
    header, rows, _raw = stories_table(write(store, tmp_path, family="A", layout="csv")[0])
    assert not [row for row in rows if row[6] == "epic"]
    assert header.count("Owned By") == 1
    stories = by_id(store, project)
    for row in rows:
        story = stories[int(row[0])]
        assert row[13] == (store.people[story.owner_ids[0]].name if story.owner_ids else "")
        assert row[15].startswith("http://www.pivotaltracker.com/story/show/")


def test_ragged_rows_stop_at_their_last_value_and_padded_rows_fill_the_header(
    store: Store, tmp_path: Path
) -> None:
    for padded in (True, False):
        header, rows, _raw = stories_table(
            write(store, tmp_path / str(padded), family="D", layout="csv", padded=padded)[0]
        )
        stories = [row for row in rows if row[6] != "epic"]
        if padded:
            assert {len(row) for row in rows} == {len(header)}
        else:
            assert min(len(row) for row in stories) == len(FIXED["D"].split(",")), (
                "URL ends the shortest rows"
            )
            assert all(row[-1] for row in stories if len(row) > 15)
            assert any(len(row) < len(header) for row in stories)


def test_line_ends_and_bom_are_lf_without_bom_unless_asked(store: Store, tmp_path: Path) -> None:
    export = write(store, tmp_path / "lf", family="E", layout="csv")[0]
    data = export.path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data and data.endswith(b"\n")
    export = write(store, tmp_path / "crlf", family="E", layout="csv", crlf=True, bom=True)[0]
    data = export.path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    records = raw_records(text)
    assert text.count("\r\n") == len(records), "every record ends with CRLF"
    _header, rows, _raw = stories_table(export)
    assert any("\n" in row[14] for row in rows), "descriptions keep their own line breaks"


def test_zip_holds_stories_history_and_one_folder_per_story(store: Store, tmp_path: Path) -> None:
    exports = write(store, tmp_path, family="E", layout="zip")
    export, project = exports[0], store.projects[0]
    assert export.path.name == "storefront_rewrite_20250324_144303-export.zip"
    with zipfile.ZipFile(export.path) as archive:
        names = archive.namelist()
        csvs = [n for n in names if n.endswith(".csv")]
        assert sorted(csvs) == sorted([export.stories_csv, export.history_csv])
        folders = {n.split("/")[0] for n in names if "/" in n}
        stories = by_id(store, project)
        assert folders and all(folder.isdigit() and int(folder) in stories for folder in folders)
        for attachment in export.attachments:
            assert archive.read(attachment.path) == attachment.content
        history = list(csv.reader(io.StringIO(archive.read(export.history_csv).decode(), newline="")))
    assert history[0] == ["ID", "Type", "Message", "Performed By", "Occurred At"]
    cutoff = T0 - 180 * 86400
    recent = [e for e in project.events if e.occurred_at >= cutoff]
    assert len(history) - 1 == len(recent) > 0
    newest = recent[-1]
    assert history[1][0] == str(newest.version)
    assert history[1][1].endswith("_activity") and history[1][2].startswith(history[1][3])
    assert history[1][3] == store.people[newest.performer_id].name
    assert history[1][4] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(newest.occurred_at))
    # The unzipped folder holds the same entries.
    folder = write(store, tmp_path / "folder", family="E", layout="folder")[0]
    on_disk = sorted(str(p.relative_to(folder.path)) for p in folder.path.rglob("*") if p.is_file())
    assert on_disk == sorted(n for n in names if not n.endswith("/"))


def test_cli_writes_exports_and_names_them(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "integration_tests.sandbox", "--write-export", str(tmp_path),
         "--projects", "2", "--stories", "20", "--export-family", "C", "--export-layout", "csv", "--ragged"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    written = orjson.loads(done.stdout)["exports"]
    assert [w["project"] for w in written] == ["Storefront Rewrite", "Café Ordering ☕"]
    for entry in written:
        header = Path(entry["path"]).read_text(encoding="utf-8").splitlines()[0]
        assert header.startswith(FIXED["C"] + ",Owned By")
    refused = subprocess.run(
        [sys.executable, "-m", "integration_tests.sandbox", "--write-export", str(tmp_path),
         "--export-family", "F"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2 and "--export-family" in refused.stderr


def test_cli_writes_an_export_series_changed_between_exports(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "integration_tests.sandbox", "--write-export", str(tmp_path),
         "--projects", "1", "--disabled-projects", "0", "--stories", "60", "--export-series", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    older, newer = (Path(entry["path"]) for entry in orjson.loads(done.stdout)["exports"])
    # The older ZIP is renamed (no project, no time); the CSV inside keeps Tracker's name.
    assert older == tmp_path / "export-1" / "download (1).zip"
    assert re.fullmatch(r"storefront_rewrite_\d{8}_\d{6}-export\.zip", newer.name)
    older_stamp = _zip_csv_names(older)[0].rsplit("_", 2)[1]
    newer_stamp = newer.name.rsplit("_", 2)[1]
    assert older_stamp < newer_stamp  # 90 days earlier
    old_rows, new_rows = (_story_rows(path) for path in (older, newer))
    revised = [row["Title"] for row in new_rows.values() if row["Title"].endswith("(revised)")]
    assert revised and not any(row["Title"].endswith("(revised)") for row in old_rows.values())
    assert {i for i, row in new_rows.items() if row["Title"].startswith("Created after")} - old_rows.keys()
    # The newest export leaves out the Done stories the oldest holds.
    assert {i for i, row in old_rows.items() if row["Current State"] == "accepted"} - new_rows.keys()


def _zip_csv_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return sorted(name for name in archive.namelist() if name.endswith(".csv") and "/" not in name)


def _story_rows(path: Path) -> dict[str, dict[str, str]]:
    with zipfile.ZipFile(path) as archive:
        stories = next(name for name in _zip_csv_names(path) if not name.endswith("_history.csv"))
        text = archive.read(stories).decode()
    return {row["Id"]: row for row in csv.DictReader(io.StringIO(text)) if row["Type"] != "epic"}
