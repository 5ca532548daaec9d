"""A deadline on every whole API answer, from the request to its last byte.

The read timeout bounds the silence between two bytes; a server that trickles a byte every few
seconds (a broken proxy, a load balancer's keep-alive bytes, a hostile host) never trips it and holds
a request, a worker and the sync for days. So every API request is watched: one watchdog thread
keeps the deadlines, and when a request passes its deadline it shuts that request's socket down.
The blocked read returns at once, the request fails with AnswerTooSlow (a timeout: the CDK and the
sign-in retry it as they retry any timeout), and the message says what arrived in how long.

All of it rides on public surfaces: requests' HTTPAdapter (mounted on the session), urllib3's
`pool_classes_by_scheme` and `ConnectionCls` (so the socket is known before the headers arrive;
headers can be trickled too), and the response's `raw` stream, read with `read1` so that each byte
that arrives is counted.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .cdk_seams.requester_session import POOL_SIZE
from .check_deadline import running_check
from .http_safety import origin, response_deadline_seconds


class TrackerTimeout(requests.ReadTimeout):
    """A request that timed out, with a message naming the server, the path and the limit."""

    def __init__(self, message: str, request: requests.PreparedRequest | None = None) -> None:
        super().__init__(message, request=request)
        self.message = message

    def __str__(self) -> str:
        return self.message


class AnswerTimedOut(TrackerTimeout):
    """No byte of the answer within the read timeout (or no connection within the connect timeout)."""


class AnswerTooSlow(TrackerTimeout):
    """The answer did not arrive whole within the response deadline."""


def _where(url: str) -> tuple[str, str]:
    return f"Pivotal Tracker at {origin(url)}", urlsplit(url).path


class _Guard:
    """One request's deadline, and the socket to shut down when it passes."""

    def __init__(self, request: requests.PreparedRequest, seconds: float) -> None:
        self.request = request
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.received = 0
        self.expired = False
        self.finished = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._socket = sock
            if self.expired:
                self._shut()

    def expire(self) -> None:
        with self._lock:
            if not self.finished:
                self.expired = True
                self._shut()

    def finish(self) -> None:
        with self._lock:
            if not self.finished:
                self.finished = True
                WATCHDOG.done()

    def _shut(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):  # already closed by its connection: nothing to stop
                self._socket.shutdown(socket.SHUT_RDWR)

    def too_slow(self) -> AnswerTooSlow:
        where, path = _where(str(self.request.url))
        return AnswerTooSlow(
            f"{where} sent {self.received:,} bytes of {path} in {self.seconds:g} s, not the whole "
            f"answer (an answer is due whole within {self.seconds:g} s of its request)",
            request=self.request,
        )


class _Watchdog:
    """One daemon thread for every request's deadline: a heap, woken when an earlier one comes."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, _Guard]] = []
        self._order = itertools.count()
        self._live = 0
        self._thread: threading.Thread | None = None

    def watch(self, guard: _Guard) -> None:
        with self._condition:
            self._live += 1
            # Finished requests leave their entry behind until it is popped; with thousands of
            # pages in five minutes, sweep them rather than hold them.
            if len(self._heap) > 256 and len(self._heap) > 4 * self._live:
                self._heap = [entry for entry in self._heap if not entry[2].finished]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (guard.deadline, next(self._order), guard))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="response-deadline", daemon=True)
                self._thread.start()
            self._condition.notify()

    def done(self) -> None:
        with self._condition:
            self._live -= 1

    def _run(self) -> None:
        with self._condition:
            while True:
                while self._heap and self._heap[0][2].finished:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._condition.wait()
                    continue
                delay = self._heap[0][0] - time.monotonic()
                if delay > 0:
                    self._condition.wait(delay)
                    continue
                heapq.heappop(self._heap)[2].expire()


WATCHDOG = _Watchdog()
_current = threading.local()  # the guard of the request this thread is sending


class _Watched:
    """Hands the connection's socket to the request's guard just before the answer is awaited."""

    sock: socket.socket | None

    def getresponse(self) -> Any:
        guard: _Guard | None = getattr(_current, "guard", None)
        if guard is not None:
            guard.attach(self.sock)
        return super().getresponse()  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedBody:
    """The response's raw stream, read as bytes arrive (read1), counted, and under the guard."""

    def __init__(self, raw: Any, guard: _Guard) -> None:
        self._raw = raw
        self._guard = guard

    def read(self, amt: int | None = None, decode_content: bool | None = None, **_: Any) -> bytes:
        """Up to `amt` bytes as soon as some arrive; without `amt`, the rest of the body."""
        if amt is None:
            return b"".join(iter(lambda: self.read(2**16, decode_content), b""))
        try:
            data: bytes = self._raw.read1(amt, decode_content=decode_content)
        except Exception as error:
            self._guard.finish()
            if self._guard.expired:
                raise self._guard.too_slow() from error
            raise
        self._guard.received = self._raw.tell()
        if not data:
            self._guard.finish()
        return data

    def stream(self, amt: int = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        while data := self.read(amt, decode_content):
            yield data

    def close(self) -> None:
        self._guard.finish()
        self._raw.close()

    def release_conn(self) -> None:
        self._guard.finish()
        self._raw.release_conn()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """requests' HTTPAdapter with the response deadline, and check's limits while a check runs."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **kwargs: Any
    ) -> requests.Response:
        seconds = response_deadline_seconds()
        check = running_check()
        if check is not None:
            seconds = check.request_seconds(seconds)
            timeout = tuple(check.request_seconds(limit) for limit in _pair(timeout))
        guard = _Guard(request, seconds)
        WATCHDOG.watch(guard)
        _current.guard = guard
        try:
            response = super().send(request, stream=stream, timeout=timeout, **kwargs)
        except requests.RequestException as error:
            guard.finish()
            if isinstance(error, requests.Timeout) or guard.expired:  # no answer (headers) in time
                where, path = _where(str(request.url))
                limit = guard.seconds if guard.expired else max(_pair(timeout))
                raise AnswerTimedOut(f"{where} did not answer {path} within {limit:g} s", request) from error
            raise
        except BaseException:
            guard.finish()
            raise
        finally:
            _current.guard = None
        response.raw = _WatchedBody(response.raw, guard)
        return response


def _pair(timeout: Any) -> tuple[float, float]:
    if isinstance(timeout, tuple):
        connect, read = timeout
        return float(connect), float(read)
    if timeout is None:
        return 1e9, 1e9
    return float(timeout), float(timeout)


def watch_deadlines(session: requests.Session) -> requests.Session:
    """Mounts the DeadlineAdapter on the session, for http and https alike."""
    adapter = DeadlineAdapter(pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
