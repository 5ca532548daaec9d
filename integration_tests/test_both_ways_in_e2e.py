"""Both ways in (the API and export files) under one rule set, through the installed command.

Every case runs in API mode (against the sandbox) and in export mode (over an export written for
the test), and must end the same way in both.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from integration_tests.conftest import api_token_config
from integration_tests.harness import command_line
from integration_tests.sandbox import Sandbox, SandboxOptions
from unit_tests.exports.builder import export_zip, history_csv, stories_csv, story

MODES = ("api", "export")
STORIES = 2000  # far more output than a pipe holds (64 KiB), in either mode


@pytest.fixture(scope="module")
def config_of(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], dict[str, Any]]]:
    """A valid config of each mode: the sandbox's API, or an export of one project."""
    folder = tmp_path_factory.mktemp("both_ways_in")
    export = export_zip(
        folder / "web_app_20250324_144303-export.zip",
        stories_csv("E", [story(100 + n) for n in range(STORIES)]),
        history_csv([["5", "story_update", "Ana accepted it", "Ana", "Mar 1, 2025"]]),
    )
    with Sandbox(SandboxOptions(projects=1, stories=STORIES, disabled_projects=0)) as sandbox:
        configs = {"api": api_token_config(sandbox), "export": {"export_files": [str(export)]}}
        yield lambda mode: configs[mode]


def _catalog(*streams: str) -> dict[str, Any]:
    return {
        "streams": [
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
            }
            for name in streams
        ]
    }


@pytest.mark.parametrize("mode", MODES)
def test_a_reader_that_closes_stdout_ends_the_read_quietly_with_a_failing_exit(
    config_of: Callable[[str], dict[str, Any]], mode: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        args = command_line(Path(tmp), "read", config_of(mode), _catalog("stories"), None)
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp)
        try:
            assert process.stdout is not None and process.stderr is not None
            first = process.stdout.read(2000)  # as `| head -c 2000` does, then goes away
            process.stdout.close()
            exit_code = process.wait(timeout=60)
            stderr = process.stderr.read().decode()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert len(first) == 2000
    assert exit_code != 0
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr[-2000:]
