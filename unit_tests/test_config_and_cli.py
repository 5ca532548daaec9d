"""The real console entry point: spec, config validation, start-up failures, secrets in the output.

Every case runs ``source-pivotal-tracker`` (the installed console script) or ``python main.py``
in a subprocess, as the platform does. The runs are independent, so they are started together
and each test checks the output of its own. Syncs talk to the fake Tracker behind a local HTTP
server on 127.0.0.1 (http:// is allowed there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from unit_tests.conftest import LocalTracker, authenticated_fake, catalog_for
from unit_tests.tracker_fake import (
    API_TOKEN,
    ME_API_TOKEN,
    PASSWORD,
    USERNAME,
    ConfigBuilder,
    basic_auth,
)

ROOT = Path(__file__).resolve().parent.parent
CONSOLE_SCRIPT = Path(sys.executable).parent / "source-pivotal-tracker"
READ_STREAMS = ("projects", "epics", "labels", "stories")
WRONG_PASSWORD = "Wr0ng-pa55word"

# name -> (config, the field its error must name, the commands run with it). Every command meets
# several invalid configs; every invalid config is run once or twice, to keep the suite fast.
INVALID_CONFIGS: dict[str, tuple[dict[str, Any], str, tuple[str, ...]]] = {
    "days_back_zero": (ConfigBuilder().with_days_back(0).build(), "days_back", ("check", "read")),
    "days_back_wrong_type": (ConfigBuilder().with_days_back("ten").build(), "days_back", ("discover",)),
    "credentials_missing": (
        ConfigBuilder().without("credentials").with_days_back(3).build(),
        "credentials",
        ("read",),
    ),
    "api_url_http_remote": (
        ConfigBuilder().with_api_url("http://tracker.example.com/services/v5").build(),
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
    "num_workers_zero": (ConfigBuilder().with_num_workers(0).build(), "num_workers", ("check",)),
}
INVALID_RUNS = [(command, name) for name, (_, _, commands) in INVALID_CONFIGS.items() for command in commands]


@dataclass
class CliRun:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float = 0.0
    messages: list[dict[str, Any]] = field(default_factory=list)
    not_json: list[str] = field(default_factory=list)

    def of_type(self, message_type: str) -> list[dict[str, Any]]:
        return [message for message in self.messages if message.get("type") == message_type]

    @property
    def trace_errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"].get("type") == "ERROR"]

    @property
    def connection_status(self) -> dict[str, Any]:
        (status,) = self.of_type("CONNECTION_STATUS")
        return status["connectionStatus"]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _run(args: list[str], cwd: Path) -> CliRun:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEPLOYMENT_MODE", "REQUEST_CACHE_PATH")
    }
    started = time.monotonic()
    completed = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    run = CliRun(args, completed.returncode, completed.stdout, completed.stderr, time.monotonic() - started)
    for line in completed.stdout.splitlines():
        if not line.strip():
            continue
        try:
            run.messages.append(json.loads(line))
        except json.JSONDecodeError:
            run.not_json.append(line)
    return run


@dataclass
class Runs:
    results: dict[str, CliRun]
    servers: dict[str, LocalTracker]

    def __getitem__(self, name: str) -> CliRun:
        return self.results[name]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    work = tmp_path_factory.mktemp("cli")
    servers = {
        name: LocalTracker(authenticated_fake()).start() for name in ("api_token", "password", "check")
    }

    def write(name: str, content: Any) -> str:
        path = work / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)

    from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

    catalog = write("catalog.json", ConfiguredAirbyteCatalogSerializer.dump(catalog_for(*READ_STREAMS)))
    cli = [str(CONSOLE_SCRIPT)]
    jobs: dict[str, list[str]] = {"spec": [*cli, "spec"]}
    for command, name in INVALID_RUNS:
        path = write(f"{name}.json", INVALID_CONFIGS[name][0])
        jobs[f"{command}:{name}"] = [*cli, command, "--config", path]
        if command == "read":
            jobs[f"{command}:{name}"] += ["--catalog", catalog]

    # Accepted api_url values: https anywhere (discover sends no request), http on this machine.
    https = write(
        "https.json", ConfigBuilder().with_api_url("https://tracker.example.com/services/v5").build()
    )
    jobs["discover:https_remote"] = [*cli, "discover", "--config", https]
    loopback = write("loopback.json", ConfigBuilder().with_api_url(servers["check"].url).build())
    jobs["check:http_loopback"] = [*cli, "check", "--config", loopback]

    # Start-up failures.
    jobs["check:missing_config_file"] = [*cli, "check", "--config", str(work / "does-not-exist.json")]
    not_json = write("not-json.json", "{'credentials': ")
    jobs["read:config_not_json"] = [*cli, "read", "--config", not_json, "--catalog", catalog]

    # Secrets with --debug.
    token_config = write("token.json", ConfigBuilder().with_api_url(servers["api_token"].url).build())
    password_config = write(
        "password.json",
        ConfigBuilder().with_username_password().with_api_url(servers["password"].url).build(),
    )
    wrong_password = write(
        "wrong-password.json",
        ConfigBuilder()
        .with_username_password(password=WRONG_PASSWORD)
        .with_api_url(servers["check"].url)
        .build(),
    )
    jobs["debug:read_api_token"] = [*cli, "read", "--config", token_config, "--catalog", catalog, "--debug"]
    jobs["debug:read_password"] = [*cli, "read", "--config", password_config, "--catalog", catalog, "--debug"]
    jobs["debug:check_wrong_password"] = [*cli, "check", "--config", wrong_password, "--debug"]

    try:
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            futures = {name: pool.submit(_run, args, work) for name, args in jobs.items()}
            yield Runs({name: future.result() for name, future in futures.items()}, servers)
    finally:
        for server in servers.values():
            server.stop()


def _assert_no_bare_traceback(run: CliRun) -> None:
    assert run.not_json == [], f"stdout lines that are not Airbyte messages: {run.not_json[:3]}"
    assert "Traceback (most recent call last)" not in run.stderr, run.stderr[-2000:]


# --------------------------------------------------------------------------- spec


def test_spec_prints_the_spec_with_title_description_and_order_on_every_field(runs: Runs) -> None:
    run = runs["spec"]

    assert run.returncode == 0, run.output[-2000:]
    _assert_no_bare_traceback(run)
    (spec,) = run.of_type("SPEC")
    connection = spec["spec"]["connectionSpecification"]
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
    (spec,) = runs["spec"].of_type("SPEC")
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
    assert run.of_type("CATALOG") == [] and run.of_type("RECORD") == []
    if command == "check":
        # check answers with a CONNECTION_STATUS, as the platform expects.
        statuses = run.of_type("CONNECTION_STATUS")
        assert len(statuses) == 1, f"check must answer with a CONNECTION_STATUS: {run.output[-1500:]}"
        assert statuses[0]["connectionStatus"]["status"] == "FAILED"
        message = statuses[0]["connectionStatus"]["message"]
    else:
        assert run.returncode != 0
        errors = run.trace_errors
        assert errors, run.output[-1500:]
        assert errors[0]["failure_type"] == "config_error"
        message = errors[0]["message"]
    assert f"'{field_name}'" in message


def test_days_back_zero_message_says_what_is_allowed(runs: Runs) -> None:
    (error,) = runs["read:days_back_zero"].trace_errors
    assert "The config field 'days_back' must be at least 1." in error["message"]


def test_https_api_url_is_accepted(runs: Runs) -> None:
    run = runs["discover:https_remote"]

    _assert_no_bare_traceback(run)
    assert run.returncode == 0, run.output[-1500:]
    assert run.trace_errors == []
    (catalog,) = run.of_type("CATALOG")
    assert len(catalog["catalog"]["streams"]) == 14


def test_check_against_a_loopback_http_server_succeeds(runs: Runs) -> None:
    run = runs["check:http_loopback"]

    _assert_no_bare_traceback(run)
    assert run.connection_status["status"] == "SUCCEEDED", run.output[-1500:]


# --------------------------------------------------------------------------- start-up failures


@pytest.mark.parametrize(
    "name",
    ["check:missing_config_file", "read:config_not_json"],
)
def test_unreadable_input_file_gives_a_trace_error_not_a_bare_traceback(runs: Runs, name: str) -> None:
    run = runs[name]

    _assert_no_bare_traceback(run)
    assert run.returncode != 0
    errors = run.trace_errors
    assert errors, run.output[-1500:]
    assert errors[0]["failure_type"] == "config_error"


# --------------------------------------------------------------------------- secrets


def _secrets() -> dict[str, str]:
    return {
        "api token": API_TOKEN,
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "basic auth (user:password)": basic_auth(USERNAME, PASSWORD),
        "basic auth (user:wrong password)": basic_auth(USERNAME, WRONG_PASSWORD),
        "token handed out by /me": ME_API_TOKEN,
    }


@pytest.mark.parametrize(
    "name",
    ["debug:read_api_token", "debug:read_password", "debug:check_wrong_password"],
)
def test_debug_output_never_prints_a_secret(runs: Runs, name: str) -> None:
    run = runs[name]

    _assert_no_bare_traceback(run)
    # The run really logged its HTTP traffic (so the secrets had every chance to show).
    # The secrets really crossed the wire, and --debug logged the traffic of the syncs.
    server = runs.servers["check" if name == "debug:check_wrong_password" else name.split("_", 1)[1]]
    assert server.fake.history
    if name.startswith("debug:read"):
        logged = [m for m in run.of_type("DEBUG") if m.get("message") == "Making outbound API request"]
        assert logged, "--debug must log the requests"
    for what, secret in _secrets().items():
        assert secret not in run.output, f"the {what} is printed by {name}"


def test_debug_read_with_a_token_syncs_every_stream(runs: Runs) -> None:
    run = runs["debug:read_api_token"]

    assert run.returncode == 0, run.output[-1500:]
    assert {message["record"]["stream"] for message in run.of_type("RECORD")} == set(READ_STREAMS)
    tokens = {request.header("X-TrackerToken") for request in runs.servers["api_token"].fake.history}
    assert tokens == {API_TOKEN}


def test_debug_read_with_a_password_syncs_every_stream_with_the_token_from_me(runs: Runs) -> None:
    run = runs["debug:read_password"]

    assert run.returncode == 0, run.output[-1500:]
    assert {message["record"]["stream"] for message in run.of_type("RECORD")} == set(READ_STREAMS)
    history = runs.servers["password"].fake.history
    (me,) = [request for request in history if request.path == "/me"]
    assert me.header("Authorization") == f"Basic {basic_auth(USERNAME, PASSWORD)}"
    others = [request for request in history if request.path != "/me"]
    assert others and {request.header("X-TrackerToken") for request in others} == {ME_API_TOKEN}


def test_check_with_a_wrong_password_fails_saying_the_credentials_were_rejected(runs: Runs) -> None:
    status = runs["debug:check_wrong_password"].connection_status

    assert status["status"] == "FAILED"
    assert "rejected the credentials" in status["message"]
