"""The whole-response deadline and the check deadline: their defaults, and the CDK's path through them.

The end-to-end cases (a check against each misbehaving server, a read where one project trickles,
the resumed sync) are in integration_tests/test_deadlines_e2e.py.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.models import ExpectedOutcome

from integration_tests.sandbox import Sandbox, SandboxOptions
from source_pivotal_tracker.api.check_deadline import CheckDeadline, human_duration
from source_pivotal_tracker.api.response_deadline import AnswerTooSlow, watch_deadlines
from source_pivotal_tracker.runtime.limits import (
    CHECK_DEADLINE_ENV,
    MAX_WAIT_ENV,
    RESPONSE_DEADLINE_ENV,
    check_deadline_seconds,
    response_deadline_seconds,
)
from source_pivotal_tracker.source import SourcePivotalTracker
from unit_tests.conftest import catalog_for

LOGGER = logging.getLogger("airbyte")


@pytest.fixture
def trickling() -> Iterator[Sandbox]:
    """A sandbox that sends every answer's headers at once, then 40 bytes a second."""
    with Sandbox(SandboxOptions(projects=1, disabled_projects=0, trickle_rate=40)) as sandbox:
        yield sandbox


def test_the_defaults_are_300_s_for_an_answer_and_60_s_for_a_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RESPONSE_DEADLINE_ENV, raising=False)
    monkeypatch.delenv(CHECK_DEADLINE_ENV, raising=False)
    assert response_deadline_seconds() == 300
    assert check_deadline_seconds() == 60
    # Within a check, one request may take half of it, so that a second one still has time.
    assert CheckDeadline(check_deadline_seconds()).request_seconds(120) == 30
    monkeypatch.setenv(RESPONSE_DEADLINE_ENV, "12.5")
    monkeypatch.setenv(CHECK_DEADLINE_ENV, "nonsense")
    assert response_deadline_seconds() == 12.5
    assert check_deadline_seconds() == 60


def test_waits_are_said_as_a_person_reads_them() -> None:
    assert [human_duration(s) for s in (999999, 2700, 30, 0.5)] == ["277 h", "45 min", "30 s", "0.5 s"]


def test_a_trickled_answer_fails_at_the_deadline_naming_the_server_path_and_bytes(
    trickling: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RESPONSE_DEADLINE_ENV, "0.5")
    session = watch_deadlines(requests.Session())
    started = time.monotonic()
    with pytest.raises(AnswerTooSlow) as raised:
        session.get(f"{trickling.url}/projects", headers={"X-TrackerToken": trickling.api_token}, timeout=30)
    took = time.monotonic() - started

    assert took < 5, f"the deadline of 0.5 s took {took:.1f} s"
    message = str(raised.value)
    assert re.fullmatch(
        rf"Pivotal Tracker at {re.escape(trickling.base_url)} sent \d+ bytes of /services/v5/projects "
        r"in 0\.5 s, not the whole answer \(an answer is due whole within 0\.5 s of its request\)",
        message,
    ), message
    assert trickling.api_token not in message
    assert isinstance(raised.value, requests.Timeout), "retried as every timeout is"


def test_an_answer_that_arrives_in_time_is_whole_and_leaves_no_deadline_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(RESPONSE_DEADLINE_ENV, "0.5")
    with Sandbox(SandboxOptions(projects=2, disabled_projects=0)) as sandbox:
        session = watch_deadlines(requests.Session())
        headers = {"X-TrackerToken": sandbox.api_token}
        for _ in range(3):
            projects = session.get(f"{sandbox.url}/projects", headers=headers, timeout=30).json()
            assert [p["id"] for p in projects] == sandbox.store.truth("projects")
        streamed = session.get(f"{sandbox.url}/projects", headers=headers, timeout=30, stream=True)
        assert json.loads(streamed.raw.read()) == projects, "read() without a size reads the whole body"
        time.sleep(0.7)  # past the deadline of every request made: a late watchdog must not strike
        assert session.get(f"{sandbox.url}/projects", headers=headers, timeout=30).status_code == 200
    watchdogs = [t for t in threading.enumerate() if t.name == "response-deadline"]
    assert len(watchdogs) <= 1 and all(t.daemon for t in watchdogs)


def test_every_request_the_cdk_makes_is_under_the_deadline(
    trickling: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The adapter is mounted on the session the CDK keeps inside each requester (a private
    # attribute, http_safety.guard_requesters): if a CDK upgrade moves it, this read fails.
    monkeypatch.setenv(RESPONSE_DEADLINE_ENV, "0.5")
    monkeypatch.setenv(MAX_WAIT_ENV, "0.01")
    config = {
        "credentials": {"auth_type": "api_token", "api_token": trickling.api_token},
        "api_url": trickling.url,
    }
    catalog = catalog_for("projects")

    started = time.monotonic()
    source = SourcePivotalTracker(catalog, config)
    output = read(source, config, catalog, expected_outcome=ExpectedOutcome.EXPECT_EXCEPTION)

    assert time.monotonic() - started < 30
    messages = " ".join(m.trace.error.message for m in output.errors if m.trace.error)  # type: ignore[union-attr]
    assert re.search(r"sent \d+ bytes of /services/v5/projects in 0\.5 s", messages), messages
    assert trickling.stats["by_endpoint"]["GET /projects"] == 7, "abandoned, then retried 6 times"
    assert output.records == []
