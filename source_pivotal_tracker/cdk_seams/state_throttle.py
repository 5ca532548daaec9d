"""Seam `per-partition-state-throttle`: a STATE as each project (partition) finishes.

The CDK's per-partition cursor emits state when a partition closes, but holds it back unless 600 s
passed since the last one (`ConcurrentPerPartitionCursor._throttle_state_message`), with no setting.
Every per-partition cursor the factory builds gets a throttle that never holds a state back.
"""

from __future__ import annotations

import time
from typing import Any

from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import (
    ConcurrentPerPartitionCursor,
)
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory

from .broken import code_names, require

SEAM = "per-partition-state-throttle"
BUILDER = "create_concurrent_cursor_from_perpartition_cursor"
THROTTLE = "_throttle_state_message"


def emit_state_per_partition(factory: ModelToComponentFactory) -> None:
    """Makes `factory` build per-partition cursors that emit a state as each partition closes."""
    build = getattr(factory, BUILDER, None)
    require(SEAM, callable(build), f"ModelToComponentFactory.{BUILDER}")
    assert build is not None

    def build_unthrottled(*args: Any, **kwargs: Any) -> ConcurrentPerPartitionCursor:
        cursor = build(*args, **kwargs)
        require(
            SEAM,
            isinstance(cursor, ConcurrentPerPartitionCursor) and hasattr(cursor, THROTTLE),
            f"a ConcurrentPerPartitionCursor with {THROTTLE} (got {type(cursor).__name__})",
        )
        # The throttle returns the emission time, or None to hold the state back.
        cursor._throttle_state_message = time.time  # type: ignore[method-assign]
        return cursor

    setattr(factory, BUILDER, build_unthrottled)


def check() -> None:
    require(
        SEAM, callable(getattr(ModelToComponentFactory, BUILDER, None)), f"ModelToComponentFactory.{BUILDER}"
    )
    require(
        SEAM,
        callable(getattr(ConcurrentPerPartitionCursor, THROTTLE, None)),
        f"ConcurrentPerPartitionCursor.{THROTTLE}",
    )
    emit = getattr(ConcurrentPerPartitionCursor, "_emit_state_message", None)
    require(
        SEAM,
        THROTTLE in code_names(emit),
        f"ConcurrentPerPartitionCursor._emit_state_message calling {THROTTLE}",
    )
