"""The installed command: spec, config validation, start-up failures, secrets in the output.

Every case runs ``source-pivotal-tracker`` in a subprocess, as the platform does, against the
sandbox. The runs are independent, so they are started together and each test checks the output
of its own.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from integration_tests.conftest import api_token_config, login_config
from integration_tests.harness import CONNECTOR, ConnectorRun, configured_catalog, parse_output, run_connector
from integration_tests.sandbox import Sandbox, SandboxOptions

READ_STREAMS = ("projects", "epics", "labels", "stories")
WRONG_PASSWORD = "Wr0ng-pa55word"
TOKEN = "0123456789abcdef0123456789abcdef"
USERNAME = "someone"


def _config(**fields: Any) -> dict[str, Any]:
    return {"credentials": {"auth_type": "api_token", "api_token": TOKEN}, **fields}


# name -> (config, the field its error must name, the commands run with it). Every command meets
# several invalid configs; every invalid config is run once or twice, to keep the suite fast.
INVALID_CONFIGS: dict[str, tuple[dict[str, Any], str, tuple[str, ...]]] = {
    "days_back_zero": (_config(days_back=0), "days_back", ("check", "read")),
    "days_back_wrong_type": (_config(days_back="ten"), "days_back", ("discover",)),
    "credentials_missing": ({"days_back": 3}, "credentials", ("read",)),
    "api_url_http_remote": (
        _config(api_url="http://tracker.example.com/services/v5"),
        "api_url",
        ("check", "discover"),
    ),
    "api_token_missing": (
        {"credentials": {"auth_type": "api_token"}},
        "credentials.api_token",
        ("discover",),
    ),
    "password_missing": (
        {"credentials": {"auth_type": "username_password", "username": USERNAME}},
        "credentials.password",
        ("check",),
    ),
    "num_workers_zero": (_config(num_workers=0), "num_workers", ("check",)),
}
INVALID_RUNS = [(command, name) for name, (_, _, commands) in INVALID_CONFIGS.items() for command in commands]


@dataclass
class Runs:
    results: dict[str, ConnectorRun]
    sandboxes: dict[str, Sandbox]

    def __getitem__(self, name: str) -> ConnectorRun:
        return self.results[name]


def _small_sandbox() -> Sandbox:
    return Sandbox(SandboxOptions(projects=2, stories=30, disabled_projects=0)).start()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    work = tmp_path_factory.mktemp("cli")
    sandboxes = {name: _small_sandbox() for name in ("api_token", "password", "check")}
    try:
        # https is accepted anywhere (discover sends no request); its catalog serves the reads.
        remote = _config(api_url="https://tracker.example.com/services/v5")
        discovered = run_connector("discover", remote)
        catalog = configured_catalog(discovered.only("CATALOG")["catalog"], READ_STREAMS)
        jobs: dict[str, Callable[[], ConnectorRun]] = {"spec": lambda: run_connector("spec")}
        for command, name in INVALID_RUNS:
            config = INVALID_CONFIGS[name][0]
            jobs[f"{command}:{name}"] = _job(command, config, catalog if command == "read" else None)
        jobs["check:http_loopback"] = _job("check", api_token_config(sandboxes["check"]))
        # Start-up failures: files the connector cannot read as a config.
        missing = str(work / "does-not-exist.json")
        jobs["check:missing_config_file"] = lambda: _raw_run(work, "check", "--config", missing)
        not_json = work / "not-json.json"
        not_json.write_text("{'credentials': ")
        catalog_file = work / "catalog.json"
        catalog_file.write_text(json.dumps(catalog))
        jobs["read:config_not_json"] = lambda: _raw_run(
            work, "read", "--config", str(not_json), "--catalog", str(catalog_file)
        )
        # Secrets with --debug.
        debug = ["--debug"]
        jobs["debug:read_api_token"] = _job("read", api_token_config(sandboxes["api_token"]), catalog, debug)
        jobs["debug:read_password"] = _job("read", login_config(sandboxes["password"]), catalog, debug)
        wrong = login_config(sandboxes["check"], password=WRONG_PASSWORD)
        jobs["debug:check_wrong_password"] = _job("check", wrong, None, debug)
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            futures = {name: pool.submit(job) for name, job in jobs.items()}
            results = {name: future.result() for name, future in futures.items()}
        results["discover:https_remote"] = discovered
        yield Runs(results, sandboxes)
    finally:
        for sandbox in sandboxes.values():
            sandbox.stop()


def _job(
    command: str,
    config: dict[str, Any],
    catalog: dict[str, Any] | None = None,
    extra: list[str] | None = None,
) -> Callable[[], ConnectorRun]:
    config, catalog = copy.deepcopy(config), copy.deepcopy(catalog)
    return lambda: run_connector(command, config, catalog, extra_args=extra or [], timeout=240)


def _raw_run(work: Path, *args: str) -> ConnectorRun:
    """A command whose --config is a path of the test's own (run_connector writes valid JSON)."""
    done = subprocess.run([CONNECTOR, *args], capture_output=True, text=True, timeout=240, cwd=work)
    return parse_output(done.returncode, done.stdout, done.stderr)


