"""A Docker engine for the image tests: installed with apt-get when missing, started when none runs.

A daemon this module starts is stopped again when its `docker_engine()` block ends, however it ends;
a daemon that was already running is used and left alone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# command -> the Debian package that provides it
REQUIRED_COMMANDS = {"dockerd": "docker.io", "debootstrap": "debootstrap"}
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
LOCK_FILE = "/tmp/pt-docker-engine.lock"


class EngineUnavailable(RuntimeError):
    """No Docker engine can run here; the message says why."""


@dataclass
class Engine:
    started_here: bool
    pid: int | None = None


def docker(
    *args: str, input: str | bytes | None = None, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """One `docker` client call; a failure raises with the command and what it printed."""
    # The legacy builder: it needs no buildx plugin, which Debian's docker.io does not ship.
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    done = subprocess.run(
        ["docker", *args],
        input=input,
        capture_output=True,
        text=not isinstance(input, bytes),
        timeout=timeout,
        env=env,
    )
    if check and done.returncode != 0:
        stderr = done.stderr if isinstance(done.stderr, str) else done.stderr.decode(errors="replace")
        raise RuntimeError(f"docker {' '.join(args[:3])} ... failed ({done.returncode}): {stderr[-3000:]}")
    return done


def missing_packages() -> list[str]:
    return [package for command, package in REQUIRED_COMMANDS.items() if shutil.which(command) is None]


def install_missing_packages() -> list[str]:
    """apt-get install what is missing; returns the packages installed (none when all were there)."""
    missing = missing_packages()
    if not missing:
        return []
    if os.geteuid() != 0:
        raise EngineUnavailable(
            f"{', '.join(missing)} not installed, and installing them needs root (apt-get install)"
        )
    if shutil.which("apt-get") is None:
        raise EngineUnavailable(f"{', '.join(missing)} not installed, and there is no apt-get here")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (["update", "-q"], ["install", "-y", "-q", "--no-install-recommends", *missing]):
        done = subprocess.run(["apt-get", *args], capture_output=True, text=True, env=env, timeout=1200)
        if done.returncode != 0:
            raise EngineUnavailable(f"apt-get {args[0]} failed: {(done.stderr or done.stdout)[-2000:]}")
    still = missing_packages()
    if still:
        raise EngineUnavailable(f"apt-get installed {missing}, yet {still} still have no command")
    return missing


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return docker("info", "--format", "{{.ServerVersion}}", timeout=20, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@contextmanager
def docker_engine() -> Iterator[Engine]:
    """The running engine, or one started for the duration of the block and stopped after it.

    One block at a time on a machine: a second session would otherwise use the daemon the first
    one started, and lose it when the first one stops it.
    """
    with Path(LOCK_FILE).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with _engine() as engine:
            yield engine


@contextmanager
def _engine() -> Iterator[Engine]:
    if engine_answers():
        yield Engine(started_here=False)
        return
    if os.geteuid() != 0:
        raise EngineUnavailable("no Docker engine is running, and starting dockerd needs root")
    with tempfile.TemporaryDirectory(prefix="pt-dockerd-") as tmp:
        log_path = Path(tmp) / "dockerd.log"
        with log_path.open("w") as log:
            # No bridge and no iptables rules: builds and containers use the host's network only.
            process = subprocess.Popen(
                ["dockerd", "--bridge=none", "--iptables=false", "--pidfile", str(Path(tmp) / "dockerd.pid")],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_until_it_answers(process, log_path)
            yield Engine(started_here=True, pid=process.pid)
        finally:
            _stop(process)


def _wait_until_it_answers(process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EngineUnavailable(
                f"dockerd exited with code {process.returncode} at start: {_tail(log_path)}"
            )
        if engine_answers():
            return
        time.sleep(0.5)
    raise EngineUnavailable(f"dockerd did not answer within {START_TIMEOUT:.0f}s: {_tail(log_path)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    # The containers' shims outlive the daemon by a moment: the block ends once they are gone too.
    deadline = time.monotonic() + STOP_TIMEOUT
    while _engine_shims() and time.monotonic() < deadline:
        time.sleep(0.2)


def _engine_shims() -> list[int]:
    """containerd shims of Docker's containers (namespace moby), still running."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline and cmdline[0].endswith(b"containerd-shim-runc-v2") and b"moby" in cmdline:
                found.append(int(proc.name))
    return found


def _tail(log_path: Path, lines: int = 15) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def run_quietly(args: Sequence[str], timeout: float, what: str) -> None:
    """A set-up command whose output matters only when it fails."""
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise EngineUnavailable(f"{what} failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}")
