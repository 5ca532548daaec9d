"""Both ways in (the API and export files) under one rule set, through the installed command.

Every case runs in API mode (against the sandbox) and in export mode (over an export written for
the test), and must end the same way in both.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from integration_tests.conftest import api_token_config
from integration_tests.harness import CONNECTOR, ConnectorRun, command_line, parse_output
from integration_tests.sandbox import Sandbox, SandboxOptions
from unit_tests.exports.builder import export_zip, history_csv, stories_csv, story

MODES = ("api", "export")
STORIES = 2000  # far more output than a pipe holds (64 KiB), in either mode
# The streams each way in has: a catalog of none of them names them.
STREAMS = {
    "api": "accounts, activity, blockers, comments, epics, iterations, labels, notifications, "
    "project_memberships, projects, releases, stories, story_transitions, tasks",
    "export": "activity, attachments, blockers, comments, epics, iterations, labels, projects, "
    "releases, stories, tasks",
}


@pytest.fixture(scope="module")
def config_of(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], dict[str, Any]]]:
    """A valid config of each mode: the sandbox's API, or an export of one project."""
    folder = tmp_path_factory.mktemp("both_ways_in")
    export = export_zip(
        folder / "web_app_20250324_144303-export.zip",
        stories_csv("E", [story(100 + n) for n in range(STORIES)]),
        history_csv([["5", "story_update", "Ana accepted it", "Ana", "Mar 1, 2025"]]),
    )
    with Sandbox(SandboxOptions(projects=1, stories=STORIES, disabled_projects=0)) as sandbox:
        configs = {"api": api_token_config(sandbox), "export": {"export_files": [str(export)]}}
        yield lambda mode: configs[mode]


def _catalog(*streams: str, incremental: bool = False) -> dict[str, Any]:
    mode = "incremental" if incremental else "full_refresh"
    return {
        "streams": [
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", mode]},
                "sync_mode": mode,
                "destination_sync_mode": "append" if incremental else "overwrite",
                "cursor_field": ["updated_at"] if incremental else [],
            }
            for name in streams
        ]
    }


@pytest.mark.parametrize("mode", MODES)
def test_a_reader_that_closes_stdout_ends_the_read_quietly_with_a_failing_exit(
    config_of: Callable[[str], dict[str, Any]], mode: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        args = command_line(Path(tmp), "read", config_of(mode), _catalog("stories"), None)
        first, exit_code, stderr = _run_to_a_reader_that_goes_away(args, Path(tmp), 2000)

    assert len(first) == 2000
    assert exit_code != 0
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr[-2000:]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("command", ["spec", "discover"])
def test_spec_and_discover_to_a_reader_already_gone_end_quietly_with_a_failing_exit(
    config_of: Callable[[str], dict[str, Any]], mode: str, command: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps(config_of(mode)))
        args = [CONNECTOR, command] + (["--config", "config.json"] if command == "discover" else [])
        # Gone before the first message, however short the output.
        _, exit_code, stderr = _run_to_a_reader_that_goes_away(args, Path(tmp), 0)

    assert exit_code != 0
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr[-2000:]


def _run_to_a_reader_that_goes_away(args: list[str], cwd: Path, reads: int) -> tuple[bytes, int, str]:
    """Runs the command, reads `reads` bytes of its stdout (as `| head -c` does) and closes it."""
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    try:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.read(reads) if reads else b""
        process.stdout.close()
        exit_code = process.wait(timeout=60)
        return first, exit_code, process.stderr.read().decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _stories_state(stream_state: Any) -> list[dict[str, Any]]:
    return [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "stories"}, "stream_state": stream_state}}
    ]


NOT_JSON = "{'stories': "
STATE_RULE = "fix or reset the stream's state."
CONFIG_ERROR = "config_error"


@dataclass(frozen=True)
class BadInput:
    """One bad config, state or catalog, and how every way in must answer it."""

    command: str
    message: str  # `{streams}`: the way in's streams
    config: dict[str, Any] = field(default_factory=dict)  # fields set over the valid config
    streams: tuple[str, ...] = ("stories",)
    state: Any = None  # a list is written as JSON, a str as it is
    catalog_text: str | None = None  # a catalog file that is not the streams' catalog
    fails: bool = True  # False: the read succeeds, with the unknown stream INCOMPLETE


