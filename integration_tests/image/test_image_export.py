"""Export mode in the image: a Tracker CSV export mounted under /local, as Airbyte mounts local files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from integration_tests.harness import ConnectorRun, configured_catalog, run_connector
from integration_tests.image.container import run_in_image

pytestmark = pytest.mark.connector_image

MOUNTED_AT = "/local/tracker"
EXPORT_NAME = "web_app_20141122_1200.csv"
# Header family D (2015 to at least 2021); the dates and the comment cells as Tracker wrote them.
STORIES_CSV = """\
Id,Title,Labels,Iteration,Iteration Start,Iteration End,Type,Estimate,Current State,Created at,\
Accepted at,Deadline,Requested By,Description,URL,Owned By,Comment
101,Sign in with a token,"auth, api",3,"Nov 17, 2014","Nov 24, 2014",feature,2,accepted,"Nov 10, 2014",\
"Nov 22, 2014",,Ana Lima,Token sign-in for the API,https://www.pivotaltracker.com/story/show/101,Bo Chen,\
"Looks right (Bo Chen - Nov 21, 2014)"
102,Export button is hidden,ui,,,,bug,,unstarted,"Nov 20, 2014",,,Bo Chen,,\
https://www.pivotaltracker.com/story/show/102,,
"""
EXPECTED_COUNTS = {"projects": 1, "stories": 2, "comments": 1, "labels": 3, "iterations": 1}


def keyed(run: ConnectorRun, stream: dict[str, Any]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The records of a stream by the primary key its catalog declares."""
    key_paths = stream["source_defined_primary_key"]
    records = run.records[stream["name"]]
    by_key = {tuple(record[path[0]] for path in key_paths): record for record in records}
    assert len(by_key) == len(records), f"{stream['name']}: a primary key is delivered twice"
    return by_key


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tracker-export")
    (folder / EXPORT_NAME).write_text(STORIES_CSV)
    # Mounted read-only for the container's unprivileged user.
    folder.chmod(0o755)
    (folder / EXPORT_NAME).chmod(0o644)
    return folder


def test_check_in_the_image_accepts_the_mounted_export(connector_image: str, export_dir: Path) -> None:
    run = run_in_image(
        connector_image, "check", {"export_files": [f"{MOUNTED_AT}/{EXPORT_NAME}"]},
        mounts=[(str(export_dir), MOUNTED_AT)],
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr[-2000:]
    assert run.only("CONNECTION_STATUS")["connectionStatus"]["status"] == "SUCCEEDED", run.stdout[-2000:]


def test_read_of_the_mounted_export_in_the_image_gives_the_installed_commands_records(
    connector_image: str, export_dir: Path
) -> None:
    installed_config = {"export_files": [str(export_dir / EXPORT_NAME)]}
    image_config = {"export_files": [f"{MOUNTED_AT}/{EXPORT_NAME}"]}
    discovered = run_connector("discover", installed_config).only("CATALOG")["catalog"]
    in_image_catalog = run_in_image(
        connector_image, "discover", image_config, mounts=[(str(export_dir), MOUNTED_AT)]
    ).only("CATALOG")["catalog"]
    assert in_image_catalog == discovered
    catalog = configured_catalog(discovered, incremental=False)

    in_image = run_in_image(
        connector_image, "read", image_config, catalog, mounts=[(str(export_dir), MOUNTED_AT)]
    )
    installed = run_connector("read", installed_config, catalog)

    assert in_image.exit_code == 0, in_image.stderr[-2000:]
    assert in_image.errors == [] and in_image.unparsed == []
    assert {name: len(records) for name, records in in_image.records.items()} == EXPECTED_COUNTS
    for stream in discovered["streams"]:
        assert keyed(in_image, stream) == keyed(installed, stream), stream["name"]
