"""The fixed cost of each command: ours vs a one-stream CDK 7 manifest vs a bare CDK import.

Each command runs as a child process and is timed from start to exit; its output is checked for
the message it must end with (SPEC, a SUCCEEDED status, a CATALOG, the projects' records), so a
fast failure is never counted as a fast run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import orjson

COMMANDS = ("spec", "check", "discover", "read projects")
BARE_IMPORT = "import airbyte_cdk"
Check = Callable[[list[dict[str, object]]], bool]


@dataclass
class Timed:
    seconds: list[float]
    failures: list[str]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")


def _messages(stdout: bytes) -> list[dict[str, object]]:
    found = []
    for line in stdout.splitlines():
        if line.startswith(b"{"):
            found.append(orjson.loads(line))
    return found


def ends_well(command: str) -> Check:
    """What a successful run of `command` prints."""

    def has(kind: str) -> Check:
        return lambda messages: any(m.get("type") == kind for m in messages)

    if command == "spec":
        return has("SPEC")
    if command == "check":
        return lambda messages: any(
            m.get("type") == "CONNECTION_STATUS" and m["connectionStatus"]["status"] == "SUCCEEDED"  # type: ignore[index]
            for m in messages
        )
    if command == "discover":
        return has("CATALOG")
    return has("RECORD")


def time_once(args: Sequence[str], check: Check) -> tuple[float, str | None]:
    start = time.perf_counter()
    done = subprocess.run(list(args), capture_output=True, timeout=300)
    wall = time.perf_counter() - start
    if done.returncode != 0 or not check(_messages(done.stdout)):
        return wall, f"exit {done.returncode}: {(done.stdout + done.stderr)[-400:].decode(errors='replace')}"
    return wall, None


def time_rounds(contenders: dict[str, dict[str, Sequence[str]]], rounds: int) -> dict[str, dict[str, Timed]]:
    """contenders: label -> command -> argv. Every command of every contender once per round, in turn."""
    results = {
        label: {command: Timed([], []) for command in commands} for label, commands in contenders.items()
    }
    bare = Timed([], [])
    for number in range(1, rounds + 1):
        for command in COMMANDS:
            for label, commands in contenders.items():
                wall, failure = time_once(commands[command], ends_well(command))
                timed = results[label][command]
                if failure:
                    timed.failures.append(failure)
                else:
                    timed.seconds.append(wall)
            wall, failure = time_once([sys.executable, "-c", BARE_IMPORT], lambda messages: True)
            bare.seconds.append(wall)
        for label, timings in results.items():
            last = "  ".join(f"{c} {t.seconds[-1] if t.seconds else 0:.2f}" for c, t in timings.items())
            print(f"  round {number}  {label:<20} {last}", flush=True)
    results["bare"] = {BARE_IMPORT: bare}
    return results


def one_stream_commands(bin_dir: Path, manifest: Path, config: str, catalog: str) -> dict[str, list[str]]:
    runner = [str(bin_dir / "source-declarative-manifest")]
    with_manifest = ["--manifest-path", str(manifest)]
    return {
        "spec": [*runner, "spec"],
        "check": [*runner, "check", "--config", config, *with_manifest],
        "discover": [*runner, "discover", "--config", config, *with_manifest],
        "read projects": [*runner, "read", "--config", config, "--catalog", catalog, *with_manifest],
    }


def our_commands(connector: str, config: str, catalog: str) -> dict[str, list[str]]:
    return {
        "spec": [connector, "spec"],
        "check": [connector, "check", "--config", config],
        "discover": [connector, "discover", "--config", config],
        "read projects": [connector, "read", "--config", config, "--catalog", catalog],
    }
