"""Runs the connector's image as the platform does: input files mounted, messages on stdout."""

from __future__ import annotations

import json
import subprocess
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from integration_tests.harness import ConnectorRun, parse_output
from integration_tests.image.engine import docker
from integration_tests.image.timings import timed

INPUT_DIR = "/secrets"


def run_in_image(
    image: str,
    command: str,
    config: Mapping[str, Any] | None = None,
    catalog: Mapping[str, Any] | None = None,
    state: Sequence[Mapping[str, Any]] | None = None,
    extra_args: Sequence[str] = (),
    mounts: Sequence[tuple[str, str]] = (),
    timeout: float = 600,
) -> ConnectorRun:
    """`docker run IMAGE command --config ...` on the host's network, where the sandbox listens."""
    with tempfile.TemporaryDirectory(prefix="pt-image-run-") as tmp:
        # The container runs as the base image's unprivileged user: it must be able to read them.
        Path(tmp).chmod(0o755)
        args = [command]
        for flag, content in (("--config", config), ("--catalog", catalog), ("--state", state)):
            if content is not None:
                path = Path(tmp) / f"{flag[2:]}.json"
                path.write_text(json.dumps(content))
                path.chmod(0o644)
                args += [flag, f"{INPUT_DIR}/{path.name}"]
        volumes = [f"{tmp}:{INPUT_DIR}:ro", *(f"{host}:{inside}:ro" for host, inside in mounts)]
        name = f"pt-image-test-{uuid.uuid4().hex[:12]}"
        run_args = ["run", "--rm", "--name", name, "--network", "host"]
        run_args += [arg for volume in volumes for arg in ("--volume", volume)] + [image]
        with timed(f"docker run {command}"):
            try:
                done = docker(*run_args, *args, *extra_args, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                docker("rm", "--force", name, check=False)
                raise
    return parse_output(done.returncode, done.stdout, done.stderr)
