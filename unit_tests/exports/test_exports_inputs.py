"""Where exports come from: project ZIPs, folders, globs, https URLs, the history CSV, attachments."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from airbyte_cdk.models import Status

from source_pivotal_tracker.checks.config_checks import config_problem
from source_pivotal_tracker.exports import downloads, inputs
from source_pivotal_tracker.exports.ids import project_id
from source_pivotal_tracker.runtime.limits import TIMEOUT_ENV
from source_pivotal_tracker.source import load_manifest
from unit_tests.exports.builder import export_zip, history_csv, stories_csv, story
from unit_tests.exports.file_server import FileServer, serving
from unit_tests.exports.reading import check_export, read_export

HISTORY_ROWS = [
    ["812", "story_update", "Georgia accepted this feature", "Georgia", "2024-11-05T10:15:00Z"],
    ["811", "comment_create", "Li Wei added a comment", "Li Wei", "Nov 4, 2024 9:00 AM"],
]


def _project_zip(path: Path, folder: str | None = "web_app_20250324_144303-export") -> Path:
    return export_zip(
        path,
        stories_csv("E", [story(101), story(102)]),
        history_csv(HISTORY_ROWS),
        {"101/design.png": b"\x89PNG fake", "102/notes.txt": b"hello"},
        folder=folder,
        stories_name="web_app_20250324_1443.csv",
    )


def test_a_project_zip_gives_stories_activity_and_attachments(tmp_path: Path) -> None:
    archive = _project_zip(tmp_path / "web_app_20250324_144303-export.zip")
    result = read_export([str(archive)])

    assert result.errors == []
    web_app = project_id("web_app")
    assert [s["id"] for s in result.records["stories"]] == [101, 102]
    assert {s["project_id"] for s in result.records["stories"]} == {web_app}
    assert result.records["projects"] == [
        {
            "kind": "project",
            "id": web_app,
            "name": "web_app",
            "exported_at": "2025-03-24T14:43:03Z",
            "export_file": "web_app_20250324_144303-export.zip",
        }
    ]
    assert {r["export_file"] for records in result.records.values() for r in records} == {
        "web_app_20250324_144303-export.zip"
    }
    first = result.one("activity", project_version=812)
    assert first == {
        "kind": "story_update",
        "guid": f"{web_app}_812",
        "project_version": 812,
        "message": "Georgia accepted this feature",
        "performed_by": {"name": "Georgia"},
        "occurred_at": "2024-11-05T10:15:00Z",
        "project_id": web_app,
        "export_file": "web_app_20250324_144303-export.zip",
    }
    assert result.one("activity", project_version=811)["occurred_at"] == "2024-11-04T09:00:00Z"
    attachments = sorted(result.records["attachments"], key=lambda a: a["path"])
    assert attachments == [
        {
            "story_id": 101,
            "project_id": web_app,
            "path": "101/design.png",
            "file_name": "design.png",
            "size": 9,
            "sha256": hashlib.sha256(b"\x89PNG fake").hexdigest(),
            "export_file": "web_app_20250324_144303-export.zip",
        },
        {
            "story_id": 102,
            "project_id": web_app,
            "path": "102/notes.txt",
            "file_name": "notes.txt",
            "size": 5,
            "sha256": hashlib.sha256(b"hello").hexdigest(),
            "export_file": "web_app_20250324_144303-export.zip",
        },
    ]
    every_stream = {name for name, _ in result.statuses}
    assert ("attachments", "COMPLETE") in result.statuses and len(every_stream) == 11


def test_csvs_inside_a_zip_are_found_by_their_header_not_their_name(tmp_path: Path) -> None:
    archive = export_zip(
        tmp_path / "export.zip",
        history_csv(HISTORY_ROWS),
        stories_name="a.csv",
        attachments={"b.csv": stories_csv("D", [story(5)])},
    )
    result = read_export([str(archive)])

    assert result.errors == []
    assert [s["id"] for s in result.records["stories"]] == [5]
    assert len(result.records["activity"]) == 2
    # Without an export-like name the archive's own name is the project's.
    assert result.records["projects"][0]["name"] == "export"


def test_an_unzipped_export_folder_reads_like_its_zip(tmp_path: Path) -> None:
    archive = _project_zip(tmp_path / "web_app_20250324_144303-export.zip")
    unzipped = tmp_path / "unzipped"
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(unzipped)
    (unzipped / "web_app_20250324_144303-export" / "README.md").write_text("not part of the export")

    from_zip = read_export([str(archive)])
    from_folder = read_export([str(unzipped)])

    assert from_folder.errors == []
    assert from_folder.without_export_file() == from_zip.without_export_file()
    assert {s["export_file"] for s in from_folder.records["stories"]} == {"web_app_20250324_1443.csv"}
    assert any("README.md" in log for log in from_folder.logs)


def test_a_folder_of_several_projects_and_a_glob(tmp_path: Path) -> None:
    (tmp_path / "alpha_20240101_1200.csv").write_bytes(stories_csv("D", [story(1)]))
    (tmp_path / "beta_20240102_1300.csv").write_bytes(stories_csv("B", [story(2)]))
    (tmp_path / "notes.txt").write_text("ignored")

    folder = read_export([str(tmp_path)])
    glob = read_export([str(tmp_path / "*.csv")])

    assert folder.errors == glob.errors == []
    by_story = {s["id"]: s["project_id"] for s in folder.records["stories"]}
    assert by_story == {1: project_id("alpha"), 2: project_id("beta")}
    assert sorted(p["name"] for p in folder.records["projects"]) == ["alpha", "beta"]
    assert glob.records == folder.records


def test_two_exports_of_one_project_share_the_project_and_every_id(tmp_path: Path) -> None:
    content = stories_csv("E", [story(1, blockers=[("#2", "blocked")]), story(2)])
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "web_app_20240101_1200.csv").write_bytes(content)
    (tmp_path / "web_app_20250101_1200.csv").write_bytes(content)

    older = read_export([str(tmp_path / "old" / "web_app_20240101_1200.csv")])
    both = read_export(
        [str(tmp_path / "old" / "web_app_20240101_1200.csv"), str(tmp_path / "web_app_20250101_1200.csv")]
    )
    again = read_export([str(tmp_path / "old" / "web_app_20240101_1200.csv")])

    assert older.records == again.records  # derived ids are stable across re-reads
    for stream in ("comments", "tasks", "blockers", "labels"):
        ids = [r["id"] for r in older.records[stream]]
        assert len(set(ids)) == len(ids) and all(0 < i < 2**53 for i in ids)
        # Merged: each record once, with the same ids, from the newest export.
        assert sorted(r["id"] for r in both.records[stream]) == sorted(ids)
    (project,) = both.records["projects"]
    assert project["exported_at"] == "2025-01-01T12:00:00Z"  # the newest export names the project
    newest = "web_app_20250101_1200.csv"
    assert {r["export_file"] for records in both.records.values() for r in records} == {newest}
    (iteration,) = both.records["iterations"]
    assert iteration["story_ids"] == [1, 2]


def test_a_url_is_downloaded_with_retries_and_its_temporary_file_removed(
    tmp_path: Path, file_server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(downloads, "RETRY_BACKOFF_SECONDS", 0.01)
    temporary = tmp_path / "downloads"
    temporary.mkdir()
    monkeypatch.setattr(downloads.tempfile, "tempdir", str(temporary))
    archive = _project_zip(tmp_path / "web_app_20250324_144303-export.zip")
    file_server.files["/exports/web_app_20250324_144303-export.zip"] = archive.read_bytes()
    file_server.failures["/exports/web_app_20250324_144303-export.zip"] = 2
    url = file_server.url("/exports/web_app_20250324_144303-export.zip") + "?X-Signature=secret"

    result = read_export([url])

    assert result.errors == []
    assert [s["id"] for s in result.records["stories"]] == [101, 102]
    assert result.records["projects"][0]["name"] == "web_app"
    assert len(file_server.requests) == 3
    assert list(temporary.iterdir()) == []


def test_a_url_that_keeps_failing_is_an_error_naming_it_without_its_query(
    file_server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(downloads, "RETRY_BACKOFF_SECONDS", 0.01)
    missing = read_export([file_server.url("/nothing.zip") + "?token=hunter2"])
    file_server.failures["/down.csv"] = 10
    down = read_export([file_server.url("/down.csv")])

    assert len(missing.errors) == 2 and "HTTP 404" in missing.errors[0]
    assert file_server.url("/nothing.zip") in missing.errors[0]
    assert "hunter2" not in " ".join(missing.errors)
    assert "after 3 attempts" in down.errors[0] and "HTTP 503" in down.errors[0]


def test_a_url_that_does_not_answer_times_out_as_every_request_does(
    file_server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(downloads, "RETRY_BACKOFF_SECONDS", 0.01)
    monkeypatch.setenv(TIMEOUT_ENV, "0.2")  # the one timeout setting of the connector (http_safety)
    file_server.files["/slow.csv"] = stories_csv("E", [story(101)])
    file_server.stall["/slow.csv"] = 30

    result = read_export([file_server.url("/slow.csv")])

    assert len(file_server.requests) == 3
    assert "after 3 attempts" in result.errors[0] and "ReadTimeout" in result.errors[0]


def test_a_redirected_url_is_followed_to_the_file(file_server: FileServer) -> None:
    file_server.files["/storage/web_app_20250101_1200.csv"] = stories_csv("E", [story(101)])
    file_server.redirects["/signed/export.csv"] = "/hop"
    file_server.redirects["/hop"] = file_server.url("/storage/web_app_20250101_1200.csv")

    result = read_export([file_server.url("/signed/export.csv")])

    assert result.errors == []
    assert [s["id"] for s in result.records["stories"]] == [101]
    assert [r.split("?")[0] for r in file_server.requests] == [
        "/signed/export.csv",
        "/hop",
        "/storage/web_app_20250101_1200.csv",
    ]


def test_a_redirect_to_a_url_export_files_refuses_is_not_followed(file_server: FileServer) -> None:
    def allowed(url: str) -> bool:  # as the https rule refuses plain http off this machine
        return "127.0.0.2" not in url

    with serving(host="127.0.0.2") as other:  # "another host": it must receive nothing
        file_server.redirects["/export.zip"] = other.url("/export.zip", host="127.0.0.2")
        file_server.redirects["/loop.zip"] = "/loop.zip"
        with inputs.export_members(
            [file_server.url("/export.zip"), file_server.url("/loop.zip")], allowed
        ) as resolved:
            problems = [str(problem) for problem in resolved.problems]

    assert other.requests == []
    assert "was redirected to a URL that is not https" in problems[0]
    assert f"was redirected more than {downloads.MAX_REDIRECTS} times" in problems[1]


def test_config_accepts_https_and_loopback_urls_and_refuses_plain_http_elsewhere() -> None:
    spec = load_manifest()["spec"]["connection_specification"]
    assert (
        config_problem({"export_files": ["https://example.com/x.zip", "http://127.0.0.1:8/x.csv"]}, spec)
        is None
    )
    problem = config_problem({"export_files": ["/local/a.zip", "http://example.com/x.zip"]}, spec)
    assert problem is not None and "'export_files.1'" in problem and "https://" in problem


@pytest.mark.parametrize(
    "config",
    [{}, {"credentials": {"auth_type": "api_token", "api_token": "t"}, "export_files": ["/local/a.zip"]}],
    ids=["neither", "both"],
)
def test_config_needs_exactly_one_of_credentials_and_export_files(config: dict) -> None:
    problem = config_problem(config, load_manifest()["spec"]["connection_specification"])
    assert problem is not None and "'credentials'" in problem and "'export_files'" in problem


@pytest.mark.parametrize("files", [[], [""], [3]], ids=["empty-list", "empty-string", "not-a-string"])
def test_config_export_files_must_be_non_empty_strings(files: list) -> None:
    problem = config_problem({"export_files": files}, load_manifest()["spec"]["connection_specification"])
    assert problem is not None and "export_files" in problem


def test_check_succeeds_on_a_zip_and_fails_naming_a_file_that_is_not_an_export(tmp_path: Path) -> None:
    archive = _project_zip(tmp_path / "web_app_20250324_144303-export.zip")
    other = tmp_path / "people.csv"
    other.write_text("Name,Email\nAna,ana@example.com\n")

    assert check_export([str(archive)]) == (Status.SUCCEEDED, None)
    status, message = check_export([str(archive), str(other)])
    assert status == Status.FAILED
    assert str(other) in message and "line 1" in message and "not a Tracker export" in message


def test_the_flat_config_passes_a_plain_jsonschema_validation_of_the_spec() -> None:
    # PyAirbyte validates a config with jsonschema against the spec before it runs anything.
    import jsonschema

    spec = load_manifest()["spec"]["connection_specification"]
    jsonschema.validate({"export_files": ["/local/tracker/web_app_20250324_144303-export.zip"]}, spec)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"export_files": []}, spec)


APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02" + b"\x00" * 40


def test_macos_metadata_files_beside_an_export_are_left_alone(tmp_path: Path) -> None:
    # Finder's Compress adds `__MACOSX/` with a binary `._<name>` per file, and copies to USB or
    # network drives leave `._<name>` beside each file: neither is part of the export.
    archive = _project_zip(tmp_path / "web_app_20250324_144303-export.zip", folder="web_app")
    with zipfile.ZipFile(archive, "a") as opened:
        opened.writestr("__MACOSX/web_app/._web_app_20250324_1443.csv", APPLE_DOUBLE)
        opened.writestr("__MACOSX/web_app/101/._design.png", APPLE_DOUBLE)
    folder = tmp_path / "copied"
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder)
    (folder / "web_app" / "._web_app_20250324_1443.csv").write_bytes(APPLE_DOUBLE)
    (folder / "web_app" / "101" / "._design.png").write_bytes(APPLE_DOUBLE)

    for entry in (archive, folder):
        result = read_export([str(entry)])
        assert result.errors == [], entry
        assert [s["id"] for s in result.records["stories"]] == [101, 102]
        assert sorted(a["path"] for a in result.records["attachments"]) == ["101/design.png", "102/notes.txt"]
        assert sum("._web_app_20250324_1443.csv" in log and "left alone" in log for log in result.logs) >= 1


def test_exports_sorted_into_year_folders_are_read_as_exports_not_attachments(tmp_path: Path) -> None:
    # A folder named by a number holds a story's attachments, but `2021/` beside it is a user's
    # year: a CSV or ZIP there named like an export is one. A story's own CSV stays an attachment.
    year = tmp_path / "2021"
    year.mkdir()
    (year / "alpha_20210302_1428.csv").write_bytes(stories_csv("D", [story(1)]))
    _project_zip(year / "web_app_20210324_144303-export.zip", folder=None)
    attachment = tmp_path / "beta_20200101_1200-export" / "5"
    attachment.mkdir(parents=True)
    (attachment / "figures.csv").write_text("a,b\n1,2\n")

    result = read_export([str(tmp_path)])

    assert result.errors == []
    assert sorted(s["id"] for s in result.records["stories"]) == [1, 101, 102]
    assert sorted(p["name"] for p in result.records["projects"]) == ["alpha", "beta", "web_app"]
    assert sorted(a["path"] for a in result.records["attachments"]) == [
        "101/design.png",
        "102/notes.txt",
        "5/figures.csv",
    ]
