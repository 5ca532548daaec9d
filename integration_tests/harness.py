"""Runs the installed connector as the platform does, and the sandbox as a separate process.

Shared by the end-to-end tests, the demo and the benchmark, so all three exercise the same path:
the `source-pivotal-tracker` console script in a subprocess, talking to the sandbox over HTTP.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Sequence

REPO = Path(__file__).resolve().parent.parent
CONNECTOR = str(Path(sys.executable).parent / "source-pivotal-tracker")


@dataclass
class ConnectorRun:
    """What one connector command printed, sorted by message type."""

    exit_code: int
    stdout: str
    stderr: str
    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    states: list[dict[str, Any]] = field(default_factory=list)
    traces: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    other: list[dict[str, Any]] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [t["error"] for t in self.traces if t.get("type") == "ERROR"]

    @property
    def stream_statuses(self) -> list[tuple[str, str]]:
        return [
            (t["stream_status"]["stream_descriptor"]["name"], t["stream_status"]["status"])
            for t in self.traces
            if t.get("type") == "STREAM_STATUS"
        ]

    def only(self, message_type: str) -> dict[str, Any]:
        found = [m for m in self.other if m["type"] == message_type]
        assert len(found) == 1, f"expected one {message_type}, got {len(found)}: {self.stdout[-2000:]}"
        return found[0]

    def last_state_by_stream(self) -> list[dict[str, Any]]:
        """The newest STATE of every stream: what the platform would pass to the next sync."""
        newest: dict[str, dict[str, Any]] = {}
        for state in self.states:
            newest[state["stream"]["stream_descriptor"]["name"]] = state
        return list(newest.values())


def parse_output(exit_code: int, stdout: str, stderr: str) -> ConnectorRun:
    run = ConnectorRun(exit_code=exit_code, stdout=stdout, stderr=stderr)
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            run.unparsed.append(line)
            continue
        kind = message.get("type")
        if kind == "RECORD":
            run.records[message["record"]["stream"]].append(message["record"]["data"])
        elif kind == "STATE":
            run.states.append(message["state"])
        elif kind == "TRACE":
            run.traces.append(message["trace"])
        elif kind == "LOG":
            run.logs.append(message["log"])
        else:
            run.other.append(message)
    return run


def run_connector(
    command: str,
    config: Optional[Mapping[str, Any]] = None,
    catalog: Optional[Mapping[str, Any]] = None,
    state: Optional[Sequence[Mapping[str, Any]]] = None,
    extra_args: Sequence[str] = (),
    timeout: float = 600,
    env: Optional[Mapping[str, str]] = None,
) -> ConnectorRun:
    with tempfile.TemporaryDirectory() as tmp:
        args = command_line(Path(tmp), command, config, catalog, state)
        done = subprocess.run(
            [*args, *extra_args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp,
            env={**os.environ, **(env or {})},
        )
    return parse_output(done.returncode, done.stdout, done.stderr)


@contextmanager
def connector_process(
    command: str,
    config: Optional[Mapping[str, Any]] = None,
    catalog: Optional[Mapping[str, Any]] = None,
    state: Optional[Sequence[Mapping[str, Any]]] = None,
    lifetime: float = 300,
) -> Iterator[subprocess.Popen[str]]:
    """The connector running in the background (to signal or kill it); killed after `lifetime` s."""
    with tempfile.TemporaryDirectory() as tmp:
        args = command_line(Path(tmp), command, config, catalog, state)
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp)
        watchdog = threading.Timer(lifetime, process.kill)
        watchdog.start()
        try:
            yield process
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
            process.communicate()


def command_line(
    folder: Path,
    command: str,
    config: Optional[Mapping[str, Any]],
    catalog: Optional[Mapping[str, Any]],
    state: Optional[Sequence[Mapping[str, Any]]],
) -> list[str]:
    args = [CONNECTOR, command]
    for flag, content in (("--config", config), ("--catalog", catalog), ("--state", state)):
        if content is not None:
            path = folder / f"{flag[2:]}.json"
            path.write_text(json.dumps(content))
            args += [flag, str(path)]
    return args


def configured_catalog(
    discovered: Mapping[str, Any], streams: Optional[Sequence[str]] = None, incremental: bool = True
) -> dict[str, Any]:
    """A catalog selecting the discovered streams, incremental (append) where they support it."""
    configured = []
    for stream in discovered["streams"]:
        if streams is not None and stream["name"] not in streams:
            continue
        incremental_here = incremental and "incremental" in stream["supported_sync_modes"]
        configured.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if incremental_here else "full_refresh",
                "destination_sync_mode": "append" if incremental_here else "overwrite",
                "cursor_field": stream.get("default_cursor_field", []) if incremental_here else [],
                "primary_key": stream.get("source_defined_primary_key", []),
            }
        )
    return {"streams": configured}


@dataclass
class SandboxProcess:
    """The sandbox in its own process, as the demo and benchmark run it."""

    url: str
    api_token: str
    username: str
    password: str
    process: subprocess.Popen[str]

    def config(self, **options: Any) -> dict[str, Any]:
        return {
            "credentials": {"auth_type": "api_token", "api_token": self.api_token},
            "api_url": self.url,
            **options,
        }

    def admin(self, path: str, method: str = "GET") -> Any:
        import requests

        root = self.url.split("/services/v5")[0]
        response = requests.request(method, f"{root}/__sandbox/{path}", timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_sandbox_process(*options: str) -> SandboxProcess:
    process = subprocess.Popen(
        [sys.executable, "-m", "integration_tests.sandbox", "--port", "0", *options],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    if not first_line:
        process.wait(timeout=10)
        raise RuntimeError(f"the sandbox did not start (exit code {process.returncode})")
    info = json.loads(first_line)
    return SandboxProcess(
        url=info["url"],
        api_token=info["api_token"],
        username=info["username"],
        password=info["password"],
        process=process,
    )


@contextmanager
def sandbox_process(*options: str) -> Iterator[SandboxProcess]:
    """The sandbox in its own process for the duration of a with block."""
    sandbox = start_sandbox_process(*options)
    try:
        yield sandbox
    finally:
        sandbox.stop()


def write_export(directory: Path, *options: str) -> list[Path]:
    """The sandbox's world as Tracker export files (one per project), written in a process of its own.

    `options` are the sandbox CLI's: sizes (`--projects`, `--stories`), `--export-family`,
    `--export-layout`, `--crlf`... The same options serve the same world through the API.
    """
    done = subprocess.run(
        [sys.executable, "-m", "integration_tests.sandbox", "--write-export", str(directory), *options],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the sandbox could not write the export: {done.stderr[-2000:]}")
    return [Path(entry["path"]) for entry in json.loads(done.stdout)["exports"]]
