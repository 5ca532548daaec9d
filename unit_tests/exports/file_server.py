"""A file server on 127.0.0.1 for URL entries; it stops when its block ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from integration_tests.sandbox.hostile import trickle


@dataclass
class FileServer:
    """Serves `files` by path on 127.0.0.1; `failures[path]` answers that many 503s first.

    `stall[path]` seconds of silence before a path's answer (the server's end cuts them short);
    `redirects[path]` answers a 302 to that location; `rates[path]` sends the headers at once and
    the body at that many bytes per second (the sandbox's trickle).
    """

    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    stall: dict[str, float] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        assert self.server is not None
        return f"http://{host}:{self.server.server_address[1]}{path}"


@contextmanager
def serving(host: str = "127.0.0.1") -> Iterator[FileServer]:
    """A FileServer on `host` (a loopback address) running until the block ends."""
    served = FileServer()
    stopping = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            served.requests.append(self.path)
            if stopping.wait(served.stall.get(path, 0)):
                return
            if path in served.redirects:
                self.send_response(302)
                self.send_header("Location", served.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if served.failures.get(path, 0) > 0:
                served.failures[path] -= 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            content = served.files.get(path)
            if content is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if path in served.rates:
                self.wfile.flush()
                trickle(self.wfile.write, content, served.rates[path], stopping)
                return
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    served.server = server
    try:
        yield served
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
