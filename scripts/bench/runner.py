"""Runs one connector command as a child process and measures it without holding its output."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Optional, Sequence

import orjson

from integration_tests.harness import SandboxProcess

# Our CDK prints compact JSON, the peer's (pydantic v1) puts a space after each colon.
RECORD_PREFIXES = (b'{"type":"RECORD"', b'{"type": "RECORD"')
TRACE_PREFIXES = (b'{"type":"TRACE"', b'{"type": "TRACE"')
STREAM_KEYS = (b'"stream":"', b'"stream": "')


@dataclass
class Run:
    label: str
    wall: float
    first_record: Optional[float]
    records: Counter[str]
    peak_rss_mb: float
    exit_code: int
    requests: dict[str, int]
    errors: list[str]
    keys: dict[str, set[Any]] = field(default_factory=dict)
    # The child's own user + system CPU seconds: a rate per CPU second holds on a loaded machine.
    cpu: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.records.values())

    @property
    def rate(self) -> float:
        return self.total / self.wall if self.wall else 0.0

    @property
    def streaming_rate(self) -> float:
        """Records/s from the first record on: throughput without interpreter and CDK start-up."""
        if self.first_record is None or self.wall <= self.first_record:
            return 0.0
        return self.total / (self.wall - self.first_record)


def _stream_of(line: bytes) -> bytes:
    # The stream name precedes "data" in both serialisers, so the first match is the record's own.
    for key in STREAM_KEYS:
        start = line.find(key)
        if start >= 0:
            start += len(key)
            return line[start : line.index(b'"', start)]
    return b"?"


def measure(
    label: str,
    args: Sequence[str],
    sandbox: Optional[SandboxProcess],
    *,
    cwd: Optional[Path] = None,
    env: Optional[dict[str, str]] = None,
    key_fields: Optional[dict[str, str]] = None,
) -> Run:
    """Runs `args`, counting RECORD lines per stream as they stream past.

    `key_fields` (stream -> primary key field) makes it parse those streams' records to keep their
    keys, for the peer comparison; otherwise records are counted a chunk at a time.
    """
    if sandbox is not None:  # None: a contender that reads files, not the API
        sandbox.admin("requests/reset", "POST")
    records: Counter[bytes] = Counter()
    keys: dict[str, set[Any]] = {stream: set() for stream in key_fields or {}}
    wanted = {stream.encode(): (stream, name) for stream, name in (key_fields or {}).items()}
    errors: list[str] = []
    first: Optional[float] = None
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=stderr, cwd=cwd, env=env, bufsize=1 << 20
        )
        assert process.stdout is not None
        if wanted:
            first = _count_lines(process.stdout, start, records, wanted, keys, errors)
        else:
            first = _count_chunks(process.stdout, start, records, errors)
        # wait4 gives this child's own peak RSS; RUSAGE_CHILDREN would be the max over all children.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode and not errors:
            stderr.seek(0)
            errors.append(stderr.read().decode(errors="replace")[-1500:])
    requests = sandbox.admin("requests")["by_endpoint"] if sandbox is not None else {}
    return Run(
        label=label,
        wall=wall,
        first_record=first,
        records=Counter({stream.decode(): n for stream, n in records.items()}),
        peak_rss_mb=usage.ru_maxrss / 1024,  # KB on Linux
        exit_code=process.returncode,
        requests=dict(sorted(requests.items())),
        errors=errors,
        keys=keys,
        cpu=usage.ru_utime + usage.ru_stime,
    )


# A RECORD line's stream: the first "stream" key of the line, as _stream_of finds it.
RECORD_LINE = re.compile(rb'^\{"type": ?"RECORD"[^\n]*?"stream": ?"([^"]*)"', re.MULTILINE)
TRACE_LINE = re.compile(rb'^\{"type": ?"TRACE"[^\n]*', re.MULTILINE)


def _count_chunks(
    stdout: IO[bytes], start: float, records: Counter[bytes], errors: list[str]
) -> Optional[float]:
    """Counts RECORD lines per stream a megabyte at a time; the first record's time since start.

    A line at a time, this parent spent about as long per record as a lean child takes to write
    it: at ~150k records/s it became the bottleneck and measured itself, not the contender. Two
    regular expressions over each chunk cost a small fraction of that, so a fast child is timed
    at its own pace (JSON lines hold no raw newline, so `^` marks every message's start).
    """
    first: Optional[float] = None
    tail = b""
    while chunk := stdout.read1(1 << 20):  # type: ignore[attr-defined]
        block = tail + chunk
        cut = block.rfind(b"\n") + 1
        block, tail = block[:cut], block[cut:]
        found = RECORD_LINE.findall(block)
        if found:
            if first is None:
                first = time.perf_counter() - start
            records.update(found)
        if b'{"type":"TRACE"' in block or b'{"type": "TRACE"' in block:
            errors.extend(
                orjson.loads(line)["trace"]["error"]["message"]
                for line in TRACE_LINE.findall(block)
                if b'"ERROR"' in line
            )
    return first


def _count_lines(
    stdout: IO[bytes],
    start: float,
    records: Counter[bytes],
    wanted: dict[bytes, tuple[str, str]],
    keys: dict[str, set[Any]],
    errors: list[str],
) -> Optional[float]:
    """As _count_chunks, parsing the wanted streams' records to keep their keys."""
    first: Optional[float] = None
    for line in stdout:
        if line.startswith(RECORD_PREFIXES):
            stream = _stream_of(line)
            records[stream] += 1
            if first is None:
                first = time.perf_counter() - start
            if stream in wanted:
                name, key = wanted[stream]
                keys[name].add(orjson.loads(line)["record"]["data"].get(key))
        elif line.startswith(TRACE_PREFIXES) and b'"ERROR"' in line:
            errors.append(orjson.loads(line)["trace"]["error"]["message"])
    return first


@dataclass
class Summary:
    """Several rounds of one contender: median time, the rest from the last round."""

    label: str
    runs: list[Run]

    @property
    def last(self) -> Run:
        return self.runs[-1]

    @property
    def wall(self) -> float:
        return statistics.median(run.wall for run in self.runs)

    @property
    def rate(self) -> float:
        return self.last.total / self.wall if self.wall else 0.0

    @property
    def streaming_rate(self) -> float:
        return statistics.median(run.streaming_rate for run in self.runs)

    @property
    def cpu_rate(self) -> float:
        """Records per CPU second of the child (median CPU time over rounds)."""
        cpu = statistics.median(run.cpu for run in self.runs)
        return self.last.total / cpu if cpu else 0.0

    @property
    def peak_rss_mb(self) -> float:
        return max(run.peak_rss_mb for run in self.runs)

    @property
    def median_rss_mb(self) -> float:
        return statistics.median(run.peak_rss_mb for run in self.runs)

    @property
    def consistent(self) -> bool:
        return all(run.records == self.last.records and run.exit_code == 0 for run in self.runs)
