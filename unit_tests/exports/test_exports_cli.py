"""Export mode through the installed `source-pivotal-tracker` command, as the platform runs it."""

from __future__ import annotations

from pathlib import Path

from integration_tests.harness import configured_catalog, run_connector
from unit_tests.exports.builder import export_zip, history_csv, stories_csv, story
from unit_tests.exports.file_server import FileServer


def _export(tmp_path: Path) -> str:
    return str(
        export_zip(
            tmp_path / "web_app_20250324_144303-export.zip",
            stories_csv("E", [story(101, blockers=[("#102", "blocked")]), story(102)]),
            history_csv([["5", "story_update", "Ana accepted it", "Ana", "Mar 1, 2025"]]),
            {"101/a.txt": b"a"},
        )
    )


def test_the_flat_config_checks_discovers_and_reads_every_stream(tmp_path: Path) -> None:
    config = {"export_files": [_export(tmp_path)]}

    check = run_connector("check", config)
    discover = run_connector("discover", config)
    catalog = configured_catalog(discover.only("CATALOG")["catalog"], incremental=False)
    read = run_connector("read", config, catalog)

    assert check.only("CONNECTION_STATUS")["connectionStatus"]["status"] == "SUCCEEDED"
    names = [s["name"] for s in discover.only("CATALOG")["catalog"]["streams"]]
    assert len(names) == 11 and "attachments" in names
    assert read.exit_code == 0, read.stderr[-2000:]
    assert read.errors == []
    counts = {stream: len(rows) for stream, rows in read.records.items()}
    assert counts == {
        "projects": 1,
        "stories": 2,
        "comments": 4,
        "tasks": 4,
        "blockers": 1,
        "labels": 2,
        "iterations": 1,
        "activity": 1,
        "attachments": 1,
    }
    for name in names:
        statuses = [status for stream, status in read.stream_statuses if stream == name]
        assert statuses[0] == "STARTED" and statuses[-1] == "COMPLETE", (name, statuses)
        assert "RUNNING" in statuses


def test_a_bad_row_fails_the_read_with_a_trace_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "web_app_20250324_1443.csv"
    bad.write_bytes(stories_csv("D", [story(1), story(2)]).replace(b"\n2,", b"\nxx,"))
    config = {"export_files": [str(bad)]}
    catalog = configured_catalog(
        run_connector("discover", config).only("CATALOG")["catalog"], ["stories"], False
    )

    read = run_connector("read", config, catalog)

    assert read.exit_code != 0
    assert any(f"{bad}, line 3" in e["message"] and e["failure_type"] == "config_error" for e in read.errors)
    assert ("stories", "INCOMPLETE") in read.stream_statuses
    assert "Traceback" not in read.stderr
    assert [s["id"] for s in read.records["stories"]] == [1]


def test_check_fails_naming_a_missing_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere" / "export.zip")
    check = run_connector("check", {"export_files": [missing]})

    status = check.only("CONNECTION_STATUS")["connectionStatus"]
    assert status["status"] == "FAILED" and missing in status["message"]


def test_a_config_with_credentials_and_export_files_is_a_config_error_naming_both(tmp_path: Path) -> None:
    config = {
        "credentials": {"auth_type": "api_token", "api_token": "x" * 32},
        "export_files": [_export(tmp_path)],
    }
    check = run_connector("check", config)

    status = check.only("CONNECTION_STATUS")["connectionStatus"]
    assert status["status"] == "FAILED"
    assert "'credentials'" in status["message"] and "'export_files'" in status["message"]


def test_a_password_in_an_export_url_is_never_printed(file_server: FileServer) -> None:
    # https passes the config's URL rule; nothing answers TLS there, so the download fails and
    # its error names the URL: the password in it must be masked wherever it would show.
    port = file_server.url("/").split(":")[2].split("/")[0]
    config = {"export_files": [f"https://reader:s3cr3t-pass@127.0.0.1:{port}/web_app.zip"]}

    check = run_connector("check", config, extra_args=["--debug"])
    read = run_connector("read", config, {"streams": []}, extra_args=["--debug"])

    status = check.only("CONNECTION_STATUS")["connectionStatus"]
    assert status["status"] == "FAILED" and "web_app.zip" in status["message"]
    for output in (check.stdout + check.stderr, read.stdout + read.stderr):
        assert "s3cr3t-pass" not in output
