"""PyAirbyte (`pip install airbyte`) in a venv of its own, `.pyairbyte-venv/`, made on first use.

PyAirbyte pins its own airbyte-cdk, which would fight the connector's: it never goes into the
connector's venv or setup.py. Like the benchmark's `.peer-venv`, the venv is kept between runs (it
is in .gitignore); a fresh clone, CI's included, builds it once. A venv whose install did not finish
has no marker file and is built again from nothing, so a broken half-venv never passes for one.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from integration_tests.harness import REPO

PYAIRBYTE_VENV = REPO / ".pyairbyte-venv"
# The version the README's snippets were checked with; raise it deliberately, with the test.
PYAIRBYTE_PACKAGE = "airbyte==0.71.3"
# 40-60 s on the 2-core box (about 180 packages), so its own limit, apart from the test's.
INSTALL_TIMEOUT = 900


@dataclass(frozen=True)
class PyAirbyteVenv:
    python: Path
    seconds_to_create: float | None  # None: the venv was already there


def ensure_pyairbyte_venv() -> PyAirbyteVenv:
    """The venv's Python, the venv built first if it is missing or unfinished."""
    python = PYAIRBYTE_VENV / "bin" / "python"
    marker = PYAIRBYTE_VENV / ".installed"
    PYAIRBYTE_VENV.parent.mkdir(parents=True, exist_ok=True)
    # Two test processes (say, two worktrees' suites) must not build the same venv at once.
    with open(REPO / ".pyairbyte-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text().strip() == PYAIRBYTE_PACKAGE and python.exists():
            return PyAirbyteVenv(python=python, seconds_to_create=None)
        started = time.monotonic()
        shutil.rmtree(PYAIRBYTE_VENV, ignore_errors=True)
        _step([sys.executable, "-m", "venv", str(PYAIRBYTE_VENV)], "creating the venv")
        _step(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                PYAIRBYTE_PACKAGE,
            ],
            f"pip install {PYAIRBYTE_PACKAGE}",
        )
        marker.write_text(PYAIRBYTE_PACKAGE + "\n")
        return PyAirbyteVenv(python=python, seconds_to_create=time.monotonic() - started)


def _step(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"{what} into {PYAIRBYTE_VENV} took over {INSTALL_TIMEOUT} s") from error
    if done.returncode != 0:
        # pip names the package it could not get or build in its last lines.
        raise RuntimeError(
            f"{what} into {PYAIRBYTE_VENV} failed (exit code {done.returncode}):\n{done.stderr[-3000:]}"
        )
