"""Fixtures of the export tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from unit_tests.exports.file_server import FileServer, serving


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    """Serves files on 127.0.0.1 for URL entries; stops when the test ends."""
    with serving() as server:
        yield server
