"""Airbyte's published connector (`airbyte-source-pivotal-tracker==0.2.12`), pointed at the sandbox.

Its CDK (0.90) fails on Python 3.11, so it lives in its own Python 3.10 venv, `.peer-venv/`. Its
manifest hard-codes `url_base: https://www.pivotaltracker.com/services/v5/` and is loaded with
`pkgutil.get_data` from the `source_pivotal_tracker` package, so the package is copied to a temp
dir with the url rewritten and put first on PYTHONPATH: site-packages is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from integration_tests.cached_venv import cached_venv
from integration_tests.harness import REPO, SandboxProcess, parse_output
from tracker_fixtures.streams import PRIMARY_KEYS as STREAM_KEYS

PEER_VENV = REPO / ".peer-venv"
PEER_PACKAGE = "airbyte-source-pivotal-tracker==0.2.12"
PEER_URL_BASE = "https://www.pivotaltracker.com/services/v5/"
PYTHON_310 = ("/root/.pyenv/versions/3.10.13/bin/python", "python3.10")
# The peer's streams (its manifest's `streams:`); ours has all of them too.
PEER_STREAMS = ("projects", "stories", "project_memberships", "labels", "releases", "epics", "activity")
PRIMARY_KEYS = {stream: STREAM_KEYS[stream][0] for stream in PEER_STREAMS}


def ensure_peer_venv() -> Path:
    """Creates .peer-venv with the peer installed on first use; returns its console script."""
    python = next((p for p in PYTHON_310 if shutil.which(p)), None)
    if python is None:
        raise SystemExit("the peer needs Python 3.10 (its CDK fails on 3.11): none found")
    venv = cached_venv(PEER_VENV, PEER_PACKAGE, python)
    if venv.seconds_to_create is not None:
        print(f"Created {PEER_VENV} with {python} and {PEER_PACKAGE} in {venv.seconds_to_create:.0f} s")
    return venv.bin / "source-pivotal-tracker"


def prepare_peer(sandbox: SandboxProcess, workdir: Path) -> tuple[list[str], dict[str, str]]:
    """The peer's command and environment, reading from `sandbox`; its config and catalog in workdir."""
    script = ensure_peer_venv()
    site = next((PEER_VENV / "lib").glob("python3.10/site-packages"))
    package = workdir / "peer" / "source_pivotal_tracker"
    shutil.copytree(site / "source_pivotal_tracker", package, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = package / "manifest.yaml"
    text = manifest.read_text()
    if PEER_URL_BASE not in text:
        raise SystemExit(f"the peer's manifest no longer has url_base {PEER_URL_BASE}")
    manifest.write_text(text.replace(PEER_URL_BASE, sandbox.url + "/"))
    env = {**os.environ, "PYTHONPATH": str(package.parent)}
    config = workdir / "peer_config.json"
    config.write_text(json.dumps({"api_token": sandbox.api_token}))  # its spec: api_token only
    done = subprocess.run(
        [str(script), "discover", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
    )
    discovered = parse_output(done.returncode, done.stdout, done.stderr).only("CATALOG")["catalog"]
    streams = [
        {
            "stream": stream,
            "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite",
            "primary_key": stream.get("source_defined_primary_key", []),
        }
        for stream in discovered["streams"]
    ]
    catalog = workdir / "peer_catalog.json"
    catalog.write_text(json.dumps({"streams": streams}))
    return [str(script), "read", "--config", str(config), "--catalog", str(catalog)], env