def _assert_no_bare_traceback(run: ConnectorRun) -> None:
    assert run.unparsed == [], f"stdout lines that are not Airbyte messages: {run.unparsed[:3]}"
    assert "Traceback (most recent call last)" not in run.stderr, run.stderr[-2000:]


def _connection_status(run: ConnectorRun) -> dict[str, Any]:
    status: dict[str, Any] = run.only("CONNECTION_STATUS")["connectionStatus"]
    return status


def _output(run: ConnectorRun) -> str:
    return run.stdout + run.stderr


# --------------------------------------------------------------------------- spec


def test_spec_prints_the_spec_with_title_description_and_order_on_every_field(runs: Runs) -> None:
    run = runs["spec"]

    assert run.exit_code == 0, _output(run)[-2000:]
    _assert_no_bare_traceback(run)
    connection = run.only("SPEC")["spec"]["connectionSpecification"]
    assert set(connection["properties"]) >= {
        "credentials",
        "days_back",
        "project_ids",
        "stories_cursor",
        "num_workers",
        "api_url",
        "export_files",
    }
    # credentials (the API) or export_files (exports): config_checks requires exactly one.
    assert "required" not in connection
    fields = list(connection["properties"].items())
    for option in connection["properties"]["credentials"]["oneOf"]:
        fields += [(f"credentials.{key}", value) for key, value in option["properties"].items()]
    for key, prop in fields:
        for attribute in ("title", "description", "order"):
            assert prop.get(attribute) not in (None, ""), f"{key} has no {attribute}"
    orders = [prop["order"] for prop in connection["properties"].values()]
    assert len(orders) == len(set(orders)), "top-level fields share an order"


def test_spec_marks_the_token_and_password_secret(runs: Runs) -> None:
    spec = runs["spec"].only("SPEC")
    options = spec["spec"]["connectionSpecification"]["properties"]["credentials"]["oneOf"]
    secret = {
        key for option in options for key, prop in option["properties"].items() if prop.get("airbyte_secret")
    }
    assert secret == {"api_token", "password"}


# --------------------------------------------------------------------------- invalid configs


@pytest.mark.parametrize(("command", "name"), INVALID_RUNS, ids=[f"{c}-{n}" for c, n in INVALID_RUNS])
def test_invalid_config_is_a_config_error_naming_the_field(runs: Runs, command: str, name: str) -> None:
    field_name = INVALID_CONFIGS[name][1]
    run = runs[f"{command}:{name}"]

    _assert_no_bare_traceback(run)
    assert [m for m in run.other if m["type"] == "CATALOG"] == [] and not run.records
    if command == "check":
        # check answers with a CONNECTION_STATUS, as the platform expects.
        status = _connection_status(run)
        assert status["status"] == "FAILED"
        message = status["message"]
    else:
        assert run.exit_code != 0
        assert run.errors, _output(run)[-1500:]
        assert run.errors[0]["failure_type"] == "config_error"
        message = run.errors[0]["message"]
    assert f"'{field_name}'" in message


