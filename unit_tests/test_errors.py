"""Tracker's error rules: which answers fail the sync, which skip a project, which are retried.

- 401, or 403 ``invalid_authentication``: the credentials are wrong; FAIL as a config error, at once.
- 403 ``unauthorized_operation`` on a project: a warning naming the project, the project is skipped
  and the sync goes on with the others.
- 429 (honouring Retry-After), 5xx, a dropped connection, a 200 whose JSON is cut off: retried with
  backoff (6 retries), then a TRACE error rather than a quietly shortened stream.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, FailureType
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pivotal_tracker.run import run
from unit_tests.conftest import (
    STREAM_CASES_BY_NAME,
    catalog_for,
    error_messages,
    log_lines,
    read_streams,
    records_of,
)
from unit_tests.tracker_fake import (
    OTHER_PROJECT_ID,
    PROJECT_ID,
    ConfigBuilder,
    TrackerFake,
    TrackerResponse,
    project_body,
    projects_body,
)

MAX_RETRIES = 6
STORIES = f"/projects/{PROJECT_ID}/stories"
LABELS = f"/projects/{PROJECT_ID}/labels"


def _statuses(output: EntrypointOutput, stream: str) -> list[str]:
    return [status.name for status in output.get_stream_statuses(stream)]


def _config_errors(output: EntrypointOutput) -> list[str]:
    return [
        message.trace.error.message
        for message in output.errors
        if message.trace.error.failure_type == FailureType.config_error
    ]


# --------------------------------------------------------------------------- rejected credentials


@pytest.mark.parametrize(
    "response",
    [
        TrackerResponse.error(401, "invalid_token"),
        TrackerResponse.text("Unauthorized", 401),
        TrackerResponse.error(403, "invalid_token"),
    ],
    ids=["401-tracker-body", "401-plain-body", "403-invalid_authentication"],
)
def test_read_rejected_credentials_fail_as_config_error_after_exactly_one_request(
    tracker: TrackerFake, sleeps: list[float], response: TrackerResponse
) -> None:
    tracker.on("/projects", response)

    output = read_streams(ConfigBuilder().build(), "projects", expect_failure=True)

    assert records_of(output, "projects") == []
    assert len(tracker.requests_to("/projects")) == 1, "rejected credentials must not be retried"
    assert sleeps == []
    messages = _config_errors(output)
    assert messages, error_messages(output)
    assert any("rejected the credentials" in message for message in messages)
    assert "COMPLETE" not in _statuses(output, "projects")


@pytest.mark.parametrize("status", [401, 403])
def test_read_invalid_authentication_on_a_project_endpoint_is_not_swallowed_as_a_skipped_project(
    tracker: TrackerFake, sleeps: list[float], status: int
) -> None:
    # /projects/{id}/... is where the unauthorized_operation rule skips a project: a rejected
    # token there must still fail the sync, not end it "successfully" without the project.
    tracker.on(LABELS, TrackerResponse.error(status, "invalid_token"))

    output = read_streams(ConfigBuilder().build(), "labels", expect_failure=True)

    assert len(tracker.requests_to(LABELS)) == 1
    assert any("rejected the credentials" in message for message in _config_errors(output))
    assert not any("Skipping project" in line for line in log_lines(output))
    assert "COMPLETE" not in _statuses(output, "labels")


# --------------------------------------------------------------------------- a project without access


@pytest.mark.parametrize("stream", ["labels", "comments"])
def test_read_unauthorized_project_is_skipped_with_a_warning_naming_it(
    tracker: TrackerFake, sleeps: list[float], stream: str
) -> None:
    case = STREAM_CASES_BY_NAME[stream]
    tracker.on("/projects", TrackerResponse.ok(projects_body(PROJECT_ID, OTHER_PROJECT_ID)))
    other_path = case.path.replace(str(PROJECT_ID), str(OTHER_PROJECT_ID))
    tracker.on(other_path, TrackerResponse.error(403, "unauthorized_operation"), query=case.match)
    body = case.body()
    case.serve(tracker, TrackerResponse.ok(body).paged() if case.paged else TrackerResponse.ok(body))

    output = read_streams(ConfigBuilder().build(), stream)

    assert error_messages(output) == []
    assert len(records_of(output, stream)) == len(case.records_of(body))
    warnings = [message.log.message for message in output.logs if message.log.level.name == "WARN"]
    assert any(f"project {OTHER_PROJECT_ID}" in line for line in warnings), warnings
    assert not any(f"project {PROJECT_ID}" in line for line in warnings)
    assert len(tracker.requests_to(other_path, **case.match)) == 1, "a refused project is not retried"
    assert _statuses(output, stream)[-1] == "COMPLETE"


def test_read_disabled_project_does_not_stop_the_projects_after_it(tracker: TrackerFake) -> None:
    third = 1027500
    tracker.on(
        "/projects",
        TrackerResponse.ok([project_body(PROJECT_ID), project_body(third), project_body(OTHER_PROJECT_ID)]),
    )
    labels = STREAM_CASES_BY_NAME["labels"].body()
    tracker.on(LABELS, TrackerResponse.ok(labels))
    tracker.on(f"/projects/{third}/labels", TrackerResponse.error(403, "unauthorized_operation"))
    tracker.on(f"/projects/{OTHER_PROJECT_ID}/labels", TrackerResponse.ok(labels[:3]))

    output = read_streams(ConfigBuilder().with_num_workers(2).build(), "labels", "projects")

    assert error_messages(output) == []
    assert len(records_of(output, "labels")) == len(labels) + 3
    assert {record["id"] for record in records_of(output, "projects")} == {
        PROJECT_ID,
        third,
        OTHER_PROJECT_ID,
    }
    assert any(f"project {third}" in line for line in log_lines(output))


def test_read_forbidden_answer_without_tracker_code_is_not_taken_for_a_disabled_project(
    tracker: TrackerFake, sleeps: list[float]
) -> None:
    # Only unauthorized_operation means "this project is off limits"; a bare 403 stays an error.
    tracker.on(LABELS, TrackerResponse.ok({"kind": "error", "error": "Forbidden"}).with_status(403))

    output = read_streams(ConfigBuilder().build(), "labels", expect_failure=True)

    assert output.errors
    assert len(tracker.requests_to(LABELS)) == 1
    assert not any("Skipping project" in line for line in log_lines(output))
    assert "COMPLETE" not in _statuses(output, "labels")


# --------------------------------------------------------------------------- transient failures


def test_read_429_honours_retry_after_then_succeeds(tracker: TrackerFake, sleeps: list[float]) -> None:
    labels = STREAM_CASES_BY_NAME["labels"].body()
    tracker.on(
        LABELS,
        TrackerResponse.text("Too Many Requests", 429).with_header("Retry-After", "7"),
        TrackerResponse.ok(labels),
    )

    output = read_streams(ConfigBuilder().build(), "labels")

    assert error_messages(output) == []
    assert len(tracker.requests_to(LABELS)) == 2
    assert len(records_of(output, "labels")) == len(labels)
    # The CDK waits Retry-After plus at most a second of margin, not its own exponential backoff.
    assert len(sleeps) == 1 and 7 <= sleeps[0] <= 8, sleeps


@pytest.mark.parametrize("statuses", [[500], [502, 503, 504]], ids=["500", "502-503-504"])
def test_read_5xx_is_retried_with_backoff_then_succeeds(
    tracker: TrackerFake, sleeps: list[float], statuses: list[int]
) -> None:
    labels = STREAM_CASES_BY_NAME["labels"].body()
    failures = [TrackerResponse.error(status, "api_internal_error") for status in statuses]
    tracker.on(LABELS, *failures, TrackerResponse.ok(labels))

    output = read_streams(ConfigBuilder().build(), "labels")

    assert error_messages(output) == []
    assert len(tracker.requests_to(LABELS)) == len(statuses) + 1
    assert len(records_of(output, "labels")) == len(labels)
    assert len(sleeps) == len(statuses)
    assert all(0 < wait < later for wait, later in zip(sleeps, sleeps[1:], strict=False)), (
        f"waits must grow: {sleeps}"
    )
    assert all(wait > 0 for wait in sleeps)


def test_read_dropped_connection_is_retried_then_succeeds(tracker: TrackerFake, sleeps: list[float]) -> None:
    labels = STREAM_CASES_BY_NAME["labels"].body()
    tracker.on(LABELS, TrackerResponse.dropped(), TrackerResponse.ok(labels))

    output = read_streams(ConfigBuilder().build(), "labels")

    assert error_messages(output) == []
    assert len(tracker.requests_to(LABELS)) == 2
    assert len(records_of(output, "labels")) == len(labels)


def test_read_5xx_mid_pagination_retries_the_same_page(tracker: TrackerFake, sleeps: list[float]) -> None:
    stories = STREAM_CASES_BY_NAME["stories"].body()
    paged = TrackerResponse.ok(stories).paged(max_limit=25)
    tracker.on(STORIES, paged, TrackerResponse.error(503, "server_under_load"), paged)

    output = read_streams(ConfigBuilder().build(), "stories")

    assert error_messages(output) == []
    offsets = [request.query.get("offset") for request in tracker.requests_to(STORIES)]
    assert offsets == [None, "25", "25", "50"]
    assert [record["id"] for record in records_of(output, "stories")] == [story["id"] for story in stories]


@pytest.mark.parametrize(
    ("path", "stream", "failure", "cause"),
    [
        (LABELS, "labels", TrackerResponse.error(500, "api_internal_error"), "HTTP Status Code: 500"),
        (
            LABELS,
            "labels",
            TrackerResponse.text("Too Many Requests", 429).with_header("Retry-After", "1"),
            "HTTP Status Code: 429",
        ),
        (LABELS, "labels", TrackerResponse.dropped(), "the server closed the connection"),
        ("/projects", "projects", TrackerResponse.error(503, "server_under_load"), "HTTP Status Code: 503"),
    ],
    ids=["500", "429", "dropped", "projects-503"],
)
def test_read_retries_exhausted_gives_a_trace_error_after_six_retries(
    tracker: TrackerFake, sleeps: list[float], path: str, stream: str, failure: TrackerResponse, cause: str
) -> None:
    tracker.on(path, failure)

    output = read_streams(ConfigBuilder().build(), stream, expect_failure=True)

    # One request and six retries, with a wait before each retry: no more (the backoff of a real
    # outage is about two minutes; a second round would double it).
    assert len(tracker.requests_to(path)) == 1 + MAX_RETRIES
    assert len(sleeps) == MAX_RETRIES
    assert records_of(output, stream) == []
    assert output.errors, "exhausted retries must surface as a TRACE error, not as an empty stream"
    assert "COMPLETE" not in _statuses(output, stream)
    # A stream that started ends INCOMPLETE; when the project list itself cannot be read, the
    # sync ends before any stream starts (no stream can be read without it).
    assert _statuses(output, stream)[-1:] in ([], ["INCOMPLETE"])
    # The last error names what kept failing, so whoever reads it knows what to look at.
    assert cause in output.errors[-1].trace.error.message


# --------------------------------------------------------------------------- cut-off answers


def test_read_truncated_json_page_is_retried_not_taken_as_the_last_page(
    tracker: TrackerFake, sleeps: list[float]
) -> None:
    stories = STREAM_CASES_BY_NAME["stories"].body()
    paged = TrackerResponse.ok(stories).paged(max_limit=25)
    cut = TrackerResponse.ok(stories).paged(max_limit=25).truncated()
    tracker.on(STORIES, paged, cut, paged)

    output = read_streams(ConfigBuilder().build(), "stories")

    assert error_messages(output) == []
    offsets = [request.query.get("offset") for request in tracker.requests_to(STORIES)]
    assert offsets == [None, "25", "25", "50"]
    assert [record["id"] for record in records_of(output, "stories")] == [story["id"] for story in stories]


@pytest.mark.parametrize("stream", ["labels", "comments"])
def test_read_truncated_json_forever_fails_loudly_instead_of_ending_the_stream(
    tracker: TrackerFake, sleeps: list[float], stream: str
) -> None:
    case = STREAM_CASES_BY_NAME[stream]
    cut = TrackerResponse.ok(case.body())
    case.serve(tracker, (cut.paged() if case.paged else cut).truncated())

    output = read_streams(ConfigBuilder().build(), stream, expect_failure=True)

    assert len(case.requests(tracker)) == 1 + MAX_RETRIES
    assert records_of(output, stream) == []
    assert output.errors, "a stream cut short must not end quietly"
    first = output.errors[0].trace.error
    assert "incomplete JSON" in first.message
    assert first.failure_type == FailureType.transient_error
    assert _statuses(output, stream)[-1] == "INCOMPLETE"


def test_console_entry_with_retries_exhausted_ends_in_error_not_exit_0(
    tracker: TrackerFake,
    sleeps: list[float],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # The console script's own run(), in-process so the backoff can be made instant: it must end
    # with an exception (the CDK's excepthook turns it into a TRACE and exit code 1), never return
    # normally (exit 0) after a stream that lost its data.
    tracker.on(LABELS, TrackerResponse.error(500, "api_internal_error"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(ConfigBuilder().build()))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(catalog_for("labels"))))
    monkeypatch.setattr(
        sys, "argv", ["source-pivotal-tracker", "read", "--config", str(config), "--catalog", str(catalog)]
    )
    previous_hook = sys.excepthook
    monkeypatch.setattr(sys, "excepthook", previous_hook)  # run() installs the CDK's hook; restore it after

    with pytest.raises(AirbyteTracedException) as raised:
        run()

    assert "labels" in raised.value.message
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    messages = [json.loads(line) for line in lines]  # every line is an Airbyte message
    errors = [m["trace"]["error"] for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    assert errors, "the failed stream is reported as a TRACE error"
    assert not [m for m in messages if m["type"] == "RECORD"]
    assert len(tracker.requests_to(LABELS)) == 1 + MAX_RETRIES
