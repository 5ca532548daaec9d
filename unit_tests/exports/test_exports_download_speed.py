"""The speed floor of export downloads: a trickle fails naming the URL, an honest slow link is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from source_pivotal_tracker.exports import downloads
from unit_tests.exports.builder import stories_csv, story
from unit_tests.exports.file_server import FileServer
from unit_tests.exports.reading import read_export

# A small window so the suite stays fast; the floor is far below the steady server's 64 KiB/s.
FLOOR = {downloads.MIN_SPEED_ENV: "4096", downloads.MIN_SPEED_WINDOW_ENV: "0.5"}


@pytest.fixture
def temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder downloads go to, to see that nothing stays in it."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    monkeypatch.setattr(downloads.tempfile, "tempdir", str(folder))
    monkeypatch.setattr(downloads, "RETRY_BACKOFF_SECONDS", 0.01)
    for name, value in FLOOR.items():
        monkeypatch.setenv(name, value)
    return folder


def test_a_trickling_download_fails_naming_the_url_bytes_and_speed_and_leaves_no_file(
    file_server: FileServer, temporary: Path
) -> None:
    # 3,000 bytes at 200 bytes/s: 15 s per attempt, whole, without the floor.
    file_server.files["/exports/web_app.csv"] = stories_csv("E", [story(i) for i in range(101, 131)])[:3000]
    file_server.rates["/exports/web_app.csv"] = 200
    url = file_server.url("/exports/web_app.csv")

    result = read_export([url + "?X-Signature=secret"])

    (error, *_) = result.errors
    assert f"{url}: cannot be downloaded after 3 attempts" in error, error
    assert "bytes/s" in error and "below the floor of 4,096 bytes/s over 0.5 s" in error
    assert "bytes received" in error and "secret" not in error
    assert len(file_server.requests) == downloads.DOWNLOAD_ATTEMPTS
    assert list(temporary.iterdir()) == []


def test_a_steady_slow_download_above_the_floor_is_read_in_full(
    file_server: FileServer, temporary: Path
) -> None:
    content = stories_csv("E", [story(i) for i in range(101, 111)])
    padding = b"\n" * (96 * 1024 - len(content))  # blank lines: 96 KiB, 1.5 s at 64 KiB/s
    file_server.files["/exports/web_app_20250101_1200.csv"] = content + padding
    file_server.rates["/exports/web_app_20250101_1200.csv"] = 64 * 1024

    result = read_export([file_server.url("/exports/web_app_20250101_1200.csv")])

    assert result.errors == []
    assert [s["id"] for s in result.records["stories"]] == list(range(101, 111))
    assert len(file_server.requests) == 1
    assert list(temporary.iterdir()) == []


def test_the_floor_measures_the_average_over_its_window(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(downloads.time, "monotonic", lambda: clock[0])
    monkeypatch.setenv(downloads.MIN_SPEED_ENV, "1000")
    monkeypatch.setenv(downloads.MIN_SPEED_WINDOW_ENV, "10")
    floor = downloads.SpeedFloor()
    received = 0
    for _ in range(30):  # a fast start, then 1,500 bytes/s: above the floor, for 30 s
        clock[0] += 1
        received += 1500
        floor.observe(received)
    with pytest.raises(downloads.TooSlow, match=r"below the floor of 1,000 bytes/s over 10 s"):
        for _ in range(12):  # 500 bytes/s: the window's average falls below within 10 s
            clock[0] += 1
            received += 500
            floor.observe(received)
    assert clock[0] <= 42
