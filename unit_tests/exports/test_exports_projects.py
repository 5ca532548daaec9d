"""Which project a file belongs to: one archive (or unzipped folder) is one project whatever the
names, exports that share story ids are one project, a folder of several projects' CSVs is several,
and `export_projects` gives a project its real id and name."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from source_pivotal_tracker.checks.config_checks import config_problem
from source_pivotal_tracker.exports.ids import project_id
from source_pivotal_tracker.source import load_manifest
from unit_tests.exports.builder import export_zip, history_csv, stories_csv, story
from unit_tests.exports.file_server import FileServer
from unit_tests.exports.reading import ExportRead, read_export

HISTORY = [["812", "story_update", "Georgia accepted this feature", "Georgia", "2024-11-05T10:15:00Z"]]


def _zip(path: Path, stories_name: str = "web_app_20250324_1443.csv", first: int = 101) -> Path:
    """A family E export as Tracker made it, with a history CSV named as the sandbox names it."""
    return export_zip(
        path,
        stories_csv("E", [story(first), story(first + 1)]),
        history_csv(HISTORY),
        {f"{first}/design.png": b"\x89PNG fake"},
        stories_name=stories_name,
    )


def _project_ids(result: ExportRead) -> set[int]:
    return {
        r["project_id"] for stream, records in result.records.items() if stream != "projects" for r in records
    }


def _one_project(result: ExportRead) -> dict[str, Any]:
    assert result.errors == []
    (project,) = result.records["projects"]
    assert _project_ids(result) == {project["id"]}
    for stream in ("stories", "comments", "tasks", "labels", "iterations", "activity", "attachments"):
        assert result.records[stream], stream
    return project


@pytest.mark.parametrize("renamed", ["p1.zip", "export (2).zip", "download"])
def test_a_renamed_zip_is_one_project_named_by_the_csvs_inside(tmp_path: Path, renamed: str) -> None:
    archive = _zip(tmp_path / renamed)

    project = _one_project(read_export([str(archive)]))

    assert (project["name"], project["exported_at"]) == ("web_app", "2025-03-24T14:43:00Z")
    assert project["id"] == project_id("web_app")


def test_a_zip_whose_names_have_no_date_is_one_project_named_after_the_zip(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "web_app.zip", stories_name="stories.csv")

    project = _one_project(read_export([str(archive)]))

    assert (project["name"], project.get("exported_at")) == ("web_app", None)


def test_a_url_ending_in_an_opaque_key_is_one_project(tmp_path: Path, file_server: FileServer) -> None:
    file_server.files["/objects/3f9a8c7d"] = _zip(tmp_path / "x.zip").read_bytes()

    project = _one_project(read_export([file_server.url("/objects/3f9a8c7d") + "?X-Signature=s"]))

    assert project["name"] == "web_app" and project["export_file"] == "3f9a8c7d"


def test_exports_under_different_names_that_share_story_ids_are_one_project(tmp_path: Path) -> None:
    older = _zip(tmp_path / "web_app_20240101_120000-export.zip", stories_name="stories.csv")
    renamed = _zip(tmp_path / "p1.zip", stories_name="stories.csv")  # its own name says "p1"

    result = read_export([str(older), str(renamed)])

    project = _one_project(result)
    assert project["name"] == "web_app" and project["id"] == project_id("web_app")


def test_exports_that_share_no_story_and_no_name_are_two_projects(tmp_path: Path) -> None:
    first = _zip(tmp_path / "one.zip", stories_name="stories.csv", first=101)
    second = _zip(tmp_path / "two.zip", stories_name="stories.csv", first=201)

    result = read_export([str(first), str(second)])

    assert sorted(p["name"] for p in result.records["projects"]) == ["one", "two"]
    by_story = {s["id"]: s["project_id"] for s in result.records["stories"]}
    assert by_story[101] == by_story[102] != by_story[201] == by_story[202]


def _three_projects(folder: Path) -> None:
    """Three projects' stories CSVs with plain names; their iterations share numbers."""
    folder.mkdir()
    for name, first in (("web_app", 100), ("mobile", 200), ("ops", 300)):
        stories = [story(first + n, iteration=n, iteration_start=f"Mar {n}, 2020") for n in (1, 2, 3)]
        (folder / f"{name}.csv").write_bytes(stories_csv("D", stories))


