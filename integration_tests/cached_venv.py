"""A package in a venv of its own beside the repo, made on first use and kept (it is in .gitignore).

For programs that must not share the connector's venv: PyAirbyte pins its own airbyte-cdk, and the
benchmark's peer (airbyte-source-pivotal-tracker 0.2.12) needs Python 3.10. A fresh clone, CI's
included, builds each once. A venv whose install did not finish has no marker file and is built
again from nothing, so a broken half-venv never passes for one.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# PyAirbyte is 40-60 s on the 2-core box (about 180 packages): its own limit, apart from a test's.
INSTALL_TIMEOUT = 900


@dataclass(frozen=True)
class CachedVenv:
    bin: Path  # the venv's bin/ folder: its python and the package's console scripts
    seconds_to_create: float | None  # None: the venv was already there


def cached_venv(venv: Path, package: str, python: str = sys.executable) -> CachedVenv:
    """`venv` with `package` (a pip requirement) installed by `python`; built first if missing."""
    marker = venv / ".installed"
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Two processes (say, two worktrees' suites) must not build the same venv at once.
    with open(venv.with_name(venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text().strip() == package and (venv / "bin" / "python").exists():
            return CachedVenv(bin=venv / "bin", seconds_to_create=None)
        started = time.monotonic()
        shutil.rmtree(venv, ignore_errors=True)
        _step([python, "-m", "venv", str(venv)], "creating the venv", venv)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _step([*pip, package], f"pip install {package}", venv)
        marker.write_text(package + "\n")
        return CachedVenv(bin=venv / "bin", seconds_to_create=time.monotonic() - started)


def _step(command: list[str], what: str, venv: Path) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"{what} into {venv} took over {INSTALL_TIMEOUT} s") from error
    if done.returncode != 0:
        # pip names the package it could not get or build in its last lines.
        raise RuntimeError(f"{what} into {venv} failed (exit code {done.returncode}):\n{done.stderr[-3000:]}")
