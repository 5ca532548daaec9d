"""Counts of the Tracker API requests the sandbox served, for benchmarks and tests."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any


class RequestStats:
    """Counts of Tracker API requests, faulted ones included, for benchmarks and tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting = 0
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._total = 0
            self._by_endpoint: Counter[str] = Counter()
            self._by_status: Counter[str] = Counter()
            self._faults: Counter[str] = Counter()
            self._most_waiting = 0

    def add(self, endpoint: str, status: str, fault: str | None) -> None:
        with self._lock:
            self._total += 1
            self._by_endpoint[endpoint] += 1
            self._by_status[status] += 1
            if fault:
                self._faults[fault] += 1

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Marks a request in its latency wait; the most at once proves the waits do not queue."""
        with self._lock:
            self._waiting += 1
            self._most_waiting = max(self._most_waiting, self._waiting)
        try:
            yield
        finally:
            with self._lock:
                self._waiting -= 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self._total,
                "by_endpoint": dict(self._by_endpoint),
                "by_status": dict(self._by_status),
                "faults": dict(self._faults),
                "most_waiting_at_once": self._most_waiting,
            }
