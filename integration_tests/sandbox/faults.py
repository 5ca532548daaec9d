"""Injected faults, driven by a request counter so every run fails at the same requests."""

from __future__ import annotations

import threading

from .options import SandboxOptions

DROP = "drop"
RATE_LIMIT = "rate_limit"
ERROR_500 = "error_500"
ERROR_503 = "error_503"
TRUNCATE = "truncate"
STALL = "stall"


class Faults:
    def __init__(self, options: SandboxOptions) -> None:
        self._options = options
        self._lock = threading.Lock()
        self._count = 0
        self._errors = 0

    def next_request(self) -> str | None:
        """Count one API request and say which fault, if any, it must suffer."""
        o = self._options
        with self._lock:
            self._count += 1
            n = self._count
            # A request can only fail one way; the order puts the most disruptive first.
            if o.stall_every and n % o.stall_every == 0:
                return STALL
            if o.drop_every and n % o.drop_every == 0:
                return DROP
            if o.rate_limit_every and n % o.rate_limit_every == 0:
                return RATE_LIMIT
            if o.error_every and n % o.error_every == 0:
                self._errors += 1
                return ERROR_500 if self._errors % 2 else ERROR_503
            if o.truncate_every and n % o.truncate_every == 0:
                return TRUNCATE
            return None
