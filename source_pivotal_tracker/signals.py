"""SIGINT and SIGTERM end a sync at once, cleanly, with the output whole up to that point.

Left to Python, SIGINT raises KeyboardInterrupt in the main thread only: the CDK's worker threads
go on (with one worker the process never ends) and a traceback is printed. SIGTERM kills the
process with messages still in the CDK's print buffer. Instead, the handler writes out every
message already produced (each one whole, so the last STATE stands: it covers only records
printed before it), reports the stop as a transient error, and ends the process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from types import FrameType

import orjson
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    FailureType,
    TraceType,
    Type,
)
from airbyte_cdk.utils.datetime_helpers import ab_datetime_now

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stop_on_signals() -> None:
    """Installs the handler for SIGINT and SIGTERM (from the main thread, as Python requires)."""
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _stop)


def _stop(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    with contextlib.suppress(Exception):
        # The CDK's PrintBuffer (sys.stdout during a command) holds whole messages: write them.
        sys.stdout.flush()
    message = (
        f"The sync was stopped by {name}. The next sync resumes from the last STATE message "
        "emitted before the stop."
    )
    trace = AirbyteTraceMessage(
        type=TraceType.ERROR,
        emitted_at=ab_datetime_now().to_epoch_millis(),
        error=AirbyteErrorTraceMessage(message=message, failure_type=FailureType.transient_error),
    )
    line = orjson.dumps(AirbyteMessageSerializer.dump(AirbyteMessage(type=Type.TRACE, trace=trace)))
    with contextlib.suppress(OSError):
        os.write(sys.__stdout__.fileno() if sys.__stdout__ else 1, line + b"\n")
    # Worker threads may be waiting on the network: no clean-up could make them stop sooner.
    os._exit(128 + signum)
