"""`make test-cdk-range`: the unit tests on the lowest and the highest airbyte-cdk of the declared range.

The range is cdk_seams/cdk_range.py's CDK_REQUIREMENT (setup.py's pin), so moving the pin
moves this test. The lowest is the range's lower bound; the highest is what pip picks for the
requirement today. Each runs in its own venv, `.venv-cdk-<version>/`, built from the package index
on first use and reused after (the connector is re-installed when its sources change). Prints the
time per version: venv build and unit tests.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from runpy import run_path

ROOT = Path(__file__).resolve().parent.parent
RANGE = run_path(str(ROOT / "source_pivotal_tracker" / "cdk_seams" / "cdk_range.py"))


def highest_in_range() -> str:
    """The release pip installs for the requirement today (one index query, no install)."""
    report = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--no-deps", "--ignore-installed"]
        + ["--report", "-", RANGE["CDK_REQUIREMENT"]],
        capture_output=True,
        text=True,
    )
    if report.returncode != 0:
        sys.exit(f"pip could not resolve {RANGE['CDK_REQUIREMENT']}: {report.stderr.strip()[-500:]}")
    return str(json.loads(report.stdout)["install"][0]["metadata"]["version"])


def sources_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted([ROOT / "setup.py", *(ROOT / "source_pivotal_tracker").rglob("*")]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def pip(venv: Path, *args: str) -> None:
    command = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *args]
    subprocess.run(command, cwd=ROOT, check=True)


def prepared_venv(version: str) -> Path:
    """`.venv-cdk-<version>` with the connector, its test tools and exactly that airbyte-cdk."""
    venv = ROOT / f".venv-cdk-{version}"
    stamp = venv / ".installed"
    digest = sources_digest()
    if stamp.exists() and stamp.read_text() == digest:
        return venv
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip(venv, "--upgrade", "pip")
    pip(venv, ".[tests]", f"airbyte-cdk=={version}")
    # A directory's package keeps its version number when its sources change: install it again.
    pip(venv, "--no-deps", "--force-reinstall", ".")
    stamp.write_text(digest)
    return venv


def cdk_of(python: str) -> str:
    """The airbyte-cdk release installed for that interpreter."""
    version = subprocess.run(
        [python, "-c", "from importlib.metadata import version; print(version('airbyte-cdk'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return version.stdout.strip()


def main(argv: list[str]) -> int:
    versions = list(dict.fromkeys([RANGE["LOWEST_CDK"], highest_in_range()]))
    # `--covered-by PYTHON`: make test runs the unit tests with that interpreter right after, so
    # the release it holds (the highest, as pip installs it) is not run twice.
    if argv[:1] == ["--covered-by"]:
        covered = cdk_of(argv[1])
        if covered in versions:
            versions.remove(covered)
            print(f"airbyte-cdk {covered}: the unit tests run on it with {argv[1]} (make test)")
    if not versions:
        return 0
    print(f"{RANGE['CDK_REQUIREMENT']}: unit tests on airbyte-cdk {', '.join(versions)}", flush=True)
    results = []
    for version in versions:
        started = time.monotonic()
        venv = prepared_venv(version)
        built = time.monotonic()
        tests = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "unit_tests"],
            cwd=ROOT,
        )
        done = time.monotonic()
        results.append((version, built - started, done - built, tests.returncode))
    print("\nairbyte-cdk  venv (s)  unit tests (s)  result")
    for version, build, test, code in results:
        print(f"{version:<11}  {build:8.1f}  {test:14.1f}  {'passed' if code == 0 else 'FAILED'}")
    return 0 if all(code == 0 for *_, code in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
