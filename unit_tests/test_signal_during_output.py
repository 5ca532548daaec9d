"""A stop signal that lands while the connector is writing its output (signals.py).

PyAirbyte sends SIGTERM the moment it has read the message it wanted (CONNECTION_STATUS, CATALOG),
which is often while the connector is still inside the CDK's print-buffer flush that wrote it. Each
case runs in a Python process of its own, since the handler ends the process.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

# The signal lands after the flush's write and before the buffer is emptied: the handler must not
# write the same messages a second time.
AFTER_THE_WRITE = """
import json, os, signal, sys
from airbyte_cdk.entrypoint import PRINT_BUFFER
from source_pivotal_tracker.runtime.signals import stop_on_signals

stop_on_signals()
real_flush = sys.__stdout__.flush

def flush_then_signal():
    real_flush()
    if not sent:
        sent.append(True)
        os.kill(os.getpid(), signal.SIGTERM)

sent = []

sys.__stdout__.flush = flush_then_signal
with PRINT_BUFFER:
    sys.stdout.write(json.dumps({"type": "LOG", "log": {"level": "INFO", "message": "x" * 100_000}}) + "\\n")
    PRINT_BUFFER.flush()
"""

# A reader that has what it wanted and reads no more, then stops the connector: a write into the
# full pipe can never finish, and the process must end anyway.
INTO_A_FULL_PIPE = """
import sys
from airbyte_cdk.entrypoint import PRINT_BUFFER
from source_pivotal_tracker.runtime.signals import stop_on_signals

stop_on_signals()
with PRINT_BUFFER:
    sys.stdout.write('{"type":"LOG","log":{"level":"INFO","message":"first"}}\\n')
    PRINT_BUFFER.flush()
    sys.stdout.write('{"type":"LOG","log":{"level":"INFO","message":"' + "x" * 4_000_000 + '"}}\\n')
    PRINT_BUFFER.flush()
"""


def test_a_signal_after_a_flush_wrote_does_not_write_the_same_messages_twice() -> None:
    done = subprocess.run([sys.executable, "-c", AFTER_THE_WRITE], capture_output=True, text=True, timeout=60)
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    assert [m["type"] for m in messages] == ["LOG", "TRACE"], done.stderr[-2000:]
    assert "SIGTERM" in messages[1]["trace"]["error"]["message"]
    # Ended by the signal itself, as callers expect of SIGTERM (PyAirbyte accepts 0 or -15 only).
    assert done.returncode == -signal.SIGTERM


@contextmanager
def signalled_mid_write() -> Iterator[subprocess.Popen[bytes]]:
    """A process writing a 4 MB message into a full pipe, sent SIGTERM half-way; killed at the end."""
    process = subprocess.Popen(
        [sys.executable, "-c", INTO_A_FULL_PIPE], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert process.stdout is not None
        assert b"first" in process.stdout.readline()
        time.sleep(1)  # the 4 MB message now fills the pipe
        process.send_signal(signal.SIGTERM)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_signal_while_the_reader_has_stopped_reading_ends_the_process_in_seconds() -> None:
    with signalled_mid_write() as process:  # and nobody reads the pipe any more
        stopped = time.monotonic()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail("still running 15 s after SIGTERM")
        took = time.monotonic() - stopped
    assert took < 5, f"still running {took:.1f} s after SIGTERM"


def test_a_signal_that_cuts_a_large_write_short_still_gives_the_whole_message_then_the_trace() -> None:
    # The reader goes on reading: a partial write must be finished, not dropped or cut by the trace.
    with signalled_mid_write() as process:
        assert process.stdout is not None
        rest = process.stdout.read()
        process.wait(timeout=15)
    messages = [json.loads(line) for line in rest.splitlines()]
    assert [m["type"] for m in messages] == ["LOG", "TRACE"]
    assert len(messages[0]["log"]["message"]) == 4_000_000
    assert process.returncode == -signal.SIGTERM
