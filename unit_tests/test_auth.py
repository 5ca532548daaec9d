"""Signing in: an API token on every request, or a username/password exchanged once for the token.

Tracker accepts HTTP Basic only on GET /me, whose answer carries the user's API token; every
other request must then send that token as X-TrackerToken. The fake here checks credentials the
way Tracker does, so a request with the wrong ones is answered 403 invalid_authentication.
"""

from __future__ import annotations

import pytest
from airbyte_cdk.models import FailureType

from unit_tests.conftest import (
    STREAM_CASES_BY_NAME,
    error_messages,
    me_body,
    read_streams,
    records_of,
)
from unit_tests.tracker_fake import (
    API_TOKEN,
    ME_API_TOKEN,
    PASSWORD,
    PROJECT_ID,
    USERNAME,
    ConfigBuilder,
    TrackerFake,
    TrackerResponse,
    basic_auth,
)

STREAMS = ("projects", "epics", "labels", "stories")


def _serve_project(tracker: TrackerFake) -> None:
    tracker.on("/me", TrackerResponse.ok(me_body()))
    for stream in STREAMS[1:]:
        case = STREAM_CASES_BY_NAME[stream]
        body = case.body()
        case.serve(
            tracker, TrackerResponse.ok(body).paged(max_limit=25) if case.paged else TrackerResponse.ok(body)
        )


def test_username_password_calls_me_exactly_once_with_basic_auth(tracker: TrackerFake) -> None:
    tracker.requiring({ME_API_TOKEN}, USERNAME, PASSWORD)
    _serve_project(tracker)

    output = read_streams(ConfigBuilder().with_username_password().build(), *STREAMS)

    assert error_messages(output) == []
    (me,) = tracker.requests_to("/me")
    assert me.header("Authorization") == f"Basic {basic_auth(USERNAME, PASSWORD)}"
    assert me.header("X-TrackerToken") is None


def test_username_password_sends_the_token_from_me_on_every_other_request(tracker: TrackerFake) -> None:
    tracker.requiring({ME_API_TOKEN}, USERNAME, PASSWORD)
    _serve_project(tracker)

    output = read_streams(ConfigBuilder().with_username_password().build(), *STREAMS)

    assert error_messages(output) == []
    others = [request for request in tracker.history if request.path != "/me"]
    assert {request.path for request in others} >= {"/projects", f"/projects/{PROJECT_ID}/epics"}
    assert {request.header("X-TrackerToken") for request in others} == {ME_API_TOKEN}
    assert all(request.header("Authorization") is None for request in others), "the password stays on /me"
    for stream in STREAMS:
        assert records_of(output, stream), stream


@pytest.mark.parametrize("status", [401, 403])
def test_username_password_rejected_on_me_is_a_config_error_saying_the_credentials_were_rejected(
    tracker: TrackerFake, sleeps: list[float], status: int
) -> None:
    tracker.requiring({ME_API_TOKEN}, USERNAME, PASSWORD)
    tracker.on("/me", TrackerResponse.error(status, "invalid_password"))

    output = read_streams(
        ConfigBuilder().with_username_password(password="wrong-password").build(),
        "projects",
        expect_failure=True,
    )

    assert records_of(output, "projects") == []
    config_errors = [
        message.trace.error.message
        for message in output.errors
        if message.trace.error.failure_type == FailureType.config_error
    ]
    assert any("rejected the credentials" in message for message in config_errors), error_messages(output)
    # A wrong password is not tried again (Tracker may lock the account), and no request goes out
    # without a token.
    assert len(tracker.requests_to("/me")) == 1
    assert tracker.requests_to("/projects") == []


def test_api_token_never_calls_me(tracker: TrackerFake) -> None:
    tracker.requiring({API_TOKEN})
    _serve_project(tracker)

    output = read_streams(ConfigBuilder().with_api_token(API_TOKEN).build(), *STREAMS)

    assert error_messages(output) == []
    assert tracker.requests_to("/me") == []
    assert {request.header("X-TrackerToken") for request in tracker.history} == {API_TOKEN}


def test_wrong_api_token_is_a_config_error_after_one_request(
    tracker: TrackerFake, sleeps: list[float]
) -> None:
    tracker.requiring({API_TOKEN})

    output = read_streams(ConfigBuilder().with_api_token("f" * 32).build(), "projects", expect_failure=True)

    assert any(
        "rejected the credentials" in message.trace.error.message
        and message.trace.error.failure_type == FailureType.config_error
        for message in output.errors
    )
    assert len(tracker.history) == 1


def test_username_password_sign_in_retries_a_server_error_on_me_then_uses_the_token(
    tracker: TrackerFake, sleeps: list[float]
) -> None:
    tracker.requiring({ME_API_TOKEN}, USERNAME, PASSWORD)
    _serve_project(tracker)
    tracker.on("/me", TrackerResponse.error(503, "server_under_load"), TrackerResponse.ok(me_body()))

    output = read_streams(ConfigBuilder().with_username_password().build(), "epics")

    assert error_messages(output) == []
    assert len(tracker.requests_to("/me")) == 2
    assert sleeps == [2]
    assert records_of(output, "epics")
    others = [request for request in tracker.history if request.path != "/me"]
    assert {request.header("X-TrackerToken") for request in others} == {ME_API_TOKEN}
