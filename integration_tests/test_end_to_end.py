"""The installed connector against the sandbox: every stream, whole data sets, valid records."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker

from integration_tests.conftest import api_token_config, primary_keys, sync, truth
from integration_tests.harness import ConnectorRun, run_connector
from integration_tests.sandbox import Sandbox
from tracker_fixtures.streams import ALL_STREAMS

STREAMS = list(ALL_STREAMS)


@pytest.fixture(scope="module")
def full_sync(sandbox: Sandbox) -> tuple[ConnectorRun, dict[str, Any]]:
    config = api_token_config(sandbox)
    catalog = run_connector("discover", config).only("CATALOG")["catalog"]
    return sync(config), catalog


def test_discover_lists_every_stream_with_a_schema(full_sync: tuple[ConnectorRun, dict[str, Any]]) -> None:
    _, catalog = full_sync
    assert sorted(s["name"] for s in catalog["streams"]) == sorted(STREAMS)
    for stream in catalog["streams"]:
        assert stream["json_schema"]["properties"], stream["name"]
        assert stream["source_defined_primary_key"], stream["name"]


def test_full_sync_ends_cleanly(full_sync: tuple[ConnectorRun, dict[str, Any]]) -> None:
    run, _ = full_sync
    assert run.exit_code == 0, run.stderr[-2000:]
    assert run.errors == []
    assert run.unparsed == []


@pytest.mark.parametrize("stream", STREAMS)
def test_stream_delivers_the_sandbox_whole_data_set(
    stream: str, sandbox: Sandbox, full_sync: tuple[ConnectorRun, dict[str, Any]]
) -> None:
    run, _ = full_sync
    records = run.records[stream]
    delivered = primary_keys(records, stream)
    assert delivered == truth(sandbox, stream)
    assert len(records) == len(delivered), "a plain sync emits each record once"


@pytest.mark.parametrize("stream", STREAMS)
def test_every_record_validates_against_the_discovered_schema(
    stream: str, full_sync: tuple[ConnectorRun, dict[str, Any]]
) -> None:
    run, catalog = full_sync
    schema = next(s["json_schema"] for s in catalog["streams"] if s["name"] == stream)
    validator = Draft7Validator(schema, format_checker=FormatChecker())
    problems = [
        f"{record.get('id', record.get('guid'))}: {error.message}"
        for record in run.records[stream]
        for error in validator.iter_errors(record)
    ]
    assert problems == []


def test_child_records_carry_their_project_id(
    sandbox: Sandbox, full_sync: tuple[ConnectorRun, dict[str, Any]]
) -> None:
    run, _ = full_sync
    projects = {p["id"] for p in run.records["projects"]}
    for stream in ("activity", "comments", "tasks", "blockers", "stories", "epics", "iterations"):
        assert run.records[stream], f"the default sandbox has {stream}"
        assert {r["project_id"] for r in run.records[stream]} <= projects, stream


def test_a_project_without_api_access_is_skipped_with_a_warning(
    sandbox: Sandbox, full_sync: tuple[ConnectorRun, dict[str, Any]]
) -> None:
    run, _ = full_sync
    listed = {p["id"] for p in run.records["projects"]}
    disabled = listed - {p.id for p in sandbox.store.readable_projects()}
    assert disabled, "the default sandbox has a project with API access disabled"
    warnings = [log["message"] for log in run.logs if log["level"] == "WARN"]
    for project in disabled:
        assert any(f"Skipping project {project}" in w for w in warnings), warnings
        assert not [r for r in run.records["stories"] if r["project_id"] == project]
    assert {r["project_id"] for r in run.records["stories"]} == listed - disabled - empty_projects(sandbox)


def empty_projects(sandbox: Sandbox) -> set[int]:
    return {p.id for p in sandbox.store.readable_projects() if not sandbox.store.truth("stories", [p.id])}


def test_progress_is_logged_per_project_and_stream(full_sync: tuple[ConnectorRun, dict[str, Any]]) -> None:
    run, _ = full_sync
    progress = [log["message"] for log in run.logs if "records read" in log["message"]]
    stories_progress = [m for m in progress if m.startswith("Stream stories, project ")]
    assert stories_progress and all(
        "created_at reached" in m for m in stories_progress if " 0 records" not in m
    )
    statuses = {status for name, status in run.stream_statuses if name == "stories"}
    assert {"STARTED", "RUNNING", "COMPLETE"} <= statuses
