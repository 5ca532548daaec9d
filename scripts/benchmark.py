"""Benchmark of source-pivotal-tracker on the local Tracker sandbox; targets are measured, not asserted.

    .venv/bin/python scripts/benchmark.py MODE [--rounds N] [--projects N] [--stories N]
        MODE: startup|peer-small|peer|limit|memory|export|check|xlsx|files|merge|seams|all
        [--latency-ms X] [--workers N] [--deadline S]

startup spec, check, discover and a read of projects: ours vs the same command of a one-stream
        CDK 7 manifest (scripts/one_stream_manifest.yaml) under source-declarative-manifest,
        beside a bare `python -c "import airbyte_cdk"`; target: each ratio <= 1.0.
peer-small  as peer, 3 projects x 300 stories, 50 ms per request; target: ours >= 60x faster.
peer    a full sync of the streams both have, ours vs airbyte-source-pivotal-tracker==0.2.12
        (20 projects x 1,000 stories, 50 ms per request); target: ours >= 100x faster, and every
        record the peer delivers delivered by ours too.
limit   stories only, no latency: ours vs a minimal CDK 7 manifest (scripts/minimal_manifest.yaml)
        vs a plain requests + orjson loop; targets: ours >= 0.9x the minimal manifest's records/s,
        ours once streaming >= 0.6x the plain loop's records/s, and the fewest requests (one page
        request per 500 stories, projects once).
memory  peak RSS of ours reading 20 x 10,000 stories and tenfold less; target <= 150 MB, flat.
export  ours reading a generated export ZIP of 100,000 stories (with comments, tasks, history and
        attachments; every stream) vs a plain csv.reader + orjson loop building the same records
        (scripts/bench/plain_export_loop.py), both at 100,000 and 10,000 stories; targets: >= 0.4x
        its records/s, peak RSS <= 200 MB and flat (100,000 stories within +10% of 10,000).
check   `check` against a healthy server and four that misbehave (never answers, drips a byte every
        3 s, endless 429 with Retry-After 999999, 5xx forever), each time beside the check
        deadline (--deadline, default 60 s); target: each within it, FAILED but for the healthy one.
xlsx    the stories CSV of a 100,000-story export re-saved as .xlsx (numbers, dates, shared
        strings, as Excel saves): ours reading the workbook vs ours reading the CSV, and the two
        libraries alone reading its rows (openpyxl read-only, which ours uses, and python-calamine,
        which loads a sheet whole); targets: ours on the workbook peak RSS <= 300 MB and the CSV's
        records exactly.
files   file transfer (delivery_method use_file_transfer) of an export ZIP with ~2 GB of attachments
        (10 KB to 200 MB each; scripts/bench/attachment_export.py) into a staging folder, vs
        `unzip` extracting the same archive to the same disk; targets: >= 0.7x unzip's MB/s,
        peak RSS <= 200 MB, every file copied. Needs `unzip` (apt-get install -y unzip) and
        about 3x the attachments' size free under the temporary folder (TMPDIR); it is all
        deleted when the mode ends.
seams   what each speed seam of source_pivotal_tracker/cdk_seams/ gains, with and without it, in
        fresh processes (scripts/bench/seam_gains.py); no target: a trick gaining under 0.15 s
        and 10 % of a command is not worth a reach into the CDK.
merge   ours reading three exports of one project of 100,000 stories each, taken 60 days apart
        (the sandbox's export series: stories changed between them), merged in one read, vs the
        same three read without merging (one read each, times added); targets: merged <= 2.0x
        the time, peak RSS <= 250 MB.

Contenders alternate within each round on the same sandbox data; times are medians over rounds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.attachment_export import add_attachments, attachment_bytes, attachment_sizes, story_ids  # noqa: E402
from bench.peer import PEER_STREAMS, PRIMARY_KEYS, prepare_peer  # noqa: E402
from bench.runner import Run, Summary, measure  # noqa: E402
from bench.startup import (  # noqa: E402
    BARE_IMPORT,
    COMMANDS,
    one_stream_commands,
    our_commands,
    time_rounds,
)

from integration_tests.harness import (  # noqa: E402
    CONNECTOR,
    REPO,
    SandboxProcess,
    configured_catalog,
    run_connector,
    sandbox_process,
    write_export,
)

SCRIPTS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PAGE = 500
Target = tuple[str, bool, str]


def sandbox(projects: int, stories: int, latency_ms: float) -> AbstractContextManager[SandboxProcess]:
    # No disabled project: the peer has no handling for a 403 project, and the page count target
    # assumes every project is read.
    return sandbox_process(
        "--projects", str(projects), "--stories", str(stories),
        "--latency-ms", str(latency_ms), "--disabled-projects", "0",
    )  # fmt: skip


def write_json(path: Path, content: Any) -> str:
    path.write_text(json.dumps(content))
    return str(path)


def ours(
    server: SandboxProcess, workdir: Path, streams: tuple[str, ...], workers: Optional[int]
) -> list[str]:
    """Our command reading `streams` in full refresh; config and catalog written to workdir."""
    config = server.config(**({"num_workers": workers} if workers else {}))
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    catalog = configured_catalog(discovered, streams, incremental=False)
    return [
        CONNECTOR, "read",
        "--config", write_json(workdir / "config.json", config),
        "--catalog", write_json(workdir / "catalog.json", catalog),
    ]  # fmt: skip


def rounds(contenders: dict[str, Any], server: SandboxProcess, count: int) -> dict[str, Summary]:
    """Runs every contender once per round, in turn, so drift on the machine hits them all alike."""
    runs: dict[str, list[Run]] = {label: [] for label in contenders}
    for number in range(1, count + 1):
        for label, (args, options) in contenders.items():
            run = measure(label, args, server, **options(number) if callable(options) else options)
            runs[label].append(run)
            status = (
                "ok" if run.exit_code == 0 and not run.errors else f"exit {run.exit_code} {run.errors[:1]}"
            )
            print(
                f"  round {number}  {label:<22} {run.wall:8.2f} s  {run.total:>8} records  {status}",
                flush=True,
            )
    return {label: Summary(label, found) for label, found in runs.items()}


def print_table(title: str, summaries: list[Summary]) -> None:
    width = max(24, *(len(s.label) + 2 for s in summaries))
    print(f"\n{title}")
    header = (
        f"{'contender':<{width}}{'wall s (median)':>16}{'records':>10}{'rec/s':>10}{'rec/s streaming':>17}"
    )
    print(header + f"{'peak RSS MB max/median':>24}{'requests':>10}  ok")
    for s in summaries:
        ok = "yes" if s.consistent else f"NO: exit {s.last.exit_code} {s.last.errors[:1]}"
        rss = f"{s.peak_rss_mb:.1f} / {s.median_rss_mb:.1f}"
        print(
            f"{s.label:<{width}}{s.wall:>16.2f}{s.last.total:>10}{s.rate:>10.0f}{s.streaming_rate:>17.0f}"
            f"{rss:>24}{sum(s.last.requests.values()):>10}  {ok}"
        )
    print("  (rec/s streaming: from the first record to the end, i.e. without start-up)")
    endpoints = sorted({e for s in summaries for e in s.last.requests})
    print(f"\n{'requests by endpoint':<40}" + "".join(f"{s.label:>{width}}" for s in summaries))
    for endpoint in endpoints:
        print(f"{endpoint:<40}" + "".join(f"{s.last.requests.get(endpoint, 0):>{width}}" for s in summaries))


def request_targets(run: Run, projects: int, stories: int, with_stories: bool = True) -> list[Target]:
    found = run.requests
    targets: list[Target] = [
        (
            "projects fetched once per sync",
            found.get("GET /projects", 0) == 1,
            f"GET /projects x{found.get('GET /projects', 0)}",
        )
    ]
    if with_stories:
        expected = projects * math.ceil(stories / PAGE)
        got = found.get("GET /projects/{id}/stories", 0)
        targets.append(
            (
                "fewest story requests",
                got == expected,
                f"{got} story requests, sum ceil(stories/500) = {expected}",
            )
        )
    return targets


def startup_mode(args: argparse.Namespace) -> list[Target]:
    latency = 0.0 if args.latency_ms is None else args.latency_ms
    projects, stories = args.projects or 3, args.stories or 300
    count = max(args.rounds, 5)  # a second each: more rounds for steadier medians
    print(f"\n== startup: {', '.join(COMMANDS)}; {projects} projects, {latency} ms, {count} rounds")
    with sandbox(projects, stories, latency) as server, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        ours_args = ours(server, workdir, ("projects",), args.workers)
        config, catalog = ours_args[3], ours_args[5]
        timed = time_rounds(
            {
                "ours": our_commands(CONNECTOR, config, catalog),
                "one-stream manifest": one_stream_commands(
                    BIN, SCRIPTS / "one_stream_manifest.yaml", config, catalog
                ),
            },
            count,
        )
    bare = timed["bare"][BARE_IMPORT].median
    print(f"\n{'command':<16}{'ours s':>10}{'one-stream s':>14}{'ratio':>8}{BARE_IMPORT + ' s':>24}")
    targets: list[Target] = []
    for command in COMMANDS:
        mine, floor = timed["ours"][command], timed["one-stream manifest"][command]
        ratio = mine.median / floor.median
        print(f"{command:<16}{mine.median:>10.3f}{floor.median:>14.3f}{ratio:>8.2f}{bare:>24.3f}")
        failures = mine.failures + floor.failures
        targets.append(
            (
                f"{command}: ours <= the one-stream manifest",
                ratio <= 1.0 and not failures,
                f"{ratio:.2f} ({mine.median:.3f} s vs {floor.median:.3f} s; bare import {bare:.3f} s)"
                + (f"; FAILED runs: {failures[:1]}" if failures else ""),
            )
        )
    return targets


def peer_small_mode(args: argparse.Namespace) -> list[Target]:
    return peer_mode(args, default_projects=3, default_stories=300, target=60)


def peer_mode(
    args: argparse.Namespace, default_projects: int = 20, default_stories: int = 1000, target: int = 100
) -> list[Target]:
    latency = 50.0 if args.latency_ms is None else args.latency_ms
    projects, stories = args.projects or default_projects, args.stories or default_stories
    print(
        f"\n== peer: {projects} projects x {stories} stories, {latency} ms per request, {args.rounds} rounds"
    )
    with sandbox(projects, stories, latency) as server, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        peer_args, peer_env = prepare_peer(server, workdir)
        ours_args = ours(server, workdir, PEER_STREAMS, args.workers)

        # Keys are parsed in round 1 only: the timed rounds after it just count lines.
        def keyed(number: int) -> dict[str, Any]:
            return {"key_fields": PRIMARY_KEYS if number == 1 else None}

        def keyed_peer(number: int) -> dict[str, Any]:
            return {**keyed(number), "env": peer_env, "cwd": workdir}

        result = rounds(
            {"ours": (ours_args, keyed), "peer 0.2.12": (peer_args, keyed_peer)}, server, args.rounds
        )
    mine, peer = result["ours"], result["peer 0.2.12"]
    print_table("peer: full sync of the streams both have", [mine, peer])
    first_ours, first_peer = mine.runs[0], peer.runs[0]
    print(f"\n{'stream':<22}{'ours':>10}{'peer':>10}  peer's keys all in ours")
    covered = True
    for stream in PEER_STREAMS:
        missing = first_peer.keys[stream] - first_ours.keys[stream]
        enough = mine.last.records[stream] >= peer.last.records[stream] and not missing
        covered &= enough
        subset = "yes" if not missing else f"NO, {len(missing)} missing"
        print(f"{stream:<22}{mine.last.records[stream]:>10}{peer.last.records[stream]:>10}  {subset}")
    speedup = peer.wall / mine.wall
    return [
        (
            f"{projects} x {stories}: ours >= {target}x faster than the peer",
            speedup >= target,
            f"{speedup:.1f}x ({mine.wall:.2f} s vs {peer.wall:.2f} s)",
        ),
        ("ours delivers every record the peer does", covered and mine.consistent, "see the per-stream table"),
        *request_targets(mine.last, projects, stories),
    ]


def limit_mode(args: argparse.Namespace) -> list[Target]:
    latency = 0.0 if args.latency_ms is None else args.latency_ms
    projects, stories = args.projects or 20, args.stories or 1000
    workers = args.workers or 8
    print(f"\n== limit: stories only, {projects} x {stories} stories, {latency} ms, {args.rounds} rounds")
    with sandbox(projects, stories, latency) as server, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        ours_args = ours(server, workdir, ("stories",), args.workers)
        config, catalog = ours_args[3], ours_args[5]
        minimal = [
            str(BIN / "source-declarative-manifest"), "read", "--config", config, "--catalog", catalog,
            "--manifest-path", str(SCRIPTS / "minimal_manifest.yaml"),
        ]  # fmt: skip
        plain = [sys.executable, str(SCRIPTS / "bench" / "plain_loop.py"), config, str(workers)]
        contenders = {
            "ours": (ours_args, {}),
            "minimal CDK manifest": (minimal, {}),
            "requests+orjson": (plain, {}),
        }
        result = rounds(contenders, server, args.rounds)
    mine, floor = result["ours"], result["minimal CDK manifest"]
    print_table("limit: stories, full refresh, no added latency", list(result.values()))
    ratio, streaming = mine.rate / floor.rate, mine.streaming_rate / floor.streaming_rate
    plain = result["requests+orjson"]
    plain_ratio = mine.rate / plain.rate
    # The measure (README): ours once streaming against the plain loop's whole run, whose
    # start-up is a few hundredths of a second; the plain loop's own streaming rate, over a
    # fraction of a second, swings too much to compare with.
    plain_streaming = mine.streaming_rate / plain.rate
    print(
        f"\nours / minimal manifest: {ratio:.2f} (streaming {streaming:.2f}); "
        f"ours / plain: {plain_ratio:.2f} (ours streaming / plain: {plain_streaming:.2f})"
    )
    return [
        (
            "ours >= 0.9x the minimal manifest's rec/s",
            ratio >= 0.9,
            f"{ratio:.2f} ({mine.rate:.0f} vs {floor.rate:.0f} rec/s)",
        ),
        (
            "ours once streaming >= 0.6x the plain loop's rec/s",
            plain_streaming >= 0.6,
            f"{plain_streaming:.2f} ({mine.streaming_rate:.0f} vs {plain.rate:.0f} rec/s)",
        ),
        *request_targets(mine.last, projects, stories),
    ]


def memory_mode(args: argparse.Namespace) -> list[Target]:
    latency = 0.0 if args.latency_ms is None else args.latency_ms
    projects, stories = args.projects or 20, args.stories or 10_000
    small = max(stories // 10, 1)
    print(f"\n== memory: stories only, {projects} x {stories} and {projects} x {small}, {args.rounds} rounds")
    with (
        sandbox(projects, stories, latency) as big_server,
        sandbox(projects, small, latency) as small_server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        (Path(tmp) / "big").mkdir()
        (Path(tmp) / "small").mkdir()
        big_args = ours(big_server, Path(tmp) / "big", ("stories",), args.workers)
        small_args = ours(small_server, Path(tmp) / "small", ("stories",), args.workers)
        big_label, small_label = f"ours, {projects * stories} stories", f"ours, {projects * small} stories"
        big_runs: list[Run] = []
        small_runs: list[Run] = []
        for number in range(1, args.rounds + 1):
            for label, command, server, runs in (
                (big_label, big_args, big_server, big_runs),
                (small_label, small_args, small_server, small_runs),
            ):
                runs.append(measure(label, command, server))
                print(
                    f"  round {number}  {label:<24} {runs[-1].wall:8.2f} s  {runs[-1].peak_rss_mb:7.1f} MB",
                    flush=True,
                )
    big, little = Summary(big_label, big_runs), Summary(small_label, small_runs)
    print_table("memory: peak RSS of the connector process (its own ru_maxrss via wait4)", [big, little])
    # The worst round for the limit; medians for the slope, as one round's backlog of queued records
    # (up to the CDK's 10,000) swings the peak by tens of MB whatever the record count.
    big_median, small_median = big.median_rss_mb, little.median_rss_mb
    growth = big_median - small_median
    return [
        (
            "peak RSS <= 150 MB",
            big.peak_rss_mb <= 150,
            f"worst round {big.peak_rss_mb:.1f} MB (median {big_median:.1f}) at {big.last.total} records",
        ),
        (
            "flat in the record count (medians, +20% at most)",
            growth <= 0.2 * small_median,
            f"{small_median:.1f} MB -> {big_median:.1f} MB (+{growth:.1f} MB) for 10x the records",
        ),
        (
            "read completed",
            big.consistent and little.consistent,
            f"{big.last.total} and {little.last.total} records",
        ),
    ]


def export_read(workdir: Path, *exports: Path) -> list[str]:
    """Our command reading every stream exports fill, in full refresh."""
    config = {"export_files": [str(export) for export in exports]}
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    catalog = configured_catalog(discovered, incremental=False)
    return [
        CONNECTOR, "read",
        "--config", write_json(workdir / "config.json", config),
        "--catalog", write_json(workdir / "catalog.json", catalog),
    ]  # fmt: skip


def file_rounds(contenders: dict[str, list[str]], count: int) -> dict[str, list[Run]]:
    """Commands that read files (no sandbox), each once per round, in turn; every run printed."""
    runs: dict[str, list[Run]] = {label: [] for label in contenders}
    for number in range(1, count + 1):
        for label, command in contenders.items():
            run = measure(label, command, None)
            runs[label].append(run)
            status = (
                "ok" if run.exit_code == 0 and not run.errors else f"exit {run.exit_code} {run.errors[:1]}"
            )
            print(
                f"  round {number}  {label:<24} {run.wall:8.2f} s  {run.total:>8} records  "
                f"{run.peak_rss_mb:7.1f} MB  {status}",
                flush=True,
            )
    return runs


# Flat: the peak RSS at ten times the stories within this share of the smaller export's.
EXPORT_FLAT = 0.10


def export_mode(args: argparse.Namespace) -> list[Target]:
    """Ours and the plain loop, measured alike: each a child process run by measure() (wall time
    to its exit, RECORD lines counted from its stdout, its own peak RSS from wait4), in turn
    within each round so that load on the machine hits both; medians over the rounds."""
    stories = args.stories or 100_000
    small = max(stories // 10, 1)
    print(f"\n== export: one project's export ZIP, {stories} and {small} stories, {args.rounds} rounds")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        one_project = ("--projects", "1", "--disabled-projects", "0", "--stories")
        big_zip = write_export(workdir / "big", *one_project, str(stories))[0]
        small_zip = write_export(workdir / "small", *one_project, str(small))[0]
        print(f"  wrote {big_zip.name} ({big_zip.stat().st_size / 1e6:.1f} MB) and the small one "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        (workdir / "ours-big").mkdir()
        (workdir / "ours-small").mkdir()
        plain_loop = [sys.executable, str(SCRIPTS / "bench" / "plain_export_loop.py")]
        contenders = {
            f"ours, {stories} stories": export_read(workdir / "ours-big", big_zip),
            f"plain loop, {stories}": [*plain_loop, str(big_zip)],
            f"ours, {small} stories": export_read(workdir / "ours-small", small_zip),
            f"plain loop, {small}": [*plain_loop, str(small_zip)],
        }
        runs = file_rounds(contenders, args.rounds)
    mine, limit, little, little_limit = (Summary(label, found) for label, found in runs.items())
    print_table(
        "export: every stream of one project's export ZIP, full refresh", [mine, limit, little, little_limit]
    )
    print(f"\n{'stream':<16}{'ours':>10}{'plain':>10}")
    for stream in sorted(set(mine.last.records) | set(limit.last.records)):
        print(f"{stream:<16}{mine.last.records.get(stream, 0):>10}{limit.last.records.get(stream, 0):>10}")
    ratio = mine.rate / limit.rate if limit.rate else 0.0
    cpu_ratio = mine.cpu_rate / limit.cpu_rate if limit.cpu_rate else 0.0
    print(
        f"\nper CPU second (the child's own user+system time): ours {mine.cpu_rate:.0f}, "
        f"plain loop {limit.cpu_rate:.0f} rec/s: {cpu_ratio:.2f}x"
    )
    growth = mine.median_rss_mb - little.median_rss_mb
    limit_growth = limit.median_rss_mb - little_limit.median_rss_mb
    print(
        f"ours / plain loop: {ratio:.2f}x at {stories} stories (medians of {args.rounds} rounds); "
        f"{little.rate / little_limit.rate if little_limit.rate else 0.0:.2f}x at {small}"
    )
    print(
        f"peak RSS medians, {small} -> {stories} stories: ours {little.median_rss_mb:.1f} -> "
        f"{mine.median_rss_mb:.1f} MB (+{growth:.1f}), plain loop {little_limit.median_rss_mb:.1f} -> "
        f"{limit.median_rss_mb:.1f} MB (+{limit_growth:.1f})"
    )
    return [
        (
            "export: ours >= 0.4x the plain loop's rec/s",
            ratio >= 0.4,
            f"{ratio:.2f} ({mine.rate:.0f} vs {limit.rate:.0f} rec/s; streaming {mine.streaming_rate:.0f})",
        ),
        (
            "export: peak RSS <= 200 MB",
            mine.peak_rss_mb <= 200,
            f"worst round {mine.peak_rss_mb:.1f} MB (median {mine.median_rss_mb:.1f})",
        ),
        (
            f"export: flat in the story count (medians, +{EXPORT_FLAT:.0%} at most)",
            growth <= EXPORT_FLAT * little.median_rss_mb,
            f"{little.median_rss_mb:.1f} MB -> {mine.median_rss_mb:.1f} MB (+{growth:.1f} MB), 10x stories",
        ),
        (
            "export: read completed, the plain loop's records too",
            mine.consistent and little.consistent and mine.last.records == limit.last.records,
            f"{mine.last.total} records",
        ),
    ]


# The misbehaving servers of issue 18 (sandbox CLI options), and a healthy one for comparison.
CHECK_CASES = {
    "healthy": [],
    "never answers": ["--stall-every", "1"],
    "drips a byte every 3 s": ["--trickle-rate", "0.33"],
    "endless 429, Retry-After 999999": ["--rate-limit-every", "1", "--retry-after", "999999"],
    "5xx forever": ["--error-every", "1"],
}


def check_mode(args: argparse.Namespace) -> list[Target]:
    """check against each misbehaving server: its time beside the check deadline (default 60 s)."""
    deadline = args.deadline or 60.0
    env = {"SOURCE_PIVOTAL_TRACKER_CHECK_DEADLINE_SECONDS": str(deadline)}
    print(f"\n== check: one check per server, deadline {deadline:g} s (the whole command, start-up included)")
    print(f"  {'server':<34} {'time':>8} {'deadline':>9}  status  message")
    targets: list[Target] = []
    for case, options in CHECK_CASES.items():
        with sandbox_process("--projects", "2", *options) as server:
            started = time.monotonic()
            run = run_connector("check", server.config(), env=env, timeout=deadline * 3 + 60)
            took = time.monotonic() - started
        found = [m for m in run.other if m["type"] == "CONNECTION_STATUS"]
        status = found[0]["connectionStatus"] if found else {"status": f"exit {run.exit_code}"}
        message = str(status.get("message") or "")[:90]
        print(f"  {case:<34} {took:>7.1f}s {deadline:>8g}s  {status['status']:<6}  {message}")
        expected = "SUCCEEDED" if case == "healthy" else "FAILED"
        met = status["status"] == expected and took <= deadline
        detail = f"{took:.1f} s of {deadline:g} s, {status['status']}"
        targets.append((f"check, {case}: {expected} within the deadline", met, detail))
    return targets


def xlsx_mode(args: argparse.Namespace) -> list[Target]:
    stories = args.stories or 100_000
    print(
        f"\n== xlsx: one project's stories CSV and its .xlsx re-save, {stories} stories, {args.rounds} rounds"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        written = subprocess.run(
            [sys.executable, str(SCRIPTS / "bench" / "xlsx_workbook.py"), tmp, str(stories)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        files = {kind: Path(path) for kind, path in json.loads(written.stdout).items()}
        sizes = {kind: path.stat().st_size / 1e6 for kind, path in files.items()}
        print(f"  wrote the workbook ({sizes['xlsx']:.1f} MB; the CSV {sizes['csv']:.1f} MB) "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        rows_only = [sys.executable, str(SCRIPTS / "bench" / "xlsx_rows_only.py")]
        for kind in files:
            (workdir / kind).mkdir()
        contenders = {
            "ours, .xlsx": export_read(workdir / "xlsx", files["xlsx"]),
            "ours, .csv": export_read(workdir / "csv", files["csv"]),
            "openpyxl rows only": [*rows_only, "openpyxl", str(files["xlsx"])],
            "calamine rows only": [*rows_only, "calamine", str(files["xlsx"])],
        }
        runs = file_rounds(contenders, args.rounds)
    workbook, table, openpyxl_rows, calamine_rows = (Summary(label, found) for label, found in runs.items())
    print(f"\n{'contender':<22}{'wall s (median)':>16}{'peak RSS MB max/median':>24}{'records':>10}")
    for s in (workbook, table, openpyxl_rows, calamine_rows):
        print(
            f"{s.label:<22}{s.wall:>16.2f}"
            f"{f'{s.peak_rss_mb:.1f} / {s.median_rss_mb:.1f}':>24}{s.last.total:>10}"
        )
    print(
        f"calamine reads the rows {openpyxl_rows.wall / calamine_rows.wall:.1f}x as fast as openpyxl, "
        f"with {calamine_rows.median_rss_mb:.0f} MB against {openpyxl_rows.median_rss_mb:.0f} MB"
    )
    return [
        (
            "xlsx: ours on the workbook, peak RSS <= 300 MB",
            workbook.peak_rss_mb <= 300,
            f"worst round {workbook.peak_rss_mb:.1f} MB ({workbook.wall:.1f} s; the CSV {table.wall:.1f} s)",
        ),
        (
            "xlsx: the workbook gives the CSV's records",
            workbook.consistent and table.consistent and workbook.last.records == table.last.records,
            f"{workbook.last.total} records",
        ),
    ]


def merge_mode(args: argparse.Namespace) -> list[Target]:
    """A merged read of three exports against the three read one by one (the same files, no merge:
    each export alone is one project's only export), each a child process measured by measure()."""
    stories = args.stories or 100_000
    count = 3
    print(f"\n== merge: {count} exports of one project of {stories} stories, {args.rounds} rounds")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        written = write_export(
            workdir / "series", "--projects", "1", "--disabled-projects", "0", "--stories", str(stories),
            "--export-series", str(count), "--export-days-apart", "60", "--export-every-story",
        )  # fmt: skip
        sizes = ", ".join(f"{path.name} {path.stat().st_size / 1e6:.1f} MB" for path in written)
        print(f"  wrote {sizes} in {time.perf_counter() - started:.1f} s")
        merged_label = f"merged, {count} exports"
        contenders = {merged_label: export_read(_folder(workdir, "merged"), *written)}
        for number, path in enumerate(written, start=1):
            contenders[f"alone, export {number}"] = export_read(_folder(workdir, f"alone-{number}"), path)
        runs = file_rounds(contenders, args.rounds)
    merged = Summary(merged_label, runs.pop(merged_label))
    alone = [Summary(label, found) for label, found in runs.items()]
    print_table("merge: every stream, full refresh", [merged, *alone])
    # Medians of each round's sum: the three reads one by one are one contender.
    separate = statistics.median(sum(s.runs[n].wall for s in alone) for n in range(args.rounds))
    separate_records = sum(s.last.total for s in alone)
    ratio = merged.wall / separate if separate else math.inf
    newest = alone[-1]
    print(
        f"\nmerged {merged.wall:.2f} s for {merged.last.total} records; one by one {separate:.2f} s for "
        f"{separate_records} records (each story once per export): {ratio:.2f}x the time; "
        f"the newest export alone {newest.wall:.2f} s: merging three costs {merged.wall / newest.wall:.2f}x"
    )
    return [
        ("merge: merged read <= 2.0x the time of the three alone", ratio <= 2.0, f"{ratio:.2f}x"),
        (
            "merge: peak RSS <= 250 MB",
            merged.peak_rss_mb <= 250,
            f"worst round {merged.peak_rss_mb:.1f} MB (median {merged.median_rss_mb:.1f}); "
            f"alone: worst {max(s.peak_rss_mb for s in alone):.1f} MB",
        ),
        (
            "merge: every read completed",
            merged.consistent and all(s.consistent for s in alone),
            f"{merged.last.total} records merged",
        ),
    ]


MB = 1024 * 1024


def files_mode(args: argparse.Namespace) -> list[Target]:
    """Ours staging every attachment vs `unzip` extracting the archive: each a child process run by
    measure(), in turn within each round, each output deleted before the next run; medians."""
    unzip = shutil.which("unzip")
    if unzip is None:
        print("\n== files: needs the `unzip` command to compare with; install it: apt-get install -y unzip")
        return [("files: unzip installed", False, "unzip not found on PATH")]
    total = args.attachment_mb * MB
    print(
        f"\n== files: file transfer of {args.attachment_mb} MB of attachments vs unzip, {args.rounds} rounds"
    )
    with tempfile.TemporaryDirectory(prefix="tracker-files-bench-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        one_project = ("--projects", "1", "--disabled-projects", "0", "--stories", "2000")
        export = write_export(workdir / "export", *one_project)[0]
        add_attachments(export, story_ids(export), attachment_sizes(total))
        count, size = attachment_bytes(export)
        print(
            f"  wrote {export.name}: {count} attachments, {size / MB:.0f} MB "
            f"({export.stat().st_size / MB:.0f} MB zipped) in {time.perf_counter() - started:.1f} s"
        )
        config = {"export_files": [str(export)], "delivery_method": {"delivery_type": "use_file_transfer"}}
        discovered = run_connector("discover", config).only("CATALOG")["catalog"]
        catalog = configured_catalog(discovered, ("attachments",), incremental=False)
        staging, unzipped = workdir / "staging", workdir / "unzipped"
        ours_command = [
            CONNECTOR, "read",
            "--config", write_json(workdir / "config.json", config),
            "--catalog", write_json(workdir / "catalog.json", catalog),
        ]  # fmt: skip
        contenders = {
            "ours, file transfer": (
                ours_command,
                {**os.environ, "AIRBYTE_STAGING_DIRECTORY": str(staging)},
                staging,
            ),
            "unzip": ([unzip, "-q", "-o", str(export), "-d", str(unzipped)], None, unzipped),
        }
        runs: dict[str, list[Run]] = {label: [] for label in contenders}
        copied: dict[str, tuple[int, int]] = {}
        for number in range(1, args.rounds + 1):
            for label, (command, env, output) in contenders.items():
                run = measure(label, command, None, env=env)
                runs[label].append(run)
                files = [path for path in output.rglob("*") if path.is_file() and path.parent != output]
                copied[label] = (len(files), sum(path.stat().st_size for path in files))
                shutil.rmtree(output, ignore_errors=True)  # only one output on the disk at a time
                status = (
                    "ok"
                    if run.exit_code == 0 and not run.errors
                    else f"exit {run.exit_code} {run.errors[:1]}"
                )
                print(
                    f"  round {number}  {label:<20} {run.wall:8.2f} s  {size / MB / run.wall:8.0f} MB/s  "
                    f"{run.peak_rss_mb:7.1f} MB RSS  {run.cpu:6.2f} s CPU  {status}",
                    flush=True,
                )
    ours, baseline = (Summary(label, found) for label, found in runs.items())
    print(f"\n{'contender':<22}{'wall s (median)':>16}{'MB/s':>8}{'CPU s':>8}{'peak RSS MB':>13}{'files':>7}")
    for summary in (ours, baseline):
        cpu = statistics.median(run.cpu for run in summary.runs)
        print(
            f"{summary.label:<22}{summary.wall:>16.2f}{size / MB / summary.wall:>8.0f}{cpu:>8.2f}"
            f"{summary.peak_rss_mb:>13.1f}{copied[summary.label][0]:>7}"
        )
    ratio = baseline.wall / ours.wall
    return [
        (
            "files: ours >= 0.7x unzip's MB/s",
            ratio >= 0.7,
            f"{ratio:.2f} ({size / MB / ours.wall:.0f} vs {size / MB / baseline.wall:.0f} MB/s, "
            f"{size / MB:.0f} MB in {count} attachments)",
        ),
        (
            "files: peak RSS <= 200 MB",
            ours.peak_rss_mb <= 200,
            f"worst round {ours.peak_rss_mb:.1f} MB (median {ours.median_rss_mb:.1f}; "
            f"unzip {baseline.peak_rss_mb:.1f})",
        ),
        (
            "files: every attachment copied, by both",
            ours.consistent
            and ours.last.records["attachments"] == count
            and copied[ours.label] == (count, size),
            f"ours {copied[ours.label][0]} files, {copied[ours.label][1]} bytes; unzip {copied['unzip'][0]} "
            f"files in story folders; the export holds {count}, {size} bytes",
        ),
    ]


def _folder(workdir: Path, name: str) -> Path:
    (workdir / name).mkdir()
    return workdir / name


def seams_mode(args: argparse.Namespace) -> list[Target]:
    rounds = max(args.rounds, 7)
    print(f"\n== seams: each speed seam with and without it, medians of {rounds} processes")
    subprocess.run([sys.executable, str(SCRIPTS / "bench" / "seam_gains.py"), str(rounds)], check=True)
    return []


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "mode",
        choices=[
            *("startup", "peer-small", "peer", "limit", "memory"),
            *("export", "check", "xlsx", "files", "merge", "seams", "all"),
        ],
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--projects", type=int, help="default 20 (startup, peer-small: 3)")
    parser.add_argument(
        "--stories",
        type=int,
        help="per project; default 1,000 (memory: 10,000; export: 100,000; startup, peer-small: 300)",
    )
    parser.add_argument("--latency-ms", type=float, help="default 50 for peer, 0 otherwise")
    parser.add_argument("--workers", type=int, help="our num_workers (default: the connector's own)")
    parser.add_argument("--deadline", type=float, help="check: the check deadline in s (default 60)")
    parser.add_argument(
        "--attachment-mb", type=int, default=2048, help="files: the attachments' total size (default 2048)"
    )
    args = parser.parse_args(argv)
    modes = {
        "startup": startup_mode,
        "peer-small": peer_small_mode,
        "peer": peer_mode,
        "limit": limit_mode,
        "memory": memory_mode,
        "export": export_mode,
        "check": check_mode,
        "xlsx": xlsx_mode,
        "files": files_mode,
        "merge": merge_mode,
        "seams": seams_mode,
    }
    chosen = list(modes) if args.mode == "all" else [args.mode]
    print(f"connector: {CONNECTOR} (repo {REPO})")
    targets = [target for mode in chosen for target in modes[mode](args)]
    print("\nTargets")
    for name, met, detail in targets:
        print(f"  {'met    ' if met else 'NOT MET'}  {name}: {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
