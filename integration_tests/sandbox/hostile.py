"""Hostile behaviours of the sandbox, and a second host to catch what must never reach one.

The sandbox's fault options use ``redirect_target``, ``stall`` and ``trickle``; ``OtherHost`` listens on
127.0.0.2 ("another host" on loopback) and records every request that reaches it, so a test can
prove that no credential followed a redirect there. Everything stops by itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# No hostile behaviour outlives a test that forgot to stop it by more than this.
MAX_LIFETIME_SECONDS = 120.0
OTHER_HOST = "127.0.0.2"


def redirect_target(root: str, path_and_query: str) -> str:
    """Where the redirect fault sends a request: the same path and query on another root."""
    return root.rstrip("/") + path_and_query


def stall(stopping: threading.Event) -> None:
    """Holds an accepted request unanswered until the sandbox stops (or the lifetime ends)."""
    stopping.wait(MAX_LIFETIME_SECONDS)


def trickle(write: Callable[[bytes], object], data: bytes, rate: float, stopping: threading.Event) -> None:
    """Writes data at `rate` bytes per second: one byte at a time below 10 bytes/s, else in tenths
    of a second's worth. Ends when the client hangs up, or the sandbox stops (or the lifetime ends)."""
    piece = max(1, int(rate / 10))
    started = time.monotonic()
    for sent in range(0, len(data), piece):
        due = started + sent / rate
        if stopping.wait(max(due - time.monotonic(), 0)) or time.monotonic() - started > MAX_LIFETIME_SECONDS:
            return
        try:
            write(data[sent : sent + piece])
        except (BrokenPipeError, ConnectionResetError):  # the client gave up: the trickle worked
            return


class OtherHost:
    """An HTTP listener on 127.0.0.2 that answers every request with an empty list and keeps it."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                requests.append({"path": self.path, "headers": dict(self.headers)})
                body = b"[]"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

        self._server = ThreadingHTTPServer((OTHER_HOST, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._timer = threading.Timer(MAX_LIFETIME_SECONDS, self.stop)
        self._timer.daemon = True

    @property
    def url(self) -> str:
        return f"http://{OTHER_HOST}:{self._server.server_address[1]}"

    def start(self) -> OtherHost:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.cancel()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OtherHost:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
