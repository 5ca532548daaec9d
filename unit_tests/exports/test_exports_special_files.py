"""Only regular files are opened: a FIFO, socket or device is an error naming it, never a hang."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

from integration_tests.harness import ConnectorRun, run_connector
from unit_tests.exports.builder import stories_csv, story
from unit_tests.exports.reading import catalog

# Opening a FIFO waits for a writer: a regression must fail here, not hang the suite.
TIMEOUT = 30


@pytest.fixture
def bound_socket(tmp_path: Path) -> Iterator[Path]:
    """A UNIX socket file, closed when the test ends."""
    path = tmp_path / "agent.csv"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    try:
        yield path
    finally:
        server.close()


def _check_and_read(entries: list[str]) -> tuple[ConnectorRun, ConnectorRun]:
    config = {"export_files": entries}
    check = run_connector("check", config, timeout=TIMEOUT)
    read = run_connector(
        "read", config, ConfiguredAirbyteCatalogSerializer.dump(catalog(("stories",))), timeout=TIMEOUT
    )
    return check, read


def _assert_named(check: ConnectorRun, read: ConnectorRun, path: str, kind: str) -> None:
    status = check.only("CONNECTION_STATUS")["connectionStatus"]
    assert status["status"] == "FAILED"
    assert path in status["message"] and kind in status["message"], status["message"]
    assert read.exit_code != 0
    assert any(path in error["message"] and kind in error["message"] for error in read.errors), read.errors


def test_a_fifo_named_directly_is_an_error_naming_it(tmp_path: Path) -> None:
    fifo = tmp_path / "web_app_20240101_1200.csv"
    os.mkfifo(fifo)

    check, read = _check_and_read([str(fifo)])

    _assert_named(check, read, str(fifo), "is a FIFO (named pipe): only regular files are read")


def test_a_fifo_in_a_folder_is_an_error_and_the_other_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "web_app_20240101_1200.csv").write_bytes(stories_csv("D", [story(1), story(2)]))
    fifo = tmp_path / "mobile_20240101_1200.csv"
    os.mkfifo(fifo)

    for entries in ([str(tmp_path)], [str(tmp_path / "*.csv")]):
        check, read = _check_and_read(entries)

        _assert_named(check, read, str(fifo), "is a FIFO")
        assert sorted(s["id"] for s in read.records["stories"]) == [1, 2], entries


def test_a_socket_in_a_folder_is_an_error_naming_it(tmp_path: Path, bound_socket: Path) -> None:
    (tmp_path / "web_app_20240101_1200.csv").write_bytes(stories_csv("D", [story(1)]))

    check, read = _check_and_read([str(tmp_path)])

    _assert_named(check, read, str(bound_socket), "is a socket")
    assert [s["id"] for s in read.records["stories"]] == [1]


def test_a_device_named_directly_is_an_error_naming_it() -> None:
    check, read = _check_and_read(["/dev/null"])

    _assert_named(check, read, "/dev/null", "is a character device")
