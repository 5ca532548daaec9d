"""Throughput check of the sandbox: `python scripts/bench/loadcheck.py [--seconds 5] [--threads 4]`.

Starts the sandbox as a separate process (as benchmarks run it), then requests 500-story pages
from several threads over keep-alive sessions and prints requests/s and MB/s, so one can tell
whether the sandbox could be the bottleneck of a connector benchmark.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for the sandbox
from integration_tests.harness import sandbox_process  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--projects", type=int, default=4)
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=500)
    args = parser.parse_args(argv)

    options = ("--projects", str(args.projects), "--stories", str(args.stories), "--disabled-projects", "0")
    with sandbox_process(*options) as sandbox:
        url, token = sandbox.url, sandbox.api_token
        headers = {"X-TrackerToken": token}
        projects = [p["id"] for p in requests.get(url + "/projects", headers=headers).json()]
        pages = [
            f"{url}/projects/{pid}/stories?limit={args.limit}&offset={offset}"
            for pid in projects
            for offset in range(0, args.stories, args.limit)
        ]
        # Warm-up pass: the first answer of each story serialises and caches it.
        with requests.Session() as session:
            for page in pages:
                session.get(page, headers=headers).raise_for_status()

        counts = [0] * args.threads
        sizes = [0] * args.threads
        failures: list[str] = []
        deadline = time.perf_counter() + args.seconds

        def worker(index: int) -> None:
            with requests.Session() as session:
                for page in itertools.islice(itertools.cycle(pages), index, None):
                    if time.perf_counter() >= deadline:
                        return
                    response = session.get(page, headers=headers)
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {page}")
                        return
                    counts[index] += 1
                    sizes[index] += len(response.content)

        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        total, volume = sum(counts), sum(sizes)
        print(
            f"{total} requests of {args.limit} stories in {elapsed:.1f} s from {args.threads} "
            f"threads: {total / elapsed:.0f} req/s, {volume / elapsed / 1e6:.1f} MB/s "
            f"({volume / max(total, 1) / 1e3:.0f} kB per page)"
        )
        if failures:
            print("failures:", *failures[:5], sep="\n  ")
            return 1
        return 0


if __name__ == "__main__":
    sys.exit(main())
