"""The supported airbyte-cdk range: one definition, and the connector stops outside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from source_pivotal_tracker.cdk_seams.cdk_range import BELOW_CDK, CDK_REQUIREMENT, LOWEST_CDK, is_supported

ROOT = Path(__file__).resolve().parent.parent


def run_with_cdk_version(version: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The connector's command with airbyte-cdk's metadata saying `version` (the code is unchanged):
    a distribution found earlier on the path is the one importlib.metadata reports."""
    dist_info = tmp_path / f"airbyte_cdk-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: airbyte-cdk\nVersion: {version}\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("version", ["7.34.0", "7.30.0", "8.0.0"])
def test_a_cdk_outside_the_range_stops_the_connector_with_a_trace_naming_version_and_range(
    version: str, tmp_path: Path
) -> None:
    result = run_with_cdk_version(version, tmp_path, "spec")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    trace = json.loads(lines[0])
    assert trace["type"] == "TRACE" and trace["trace"]["type"] == "ERROR"
    error = trace["trace"]["error"]
    assert error["failure_type"] == "system_error"
    assert f"installed airbyte-cdk {version}:" in error["message"]
    assert CDK_REQUIREMENT in error["message"]
    assert "Something went wrong" not in error["message"]
    # The same reason on stderr, without a traceback.
    assert f"airbyte-cdk {version}:" in result.stderr and "Traceback" not in result.stderr


def test_the_lowest_supported_cdk_runs_the_connector(tmp_path: Path) -> None:
    result = run_with_cdk_version(LOWEST_CDK, tmp_path, "spec")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["type"] == "SPEC"


def just_below(version: str) -> str:
    major, minor, micro = (Version(version).release + (0, 0))[:3]
    if micro:
        return f"{major}.{minor}.{micro - 1}"
    return f"{major}.{minor - 1}.999" if minor else f"{major - 1}.999"


@pytest.mark.parametrize(
    ("version", "supported"),
    [
        (LOWEST_CDK, True),
        (just_below(LOWEST_CDK), False),
        (f"{BELOW_CDK}.0", False),
        (f"{BELOW_CDK}.0rc1", False),  # a pre-release of the excluded minor is excluded too
        ("8.0.0", False),
        ("7.30.0", False),
        ("(not installed)", False),
    ],
)
def test_is_supported_holds_the_declared_bounds(version: str, supported: bool) -> None:
    assert is_supported(version) is supported


def test_the_installed_cdk_is_in_the_range_the_package_declares() -> None:
    assert is_supported(metadata.version("airbyte-cdk"))


def test_the_installed_package_requires_the_range_cdk_range_defines() -> None:
    # setup.py reads CDK_REQUIREMENT from cdk_range.py; the installed metadata proves it did.
    requirements = metadata.requires("source-pivotal-tracker") or []
    cdk = [Requirement(r).specifier for r in requirements if Requirement(r).name == "airbyte-cdk"]
    assert cdk == [SpecifierSet(CDK_REQUIREMENT.removeprefix("airbyte-cdk"))]
