"""The Dockerfile installs exactly what `pip install .` installs: measured, not claimed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from integration_tests.harness import REPO
from integration_tests.image.engine import docker
from integration_tests.image.timings import timed

pytestmark = pytest.mark.connector_image

CLOSURE_SCRIPT = Path(__file__).with_name("installed_closure.py")
DISTRIBUTION = "source-pivotal-tracker"


def test_the_image_holds_the_same_packages_as_pip_install_dot_in_a_fresh_venv(
    connector_image: str, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    with timed("pip install . in a fresh venv"):
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run(
            [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "."],
            cwd=REPO, check=True, timeout=1200, capture_output=True,
        )  # fmt: skip
    in_venv = json.loads(
        subprocess.run(
            [str(venv / "bin/python"), str(CLOSURE_SCRIPT), DISTRIBUTION],
            check=True, capture_output=True, text=True, timeout=120,
        ).stdout
    )  # fmt: skip
    in_image = json.loads(
        docker(
            "run", "--rm", "-i", "--network", "none", "--entrypoint", "python", connector_image,
            "-", DISTRIBUTION, input=CLOSURE_SCRIPT.read_text(),
        ).stdout
    )  # fmt: skip

    assert in_venv[DISTRIBUTION] == in_image[DISTRIBUTION]
    assert len(in_venv) > 20, "the closure walk found too little to compare"
    differences = {
        name: (in_venv.get(name), in_image.get(name))
        for name in sorted(set(in_venv) | set(in_image))
        if in_venv.get(name) != in_image.get(name)
    }
    assert differences == {}, "name: (fresh venv, image)"
