"""The README's PyAirbyte snippets, read from README.md itself, so the test runs what users copy.

Only the values a user fills in (token, URL, file path) and the command's location are replaced;
each replacement must match exactly once, so a README edit that moves them fails here, by name,
instead of silently testing something else.
"""

from __future__ import annotations

import re
from pathlib import Path

from integration_tests.harness import REPO

SECTION = "**PyAirbyte**:"


def pyairbyte_snippets(readme: Path = REPO / "README.md") -> tuple[str, str]:
    """The section's two Python blocks: the API read, then the export read into DuckDB."""
    text = readme.read_text()
    if SECTION not in text:
        raise AssertionError(f"{readme.name} has no {SECTION!r} section any more")
    blocks = re.findall(r"```python\n(.*?)```", text.split(SECTION, 1)[1], flags=re.S)
    if len(blocks) < 2:
        raise AssertionError(f"{readme.name}: expected two ```python blocks after {SECTION!r}")
    return blocks[0], blocks[1]


def adapt(snippet: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        count = snippet.count(old)
        if count != 1:
            raise AssertionError(f"README's PyAirbyte snippet has {old!r} {count} times, expected once")
        snippet = snippet.replace(old, new)
    return snippet
