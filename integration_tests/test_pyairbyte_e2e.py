"""The README's two PyAirbyte snippets, run as users would: through PyAirbyte, in a venv of its own
(cached_venv.py), against the installed `source-pivotal-tracker` command.

(a) The API read against the sandbox in its own process; (b) an export ZIP read into a DuckDB file.
Each is held against the command's own `read` of the very config, catalog and state PyAirbyte gave
it (the guard keeps copies): the same records per stream, by primary key, with the same values.
PyAirbyte's processes run under pyairbyte_guard/sitecustomize.py, which refuses any traffic but
loopback and notes files written outside the test's folder; only AIRBYTE_OFFLINE_MODE=1 is set, as
the README says, and that alone must keep PyAirbyte from its registry and its telemetry.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from integration_tests.cached_venv import cached_venv
from integration_tests.harness import (
    CONNECTOR,
    REPO,
    ConnectorRun,
    SandboxProcess,
    run_connector,
    sandbox_process,
    write_export,
)
from integration_tests.readme_snippets import adapt, pyairbyte_snippets

GUARD = Path(__file__).resolve().parent / "pyairbyte_guard"
# Never in the connector's venv or setup.py: PyAirbyte pins an airbyte-cdk of its own.
PYAIRBYTE_VENV = REPO / ".pyairbyte-venv"
# The version the README's snippets were checked with; raise it deliberately, with the test.
PYAIRBYTE_PACKAGE = "airbyte==0.71.3"
SNIPPET_TIMEOUT = 300
INHERIT_NOT = ("DO_NOT_TRACK", "PYTHONPATH", "PYTHONSTARTUP")
# Appended to a snippet: every record PyAirbyte cached, read back from its cache, for the test.
EPILOGUE = """
import json as _json
with open("pyairbyte-records.json", "w") as _file:
    _records = {_name: [dict(_row) for _row in result[_name]] for _name in result.streams}
    _json.dump(_records, _file, default=str)
"""
# Run by the venv's Python: every table of a DuckDB file and its row count, as JSON.
COUNT_TABLES = """
import duckdb, json, sys
db = duckdb.connect(sys.argv[1], read_only=True)
tables = [name for (name,) in db.execute("show tables").fetchall()]
print(json.dumps({name: db.execute(f'select count(*) from "{name}"').fetchone()[0] for name in tables}))
"""
# Fields compared value for value (the primary keys are compared for every record of every stream).
FIELDS = {
    "projects": ("name",),
    "stories": ("name", "story_type", "current_state", "project_id"),
    "comments": ("text", "story_id"),
    "labels": ("name", "project_id"),
    "tasks": ("description", "complete", "story_id"),
}


@dataclass
class PyAirbyteRun:
    """One snippet's run: what it printed, what it cached and what the guard saw."""

    output: str
    records: dict[str, list[dict[str, Any]]]
    notes: list[dict[str, Any]]
    guard_dir: Path
    logs_dir: Path
    work_dir: Path
    inputs: dict[str, Any] = field(default_factory=dict)

    def connector_input(self, name: str) -> Any:
        """The file PyAirbyte passed to the connector's `read` after --config/--catalog/--state."""
        found = sorted(self.guard_dir.glob(f"read-*-{name}.json"))
        assert len(found) == 1, f"expected one `read --{name}` from PyAirbyte, found {found}"
        return json.loads(found[0].read_text())


@pytest.fixture(scope="module")
def pyairbyte_python(request: pytest.FixtureRequest) -> Path:
    # A failed install is an error here, with pip's reason.
    venv = cached_venv(PYAIRBYTE_VENV, PYAIRBYTE_PACKAGE)
    if venv.seconds_to_create is None:
        message = f"PyAirbyte venv: reused ({PYAIRBYTE_PACKAGE})"
    else:
        message = f"PyAirbyte venv: created in {venv.seconds_to_create:.1f} s ({PYAIRBYTE_PACKAGE})"
    # Shown whatever the outcome: the install is the slow part of this module on a fresh clone.
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(message)
    return venv.bin / "python"


@pytest.fixture(scope="module")
def api_sandbox() -> Iterator[SandboxProcess]:
    with sandbox_process("--projects", "2", "--stories", "30") as sandbox:
        yield sandbox


