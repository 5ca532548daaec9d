"""No server holds a sync or a check (issues 18 and 19), and a read that reads nothing never succeeds.

The installed connector against the sandbox's misbehaving servers: one that never answers, one that
trickles its answers (`trickle_rate`), endless 429s with a huge Retry-After, 5xx forever; and
against export URLs that trickle. Deadlines are shortened through their environment variables
(README, "Timeouts and waits") so the suite stays fast; unit_tests/test_response_deadline.py holds
the defaults.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from integration_tests.conftest import api_token_config, login_config, primary_keys, sync, truth
from integration_tests.harness import (
    ConnectorRun,
    command_line,
    configured_catalog,
    connector_process,
    parse_output,
    run_connector,
)
from integration_tests.sandbox import Sandbox
from unit_tests.exports.file_server import FileServer, serving

CHECK_DEADLINE = 6.0
CHECK_ENV = {"SOURCE_PIVOTAL_TRACKER_CHECK_DEADLINE_SECONDS": str(CHECK_DEADLINE)}
# Starting the connector (Python, the CDK) comes before the check's deadline starts counting.
START_UP_ALLOWANCE = 8.0
READ_ENV = {
    "SOURCE_PIVOTAL_TRACKER_RESPONSE_DEADLINE_SECONDS": "1",
    "SOURCE_PIVOTAL_TRACKER_MAX_WAIT_SECONDS": "0.1",
}
FLOOR_ENV = {
    "SOURCE_PIVOTAL_TRACKER_MIN_DOWNLOAD_SPEED": "4096",
    "SOURCE_PIVOTAL_TRACKER_MIN_DOWNLOAD_SPEED_SECONDS": "0.5",
}

CHECK_CASES = {
    "never answers": (
        {"stall_every": 1},
        r"Pivotal Tracker at http://127\.0\.0\.1:\d+ did not answer /services/v5/(me|projects) within 3 s\.",
    ),
    "drips a byte every 3 s": (
        {"trickle_rate": 0.33},
        r"Pivotal Tracker at http://127\.0\.0\.1:\d+ sent \d bytes of /services/v5/(me|projects) in 3 s, "
        r"not the whole answer",
    ),
    "endless 429 with a huge Retry-After": (
        {"rate_limit_every": 1, "retry_after": "999999"},
        r"asks to wait 277 h \(Retry-After\) before it answers /services/v5/(me|projects); try again later",
    ),
    "5xx forever": (
        {"error_every": 1},
        r"answered HTTP 50[03] to every attempt at /services/v5/(me|projects) for \d+ s; the server is "
        r"failing or overloaded",
    ),
}


@pytest.mark.parametrize("login", [False, True], ids=["api_token", "username_password"])
@pytest.mark.parametrize("case", list(CHECK_CASES))
def test_check_ends_failed_with_a_clear_message_within_its_deadline(
    case: str, login: bool, make_sandbox: Callable[..., Sandbox]
) -> None:
    options, message = CHECK_CASES[case]
    sandbox = make_sandbox(**options)
    config = login_config(sandbox) if login else api_token_config(sandbox)
    started = time.monotonic()
    run = run_connector("check", config, env=CHECK_ENV, timeout=120)
    took = time.monotonic() - started

    status = run.only("CONNECTION_STATUS")["connectionStatus"]
    assert status["status"] == "FAILED"
    assert re.search(message, status["message"]), status["message"]
    assert took < CHECK_DEADLINE + START_UP_ALLOWANCE, f"check took {took:.1f} s"


def test_discover_and_spec_still_make_no_request(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(stall_every=1)
    assert run_connector("spec", env=CHECK_ENV, timeout=60).exit_code == 0
    assert run_connector("discover", api_token_config(sandbox), env=CHECK_ENV, timeout=60).exit_code == 0
    assert sandbox.stats["total"] == 0


# --------------------------------------------------------------------------- a read that trickles


def _timed_run(args: list[str], env: dict[str, str], lifetime: float = 120) -> tuple[ConnectorRun, float]:
    """Runs the connector; returns its output and the seconds from its last line to its exit."""
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env}
    )
    killer = threading.Timer(lifetime, process.kill)
    killer.start()
    errors: list[str] = []
    drain = threading.Thread(target=lambda: errors.append(process.stderr.read() if process.stderr else ""))
    drain.start()
    lines: list[str] = []
    last = time.monotonic()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            last = time.monotonic()
        process.wait(timeout=lifetime)
        exited = time.monotonic()
    finally:
        killer.cancel()
        drain.join(timeout=10)
    return parse_output(process.returncode, "".join(lines), "".join(errors)), exited - last


def _read_args(folder: Path, config: dict[str, Any], catalog: dict[str, Any], state: Any = None) -> list[str]:
    return command_line(folder, "read", config, catalog, state)


def test_a_read_where_one_project_trickles_fails_clearly_after_the_others_and_resumes_without_loss(
    tmp_path: Path, make_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = make_sandbox(projects=3, disabled_projects=0, stories=40)
    slow = sandbox.store.readable_projects()[-1].id
    sandbox.options.trickle_path = f"/projects/{slow}/"
    sandbox.options.trickle_rate = 200.0  # a page of stories is ~10 kB: 50 s whole
    config = api_token_config(sandbox)
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    catalog = configured_catalog(discovered, ["stories", "labels"], True)

    first, lingered = _timed_run(_read_args(tmp_path, config, catalog), READ_ENV)

    assert first.exit_code != 0
    messages = " ".join(e["message"] for e in first.errors)
    assert re.search(rf"sent [\d,]+ bytes of /services/v5/projects/{slow}/\w+ in 1 s", messages), messages
    others = [p.id for p in sandbox.store.readable_projects() if p.id != slow]
    for stream in ("stories", "labels"):
        read = primary_keys(first.records[stream], stream)
        assert read >= truth(sandbox, stream, project_ids=others), stream
    assert first.states, "the other projects' STATE was emitted"
    assert lingered < 5, f"the process exited {lingered:.1f} s after its last message"

    sandbox.options.trickle_rate = 0.0
    second, _ = _timed_run(_read_args(tmp_path, config, catalog, first.last_state_by_stream()), READ_ENV)

    assert second.exit_code == 0, [e["message"] for e in second.errors]
    for stream in ("stories", "labels"):
        delivered = primary_keys(first.records[stream] + second.records[stream], stream)
        assert delivered == truth(sandbox, stream), stream


# --------------------------------------------------------------------------- export URLs


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    with serving() as server:
        yield server


@pytest.fixture
def temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The connector's temporary folder (TMPDIR), to see what it leaves behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def _downloads(folder: Path) -> list[Path]:
    return list(folder.glob("tracker-export-*"))


def test_a_trickling_export_url_fails_naming_it_and_leaves_no_download(
    tmp_path: Path, file_server: FileServer, temporary: Path
) -> None:
    file_server.files["/exports/web_app.zip"] = b"PK\x03\x04" + b"x" * 100_000
    file_server.rates["/exports/web_app.zip"] = 300
    url = file_server.url("/exports/web_app.zip")
    config = {"export_files": [url + "?signature=hunter2"]}
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    catalog = configured_catalog(discovered, ["stories"], False)

    run, lingered = _timed_run(_read_args(tmp_path, config, catalog), FLOOR_ENV)

    assert run.exit_code != 0
    (message, *_) = [e["message"] for e in run.errors if url in e["message"]]
    assert "cannot be downloaded after 3 attempts" in message and "bytes received" in message, message
    assert "hunter2" not in run.stdout + run.stderr
    assert lingered < 5, f"the process exited {lingered:.1f} s after its last message"
    assert _downloads(temporary) == []


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_during_a_download_removes_the_partial_file(
    stop_signal: signal.Signals, file_server: FileServer, temporary: Path
) -> None:
    # 64 KiB/s, above the floor: a download that would go on for a minute.
    file_server.files["/exports/web_app.zip"] = b"PK\x03\x04" + b"x" * (4 * 1024 * 1024)
    file_server.rates["/exports/web_app.zip"] = 64 * 1024
    config = {"export_files": [file_server.url("/exports/web_app.zip")]}
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    catalog = configured_catalog(discovered, ["stories"], False)
    with connector_process("read", config, catalog, lifetime=60) as process:
        deadline = time.monotonic() + 30
        while not any(p.stat().st_size for d in _downloads(temporary) for p in d.iterdir()):
            assert time.monotonic() < deadline and process.poll() is None, "no download started"
            time.sleep(0.05)
        process.send_signal(stop_signal)
        process.wait(timeout=10)
    assert process.returncode != 0
    assert _downloads(temporary) == []


# --------------------------------------------------------------------------- skipped projects


def test_a_read_whose_every_project_is_refused_to_the_api_fails_naming_them(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox(projects=2, disabled_projects=2, stories=3)
    run = sync(api_token_config(sandbox), ["projects", "stories", "labels"])

    assert run.exit_code != 0
    (error,) = [e for e in run.errors if "No project could be read" in e["message"]]
    assert error["failure_type"] == "config_error"
    for project in sandbox.store.projects:
        assert str(project.id) in error["message"]
    assert "API access disabled" in error["message"]


def test_a_read_that_skips_some_projects_succeeds_and_its_last_log_line_lists_them(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox(projects=3, disabled_projects=1, stories=3)
    run = sync(api_token_config(sandbox), ["projects", "stories", "labels"])

    assert run.exit_code == 0, [e["message"] for e in run.errors]
    skipped = {p.id for p in sandbox.store.projects} - {p.id for p in sandbox.store.readable_projects()}
    last = run.logs[-1]
    assert last["level"] == "WARN"
    assert last["message"].startswith("Skipped 1 of 3 projects"), last["message"]
    assert all(str(project) in last["message"] for project in skipped)
