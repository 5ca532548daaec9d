"""A sync under the sandbox's faults still delivers every record; both logins; rejected ones."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from integration_tests.conftest import (
    api_token_config,
    login_config,
    primary_keys,
    request_counts,
    sync,
    truth,
)
from integration_tests.harness import configured_catalog, run_connector
from integration_tests.sandbox import Sandbox

# Streams that cover every request shape: paged stories (verified), paged activity, iterations
# (clamped pages), unpaged project children, root resources.
FAULT_STREAMS = ["projects", "stories", "comments", "activity", "iterations", "labels", "notifications"]


@pytest.mark.parametrize(
    "fault",
    [
        {"error_every": 9},
        {"rate_limit_every": 9},
        {"drop_every": 9},
        {"truncate_every": 9},
        {"latency_ms": 30},
    ],
    ids=lambda fault: next(iter(fault)),
)
def test_sync_under_a_fault_still_delivers_every_record(
    fault: dict[str, Any], make_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = make_sandbox(**fault)
    run = sync(api_token_config(sandbox), FAULT_STREAMS)
    assert run.exit_code == 0, [e["message"] for e in run.errors]
    for stream in FAULT_STREAMS:
        assert primary_keys(run.records[stream], stream) == truth(sandbox, stream), stream
    if "latency_ms" not in fault:
        assert sum(request_counts(sandbox)["faults"].values()) > 0, "the fault did strike"


def test_stories_that_exist_throughout_a_changing_sync_are_all_delivered(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox(mutate_stories=True, stories=1200, projects=3, disabled_projects=0)
    before = truth(sandbox, "stories")
    run = sync(api_token_config(sandbox), ["stories"])
    mutations = sandbox.store.mutations
    assert mutations["deleted"] and mutations["moved"] and mutations["created"], "the fault did mutate"
    existed_throughout = before - set(mutations["deleted"])
    delivered = {s["id"] for s in run.records["stories"]}
    assert existed_throughout <= delivered
    assert len(run.records["stories"]) == len(delivered), "re-reads emit no story twice"
    rereads = [log["message"] for log in run.logs if "reading them again" in log["message"]]
    assert rereads, "the changes were detected and the listing read again"


def test_username_and_password_log_in_once_then_use_the_token(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    config = login_config(sandbox)
    assert (
        run_connector("check", config).only("CONNECTION_STATUS")["connectionStatus"]["status"] == "SUCCEEDED"
    )
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    before = request_counts(sandbox)["by_endpoint"]
    run = run_connector("read", config, configured_catalog(discovered, ["projects", "stories", "labels"]))
    after = request_counts(sandbox)["by_endpoint"]
    assert run.exit_code == 0
    assert primary_keys(run.records["stories"], "stories") == truth(sandbox, "stories")
    assert after["GET /me"] - before.get("GET /me", 0) == 1, "one sign-in for the whole sync"
    assert after["GET /projects"] - before.get("GET /projects", 0) == 1


@pytest.mark.parametrize("auth_status", [401, 403])
def test_rejected_token_fails_check_and_read_as_a_config_error(
    auth_status: int, make_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = make_sandbox(auth_status=auth_status)
    config = api_token_config(sandbox)
    config["credentials"]["api_token"] = "f" * 32
    status = run_connector("check", config).only("CONNECTION_STATUS")["connectionStatus"]
    assert status["status"] == "FAILED"
    assert "rejected the credentials" in status["message"]
    discovered = run_connector("discover", api_token_config(sandbox)).only("CATALOG")["catalog"]
    run = run_connector("read", config, configured_catalog(discovered, ["stories"]))
    assert run.exit_code != 0
    assert any(e.get("failure_type") == "config_error" and "rejected" in e["message"] for e in run.errors)
    assert "f" * 32 not in run.stdout + run.stderr


def test_rejected_password_fails_check_with_a_clear_message(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    config = login_config(sandbox, password="wrong-pass")
    run = run_connector("check", config)
    status = run.only("CONNECTION_STATUS")["connectionStatus"]
    assert status["status"] == "FAILED" and "rejected the credentials" in status["message"]
    assert "wrong-pass" not in run.stdout + run.stderr


def test_debug_output_never_shows_a_secret(make_sandbox: Callable[..., Sandbox]) -> None:
    import base64

    sandbox = make_sandbox()
    config = login_config(sandbox)
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    run = run_connector(
        "read", config, configured_catalog(discovered, ["projects", "labels"]), extra_args=["--debug"]
    )
    assert run.exit_code == 0
    output = run.stdout + run.stderr
    assert "Making outbound API request" in output, "debug logging was on"
    basic = base64.b64encode(f"{sandbox.username}:{sandbox.password}".encode()).decode()
    for secret in (sandbox.password, sandbox.api_token, basic):
        assert secret not in output