def run_snippet(python: Path, snippet: str, folder: Path) -> PyAirbyteRun:
    """Runs `snippet` with the venv's Python in folder/work, every write it makes kept in folder."""
    guard_dir, logs_dir, work_dir, temp_dir = (folder / name for name in ("guard", "logs", "work", "tmp"))
    for directory in (guard_dir, logs_dir, work_dir, temp_dir):
        directory.mkdir(parents=True)
    (work_dir / "snippet.py").write_text(snippet + EPILOGUE)
    env = {
        # A user's own AIRBYTE_* settings (cache root, project dir) or DO_NOT_TRACK are not the README's.
        **{k: v for k, v in os.environ.items() if k not in INHERIT_NOT and not k.startswith("AIRBYTE_")},
        "AIRBYTE_OFFLINE_MODE": "1",
        # PyAirbyte's defaults otherwise: /tmp/airbyte/logs and the system's temp dir (where it
        # writes the config, token included, for the connector).
        "AIRBYTE_LOGGING_ROOT": str(logs_dir),
        "TMPDIR": str(temp_dir),
        "PYTHONPATH": str(GUARD),
        "PT_GUARD_DIR": str(guard_dir),
        "PT_GUARD_ROOT": str(folder),
        "PYTHONDONTWRITEBYTECODE": "1",  # the venvs' __pycache__ are outside folder
    }
    repo_before = _repo_status()
    try:
        done = subprocess.run(
            [str(python), "snippet.py"],
            cwd=work_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=SNIPPET_TIMEOUT,
        )
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"the README's snippet ran over {SNIPPET_TIMEOUT} s under PyAirbyte") from error
    assert done.returncode == 0, (
        f"the README's snippet failed under PyAirbyte (exit code {done.returncode}):\n{done.stderr[-4000:]}"
    )
    assert _repo_status() == repo_before, "PyAirbyte changed files in the repository"
    notes = [
        json.loads(line) for log in guard_dir.glob("guard-*.jsonl") for line in log.read_text().splitlines()
    ]
    return PyAirbyteRun(
        output=done.stdout + done.stderr,
        records=json.loads((work_dir / "pyairbyte-records.json").read_text()),
        notes=notes,
        guard_dir=guard_dir,
        logs_dir=logs_dir,
        work_dir=work_dir,
    )


def _repo_status() -> str:
    done = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    # The venv and its lock are the test's own; anything else new (PyAirbyte's .cache/) fails.
    return "\n".join(line for line in done.stdout.splitlines() if ".pyairbyte-venv" not in line)


def assert_guarded(run: PyAirbyteRun) -> None:
    """Nothing but loopback, nothing written outside the test's folder, and the guard was there."""
    # PyAirbyte stops the command once it has what it asked for: -15 is what it expects then.
    assert "AirbyteSubprocessFailedError" not in run.output, "PyAirbyte saw the command fail or hang"
    broken = [note for note in run.notes if note["kind"] in ("refused", "outside")]
    assert broken == [], f"PyAirbyte's processes broke the loopback/tmp rule: {broken}"
    started = [note["argv"] for note in run.notes if note["kind"] == "start"]
    assert ["snippet.py"] in started, f"the guard was not loaded in PyAirbyte's process: {started}"
    assert [CONNECTOR, "read"] in started, f"the guard was not loaded in the connector's read: {started}"


def assert_same_as_own_read(run: PyAirbyteRun) -> ConnectorRun:
    """PyAirbyte's cache holds what the command itself reads with the same config and catalog."""
    catalog = run.connector_input("catalog")
    state = run.connector_input("state")
    own = run_connector("read", run.connector_input("config"), catalog, state or None)
    assert own.exit_code == 0 and not own.errors, f"the command's own read failed: {own.stderr[-2000:]}"
    streams = {entry["stream"]["name"]: entry["primary_key"] for entry in catalog["streams"]}
    assert sorted(run.records) == sorted(streams), "PyAirbyte's result is missing streams of its catalog"
    assert {s: len(run.records[s]) for s in streams} == {s: len(own.records.get(s, [])) for s in streams}
    assert sum(len(records) for records in own.records.values()) > 100
    for stream, key_paths in streams.items():
        keys = [path[0] for path in key_paths]
        assert keys, f"{stream}: PyAirbyte got no primary key for it"
        mine = {tuple(r[k] for k in keys): r for r in run.records[stream]}
        theirs = {tuple(r[k] for k in keys): r for r in own.records.get(stream, [])}
        assert all(None not in key for key in mine), f"{stream}: a record without its primary key"
        assert mine.keys() == theirs.keys(), f"{stream}: other records than the command's own read"
        for key, record in theirs.items():
            for name in FIELDS.get(stream, ()):
                assert mine[key][name] == record[name], f"{stream} {key}: {name} differs"
    assert all(len(run.records[s]) > 0 for s in FIELDS if s in streams), "a compared stream was empty"
    return own


