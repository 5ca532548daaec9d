"""Checks of what the platform hands the connector besides the config: catalog and state.

Each turns a mistake that would otherwise end in a bare CDK error (a RuntimeError, "Something went
wrong", "date value out of range") or in a sync that reads nothing, into a config error or a
warning that names what is wrong.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from airbyte_cdk.models import ConfiguredAirbyteCatalog, FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

logger = logging.getLogger("airbyte")

# The cursor fields of the incremental streams, and the formats the manifest's cursor reads.
CURSOR_FIELDS = ("created_at", "updated_at", "occurred_at")
CURSOR_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ")


def _config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(
        message=message, internal_message=message, failure_type=FailureType.config_error
    )


def check_catalog(catalog: ConfiguredAirbyteCatalog | None, known: Iterable[str]) -> None:
    """A catalog must name each stream once, and at least one stream this connector has."""
    if catalog is None:
        return
    names = [configured.stream.name for configured in catalog.streams]
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise _config_error(f"The catalog lists the stream(s) {', '.join(repeated)} more than once.")
    known_names = set(known)
    unknown = sorted(set(names) - known_names)
    if names and not set(names) & known_names:
        raise _config_error(
            f"The catalog names no stream of this connector (unknown: {', '.join(unknown)}); "
            f"its streams are {', '.join(sorted(known_names))}."
        )
    if unknown:
        logger.warning(f"The catalog names unknown streams, which are not read: {', '.join(unknown)}.")


def check_state(state: Any) -> None:
    """Every stream state has the shape the connector writes, and every cursor value in it is a
    date-time the connector can read."""
    for message in state or []:
        stream = getattr(getattr(message, "stream", None), "stream_descriptor", None)
        blob = getattr(getattr(message, "stream", None), "stream_state", None)
        if stream is None or blob is None:
            continue
        shape = _shape_problem(_as_dict(blob))
        if shape:
            # Left to the CDK, a per-project state of another shape is "Something went wrong".
            raise _config_error(
                f"The state of stream '{stream.name}' is not a state this connector writes: {shape}; "
                "fix or reset the stream's state."
            )
        for field, value in _cursor_values(_as_dict(blob)):
            if not _is_cursor_date(value):
                raise _config_error(
                    f"The state of stream '{stream.name}' holds {str(value)[:40]!r} for {field}, which is "
                    "not a date-time like 2024-01-31T12:00:00Z: fix or reset the stream's state."
                )


def warn_unmatched_project_ids(config: Mapping[str, Any], project_ids_read: Iterable[Any]) -> None:
    wanted = config.get("project_ids") or []
    missing = sorted(set(wanted) - set(project_ids_read), key=str)
    if missing:
        logger.warning(
            f"project_ids {', '.join(str(p) for p in missing)} match no project the user can see: "
            "check the ids, or the user's membership."
        )


def _as_dict(blob: Any) -> Mapping[str, Any]:
    if isinstance(blob, Mapping):
        return blob
    return dict(getattr(blob, "__dict__", {}))


def _shape_problem(state: Mapping[str, Any]) -> str | None:
    """What breaks the per-project state's shape, {"states": [{"partition": {…}, "cursor": {…}}],
    "state": {…}}, or None."""
    if "state" in state and not isinstance(state["state"], Mapping):
        return "'state' must be an object"
    if "states" not in state:
        return None
    entries = state["states"]
    if not isinstance(entries, list):
        return "'states' must be a list"
    for index, entry in enumerate(entries):
        for part in ("partition", "cursor"):
            if not isinstance(entry, Mapping) or not isinstance(entry.get(part), Mapping):
                return f"'states.{index}' must be an object with a '{part}' object"
    return None


def _cursor_values(state: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    """(field, value) of every cursor in a flat, global or per-partition state."""
    cursors = [state, state.get("state")]
    cursors += [entry.get("cursor") for entry in state.get("states") or [] if isinstance(entry, Mapping)]
    for cursor in cursors:
        if isinstance(cursor, Mapping):
            for field in CURSOR_FIELDS:
                if field in cursor:
                    yield field, cursor[field]


def _is_cursor_date(value: Any) -> bool:
    for layout in CURSOR_FORMATS:
        try:
            datetime.strptime(str(value), layout)
        except ValueError:
            continue
        return True
    return False
