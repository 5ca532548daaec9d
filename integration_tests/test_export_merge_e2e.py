"""Three exports of one world, taken at different times, read together through the installed command.

The sandbox exports its world three times, 60 days apart (export_series.py): stories change and
new ones appear between the exports, each export holds its own 6 months of history, the older
ZIPs are renamed (`download (<n>).zip`), and the newest leaves out the Done stories the oldest
holds. The merged read must equal the sandbox's newest state (its API, read after the last
change), story by story, with the facts test_export_vs_api_e2e.py compares; iterations are the
newest export's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from integration_tests.conftest import api_token_config
from integration_tests.harness import ConnectorRun, configured_catalog, run_connector
from integration_tests.sandbox import Sandbox, SandboxOptions
from integration_tests.sandbox.export_series import write_export_series
from integration_tests.sandbox.export_writer import HISTORY_DAYS, ExportedProject, ExportOptions
from integration_tests.test_export_vs_api_e2e import (
    API_STREAMS,
    World,
    check_export_only_facts,
    compare,
    read_all,
)

DAYS_APART = 60


@dataclass
class Merged:
    world: World
    series: list[list[ExportedProject]]
    export: ConnectorRun


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Merged]:
    with Sandbox(SandboxOptions()) as sandbox:
        folder = tmp_path_factory.mktemp("series")
        series = write_export_series(
            sandbox.store, folder, ExportOptions(family="E", layout="zip"), count=3, days_apart=DAYS_APART
        )
        # The API after the last change: the sandbox's newest state.
        config = api_token_config(sandbox)
        discovered = run_connector("discover", config).only("CATALOG")["catalog"]
        api = run_connector("read", config, configured_catalog(discovered, API_STREAMS, incremental=False))
        assert api.exit_code == 0 and not api.errors, api.errors
        export = read_all({"export_files": [str(folder / f"export-{n}") for n in (3, 1, 2)]})
        yield Merged(World(sandbox.store, api, folder), series, export)


def test_three_exports_read_as_the_newest_state_story_by_story(merged: Merged) -> None:
    newest = {story_id for exported in merged.series[-1] for story_id in exported.story_ids}
    compared = compare(
        merged.world,
        merged.export,
        {"priority", "tasks", "blockers", "epics", "history"},
        iterations_of=newest,
    )

    assert compared["stories"] > 1000 and compared["comments"] > 0 and compared["iterations"] > 0, compared
    for stream in ("stories", "epics", "comments", "tasks", "blockers", "labels", "releases"):
        keys = Counter(record["id"] for record in merged.export.records[stream])
        assert not [key for key, times in keys.items() if times > 1], f"{stream}: a record twice"
    check_export_only_facts(merged.world, merged.export, [e for written in merged.series for e in written])
    attachments = Counter(
        (a["story_id"], a["path"], a["sha256"]) for a in merged.export.records["attachments"]
    )
    assert set(attachments.values()) == {1}


def test_each_story_comes_from_the_newest_export_that_holds_it(merged: Merged) -> None:
    holder: dict[int, str] = {}
    for written in merged.series:  # oldest first: a newer export overrides
        for exported in written:
            for story_id in exported.story_ids:
                holder[story_id] = exported.path.name
    stories = merged.export.records["stories"]

    assert {s["id"]: s["export_file"] for s in stories} == holder
    only_older = [s for s in stories if s["export_file"].startswith("download")]
    revised = [s for s in stories if "(revised)" in s["name"]]
    assert only_older and all(s["current_state"] == "accepted" for s in only_older)
    assert revised and all(s["export_file"].endswith("-export.zip") for s in revised)


def test_the_history_of_every_export_is_joined_each_entry_once(merged: Merged) -> None:
    store = merged.world.store
    activity = merged.export.records["activity"]
    guids = Counter(a["guid"] for a in activity)
    assert set(guids.values()) == {1}
    # Every export's 6-month window: from the oldest export's window start to the newest export.
    newest = merged.series[-1][0].exported_at
    oldest = merged.series[0][0].exported_at
    expected = sum(
        1
        for project in store.projects
        for event in project.events
        if oldest - HISTORY_DAYS * 86400 <= event.occurred_at <= newest
    )
    assert len(activity) == expected and expected > 0
    assert Counter(a["export_file"].startswith("download") for a in activity)[True] > 0
