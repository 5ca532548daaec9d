"""A STATE after every finished project of every incremental per-project stream.

The docs promise it, and a sync stopped after 5 of 6 projects must not read the 5 again. The CDK's
per-partition cursor emits state when a partition (here: one project) closes, but throttles it to
once every 600 seconds, and offers no setting for that. So every per-partition cursor the factory
builds is given a throttle that never holds a state back.
"""

from __future__ import annotations

import time
from typing import Any

from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import (
    ConcurrentPerPartitionCursor,
)


def emit_state_per_project(factory: Any) -> None:
    """Makes ``factory`` build per-partition cursors that emit a state as each partition closes."""
    build = factory.create_concurrent_cursor_from_perpartition_cursor

    def build_unthrottled(*args: Any, **kwargs: Any) -> ConcurrentPerPartitionCursor:
        cursor = build(*args, **kwargs)
        if not isinstance(cursor, ConcurrentPerPartitionCursor) or not hasattr(
            cursor, "_throttle_state_message"
        ):
            # A CDK upgrade changed the cursor: fail loudly rather than lose the promise silently.
            raise TypeError(f"unexpected per-partition cursor {type(cursor).__name__}")
        # The throttle returns the emission time, or None to hold the state back.
        cursor._throttle_state_message = time.time  # type: ignore[method-assign]
        return cursor

    factory.create_concurrent_cursor_from_perpartition_cursor = build_unthrottled
