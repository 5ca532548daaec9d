"""One sandbox world read twice through the installed command: from its API, and from its export.

The sandbox serves the world over HTTP and writes the same world (its own store, not a copy) as
Tracker's export files; both reads go through `source-pivotal-tracker` exactly as a user runs it.
Projects are matched by name (an export knows its project only by the file's name), stories by id,
and every fact both carry is compared, story by story.

What cannot be compared, and why:
- times of day: an export has dates only, the day the project's time zone shows; so API timestamps
  are compared as that day;
- `updated_at`, person ids and e-mails, comment/task/blocker ids (the export has names and
  positions only; the reader derives ids), followers, transitions, memberships, notifications,
  project settings (an export has none of these);
- the API's iterations without stories (an export learns an iteration from its stories' rows);
- activity older than the export's six months of history, and the disabled project (the API
  refuses it; the export has it);
- pull requests, branches and attachments (the API serves none): checked against the writer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from integration_tests.conftest import api_token_config
from integration_tests.harness import ConnectorRun, configured_catalog, run_connector
from integration_tests.sandbox import Sandbox, SandboxOptions, export_extras
from integration_tests.sandbox.export_writer import ExportedProject, ExportOptions, file_stem, write_exports
from integration_tests.sandbox.store import Store
from source_pivotal_tracker.exports.source import EXPORT_STREAMS

# What an export can fill (attachments aside: the API has none), and the memberships that turn the
# API's person ids into the names an export carries.
API_STREAMS = [*(s for s in EXPORT_STREAMS if s != "attachments"), "project_memberships"]

Records = dict[str, list[dict[str, Any]]]


@dataclass
class World:
    store: Store
    api: ConnectorRun
    folder: Path


def read_all(config: dict[str, Any]) -> ConnectorRun:
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    run = run_connector("read", config, configured_catalog(discovered, incremental=False))
    assert run.exit_code == 0 and not run.errors, run.stderr[-3000:] or run.errors
    return run


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # The default world: six projects of very different sizes, one empty, one with API access off.
    with Sandbox(SandboxOptions()) as sandbox:
        config = api_token_config(sandbox)
        discovered = run_connector("discover", config).only("CATALOG")["catalog"]
        api = run_connector("read", config, configured_catalog(discovered, API_STREAMS, incremental=False))
        assert api.exit_code == 0 and not api.errors, api.errors
        yield World(sandbox.store, api, tmp_path_factory.mktemp("exports"))


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_day(value: str | None, offset: timedelta) -> date | None:
    return None if value is None else (utc(value) + offset).date()


def export_day(value: str | None) -> date | None:
    """An export date (`YYYY-MM-DDT00:00:00Z`, midnight standing for the day) as the day."""
    if value is None:
        return None
    assert value.endswith("T00:00:00Z"), f"{value} should be a date without a time"
    return utc(value).date()


def offset_of(project: dict[str, Any]) -> timedelta:
    sign, hours, minutes = project["time_zone"]["offset"][0], *project["time_zone"]["offset"][1:].split(":")
    return (-1 if sign == "-" else 1) * timedelta(hours=int(hours), minutes=int(minutes))


def by_project(records: list[dict[str, Any]], key: str = "project_id") -> dict[Any, list[dict[str, Any]]]:
    grouped: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        grouped[record[key]].append(record)
    return grouped


def blocker_cell(description: str) -> str:
    """What the export writes for an API blocker: `#<id>` when it points at a story."""
    words = [w.strip(".,") for w in description.split() if w.startswith("#") and w[1:].strip(".,").isdigit()]
    return words[0] if words else description


def compare(
    world: World, export: ConnectorRun, carries: set[str], iterations_of: set[int] | None = None
) -> dict[str, int]:
    """Every fact both reads carry, project by project and story by story; returns what was compared.

    `iterations_of`: the stories whose iterations the export knows (a merged read's come from its
    newest export); by default every story's.
    """
    api, exp = world.api.records, export.records
    compared: dict[str, int] = defaultdict(int)
    people = {m["person"]["id"]: m["person"]["name"] for m in api["project_memberships"]}
    export_projects = {p["name"]: p for p in exp["projects"]}
    readable = {p.id for p in world.store.projects if p.api_enabled}
    assert len(export_projects) == len(world.store.projects), (
        "the export has every project, the disabled one too"
    )
    api_stories, exp_stories = by_project(api["stories"]), by_project(exp["stories"])
    api_comments, exp_comments = (
        by_project(api["comments"], "story_id"),
        by_project(exp["comments"], "story_id"),
    )
    api_tasks, exp_tasks = by_project(api["tasks"], "story_id"), by_project(exp["tasks"], "story_id")
    api_blockers, exp_blockers = (
        by_project(api["blockers"], "story_id"),
        by_project(exp["blockers"], "story_id"),
    )
    for project in api["projects"]:
        if project["id"] not in readable:
            continue
        mine = export_projects[file_stem(project["name"])]
        offset = offset_of(project)
        stories = {s["id"]: s for s in api_stories[project["id"]]}
        theirs = {s["id"]: s for s in exp_stories[mine["id"]]}
        assert theirs.keys() == stories.keys(), project["name"]
        for story_id, story in stories.items():
            other = theirs[story_id]
            for name in ("name", "story_type", "current_state", "estimate", "url"):
                assert other.get(name) == story.get(name), (story_id, name)
            assert other.get("description") == story.get("description"), story_id
            if "priority" in carries:
                assert other.get("story_priority") == story["story_priority"], story_id
            for name in ("created_at", "accepted_at", "deadline"):
                assert export_day(other.get(name)) == local_day(story.get(name), offset), (story_id, name)
            assert sorted(label["name"] for label in other["labels"]) == sorted(
                lab["name"] for lab in story["labels"]
            )
            assert other["requested_by"] == {"name": people[story["requested_by_id"]]}
            owners = [{"name": people[i]} for i in story["owner_ids"]]
            assert other["owners"] == (owners[:1] if "one owner" in carries else owners), story_id
            comments = [
                (c["text"], people[c["person_id"]], local_day(c["created_at"], offset))
                for c in api_comments[story_id]
            ]
            exported = [
                (c["text"], c["person"]["name"], export_day(c["created_at"])) for c in exp_comments[story_id]
            ]
            assert exported == comments, story_id
            compared["comments"] += len(comments)
            if "tasks" in carries:
                tasks = [
                    (t["description"], t["complete"])
                    for t in sorted(api_tasks[story_id], key=lambda t: t["position"])
                ]
                assert [(t["description"], t["complete"]) for t in exp_tasks[story_id]] == tasks, story_id
                compared["tasks"] += len(tasks)
            if "blockers" in carries:
                blockers = [(blocker_cell(b["description"]), b["resolved"]) for b in api_blockers[story_id]]
                assert [(b["description"], b["resolved"]) for b in exp_blockers[story_id]] == blockers, (
                    story_id
                )
                for b in exp_blockers[story_id]:
                    pointer = b["description"][1:] if b["description"].startswith("#") else None
                    assert b.get("blocking_story_id") == (int(pointer) if pointer else None)
                    compared["blockers pointing at stories"] += pointer is not None
                compared["blockers"] += len(blockers)
            compared["stories"] += 1
        compare_project_streams(api, exp, project, mine, offset, carries, compared, iterations_of)
    return compared


def compare_project_streams(
    api: Records,
    exp: Records,
    project: dict[str, Any],
    mine: dict[str, Any],
    offset: timedelta,
    carries: set[str],
    compared: dict[str, int],
    iterations_of: set[int] | None = None,
) -> None:
    pid, eid = project["id"], mine["id"]
    releases = {r["id"] for r in api["releases"] if r["project_id"] == pid}
    assert {r["id"] for r in exp["releases"] if r["project_id"] == eid} == releases
    compared["releases"] += len(releases)
    if "epics" in carries:
        epics = {e["id"]: e for e in api["epics"] if e["project_id"] == pid}
        theirs = {e["id"]: e for e in exp["epics"] if e["project_id"] == eid}
        assert theirs.keys() == epics.keys()
        for epic_id, epic in epics.items():
            other = theirs[epic_id]
            assert (other["name"], other.get("description")) == (epic["name"], epic.get("description"))
            assert other["label"] == {"name": epic["label"]["name"]}
            assert export_day(other["created_at"]) == local_day(epic["created_at"], offset)
        compared["epics"] += len(epics)
    # The export knows the labels stories and epics carry; the API lists unused ones as well.
    used = {lab["name"] for s in api["stories"] if s["project_id"] == pid for lab in s["labels"]}
    if "epics" in carries:
        used |= {e["label"]["name"] for e in api["epics"] if e["project_id"] == pid}
    exported_labels = {lab["name"] for lab in exp["labels"] if lab["project_id"] == eid}
    assert exported_labels == used <= {lab["name"] for lab in api["labels"] if lab["project_id"] == pid}
    iterations = {
        it["number"]: {
            **it,
            "story_ids": [s for s in it["story_ids"] if iterations_of is None or s in iterations_of],
        }
        for it in api["iterations"]
        if it["project_id"] == pid
    }
    iterations = {number: it for number, it in iterations.items() if it["story_ids"]}
    theirs_it = {it["number"]: it for it in exp["iterations"] if it["project_id"] == eid}
    assert theirs_it.keys() == iterations.keys()
    for number, iteration in iterations.items():
        other = theirs_it[number]
        assert export_day(other["start"]) == local_day(iteration["start"], offset)
        # The reader turns Iteration End, the iteration's last day, into the API's finish.
        assert export_day(other["finish"]) == local_day(iteration["finish"], offset)
        assert other["story_ids"] == iteration["story_ids"], number
    compared["iterations"] += len(iterations)
    if "history" in carries:
        activity = {a["guid"]: a for a in api["activity"] if a["project"]["id"] == pid}
        exported_activity = [a for a in exp["activity"] if a["project_id"] == eid]
        for entry in exported_activity:
            version = entry["guid"].rsplit("_", 1)[1]
            other = activity[f"{pid}_{version}"]
            assert (entry["kind"], entry["message"], entry["performed_by"]["name"], entry["occurred_at"]) == (
                other["kind"],
                other["message"],
                other["performed_by"]["name"],
                other["occurred_at"],
            )
        compared["activity"] += len(exported_activity)


def check_export_only_facts(world: World, export: ConnectorRun, written: list[ExportedProject]) -> None:
    """Pull requests, branches and attachments: what the writer put in, the reader must give back."""
    stories = world.store.story_by_id
    for record in export.records["stories"]:
        story = stories[record["id"]]
        assert [pr["original_url"] for pr in record["pull_requests"]] == export_extras.pull_requests(story)
        assert [b["name"] for b in record["branches"]] == export_extras.branches(story)
    expected = {(a.story_id, a.path, len(a.content), a.sha256) for e in written for a in e.attachments}
    got = {(a["story_id"], a["path"], a["size"], a["sha256"]) for a in export.records["attachments"]}
    assert got == expected and expected


def test_family_e_zip_export_carries_the_same_facts_as_the_api(world: World) -> None:
    folder = world.folder / "zip-e"
    written = write_exports(world.store, folder, ExportOptions(family="E", layout="zip"))
    export = read_all({"export_files": [str(folder / "*-export.zip")]})
    compared = compare(world, export, {"priority", "tasks", "blockers", "epics", "history"})
    kinds = (
        "stories",
        "comments",
        "tasks",
        "blockers",
        "blockers pointing at stories",
        "epics",
        "iterations",
    )
    assert all(compared[kind] > 0 for kind in (*kinds, "releases", "activity")), compared
    check_export_only_facts(world, export, written)


def test_family_d_csv_resaved_with_crlf_and_bom_carries_the_same_facts(world: World) -> None:
    folder = world.folder / "csv-d"
    write_exports(world.store, folder, ExportOptions(family="D", layout="csv", crlf=True, bom=True))
    export = read_all({"export_files": [str(folder)]})
    compared = compare(world, export, {"tasks", "epics"})
    assert compared["stories"] > 1000 and compared["tasks"] > 0, compared
    assert not export.records.get("activity") and not export.records.get("blockers")
