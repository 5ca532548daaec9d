"""Symlinks, one rule: folder walks and globs follow them, read each real file once, name every loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

from integration_tests.harness import run_connector
from unit_tests.exports.builder import stories_csv, story
from unit_tests.exports.reading import catalog, read_export

# A hang is a failure, not a stuck suite: the connector is stopped after this many seconds.
TIMEOUT = 30


def _stories(folder: Path, name: str, *ids: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(stories_csv("D", [story(i) for i in ids]))


def _story_ids(records: dict[str, list[dict[str, Any]]]) -> list[int]:
    return sorted(s["id"] for s in records["stories"])


def test_a_folder_walk_follows_a_symlinked_subfolder(tmp_path: Path) -> None:
    tracker = tmp_path / "tracker"
    _stories(tracker, "web_app_20240101_1200.csv", 1, 2)
    _stories(tmp_path / "elsewhere" / "mobile", "mobile_20240101_1200.csv", 3, 4)
    (tracker / "mobile").symlink_to(tmp_path / "elsewhere" / "mobile")

    result = read_export([str(tracker)])

    assert result.errors == []
    assert _story_ids(result.records) == [1, 2, 3, 4]
    assert sorted(p["name"] for p in result.records["projects"]) == ["mobile", "web_app"]


def test_a_self_loop_under_a_glob_reads_each_story_once_and_is_named_in_a_warning(tmp_path: Path) -> None:
    tracker = tmp_path / "tracker"
    _stories(tracker, "web_app_20240101_1200.csv", 1, 2)
    (tracker / "self").symlink_to(".")

    for entry in (str(tracker / "**" / "*.csv"), str(tracker)):
        result = read_export([entry])

        assert result.errors == []
        assert _story_ids(result.records) == [1, 2], entry
        assert any(str(tracker / "self") in log and "symlink loop" in log for log in result.logs), entry


def test_two_links_to_each_others_folders_are_loops_named_and_every_story_read_once(tmp_path: Path) -> None:
    tracker = tmp_path / "tracker"
    _stories(tracker / "a", "alpha_20240101_1200.csv", 1)
    _stories(tracker / "b", "beta_20240101_1200.csv", 2)
    (tracker / "a" / "to_b").symlink_to("../b")
    (tracker / "b" / "to_a").symlink_to("../a")

    for entry in (str(tracker), str(tracker / "**" / "*.csv"), str(tracker / "a")):
        result = read_export([entry])

        assert result.errors == []
        assert _story_ids(result.records) == [1, 2], entry
        loops = [log for log in result.logs if "symlink loop" in log]
        assert loops and all("to_a" in log or "to_b" in log for log in loops), (entry, loops)


def test_a_file_reached_by_a_link_too_is_read_once_and_the_link_named(tmp_path: Path) -> None:
    tracker = tmp_path / "tracker"
    _stories(tracker, "web_app_20240101_1200.csv", 1, 2)
    (tracker / "again.csv").symlink_to("web_app_20240101_1200.csv")

    result = read_export([str(tracker)])

    assert result.errors == []
    assert _story_ids(result.records) == [1, 2]
    assert any(str(tracker / "again.csv") in log and "read once" in log for log in result.logs)


def test_two_self_loops_end_check_and_read_quickly(tmp_path: Path) -> None:
    tracker = tmp_path / "tracker"
    _stories(tracker, "web_app_20240101_1200.csv", 1, 2)
    (tracker / "self").symlink_to(".")
    (tracker / "again").symlink_to(".")
    config = {"export_files": [str(tracker / "**" / "*.csv")]}

    check = run_connector("check", config, timeout=TIMEOUT)
    read = run_connector(
        "read", config, ConfiguredAirbyteCatalogSerializer.dump(catalog(("stories",))), timeout=TIMEOUT
    )

    assert check.only("CONNECTION_STATUS")["connectionStatus"]["status"] == "SUCCEEDED"
    assert read.exit_code == 0, read.stderr[-2000:]
    assert _story_ids(read.records) == [1, 2]
    warnings = [log["message"] for log in read.logs if log["level"] == "WARN"]
    for link in ("self", "again"):
        assert any(str(tracker / link) in message for message in warnings), warnings
