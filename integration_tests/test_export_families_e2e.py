"""Each header family A–E, as the sandbox writes it, read through the installed command.

The records are checked against the sandbox's store: what each generation of the format carries
must come back, and what it lacks (epics before 2013, several owners before 2014, tasks before
2015, blockers before 2021) must not be invented.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from integration_tests.harness import configured_catalog, run_connector
from integration_tests.sandbox import SandboxOptions
from integration_tests.sandbox.export_writer import ExportOptions, write_exports
from integration_tests.sandbox.store import Store

T0 = 1_742_827_383  # 2025-03-24 14:43:03 UTC


@pytest.fixture(scope="module")
def store() -> Store:
    return Store(SandboxOptions(projects=2, stories=120, disabled_projects=0), t0=T0)


@pytest.fixture(scope="module")
def export_catalog(store: Store, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("discover")
    write_exports(store, folder, ExportOptions())
    discovered = run_connector("discover", {"export_files": [str(folder)]}).only("CATALOG")["catalog"]
    return configured_catalog(discovered, incremental=False)


@pytest.mark.parametrize(
    ("family", "layout", "padded"),
    [("A", "csv", None), ("B", "csv", True), ("C", "folder", None), ("D", "zip", False), ("E", "csv", None)],
)
def test_each_header_family_reads_back_the_facts_it_carries(
    store: Store,
    export_catalog: dict[str, Any],
    tmp_path: Path,
    family: str,
    layout: str,
    padded: bool | None,
) -> None:
    write_exports(store, tmp_path, ExportOptions(family=family, layout=layout, padded=padded))
    read = run_connector("read", {"export_files": [str(tmp_path)]}, export_catalog)
    assert read.exit_code == 0 and not read.errors, read.errors or read.stderr[-2000:]
    records = read.records
    stories = {s.id: s for p in store.projects for s in p.stories}
    people = store.people
    assert {r["id"] for r in records["stories"]} == set(stories)
    for record in records["stories"]:
        story = stories[record["id"]]
        assert (record["name"], record["story_type"], record["current_state"]) == (
            story.name,
            story.story_type,
            story.current_state,
        )
        owners = [{"name": people[i].name} for i in story.owner_ids]
        # Before 2014 (A, B) a story had one owner, in the fixed block.
        assert record["owners"] == (owners[:1] if family in "AB" else owners)
        assert record["requested_by"] == {"name": people[story.requested_by_id].name}
    comments = [(c.story_id, c.text, people[c.person_id].name) for s in stories.values() for c in s.comments]
    got = [(c["story_id"], c["text"], c["person"]["name"]) for c in records["comments"]]
    assert sorted(got) == sorted(comments) and comments
    tasks = sorted((t.story_id, t.description, t.complete) for s in stories.values() for t in s.tasks)
    got_tasks = sorted((t["story_id"], t["description"], t["complete"]) for t in records.get("tasks", []))
    assert got_tasks == (tasks if family in "DE" else [])
    blockers = sorted((b.story_id, b.resolved) for s in stories.values() for b in s.blockers)
    assert sorted((b["story_id"], b["resolved"]) for b in records.get("blockers", [])) == (
        blockers if family == "E" else []
    )
    epics = {e.id for p in store.projects for e in p.epics}
    assert {e["id"] for e in records.get("epics", [])} == (epics if family in "CDE" else set())
    if layout in ("zip", "folder"):
        assert records["activity"] and records["attachments"]
