"""HTTP/1.1 keep-alive server: request statistics, latency and faults around the Tracker API.

The connector reuses connections from several threads, so every response carries an exact
Content-Length and is written in one send (headers and body together, TCP_NODELAY) to avoid
Nagle/delayed-ACK stalls on small trailing segments.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
import time
import traceback
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from . import errors, faults, hostile
from .admin import AdminApi
from .api import Result, TrackerApi
from .faults import Faults
from .options import SandboxOptions
from .stats import RequestStats
from .store import Store

API_PREFIX = "/services/v5"
ADMIN_PREFIXES = ("/__sandbox", API_PREFIX + "/__sandbox")

_COMMON_HEADERS = (
    ("Content-Type", "application/json; charset=utf-8"),
    ("X-Tracker-Client-Pinger-Interval", "20"),
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS"),
    (
        "Access-Control-Allow-Headers",
        "X-TrackerToken,DNT,X-Mx-ReqToken,Keep-Alive,User-Agent,X-Requested-With,"
        "If-Modified-Since,Cache-Control,Content-Type,X-Tracker-Warn-Unless-Project-Version-Is",
    ),
)


class App:
    def __init__(self, store: Store, options: SandboxOptions) -> None:
        self.store = store
        self.options = options
        self.api = TrackerApi(store, options)
        self.stats = RequestStats()
        self.faults = Faults(options)
        self.admin = AdminApi(store, self.stats)
        # Set when the sandbox stops: releases the requests the stall fault holds.
        self.stopping = threading.Event()

    def dispatch(self, handler: _Handler) -> None:
        body = b""
        length = handler.headers.get("Content-Length")
        if length and length.isdigit():
            body = handler.rfile.read(int(length))
        split = urlsplit(handler.path)
        path = unquote(split.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        method = handler.command
        if path.startswith(ADMIN_PREFIXES):
            status, data = self.admin.handle(method, path.split("/__sandbox", 1)[1], query, body)
            _write(handler, status, [("Content-Type", "application/json")], data)
            return

        fault = self.faults.next_request()
        if path.startswith(API_PREFIX):
            path = path[len(API_PREFIX) :] or "/"
            endpoint = self.api.endpoint_key(method, path)
        else:
            endpoint = f"{method} {path}"
            path = ""
        if self.options.latency_ms > 0:
            with self.stats.waiting():
                time.sleep(self.options.latency_ms / 1000)  # per thread: other requests go on
        if self.options.redirect_to and path:
            self.stats.add(endpoint, "302", "redirect")
            _write(
                handler,
                302,
                [("Location", hostile.redirect_target(self.options.redirect_to, handler.path))],
                b"",
            )
            return
        if fault == faults.STALL:
            self.stats.add(endpoint, "stalled", fault)
            hostile.stall(self.stopping)
            handler.close_connection = True
            return
        if fault == faults.DROP:
            self.stats.add(endpoint, "dropped", fault)
            handler.close_connection = True
            return
        if fault in (faults.RATE_LIMIT, faults.ERROR_500, faults.ERROR_503):
            exc = {
                faults.RATE_LIMIT: lambda: errors.rate_limited(self.options.retry_after),
                faults.ERROR_500: errors.internal_error,
                faults.ERROR_503: errors.server_under_load,
            }[fault]()
            result = Result(orjson.dumps(exc.body), exc.status, headers=dict(exc.headers))
        elif path:
            try:
                result = self.api.handle(method, path, query, handler.headers)
            except Exception:  # a sandbox bug must look like a server error, not a hang-up
                traceback.print_exc()
                exc = errors.internal_error()
                result = Result(orjson.dumps(exc.body), exc.status)
        else:
            exc = errors.route_not_found()
            result = Result(orjson.dumps(exc.body), exc.status)
        data = result.data
        if fault == faults.TRUNCATE and result.status == 200:
            data = data[: len(data) // 2]
        rate = self.options.trickle_rate if path and self.options.trickle_path in path else 0.0
        self.stats.add(endpoint, str(result.status), fault or ("trickle" if rate else None))
        headers = list(_COMMON_HEADERS)
        headers.extend(result.headers.items())
        if result.status < 400:
            headers.append(("Cache-Control", "max-age=0, private, must-revalidate"))
            headers.append(("ETag", 'W/"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'))
        else:
            headers.append(("Cache-Control", "no-cache"))
        if rate:
            handler.close_connection = True  # a body cut short by the sandbox's stop ends the connection
            _write(handler, result.status, headers, data, body_rate=rate, stopping=self.stopping)
            return
        _write(handler, result.status, headers, data)


def _write(
    handler: _Handler,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    body_rate: float = 0.0,
    stopping: threading.Event | None = None,
) -> None:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", f"Date: {formatdate(usegmt=True)}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    lines.append(f"Content-Length: {len(body)}")
    if handler.close_connection:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    try:
        if body_rate and stopping is not None:
            handler.wfile.write(head)
            hostile.trickle(handler.wfile.write, body, body_rate, stopping)
        else:
            handler.wfile.write(head + body)
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def _dispatch(self) -> None:
        self.server.app.dispatch(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # a benchmark sends thousands of requests; stderr logging would dominate


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def close_connections(self) -> None:
        """Stop keep-alive connections too; otherwise they would outlive the sandbox."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class Sandbox:
    """A running emulator: `Sandbox(SandboxOptions(...)).start()`, then `.url`, `.stop()`."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self._store: Store | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        self._store = Store(self.options, self.options.epoch or None)
        self._server = _Server(("127.0.0.1", self.options.port), App(self._store, self.options))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"tracker-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.app.stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the sandbox has not been started")
        return self._store

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def admin_url(self) -> str:
        return self.base_url + "/__sandbox"

    @property
    def api_token(self) -> str:
        return self.store.api_token

    @property
    def username(self) -> str:
        return self.store.me.username

    @property
    def email(self) -> str:
        return self.store.me.email

    @property
    def password(self) -> str:
        return self.store.password

    @property
    def stats(self) -> dict[str, Any]:
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        return self._server.app.stats.snapshot()