def test_a_folder_of_three_projects_csvs_is_three_projects_as_a_folder_a_glob_and_a_list(
    tmp_path: Path,
) -> None:
    tracker = tmp_path / "tracker"
    _three_projects(tracker)

    folder = read_export([str(tracker)])
    glob = read_export([str(tracker / "*.csv")])
    listed = read_export([str(tracker / name) for name in ("ops.csv", "web_app.csv", "mobile.csv")])

    assert folder.errors == []
    assert sorted(p["name"] for p in folder.records["projects"]) == ["mobile", "ops", "web_app"]
    by_story = {s["id"]: s["project_id"] for s in folder.records["stories"]}
    assert by_story[101] == project_id("web_app") and by_story[201] == project_id("mobile")
    iterations = {(i["project_id"], i["number"]): i["story_ids"] for i in folder.records["iterations"]}
    assert len(iterations) == 9 and iterations[(project_id("ops"), 2)] == [302]
    assert {r["export_file"] for r in folder.records["stories"]} == {
        "web_app.csv",
        "mobile.csv",
        "ops.csv",
    }
    for other in (glob, listed):
        assert {s: _sorted(r) for s, r in other.records.items()} == {
            s: _sorted(r) for s, r in folder.records.items()
        }


def _sorted(records: list[dict[str, Any]]) -> list[str]:
    return sorted(repr(sorted(record.items())) for record in records)


def test_a_folder_of_two_csvs_that_share_story_ids_is_one_project(tmp_path: Path) -> None:
    (tmp_path / "done.csv").write_bytes(stories_csv("D", [story(1), story(2)]))
    (tmp_path / "backlog.csv").write_bytes(stories_csv("D", [story(2), story(3)]))

    result = read_export([str(tmp_path)])

    assert result.errors == []
    (project,) = result.records["projects"]
    assert sorted(s["id"] for s in result.records["stories"]) == [1, 2, 3]


def test_an_unzipped_export_with_its_history_is_one_project(tmp_path: Path) -> None:
    unzipped = tmp_path / "web_app_20250324_144303-export"
    unzipped.mkdir()
    (unzipped / "web_app_20250324_1443.csv").write_bytes(stories_csv("E", [story(101)]))
    (unzipped / "web_app_20250324_1443_history.csv").write_bytes(history_csv(HISTORY))
    (unzipped / "101").mkdir()
    (unzipped / "101" / "design.png").write_bytes(b"png")

    as_folder = read_export([str(unzipped)])
    as_files = read_export([str(path) for path in sorted(unzipped.rglob("*.csv"))])

    project = _one_project(as_folder)
    assert project["name"] == "web_app"
    assert _project_ids(as_files) == {project["id"]}


def test_export_projects_gives_every_record_the_real_project_id_and_name(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "p1.zip")
    rules = [{"match": "mobile*", "id": 7}, {"match": "WEB_APP*", "id": 1234567, "name": "Web App"}]

    result = read_export([str(archive)], export_projects=rules)

    project = _one_project(result)
    assert (project["id"], project["name"]) == (1234567, "Web App")
    # The activity's guid is then the API's own: `<project id>_<version>`.
    assert result.records["activity"][0]["guid"] == "1234567_812"


def test_export_projects_matches_the_file_name_too(tmp_path: Path) -> None:
    shutil.copy(_zip(tmp_path / "x.zip"), tmp_path / "board-2024.zip")

    result = read_export(
        [str(tmp_path / "board-2024.zip")], export_projects=[{"match": "board-*.zip", "id": 42}]
    )

    assert _one_project(result)["id"] == 42 and result.records["projects"][0]["name"] == "web_app"


def test_export_projects_giving_one_project_two_ids_is_an_error_naming_the_exports(tmp_path: Path) -> None:
    first = _zip(tmp_path / "first.zip", stories_name="a.csv")
    second = _zip(tmp_path / "second.zip", stories_name="b.csv")  # the same stories: one project
    rules = [{"match": "first", "id": 1}, {"match": "second", "id": 2}]

    result = read_export([str(first), str(second)], export_projects=rules)

    assert len(result.errors) == 2  # the problem, then the summary of the sync
    assert "first.zip" in result.errors[0] and "second.zip" in result.errors[0]
    assert "ids 1, 2" in result.errors[0]


@pytest.mark.parametrize(
    ("export_projects", "expected"),
    [
        ([{"match": "x", "id": "1"}], "'export_projects.0.id' must be of type integer"),
        ([{"id": 1}], "'export_projects.0.match' is required"),
        ([{"match": "x", "id": 0}], "'export_projects.0.id' must be at least 1"),
        (
            [{"match": "x", "id": 1, "project": 2}],
            "'export_projects.0' has a field the spec does not know ('project')",
        ),
    ],
)
def test_a_wrong_export_projects_rule_is_a_config_error_naming_the_field(
    export_projects: list[Any], expected: str
) -> None:
    spec = load_manifest()["spec"]["connection_specification"]
    problem = config_problem({"export_files": ["/local/a.zip"], "export_projects": export_projects}, spec)
    assert problem is not None and expected in problem


def test_export_projects_without_export_files_is_a_config_error() -> None:
    spec = load_manifest()["spec"]["connection_specification"]
    config = {
        "credentials": {"auth_type": "api_token", "api_token": "t"},
        "export_projects": [{"match": "x", "id": 1}],
    }
    problem = config_problem(config, spec)
    assert problem is not None and "'export_projects' applies to export files only" in problem
