"""A reader that closes stdout (`read | head -c 2000`) ends the connector at once, quietly.

Nothing the connector writes can reach anyone any more. Left to Python, the first write after the
close raised BrokenPipeError: a 40-line traceback (several, one per thread that logged) and, in API
mode, worker threads that read on into the void. So the connector stops as a Unix filter does:
stdout points at /dev/null (a write already under way in another thread ends there), temporary
downloads are removed, and the process ends with the status a shell gives a filter that SIGPIPE
ended (141).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from typing import NoReturn

# The status of a process that SIGPIPE ended, as a shell reports it.
CLOSED_OUTPUT_EXIT = 128 + signal.SIGPIPE


def end_quietly(clean_up: Callable[[], None]) -> NoReturn:
    """Ends the process after `clean_up`, with no output: stdout has no reader."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    clean_up()
    # Not by the signal itself: only the main thread may restore SIGPIPE's default action (Python
    # ignores it), and the write that failed may be a worker thread's log line.
    os._exit(CLOSED_OUTPUT_EXIT)
