"""The installed connector against hostile servers and careless configs (issue 9).

Each test runs `source-pivotal-tracker` against the sandbox with one of its hostile options
(sandbox/hostile.py): no credential may leave for another host, nothing may hang or loop, and no
failure may pass for a successful sync.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from typing import Any, Callable
from urllib.parse import quote

import pytest

from integration_tests.conftest import (
    api_token_config,
    login_config,
    primary_keys,
    request_counts,
    sync,
    truth,
)
from integration_tests.harness import (
    ConnectorRun,
    configured_catalog,
    connector_process,
    parse_output,
    run_connector,
)
from integration_tests.sandbox import Sandbox
from integration_tests.sandbox.hostile import OtherHost

# Short enough for a test, as an operator may set them (README, "Timeouts and waits").
FAST_TIMEOUTS = {
    "SOURCE_PIVOTAL_TRACKER_TIMEOUT_SECONDS": "0.5",
    "SOURCE_PIVOTAL_TRACKER_MAX_WAIT_SECONDS": "0.1",
}


def _status(run: ConnectorRun) -> dict[str, Any]:
    return run.only("CONNECTION_STATUS")["connectionStatus"]


def _catalog(config: dict[str, Any], streams: list[str]) -> dict[str, Any]:
    return configured_catalog(run_connector("discover", config).only("CATALOG")["catalog"], streams)


# --------------------------------------------------------------------------- 1. redirects


@pytest.mark.parametrize("login", [False, True], ids=["api_token", "username_password"])
def test_a_redirect_to_another_host_is_refused_and_no_credential_reaches_it(
    login: bool, make_sandbox: Callable[..., Sandbox]
) -> None:
    catalog = _catalog(api_token_config(make_sandbox()), ["projects", "labels"])
    with OtherHost() as other:
        sandbox = make_sandbox(redirect_to=other.url)
        config = login_config(sandbox) if login else api_token_config(sandbox)
        status = _status(run_connector("check", config))
        read = run_connector("read", config, catalog)
        assert other.requests == [], "nothing may follow the redirect to another host"
    assert status["status"] == "FAILED"
    assert "redirect to http://127.0.0.2" in status["message"] and "api_url" in status["message"]
    assert read.exit_code != 0
    assert any("redirect" in e["message"] and e.get("failure_type") == "config_error" for e in read.errors)


# --------------------------------------------------------------------------- 2. and 3. secrets


def test_credentials_in_api_url_are_refused_naming_the_field_and_never_printed(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox()
    config = api_token_config(sandbox)
    # https passes the spec's pattern; the sandbox speaks http, so every request fails and is reported.
    config["api_url"] = sandbox.url.replace("http://", "https://someone:hunter2-secret@")
    check = run_connector("check", config)
    read = run_connector("read", config, _catalog(api_token_config(sandbox), ["projects"]))
    assert _status(check)["status"] == "FAILED" and "api_url" in _status(check)["message"]
    assert read.exit_code != 0 and any("api_url" in e["message"] for e in read.errors)
    for run in (check, read):
        assert "hunter2-secret" not in run.stdout + run.stderr


def test_debug_output_masks_every_form_of_a_token_with_quotes_backslashes_and_accents(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    token = 'tök"en\\with-odd-chars-0123456789'
    sandbox = make_sandbox(api_token=token)
    config = api_token_config(sandbox)
    run = run_connector("read", config, _catalog(config, ["projects", "labels"]), extra_args=["--debug"])
    assert run.exit_code == 0, [e["message"] for e in run.errors]
    output = run.stdout + run.stderr
    assert "Making outbound API request" in output, "debug logging was on"
    # The token as Python prints it (str, repr of a headers dict) or a URL carries it; each of those
    # JSON-escaped (ASCII or not) as a JSON dump of the headers writes it; and that escaped once more,
    # as a log message inside a JSON line carries it.
    plain = {token, repr(token)[1:-1], quote(token, safe="")}
    escaped = {
        json.dumps(form, ensure_ascii=ascii_only)[1:-1] for form in plain for ascii_only in (True, False)
    }
    forms = plain | escaped | {json.dumps(form)[1:-1] for form in escaped}
    texts = [output] + [log["message"] for log in run.logs]
    for form in forms:
        assert not any(form in text for text in texts), f"a form of the token leaked: {form!r}"


# --------------------------------------------------------------------------- 4. timeouts


@pytest.mark.parametrize("login", [False, True], ids=["api_token", "username_password"])
def test_a_server_that_never_answers_fails_check_quickly_with_a_clear_message(
    login: bool, make_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = make_sandbox(stall_every=1)
    config = login_config(sandbox) if login else api_token_config(sandbox)
    started = time.monotonic()
    run = run_connector("check", config, env=FAST_TIMEOUTS, timeout=90)
    assert time.monotonic() - started < 60
    messages = [_status(run)["message"]] if any(m["type"] == "CONNECTION_STATUS" for m in run.other) else []
    messages += [e["message"] for e in run.errors]
    assert any("within 0.5 s" in message for message in messages), messages


def test_requests_that_time_out_are_retried_and_every_record_arrives(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox(stall_every=6, projects=3, disabled_projects=0)
    config = api_token_config(sandbox)
    streams = ["projects", "stories", "labels"]
    catalog = _catalog(config, streams)
    run = run_connector("read", config, catalog, env=FAST_TIMEOUTS, timeout=120)
    assert run.exit_code == 0, [e["message"] for e in run.errors]
    for stream in streams:
        assert primary_keys(run.records[stream], stream) == truth(sandbox, stream), stream
    assert request_counts(sandbox)["faults"].get("stall"), "the fault did strike"


# --------------------------------------------------------------------------- 5. endless paging


@pytest.mark.parametrize("ignore_offset", ["echo", "zero"])
def test_a_server_that_ignores_offset_stops_the_read_with_a_clear_error(
    ignore_offset: str, make_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = make_sandbox(ignore_offset=ignore_offset, projects=1, disabled_projects=0, stories=1200)
    config = api_token_config(sandbox)
    run = run_connector("read", config, _catalog(config, ["stories"]), timeout=60)
    assert run.exit_code != 0
    assert any("same page" in e["message"] or "does not advance" in e["message"] for e in run.errors)
    ids = [story["id"] for story in run.records["stories"]]
    assert len(ids) == len(set(ids)), "no story was emitted twice"


# --------------------------------------------------------------------------- 7. signals


@pytest.mark.parametrize(
    ("stop_signal", "workers"),
    [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGINT, 8)],
    ids=["SIGINT-1-worker", "SIGTERM-1-worker", "SIGINT-8-workers"],
)
def test_a_signal_ends_a_read_in_seconds_and_its_last_state_resumes_without_loss(
    stop_signal: signal.Signals, workers: int, make_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = make_sandbox(latency_ms=150, projects=6, disabled_projects=0)
    config = api_token_config(sandbox, num_workers=workers)
    catalog = _catalog(config, ["stories", "activity"])
    with connector_process("read", config, catalog) as process:
        assert process.stdout is not None
        before = []
        for line in process.stdout:
            before.append(line)
            if '"type":"STATE"' in line.replace(" ", ""):
                break
        process.send_signal(stop_signal)
        stopped = time.monotonic()
        # The rest is read through the same file object: communicate() would read the pipe
        # behind its back and lose what the line iteration had already buffered.
        overdue = threading.Event()
        watchdog = threading.Timer(10, lambda: (overdue.set(), process.kill()))
        watchdog.start()
        errors: list[str] = []
        drain = threading.Thread(
            target=lambda: errors.append(process.stderr.read() if process.stderr else "")
        )
        drain.start()  # stderr is read beside stdout, so that neither pipe can fill and block
        try:
            rest = process.stdout.read()
            took = time.monotonic() - stopped
            process.wait(timeout=10)
        finally:
            watchdog.cancel()
            drain.join(timeout=10)
        stderr = "".join(errors)
        if overdue.is_set():
            pytest.fail(f"the connector was still running 10 s after {stop_signal.name}")
    first = parse_output(process.returncode, "".join(before) + rest, stderr)
    assert took < 5, f"stopping took {took:.1f} s"
    assert "Traceback" not in first.stdout + first.stderr
    assert first.unparsed == [], "every message is written whole"
    assert first.exit_code != 0 and any(stop_signal.name in e["message"] for e in first.errors)
    assert first.states, "a STATE came before the signal"
    second = run_connector("read", config, catalog, first.last_state_by_stream())
    assert second.exit_code == 0, [e["message"] for e in second.errors]
    for stream in ("stories", "activity"):
        delivered = primary_keys(first.records[stream] + second.records[stream], stream)
        assert delivered == truth(sandbox, stream), stream


# --------------------------------------------------------------------------- 8. the project list


@pytest.mark.parametrize(
    ("answer", "reason"),
    [("object", "where a list was expected"), ("forbidden", "refused to list the projects")],
)
def test_an_unreadable_project_list_fails_check_and_read_saying_why(
    answer: str, reason: str, make_sandbox: Callable[..., Sandbox]
) -> None:
    catalog = _catalog(api_token_config(make_sandbox()), ["projects", "stories", "labels", "epics"])
    sandbox = make_sandbox(projects_answer=answer)
    config = api_token_config(sandbox)
    status = _status(run_connector("check", config))
    assert status["status"] == "FAILED" and reason in status["message"]
    before = request_counts(sandbox)["by_endpoint"].get("GET /projects", 0)
    run = run_connector("read", config, catalog)
    assert run.exit_code != 0 and any(reason in e["message"] for e in run.errors)
    assert request_counts(sandbox)["by_endpoint"]["GET /projects"] - before == 1


# --------------------------------------------------------------------------- 10. verified listings


def test_story_transitions_that_exist_throughout_a_changing_sync_are_all_delivered(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox(mutate_transitions=True, projects=2, disabled_projects=0, stories=700)
    run = sync(api_token_config(sandbox), ["story_transitions"])
    assert run.exit_code == 0, [e["message"] for e in run.errors]
    assert sandbox.store.mutations["deleted"], "the fault did delete a story while paging"
    delivered = [(t["story_id"], t["project_version"]) for t in run.records["story_transitions"]]
    assert truth(sandbox, "story_transitions") <= set(delivered)
    assert len(delivered) == len(set(delivered)), "re-reads emit no transition twice"


# --------------------------------------------------------------------------- 11. state per project


def test_a_sync_killed_after_five_of_six_projects_resumes_without_reading_them_again(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox(latency_ms=100, projects=6, disabled_projects=0, stories=300)
    config = api_token_config(sandbox, num_workers=1)
    catalog = _catalog(config, ["stories"])
    with connector_process("read", config, catalog) as process:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if sum('"type":"STATE"' in seen.replace(" ", "") for seen in lines) == 5:
                process.kill()
                break
    first = parse_output(-9, "".join(lines), "")
    assert len(first.states) == 5, "a STATE came after each of the first 5 projects"
    # The progress line a project's partition logs when it is done (components.TrackerRetriever).
    finished = {
        int(log["message"].split("project ")[1].split(":")[0])
        for log in first.logs
        if log["message"].startswith("Stream stories, project ")
    }
    assert len(finished) >= 5
    done = first.last_state_by_stream()
    second = run_connector("read", config, catalog, done)
    assert second.exit_code == 0
    again = [s for s in second.records["stories"] if s["project_id"] in finished]
    # Only the second the state ends on is read again (at-least-once, lookback PT1S).
    assert len(again) <= len(finished), f"{len(again)} stories of finished projects read again"
    delivered = primary_keys(first.records["stories"] + second.records["stories"], "stories")
    assert delivered == truth(sandbox, "stories")