def assert_every_property_typed(run: PyAirbyteRun) -> None:
    """PyAirbyte found a column type for every property (else it warns and makes it a string)."""
    untyped = [line for line in run.output.splitlines() if "Could not determine airbyte type" in line]
    assert untyped == [], f"PyAirbyte could not type {len(untyped)} properties, e.g. {untyped[0][:300]}"


def assert_no_secret(run: PyAirbyteRun, *secrets: str) -> None:
    logs = [path for path in run.logs_dir.rglob("*") if path.is_file()]
    assert logs, "PyAirbyte wrote no logs where AIRBYTE_LOGGING_ROOT points"
    for secret in secrets:
        assert secret not in run.output, "a secret in PyAirbyte's output"
        for path in logs:
            assert secret not in path.read_text(errors="replace"), f"a secret in {path.name}"


def test_readme_api_snippet_reads_the_sandbox_through_pyairbyte_like_the_command(
    pyairbyte_python: Path, api_sandbox: SandboxProcess, tmp_path: Path
) -> None:
    snippet = adapt(
        pyairbyte_snippets()[0],
        [
            ('local_executable="source-pivotal-tracker"', f"local_executable={json.dumps(CONNECTOR)}"),
            ('"api_token": "…"', f'"api_token": {json.dumps(api_sandbox.api_token)}'),
            ('"days_back": 365}', f'"days_back": 365, "api_url": {json.dumps(api_sandbox.url)}}}'),
        ],
    )
    run = run_snippet(pyairbyte_python, snippet, tmp_path)

    assert "Connection check succeeded" in run.output  # source.check() said so, not just returned
    assert_guarded(run)
    assert_every_property_typed(run)
    sandbox_address = api_sandbox.url.split("//")[1].split("/")[0]
    connects = {
        n["detail"] for n in run.notes if n["kind"] == "loopback" and n["argv"] == [CONNECTOR, "read"]
    }
    assert connects == {sandbox_address}, "the connector's read went elsewhere than the sandbox"
    assert run.connector_input("config") == api_sandbox.config(days_back=365)
    assert_same_as_own_read(run)
    assert_no_secret(run, api_sandbox.api_token, api_sandbox.password)


def test_readme_export_snippet_fills_duckdb_with_one_table_per_stream_like_the_command(
    pyairbyte_python: Path, tmp_path: Path
) -> None:
    (export,) = write_export(tmp_path / "export", "--projects", "1", "--stories", "40")
    snippet = adapt(
        pyairbyte_snippets()[1],
        [
            ('local_executable="source-pivotal-tracker"', f"local_executable={json.dumps(CONNECTOR)}"),
            ('"/home/me/tracker/web_app_20250324_144303-export.zip"', json.dumps(str(export))),
        ],
    )
    run = run_snippet(pyairbyte_python, snippet, tmp_path / "pyairbyte")

    assert_guarded(run)
    assert_every_property_typed(run)
    assert run.connector_input("config") == {"export_files": [str(export)]}
    own = assert_same_as_own_read(run)
    # The README's claim: one table per stream in tracker.duckdb, readable by DuckDB on its own.
    database = run.work_dir / "tracker.duckdb"
    counts = subprocess.run(
        [str(pyairbyte_python), "-c", COUNT_TABLES, str(database)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert counts.returncode == 0, f"DuckDB could not read {database.name}: {counts.stderr[-2000:]}"
    tables = json.loads(counts.stdout)
    for stream in run.records:
        assert tables.get(stream) == len(own.records.get(stream, [])), f"table {stream} in {database.name}"
