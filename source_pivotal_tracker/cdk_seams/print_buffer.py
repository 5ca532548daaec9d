"""Seam `print-buffer`: the CDK's PRINT_BUFFER, which stands for sys.stdout during a command.

Its `flush` is replaced (signals.py: a stop signal must never repeat or cut a message), and export
runs of records are written past it after flushing it under its lock (fast_output.write_records).
Both use its `buffer` (a StringIO) and `lock` (an RLock), which it does not publish.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from airbyte_cdk.entrypoint import PRINT_BUFFER

from .broken import require

SEAM = "print-buffer"


def print_buffer() -> AbstractContextManager[Any]:
    """`with print_buffer():` sends sys.stdout through the CDK's buffer, as the CDK's launch() does."""
    return PRINT_BUFFER  # type: ignore[return-value]


def output_lock() -> Any:
    return PRINT_BUFFER.lock


def take_buffered_text() -> str:
    """What the buffer holds, leaving it empty (call under output_lock())."""
    text: str = PRINT_BUFFER.buffer.getvalue()
    PRINT_BUFFER.buffer = io.StringIO()
    return text


def flush() -> None:
    PRINT_BUFFER.flush()


def replace_flush(flush_function: Callable[[], None]) -> None:
    PRINT_BUFFER.flush = flush_function  # type: ignore[method-assign]


def check() -> None:
    require(
        SEAM,
        isinstance(getattr(PRINT_BUFFER, "buffer", None), io.StringIO),
        "PRINT_BUFFER.buffer (a StringIO)",
    )
    lock = getattr(PRINT_BUFFER, "lock", None)
    require(
        SEAM, lock is not None and isinstance(lock, type(threading.RLock())), "PRINT_BUFFER.lock (an RLock)"
    )
    require(SEAM, callable(getattr(PRINT_BUFFER, "flush", None)), "PRINT_BUFFER.flush")
