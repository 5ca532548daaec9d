"""Projects Pivotal Tracker refused to the API, and what a sync that met them must say.

A project with API access disabled (or whose membership was removed) answers 403
unauthorized_operation on every per-project listing: its partitions are skipped with a warning,
and the other projects are read. A sync that skipped some projects succeeds, and its last log line
lists them, so a person reading the end of the log sees them. A sync that skipped every project it
selected read nothing: it ends with a config error that names the projects and why, never with a
success of 0 records.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from airbyte_cdk.models import AirbyteLogMessage, AirbyteMessage, FailureType, Level, Type
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

REFUSED = "API access disabled, or the user's membership removed (403 unauthorized_operation)"


class SkippedProjects:
    """The ids of the projects skipped during this read; CDK worker threads add to it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: set[str] = set()

    def add(self, project_id: str) -> None:
        with self._lock:
            self._ids.add(project_id)

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()

    def report(self, selected: Iterable[object]) -> Iterator[AirbyteMessage]:
        """The closing log line when some projects were skipped; an error when all of them were."""
        with self._lock:
            skipped = sorted(self._ids, key=lambda i: (len(i), i))
        if not skipped:
            return
        chosen = {str(project) for project in selected}
        names = ", ".join(skipped)
        if chosen and chosen <= set(skipped):
            raise AirbyteTracedException(
                message=(
                    f"No project could be read: Pivotal Tracker refused every selected project to the "
                    f"API ({names}): {REFUSED}. Enable API access in each project's settings, or select "
                    "other projects with project_ids."
                ),
                failure_type=FailureType.config_error,
            )
        text = (
            f"Skipped {len(skipped)} of {len(chosen) or len(skipped)} projects, which Pivotal Tracker "
            f"refused to the API ({REFUSED}): {names}."
        )
        yield AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.WARN, message=text))


SKIPPED_PROJECTS = SkippedProjects()