def test_days_back_zero_message_says_what_is_allowed(runs: Runs) -> None:
    (error,) = runs["read:days_back_zero"].errors
    assert "The config field 'days_back' must be at least 1." in error["message"]


def test_https_api_url_is_accepted(runs: Runs) -> None:
    run = runs["discover:https_remote"]

    _assert_no_bare_traceback(run)
    assert run.exit_code == 0, _output(run)[-1500:]
    assert run.errors == []
    assert len(run.only("CATALOG")["catalog"]["streams"]) == 14


def test_check_against_a_loopback_http_server_succeeds(runs: Runs) -> None:
    run = runs["check:http_loopback"]

    _assert_no_bare_traceback(run)
    assert _connection_status(run)["status"] == "SUCCEEDED", _output(run)[-1500:]


# --------------------------------------------------------------------------- start-up failures


@pytest.mark.parametrize("name", ["check:missing_config_file", "read:config_not_json"])
def test_unreadable_input_file_gives_a_trace_error_not_a_bare_traceback(runs: Runs, name: str) -> None:
    run = runs[name]

    _assert_no_bare_traceback(run)
    assert run.exit_code != 0
    assert run.errors, _output(run)[-1500:]
    assert run.errors[0]["failure_type"] == "config_error"


# --------------------------------------------------------------------------- secrets


def _basic(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def _secrets(sandbox: Sandbox) -> dict[str, str]:
    return {
        "api token": sandbox.api_token,
        "password": sandbox.password,
        "wrong password": WRONG_PASSWORD,
        "basic auth (user:password)": _basic(sandbox.username, sandbox.password),
        "basic auth (user:wrong password)": _basic(sandbox.username, WRONG_PASSWORD),
    }


@pytest.mark.parametrize(
    "name", ["debug:read_api_token", "debug:read_password", "debug:check_wrong_password"]
)
def test_debug_output_never_prints_a_secret(runs: Runs, name: str) -> None:
    run = runs[name]
    sandbox = runs.sandboxes["check" if name == "debug:check_wrong_password" else name.split("_", 1)[1]]

    _assert_no_bare_traceback(run)
    # The secrets really crossed the wire, and --debug logged the traffic of the syncs.
    assert sandbox.stats["total"] > 0
    if name.startswith("debug:read"):
        logged = [
            m
            for m in run.other
            if m.get("type") == "DEBUG" and m.get("message") == "Making outbound API request"
        ]
        assert logged, "--debug must log the requests"
    for what, secret in _secrets(sandbox).items():
        assert secret not in _output(run), f"the {what} is printed by {name}"


def test_debug_read_with_a_token_syncs_every_stream(runs: Runs) -> None:
    run = runs["debug:read_api_token"]
    stats = runs.sandboxes["api_token"].stats

    assert run.exit_code == 0, _output(run)[-1500:]
    assert set(run.records) == set(READ_STREAMS)
    # The sandbox answers a wrong token 403: every request carried the configured one.
    assert set(stats["by_status"]) == {"200"}
    assert "GET /me" not in stats["by_endpoint"]


def test_debug_read_with_a_password_syncs_every_stream_with_the_token_from_me(runs: Runs) -> None:
    run = runs["debug:read_password"]
    stats = runs.sandboxes["password"].stats

    assert run.exit_code == 0, _output(run)[-1500:]
    assert set(run.records) == set(READ_STREAMS)
    # The sandbox takes Basic auth on /me only and a token everywhere else: one sign-in, then the
    # token /me handed out on every other request.
    assert stats["by_endpoint"]["GET /me"] == 1
    assert set(stats["by_status"]) == {"200"}


def test_check_with_a_wrong_password_fails_saying_the_credentials_were_rejected(runs: Runs) -> None:
    status = _connection_status(runs["debug:check_wrong_password"])

    assert status["status"] == "FAILED"
    assert "rejected the credentials" in status["message"]
