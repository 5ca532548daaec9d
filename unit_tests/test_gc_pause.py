"""The garbage collector is paused while the connector starts, and on again (start-up frozen) after."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

from source_pivotal_tracker.runtime.gc_pause import collection_paused

PROBE = """
import gc, json, sys
{setup}
print(json.dumps({{"enabled": gc.isenabled(), "frozen": gc.get_freeze_count(),
                  "collections": sum(s["collections"] for s in gc.get_stats())}}), file=sys.stderr)
"""


def probe(setup: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(setup=setup)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_collection_paused_restores_the_collector_as_it_was() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_importing_the_package_runs_next_to_no_collection_and_leaves_the_collector_on() -> None:
    ours = probe("import source_pivotal_tracker")
    cdk_alone = probe("import airbyte_cdk")
    assert ours["enabled"]
    assert cdk_alone["collections"] > 200  # what the pause saves
    assert ours["collections"] < cdk_alone["collections"] / 10


def test_after_start_up_the_collector_is_on_and_start_up_objects_are_frozen() -> None:
    state = probe(
        "sys.argv = ['source-pivotal-tracker', 'spec']\nfrom source_pivotal_tracker.run import run\nrun()"
    )
    assert state["enabled"]
    assert state["frozen"] > 50_000
