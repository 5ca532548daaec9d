"""Where no Docker engine can start, the image tests fail and say why."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from integration_tests.image.engine import EngineUnavailable, docker_engine


def test_an_engine_that_cannot_start_is_an_error_naming_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A machine whose docker client finds no daemon and whose dockerd dies at start.
    for command, script in {
        "docker": "exit 1",
        "dockerd": "echo 'failed to start daemon: no cgroup mount found' >&2; exit 1",
    }.items():
        (tmp_path / command).write_text(f"#!/bin/sh\n{script}\n")
        (tmp_path / command).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")

    expected = "dockerd exited with code 1 at start: .*no cgroup mount found" if os.geteuid() == 0 else "root"
    with pytest.raises(EngineUnavailable, match=expected), docker_engine():
        pytest.fail("the block must not run without an engine")
