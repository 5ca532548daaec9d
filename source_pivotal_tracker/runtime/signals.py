"""SIGINT and SIGTERM end a sync at once, cleanly, with the output whole up to that point.

Left to Python, SIGINT raises KeyboardInterrupt in the main thread only: the CDK's worker threads
go on (with one worker the process never ends) and a traceback is printed. SIGTERM kills the
process with messages still in the CDK's print buffer. Instead, the handler writes out every
message already produced (each one whole, so the last STATE stands: it covers only records
printed before it), reports the stop as a transient error, and ends the process by the signal
itself: callers such as PyAirbyte take -15 for the SIGTERM they sent, an exit code of 143 for a
failure.

A signal that lands while messages are being written waits for that write to end (STOP_GRACE
seconds at most: a reader that has gone leaves a full pipe that no write can finish). Left alone,
the handler repeated what the print buffer's flush had just written, when it landed between the
write and the buffer's reset; and a signal that cut a large write short (a partial write to a
pipe) made Python drop the rest of it, and the handler's trace went into the middle of a message.
PyAirbyte stops the connector the moment it has read the message it wanted, often inside that
very flush: with the repeated CATALOG filling the pipe, `discover` hung until PyAirbyte's SIGKILL.
So the print buffer's flush is replaced with one that takes the buffer before it writes and writes
with os.write to the last byte, and a second signal ends the process at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import NoReturn

from airbyte_cdk.models import FailureType

from ..cdk_seams import print_buffer
from .closed_output import end_quietly
from .error_trace import error_trace_line

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_GRACE = 2.0
_writes = 0  # writes of messages in progress, counted under PRINT_BUFFER.lock
_waiting: int | None = None  # a stop signal that waits for the write in progress
_stopping = False
_temporary: set[str] = set()  # folders removed_on_stop


@contextlib.contextmanager
def removed_on_stop(path: str) -> Iterator[str]:
    """A temporary folder (a download), removed when the block ends or a stop signal comes.

    The stop ends the process at once (os._exit, no clean-up of its own): a download of up to
    16 GiB, whole or partial, would stay in the temporary folder.
    """
    _temporary.add(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        _temporary.discard(path)


def _remove_temporaries() -> None:
    for path in list(_temporary):
        shutil.rmtree(path, ignore_errors=True)


def stop_on_signals() -> None:
    """Installs the handler for SIGINT and SIGTERM (from the main thread, as Python requires)."""
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _stop)
    print_buffer.replace_flush(flush_output)


@contextlib.contextmanager
def writing_output() -> Iterator[None]:
    """A write of messages to stdout, under PRINT_BUFFER.lock: a stop signal waits for its end."""
    global _writes
    with print_buffer.output_lock():
        _writes += 1
        try:
            yield
        finally:
            _writes -= 1
            if _writes == 0 and _waiting is not None and not _stopping:
                _end(_waiting)


def flush_output() -> None:
    """The CDK's PrintBuffer.flush, whole: the buffer is taken before its text is written."""
    with writing_output():
        text = print_buffer.take_buffered_text()
        stdout = sys.__stdout__
        if text and stdout is not None:
            write_output(text.encode(stdout.encoding, stdout.errors or "strict"))


def write_output(data: bytes) -> None:
    """Bytes to stdout to the last one, after what sys.__stdout__ holds; inside writing_output()."""
    stdout = sys.__stdout__
    if stdout is None:
        return
    try:
        stdout.flush()
        view = memoryview(data)
        while view:
            view = view[os.write(stdout.fileno(), view) :]
    except BrokenPipeError:
        output_closed()


def output_closed() -> NoReturn:
    """The reader of stdout went away: the process ends quietly (closed_output.py)."""
    end_quietly(_remove_temporaries)


def _stop(signum: int, frame: FrameType | None) -> None:
    global _waiting
    for stop_signal in STOP_SIGNALS:  # a second signal ends the process at once
        signal.signal(stop_signal, signal.SIG_DFL)
    _remove_temporaries()  # first: a write that never finishes must not keep them
    # SIG_DFL now: the signal sent again ends the process if no write can finish.
    grace = threading.Timer(STOP_GRACE, os.kill, (os.getpid(), signum))
    grace.daemon = True
    grace.start()
    if _writes:
        _waiting = signum  # writing_output() calls _end once the write is whole
        return
    _end(signum)


def _end(signum: int) -> None:
    global _stopping
    _stopping = True
    name = signal.Signals(signum).name
    with contextlib.suppress(Exception):
        # The CDK's PrintBuffer (sys.stdout during a command) holds whole messages: write them.
        sys.stdout.flush()
    message = (
        f"The sync was stopped by {name}. The next sync resumes from the last STATE message "
        "emitted before the stop."
    )
    line = error_trace_line(message, FailureType.transient_error)
    with contextlib.suppress(OSError):
        os.write(sys.__stdout__.fileno() if sys.__stdout__ else 1, line + b"\n")
    # Worker threads may be waiting on the network: no clean-up could make them stop sooner. With
    # SIG_DFL, the signal ends the process before os.kill returns.
    os.kill(os.getpid(), signum)
    os._exit(128 + signum)
