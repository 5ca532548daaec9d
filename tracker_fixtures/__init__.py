"""What Tracker really answered, for both test trees: recorded responses and error bodies.

- ``tracker_samples/``: GET requests recorded against the live v5 API (MIT, see its README).
- ``errors/``: Tracker's error objects, one JSON file each (see its README).
- ``streams``: the connector's streams and their primary keys, one table.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).resolve().parent
SAMPLES_DIR = FIXTURES_DIR / "tracker_samples"
ERRORS_DIR = FIXTURES_DIR / "errors"


def error_body(name: str) -> dict[str, Any]:
    """A fresh copy of Tracker's error object ``errors/<name>.json`` (key order kept)."""
    body: dict[str, Any] = json.loads(_error_text(name))
    return body


@cache
def _error_text(name: str) -> str:
    path = ERRORS_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in ERRORS_DIR.glob("*.json")))
        raise ValueError(f"no Tracker error body named {name!r}; known: {known}")
    return path.read_text()
