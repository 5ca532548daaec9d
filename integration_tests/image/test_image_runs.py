"""The built image, run as the platform runs it, does what the installed command does."""

from __future__ import annotations

import base64
from typing import Any, Callable

import pytest

from integration_tests.conftest import api_token_config, login_config, primary_key, truth
from integration_tests.harness import ConnectorRun, configured_catalog, run_connector
from integration_tests.image.container import run_in_image
from integration_tests.image.engine import docker
from integration_tests.image.stand_in_base import UID, USER
from integration_tests.sandbox import Sandbox
from integration_tests.sandbox.store import STREAMS as SANDBOX_STREAMS

pytestmark = pytest.mark.connector_image

STREAMS = list(SANDBOX_STREAMS)
WRONG_SECRET = "wrong-secret-0123456789abcdef0123"


def keyed(run: ConnectorRun, stream: str) -> dict[Any, dict[str, Any]]:
    records = run.records[stream]
    by_key = {primary_key(record, stream): record for record in records}
    assert len(by_key) == len(records), f"{stream}: a primary key is delivered twice"
    return by_key


def secrets(sandbox: Sandbox) -> dict[str, str]:
    basic = base64.b64encode(f"{sandbox.username}:{sandbox.password}".encode()).decode()
    return {
        "api token": sandbox.api_token,
        "password": sandbox.password,
        "basic auth": basic,
        "wrong secret": WRONG_SECRET,
    }


def assert_no_secret(run: ConnectorRun, sandbox: Sandbox) -> None:
    for what, secret in secrets(sandbox).items():
        assert secret not in run.stdout + run.stderr, f"the {what} appears in the container's output"


@pytest.fixture(scope="module")
def reads(connector_image: str, sandbox: Sandbox) -> tuple[ConnectorRun, ConnectorRun]:
    """One read of every stream by the image and one by the installed command, of the same data."""
    config = api_token_config(sandbox)
    catalog = configured_catalog(run_connector("discover", config).only("CATALOG")["catalog"])
    return run_in_image(connector_image, "read", config, catalog), run_connector("read", config, catalog)


def test_spec_in_the_image_is_the_installed_commands_spec(connector_image: str) -> None:
    in_image = run_in_image(connector_image, "spec")
    assert in_image.exit_code == 0, in_image.stderr[-2000:]
    assert in_image.only("SPEC") == run_connector("spec").only("SPEC")


@pytest.mark.parametrize("credentials", ["api_token", "username_password"])
def test_check_in_the_image_succeeds_against_the_sandbox(
    connector_image: str, sandbox: Sandbox, credentials: str
) -> None:
    config = api_token_config(sandbox) if credentials == "api_token" else login_config(sandbox)
    run = run_in_image(connector_image, "check", config)
    assert run.exit_code == 0, run.stderr[-2000:]
    assert run.only("CONNECTION_STATUS")["connectionStatus"]["status"] == "SUCCEEDED", run.stdout[-2000:]
    assert_no_secret(run, sandbox)


def test_discover_in_the_image_gives_the_installed_commands_catalog(
    connector_image: str, sandbox: Sandbox
) -> None:
    config = api_token_config(sandbox)
    in_image = run_in_image(connector_image, "discover", config)
    assert in_image.exit_code == 0, in_image.stderr[-2000:]
    catalog = in_image.only("CATALOG")["catalog"]
    assert sorted(s["name"] for s in catalog["streams"]) == sorted(STREAMS)
    assert catalog == run_connector("discover", config).only("CATALOG")["catalog"]


def test_read_in_the_image_ends_cleanly(reads: tuple[ConnectorRun, ConnectorRun], sandbox: Sandbox) -> None:
    in_image, _ = reads
    assert in_image.exit_code == 0, in_image.stderr[-2000:]
    assert in_image.errors == []
    assert in_image.unparsed == []
    assert_no_secret(in_image, sandbox)


@pytest.mark.parametrize("stream", STREAMS)
def test_read_in_the_image_delivers_the_installed_commands_records(
    stream: str, reads: tuple[ConnectorRun, ConnectorRun], sandbox: Sandbox
) -> None:
    in_image, installed = reads
    delivered = keyed(in_image, stream)
    assert set(delivered) == truth(sandbox, stream)
    assert delivered == keyed(installed, stream)


def without_credentials(sandbox: Sandbox) -> dict[str, Any]:
    return {"api_url": sandbox.url}


def with_wrong_token(sandbox: Sandbox) -> dict[str, Any]:
    return {**api_token_config(sandbox), "credentials": {"auth_type": "api_token", "api_token": WRONG_SECRET}}


BAD_CONFIGS: dict[str, tuple[str, Callable[[Sandbox], dict[str, Any]]]] = {
    "credentials missing": ("read", without_credentials),
    "days_back zero": ("discover", lambda sandbox: api_token_config(sandbox, days_back=0)),
    "wrong api token": ("check", with_wrong_token),
    "wrong password": ("read", lambda sandbox: login_config(sandbox, password=WRONG_SECRET)),
}


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_a_bad_config_fails_in_the_image_as_it_fails_installed(
    connector_image: str, sandbox: Sandbox, name: str
) -> None:
    command, make_config = BAD_CONFIGS[name]
    config = make_config(sandbox)
    catalog = None
    if command == "read":
        discovered = run_connector("discover", api_token_config(sandbox)).only("CATALOG")["catalog"]
        catalog = configured_catalog(discovered, ["projects"])
    in_image = run_in_image(connector_image, command, config, catalog)
    installed = run_connector(command, config, catalog)

    assert in_image.exit_code == installed.exit_code
    if command == "check":
        status = in_image.only("CONNECTION_STATUS")["connectionStatus"]
        assert status["status"] == "FAILED"
        assert status == installed.only("CONNECTION_STATUS")["connectionStatus"]
    else:
        assert in_image.exit_code != 0
        assert in_image.errors, in_image.stdout[-2000:]
        assert [(e["failure_type"], e["message"]) for e in in_image.errors] == [
            (e["failure_type"], e["message"]) for e in installed.errors
        ]
    assert in_image.records == {}
    assert_no_secret(in_image, sandbox)


def test_debug_output_of_the_image_shows_the_traffic_but_no_secret(
    connector_image: str, sandbox: Sandbox
) -> None:
    discovered = run_connector("discover", api_token_config(sandbox)).only("CATALOG")["catalog"]
    run = run_in_image(
        connector_image, "read", login_config(sandbox), configured_catalog(discovered, ["projects"]),
        extra_args=["--debug"],
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr[-2000:]
    assert any(log.get("message") == "Making outbound API request" for log in run.other + run.logs), (
        "--debug must log the requests, or this test proves nothing"
    )
    assert_no_secret(run, sandbox)


def test_the_container_runs_as_the_base_images_user(connector_image: str) -> None:
    configured = docker("image", "inspect", "--format", "{{.Config.User}}", connector_image).stdout
    assert configured.strip() == str(UID)
    who = docker(
        "run", "--rm", "--network", "none", "--entrypoint", "python", connector_image,
        "-c", "import os, pwd; print(os.getuid(), pwd.getpwuid(os.getuid()).pw_name)",
    ).stdout.split()  # fmt: skip
    assert who == [str(UID), USER]
