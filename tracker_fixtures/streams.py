"""The connector's streams and their primary keys: the one table the tests and scripts read.

unit_tests/test_manifest_structure.py checks it against what `discover` says, so a stream added
to the manifest and not here (or the other way round) fails there first.
"""

from __future__ import annotations

from typing import Any

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "projects": ("id",),
    "epics": ("id",),
    "stories": ("id",),
    "notifications": ("id",),
    "project_memberships": ("id",),
    "labels": ("id",),
    "releases": ("id",),
    "activity": ("guid",),
    "iterations": ("project_id", "number"),
    "story_transitions": ("story_id", "project_version"),
    "comments": ("id",),
    "tasks": ("id",),
    "blockers": ("id",),
    "accounts": ("id",),
}
ALL_STREAMS: tuple[str, ...] = tuple(PRIMARY_KEYS)


def primary_key(record: dict[str, Any], stream: str) -> Any:
    """The record's primary key: the value of a one-field key, else a tuple of the values."""
    fields = PRIMARY_KEYS[stream]
    if len(fields) == 1:
        return record[fields[0]]
    return tuple(record[field] for field in fields)