BAD_INPUTS = {
    "export_files_a_number": BadInput(
        "check",
        "Config validation error: The config field 'export_files' must be of type array.",
        {"export_files": 5},
    ),
    "export_files_true": BadInput(
        "read",
        "Config validation error: The config field 'export_files' must be of type array.",
        {"export_files": True},
    ),
    "export_files_a_string": BadInput(
        "check",
        "Config validation error: The config field 'export_files' must be of type array.",
        {"export_files": "x"},
    ),
    "days_back_zero": BadInput(
        "read", "Config validation error: The config field 'days_back' must be at least 1.", {"days_back": 0}
    ),
    "state_whose_states_are_not_a_list": BadInput(
        "read",
        "The connector could not start: The state of stream 'stories' is not a state this connector writes: "
        f"'states' must be a list; {STATE_RULE}",
        state=_stories_state({"states": "x"}),
    ),
    "state_with_a_partition_without_cursor": BadInput(
        "read",
        "The connector could not start: The state of stream 'stories' is not a state this connector writes: "
        f"'states.0' must be an object with a 'cursor' object; {STATE_RULE}",
        state=_stories_state({"states": [{"partition": {"project_id": 1, "parent_slice": {}}}]}),
    ),
    "state_with_a_cursor_that_is_no_date": BadInput(
        "read",
        "The connector could not start: The state of stream 'stories' holds 'yesterday' for updated_at, "
        f"which is not a date-time like 2024-01-31T12:00:00Z: {STATE_RULE}",
        state=_stories_state({"updated_at": "yesterday"}),
    ),
    "state_file_not_json": BadInput(
        "read",
        "The connector could not start: Could not read json file state.json: Expecting property name "
        "enclosed in double quotes: line 1 column 2 (char 1). Please ensure that it is a valid JSON.",
        state=NOT_JSON,
    ),
    "catalog_file_not_json": BadInput(
        "read",
        "The connector could not start: Could not read json file catalog.json: Expecting property name "
        "enclosed in double quotes: line 1 column 2 (char 1). Please ensure that it is a valid JSON.",
        catalog_text=NOT_JSON,
    ),
    "catalog_of_only_unknown_streams": BadInput(
        "read",
        "The catalog names no stream of this connector (unknown: nope, nothing); its streams are {streams}.",
        streams=("nope", "nothing"),
    ),
    "catalog_listing_a_stream_twice": BadInput(
        "read", "The catalog lists the stream(s) projects more than once.", streams=("projects", "projects")
    ),
    "catalog_with_an_unknown_stream_among_known": BadInput(
        "read",
        "The catalog names unknown streams, which are not read: nope.",
        streams=("projects", "nope"),
        fails=False,
    ),
}


def _run(mode: str, valid: dict[str, Any], case: BadInput) -> ConnectorRun:
    """The connector on the case's inputs, files named relative to its folder (as messages show them)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.json").write_text(json.dumps({**valid, **case.config}))
        args = [CONNECTOR, case.command, "--config", "config.json"]
        if case.command == "read":
            catalog = _catalog(*case.streams, incremental=mode == "api" and case.state is not None)
            (folder / "catalog.json").write_text(case.catalog_text or json.dumps(catalog))
            args += ["--catalog", "catalog.json"]
        if case.state is not None:
            state = case.state if isinstance(case.state, str) else json.dumps(case.state)
            (folder / "state.json").write_text(state)
            args += ["--state", "state.json"]
        done = subprocess.run(args, capture_output=True, text=True, timeout=240, cwd=folder)
    return parse_output(done.returncode, done.stdout, done.stderr)


def _answer(run: ConnectorRun, command: str) -> dict[str, Any]:
    """How a run answered a bad input: what a caller of either way in gets to see."""
    if command == "check":
        status = run.only("CONNECTION_STATUS")["connectionStatus"]
        return {"check": (status["status"], status["message"])}
    return {
        "failed": run.exit_code != 0,
        "errors": [(error["failure_type"], error["message"]) for error in run.errors],
        "warnings": [
            log["message"] for log in run.logs if log["level"] == "WARN" and "catalog" in log["message"]
        ],
        "unknown_stream_statuses": [status for stream, status in run.stream_statuses if stream == "nope"],
    }


def _expected(case: BadInput, mode: str) -> dict[str, Any]:
    message = case.message.replace("{streams}", STREAMS[mode])
    if case.command == "check":
        return {"check": ("FAILED", message)}
    if not case.fails:
        return {
            "failed": False,
            "errors": [],
            "warnings": [message],
            "unknown_stream_statuses": ["INCOMPLETE"],
        }
    return {
        "failed": True,
        "errors": [(CONFIG_ERROR, message)],
        "warnings": [],
        "unknown_stream_statuses": [],
    }


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", BAD_INPUTS)
def test_every_bad_config_state_and_catalog_gets_the_same_answer_from_both_ways_in(
    config_of: Callable[[str], dict[str, Any]], name: str, mode: str
) -> None:
    case = BAD_INPUTS[name]

    run = _run(mode, config_of(mode), case)

    assert _answer(run, case.command) == _expected(case, mode), run.stdout[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
