"""The release artefacts agree with each other and with Airbyte's schemas."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml
from airbyte_connector_models.metadata.v0.connector_metadata_definition_v0 import (
    ConnectorMetadataDefinitionV0,
)

ROOT = Path(__file__).resolve().parent.parent


def metadata() -> dict:
    return yaml.safe_load((ROOT / "metadata.yaml").read_text())


def test_metadata_validates_against_airbyte_connector_models() -> None:
    ConnectorMetadataDefinitionV0.model_validate(metadata())


def test_metadata_declares_the_file_transfer_that_the_spec_offers() -> None:
    # Airbyte's registry key, as its file-transferring connectors (Google Drive, S3) set it.
    assert ConnectorMetadataDefinitionV0.model_validate(metadata()).data.supports_file_transfer is True
    spec = yaml.safe_load((ROOT / "source_pivotal_tracker" / "manifest.yaml").read_text())["spec"]
    options = spec["connection_specification"]["properties"]["delivery_method"]["oneOf"]
    assert "use_file_transfer" in [option["properties"]["delivery_type"]["const"] for option in options]


def test_dockerfile_labels_and_base_image_match_metadata() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    data = metadata()["data"]
    assert f"LABEL io.airbyte.version={data['dockerImageTag']}" in dockerfile
    assert f"LABEL io.airbyte.name={data['dockerRepository']}" in dockerfile
    assert f"FROM {data['connectorBuildOptions']['baseImage']}" in dockerfile
    # The platform finds the command through AIRBYTE_ENTRYPOINT: it must be the ENTRYPOINT.
    airbyte_entrypoint = re.search(r'ENV AIRBYTE_ENTRYPOINT="([^"]+)"', dockerfile)
    entrypoint = re.search(r"^ENTRYPOINT (\[.*\])$", dockerfile, re.MULTILINE)
    assert airbyte_entrypoint and entrypoint
    assert json.loads(entrypoint.group(1)) == airbyte_entrypoint.group(1).split()


def test_package_version_matches_the_image_tag() -> None:
    version = subprocess.run(
        [sys.executable, "setup.py", "--version"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    assert version == metadata()["data"]["dockerImageTag"]


def test_dockerfile_installs_like_the_readme() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "RUN pip install --no-cache-dir ." in dockerfile
    copied = {
        part for line in dockerfile.splitlines() if line.startswith("COPY") for part in line.split()[1:-1]
    }
    assert {"setup.py", "main.py", "source_pivotal_tracker"} <= copied


def test_installed_package_carries_manifest_and_every_schema() -> None:
    import source_pivotal_tracker
    from source_pivotal_tracker.source import load_manifest

    package = Path(source_pivotal_tracker.__file__).parent
    assert (package / "manifest.yaml").is_file()
    stream_names = {
        s["$ref"].rsplit("/", 1)[-1] if isinstance(s, dict) else s.rsplit("/", 1)[-1]
        for s in yaml.safe_load((package / "manifest.yaml").read_text())["streams"]
    }
    assert stream_names <= set(load_manifest()["schemas"])
