"""Incremental syncs against the sandbox: exact, per project, resumable, tolerant of old states."""

from __future__ import annotations

import json
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from integration_tests.conftest import api_token_config, primary_keys, sync, truth
from integration_tests.harness import CONNECTOR, configured_catalog, parse_output, run_connector
from integration_tests.sandbox import Sandbox

FORMAT = "%Y-%m-%dT%H:%M:%SZ"
EPOCH = "1970-01-01T00:00:00Z"


def parse(ts: str) -> datetime:
    return datetime.strptime(ts, FORMAT).replace(tzinfo=UTC)


def stories_state(run: Any) -> list[dict[str, Any]]:
    return [s for s in run.last_state_by_stream() if s["stream"]["stream_descriptor"]["name"] == "stories"]


def cursor_by_project(state: list[dict[str, Any]], cursor: str = "created_at") -> dict[int, str]:
    blob = state[0]["stream"]["stream_state"]
    return {entry["partition"]["project_id"]: entry["cursor"][cursor] for entry in blob["states"]}


def test_days_back_limits_stories_by_creation_date(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    everything = sync(api_token_config(sandbox), ["stories"]).records["stories"]
    recent = sync(api_token_config(sandbox, days_back=3), ["stories"]).records["stories"]
    threshold = datetime.now(UTC) - timedelta(days=3)
    margin = timedelta(seconds=30)  # the connector computes its own "now" a moment apart
    must = {s["id"] for s in everything if parse(s["created_at"]) > threshold + margin}
    must_not = {s["id"] for s in everything if parse(s["created_at"]) < threshold - margin}
    delivered = {s["id"] for s in recent}
    assert must, "the sandbox has stories created in the last few days"
    assert must_not, "and older ones"
    assert must <= delivered
    assert not delivered & must_not


def test_second_sync_returns_only_the_stories_created_since(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    config = api_token_config(sandbox)
    first = sync(config, ["stories"])
    state = stories_state(first)
    cursors = cursor_by_project(state)
    assert set(cursors) == truth(sandbox, "projects"), "one state per project"

    project = next(iter(cursors))
    created = {sandbox.store.create_story(project, name=f"new {i}").id for i in range(3)}
    second = sync(config, ["stories"], state=state)

    delivered = {s["id"]: s for s in second.records["stories"]}
    assert created <= set(delivered)
    # Anything else is a re-read of the second a project's state ends on (at-least-once).
    for story_id in set(delivered) - created:
        story = delivered[story_id]
        assert parse(story["created_at"]) >= parse(cursors[story["project_id"]]) - timedelta(seconds=1)


def test_updated_at_cursor_picks_up_edited_stories(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    config = api_token_config(sandbox, stories_cursor="updated_at")
    first = sync(config, ["stories"])
    state = stories_state(first)
    assert "updated_at" in json.dumps(state)
    old = sorted(first.records["stories"], key=lambda s: s["created_at"])[0]
    sandbox.store.update_story(old["id"], name="Renamed while nobody looked")
    second = sync(config, ["stories"], state=state)
    edited = [s for s in second.records["stories"] if s["id"] == old["id"]]
    assert edited and edited[0]["name"] == "Renamed while nobody looked"
    cursors = cursor_by_project(state, "updated_at")
    for story in second.records["stories"]:
        assert parse(story["updated_at"]) >= parse(cursors[story["project_id"]]) - timedelta(seconds=1)


def test_a_project_new_since_the_last_sync_starts_from_days_back(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox()
    readable = [p.id for p in sandbox.store.readable_projects() if sandbox.store.truth("stories", [p.id])]
    first_projects, newcomer = readable[:-1], readable[-1]
    first = sync(api_token_config(sandbox, project_ids=first_projects), ["stories"])
    second = sync(api_token_config(sandbox, project_ids=readable), ["stories"], state=stories_state(first))
    newcomer_ids = {s["id"] for s in second.records["stories"] if s["project_id"] == newcomer}
    assert newcomer_ids == truth(sandbox, "stories", project_ids=[newcomer])


def test_legacy_flat_state_is_accepted(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    since = "2025-01-01T00:00:00Z"
    legacy = [
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "stories"}, "stream_state": {"created_at": since}},
        }
    ]
    run = sync(api_token_config(sandbox), ["stories"], state=legacy)
    assert run.exit_code == 0 and not run.errors
    assert run.records["stories"], "stories created since 2025 exist"
    assert all(parse(s["created_at"]) >= parse(since) - timedelta(seconds=1) for s in run.records["stories"])


def test_future_state_reads_nothing_and_does_not_fail(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    future = "2999-01-01T00:00:00Z"
    state = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": {cursor: future}}}
        for name, cursor in (
            ("stories", "created_at"),
            ("activity", "occurred_at"),
            ("notifications", "updated_at"),
        )
    ]
    run = sync(api_token_config(sandbox), ["stories", "activity", "notifications"], state=state)
    assert run.exit_code == 0 and not run.errors
    assert not run.records["stories"] and not run.records["activity"] and not run.records["notifications"]


def test_notifications_sync_incrementally_even_when_the_api_ignores_the_filter(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox(notifications_ignore_filters=True)
    config = api_token_config(sandbox)
    first = sync(config, ["notifications"])
    assert first.records["notifications"]
    second = sync(config, ["notifications"], state=first.last_state_by_stream())
    newest = max(n["updated_at"] for n in first.records["notifications"])
    assert all(n["updated_at"] >= newest for n in second.records["notifications"])
    assert len(second.records["notifications"]) < len(first.records["notifications"])


def test_killed_sync_resumes_from_its_last_state_and_loses_nothing(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox(latency_ms=40)
    config = api_token_config(sandbox, num_workers=2)
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    catalog = configured_catalog(discovered, ["stories"])
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps(config))
        (Path(tmp) / "catalog.json").write_text(json.dumps(catalog))
        process = subprocess.Popen(
            [CONNECTOR, "read", "--config", "config.json", "--catalog", "catalog.json"],
            cwd=tmp,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if '"type":"STATE"' in line and '"states":[{' in line:
                process.kill()  # as a crashed worker would: no goodbye
                break
        process.wait()
    killed = parse_output(process.returncode, "".join(lines), "")
    assert killed.states, "the sync checkpointed before it was killed"
    # Projects not finished yet are in the state too, still at their start.
    finished = {p: c for p, c in cursor_by_project(stories_state(killed)).items() if c != EPOCH}
    assert 0 < len(finished) < len(truth(sandbox, "projects"))

    resumed = sync(config, ["stories"], state=stories_state(killed))
    union = {s["id"] for s in killed.records["stories"]} | {s["id"] for s in resumed.records["stories"]}
    assert union == truth(sandbox, "stories")
    # The resumed sync re-read at most the boundary second of the projects already done.
    for story in resumed.records["stories"]:
        if story["project_id"] in finished:
            assert parse(story["created_at"]) >= parse(finished[story["project_id"]]) - timedelta(seconds=1)


def test_inclusive_date_filters_lose_nothing_and_re_read_only_the_boundary_second(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    # Whether Tracker's *_after/*_before were strict or inclusive was never documented: the
    # connector must be exact under either (the other tests run the sandbox's strict default).
    sandbox = make_sandbox(date_filter="inclusive")
    config = api_token_config(sandbox)
    streams = ["stories", "activity", "notifications"]
    first = sync(config, streams)
    assert first.exit_code == 0, first.errors
    for stream in streams:
        assert primary_keys(first.records[stream], stream) == truth(sandbox, stream), stream
    cursors = cursor_by_project(stories_state(first))
    project = next(iter(cursors))
    created = {sandbox.store.create_story(project, name=f"new {i}").id for i in range(3)}

    second = sync(config, streams, state=first.last_state_by_stream())

    assert second.exit_code == 0, second.errors
    delivered = {s["id"]: s for s in second.records["stories"]}
    assert created <= set(delivered)
    for story_id in set(delivered) - created:
        story = delivered[story_id]
        assert parse(story["created_at"]) >= parse(cursors[story["project_id"]]) - timedelta(seconds=1)
    for stream in streams:
        union = primary_keys(first.records[stream] + second.records[stream], stream)
        assert union == truth(sandbox, stream), stream
