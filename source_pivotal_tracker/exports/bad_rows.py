"""The `on_bad_rows` policy: a row that cannot be read fails the file (the default) or is skipped.

Only a row that was read whole and then found wrong (an id, date or estimate Tracker would not have
written, a row wider than the header) can be skipped: the rows after it are still where they were.
Damage that leaves the rest of the file unplaced (an unclosed quote, a cell or line past the limits,
a byte that is not UTF-8) is raised by the reader itself, outside this policy, and fails either way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from .errors import ExportError


class BadRows:
    """What one read does with unreadable rows, and which it skipped, by file."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.skip = config.get("on_bad_rows", "fail") == "skip"
        self.skipped: Counter[str] = Counter()

    def found(self, file: str, line: int, problem: str) -> str:
        """The warning for a skipped row; with the default policy, the file's error instead."""
        if not self.skip:
            raise ExportError(file, problem, line)
        self.skipped[file] += 1
        return f"{file}, line {line}: row skipped ({problem})"

    def summary(self) -> str | None:
        """One line for the end of the sync, when any row was skipped."""
        if not self.skipped:
            return None
        rows, files = sum(self.skipped.values()), len(self.skipped)
        return f"{rows} row{'s' if rows != 1 else ''} skipped in {files} file{'s' if files != 1 else ''}"
