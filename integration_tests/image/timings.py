"""How long the image's set-up and runs took, printed at the end of the pytest session."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

TIMINGS: list[tuple[str, float]] = []
NOTES: list[str] = []


@contextmanager
def timed(label: str) -> Iterator[list[str]]:
    """Times the block; a label appended to the yielded list replaces `label` (e.g. with how)."""
    relabel: list[str] = []
    start = time.monotonic()
    try:
        yield relabel
    finally:
        TIMINGS.append((relabel[-1] if relabel else label, time.monotonic() - start))


def report() -> list[str]:
    """One line a label, in the order first seen: total seconds, and how many times it ran."""
    totals: dict[str, list[float]] = {}
    for label, seconds in TIMINGS:
        totals.setdefault(label, []).append(seconds)
    lines = [
        f"{sum(times):8.1f}s  {label}" + (f" ({len(times)} runs)" if len(times) > 1 else "")
        for label, times in totals.items()
    ]
    return lines + NOTES
