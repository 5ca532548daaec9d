"""Fixtures of the end-to-end tests: the sandbox in this process, the connector as a subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable

import pytest

from integration_tests.harness import ConnectorRun, configured_catalog, run_connector
from integration_tests.sandbox import Sandbox, SandboxOptions


def api_token_config(sandbox: Sandbox, **options: Any) -> dict[str, Any]:
    return {
        "credentials": {"auth_type": "api_token", "api_token": sandbox.api_token},
        "api_url": sandbox.url,
        **options,
    }


def login_config(sandbox: Sandbox, password: str | None = None) -> dict[str, Any]:
    """Username/password credentials for the sandbox's user (its own password by default)."""
    return {
        "credentials": {
            "auth_type": "username_password",
            "username": sandbox.username,
            "password": password or sandbox.password,
        },
        "api_url": sandbox.url,
    }


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """The default data set, shared by the tests of a module that only read."""
    with Sandbox(SandboxOptions()) as server:
        yield server


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Sandboxes with options (faults, sizes) of one test's own, stopped after it."""
    started: list[Sandbox] = []

    def make(**options: Any) -> Sandbox:
        server = Sandbox(SandboxOptions(**options)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def sync(
    config: dict[str, Any],
    streams: list[str] | None = None,
    state: list[dict[str, Any]] | None = None,
    incremental: bool = True,
) -> ConnectorRun:
    """discover, then read the chosen streams, as the platform would."""
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    return run_connector("read", config, configured_catalog(discovered, streams, incremental), state)


def primary_key(record: dict[str, Any], stream: str) -> Any:
    if stream == "activity":
        return record["guid"]
    if stream == "iterations":
        return (record["project_id"], record["number"])
    if stream == "story_transitions":
        return (record["story_id"], record["project_version"])
    return record["id"]


def primary_keys(records: list[dict[str, Any]], stream: str) -> set[Any]:
    return {primary_key(r, stream) for r in records}


def truth(sandbox: Sandbox, stream: str, **kwargs: Any) -> set[Any]:
    return {tuple(k) if isinstance(k, list) else k for k in sandbox.store.truth(stream, **kwargs)}


def request_counts(sandbox: Sandbox) -> dict[str, Any]:
    """What the sandbox served, by endpoint, status and fault (its admin endpoint)."""
    import requests

    root = sandbox.url.split("/services/v5")[0]
    return requests.get(f"{root}/__sandbox/requests", timeout=10).json()
