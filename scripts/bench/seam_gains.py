"""What each speed seam of cdk_seams/ gains, in fresh processes of the installed connector.

    python scripts/bench/seam_gains.py ROUNDS

Prints one line per trick: the time with it and without it (medians of ROUNDS processes). A trick
that gains under 0.15 s and under 10 % of a command is not worth a reach into the CDK (issue 17).
"""

from __future__ import annotations

import statistics
import subprocess
import sys

# Importing the source with the package's own start-up skipped, serpyco's lookup ours or its own.
IMPORT = """
import importlib.util, sys, time, types
t = time.perf_counter()
spec = importlib.util.find_spec("source_pivotal_tracker")
package = types.ModuleType("source_pivotal_tracker")
package.__path__ = list(spec.submodule_search_locations)
sys.modules["source_pivotal_tracker"] = package
if WITH:
    from source_pivotal_tracker import attribute_docs
    attribute_docs.install()
import source_pivotal_tracker.source
print(time.perf_counter() - t)
"""
# Building the source as today (the CDK validates the manifest), or WITH the dropped trick: the
# CDK's component schema swapped for `dict` and `_validate_source` a no-op.
VALIDATION = """
import time
import source_pivotal_tracker.source as s
from airbyte_cdk.sources.declarative import concurrent_declarative_source as cds
if WITH:
    cds.get_declarative_component_schema = dict
    cds.ConcurrentDeclarativeSource._validate_source = lambda self: None
t = time.perf_counter()
s.SourcePivotalTracker(None, None, None)
print(time.perf_counter() - t)
"""
# Building the projects stream alone (as a read of projects does), or all fourteen.
STREAMS = """
import time
import source_pivotal_tracker.source as s
from source_pivotal_tracker.cdk_seams.declarative_source import named_streams, source_config
config = {"credentials": {"auth_type": "api_token", "api_token": "x" * 32}}
source = s.SourcePivotalTracker(None, config, None)
t = time.perf_counter()
named_streams(source, ["projects"]) if WITH else source.streams(config=source_config(source))
print(time.perf_counter() - t)
"""
TRICKS = {
    "serpyco-attribute-docs (import of the source)": IMPORT,
    "manifest validation skipped (dropped: today is without)": VALIDATION,
    "catalog-streams-only (streams built for a read of projects)": STREAMS,
}


def median_seconds(code: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        times.append(float(done.stdout.split()[-1]))
    return statistics.median(times)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    print(f"{'trick':<62}{'with s':>9}{'without s':>11}{'gain s':>9}")
    for name, code in TRICKS.items():
        with_it = median_seconds("WITH = True\n" + code, rounds)
        without = median_seconds("WITH = False\n" + code, rounds)
        print(f"{name:<62}{with_it:>9.3f}{without:>11.3f}{without - with_it:>9.3f}")


if __name__ == "__main__":
    main()
