"""`make demo`: the connector's main job, offline, against the local Tracker sandbox.

Starts the sandbox, then runs spec, check, discover and read of every stream through the installed
`source-pivotal-tracker` command, writes each stream's records to demo-output/<stream>.jsonl and
prints what it read. Then the other way in: the sandbox writes the same world as Tracker's project
export ZIPs (demo-output/export/), and the command reads them with `{"export_files": [...]}`;
then it reads their attachments with file transfer, copying each file to demo-output/staging/
as the platform's staging folder would receive it. Last, two exports of one project taken 90 days
apart (demo-output/merged/) are read as one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from integration_tests.harness import (  # noqa: E402
    REPO,
    configured_catalog,
    run_connector,
    sandbox_process,
    write_export,
)

OUTPUT = REPO / "demo-output"
SHOWN = 8  # staged files listed by name


def main() -> int:
    OUTPUT.mkdir(exist_ok=True)
    with sandbox_process() as server:
        print(f"Sandbox of the Pivotal Tracker v5 API at {server.url}")
        config = server.config(days_back=3650)

        spec = run_connector("spec").only("SPEC")["spec"]
        fields = list(spec["connectionSpecification"]["properties"])
        print(f"spec      options: {', '.join(fields)}")

        status = run_connector("check", config).only("CONNECTION_STATUS")["connectionStatus"]
        print(f"check     {status['status']}")
        if status["status"] != "SUCCEEDED":
            print(status.get("message"))
            return 1

        discovered = run_connector("discover", config).only("CATALOG")["catalog"]
        print(f"discover  {len(discovered['streams'])} streams")

        catalog = configured_catalog(discovered)
        read = run_connector("read", config, catalog)
        modes = {s["stream"]["name"]: s["sync_mode"] for s in catalog["streams"]}
        print(f"read      exit code {read.exit_code}, {len(read.states)} state checkpoints\n")

        print(f"{'stream':<20} {'mode':<12} {'records':>8}  written to")
        print(f"{'-' * 20} {'-' * 12} {'-' * 8}  {'-' * 32}")
        for name in modes:
            records = read.records.get(name, [])
            path = OUTPUT / f"{name}.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in records))
            print(f"{name:<20} {modes[name]:<12} {len(records):>8}  {path.relative_to(REPO)}")
        total = sum(len(r) for r in read.records.values())
        print(f"{'total':<20} {'':<12} {total:>8}")
        warnings = [log["message"] for log in read.logs if log["level"] == "WARN"]
        for message in warnings:
            print(f"warning: {message}")
        (OUTPUT / "state.json").write_text(json.dumps(read.last_state_by_stream(), indent=2))
        for error in read.errors:
            print(f"error: {error['message']}")
        empty = [name for name in modes if not read.records.get(name)]
        if read.exit_code != 0 or empty:
            print(f"demo failed: exit code {read.exit_code}, empty streams: {empty}")
            return 1
    return read_exports()


def read_exports() -> int:
    """The same world as export ZIPs (one per project), read through the installed command."""
    folder = OUTPUT / "export"
    for old in folder.glob("*-export.zip"):
        old.unlink()  # each run's ZIPs carry that run's time in their names
    zips = write_export(folder)
    config = {"export_files": [str(folder / "*-export.zip")]}
    print(f"\nexport    {len(zips)} project export ZIPs in {folder.relative_to(REPO)}/, e.g. {zips[0].name}")
    status = run_connector("check", config).only("CONNECTION_STATUS")["connectionStatus"]
    print(f"check     {status['status']}")
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    catalog = configured_catalog(discovered, incremental=False)
    read = run_connector("read", config, catalog)
    print(f"read      exit code {read.exit_code}\n")
    print(f"{'stream':<20} {'records':>8}  written to")
    print(f"{'-' * 20} {'-' * 8}  {'-' * 32}")
    names = [s["stream"]["name"] for s in catalog["streams"]]
    for name in names:
        records = read.records.get(name, [])
        path = folder / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        print(f"{name:<20} {len(records):>8}  {path.relative_to(REPO)}")
    print(f"{'total':<20} {sum(len(r) for r in read.records.values()):>8}")
    for error in read.errors:
        print(f"error: {error['message']}")
    empty = [name for name in names if not read.records.get(name)]
    if status["status"] != "SUCCEEDED" or read.exit_code != 0 or empty:
        print(f"demo failed (exports): exit code {read.exit_code}, empty streams: {empty}")
        return 1
    return transfer_files(config) or read_merged_exports()


def transfer_files(config: dict[str, Any]) -> int:
    """The exports' attachments as files: copied to a staging folder, each record naming its copy."""
    staging = OUTPUT / "staging"
    shutil.rmtree(staging, ignore_errors=True)  # the last run's copies
    config = {**config, "delivery_method": {"delivery_type": "use_file_transfer"}}
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    catalog = configured_catalog(discovered, ["attachments"], incremental=False)
    read = run_connector("read", config, catalog, env={"AIRBYTE_STAGING_DIRECTORY": str(staging)})
    records = sorted(
        (
            message["record"]
            for message in map(json.loads, read.stdout.splitlines())
            if message["type"] == "RECORD" and "file_reference" in message["record"]
        ),
        key=lambda record: record["data"]["path"],
    )
    total = sum(record["file_reference"]["file_size_bytes"] for record in records)
    print(f"\nfile transfer  {len(records)} attachments ({total:,} bytes) to {staging.relative_to(REPO)}/")
    print(f"{'staged file':<82} {'bytes':>7}  same SHA-256 as its record")
    differing = []
    for number, record in enumerate(records):
        staged = Path(record["file_reference"]["staging_file_url"])
        same = hashlib.sha256(staged.read_bytes()).hexdigest() == record["data"]["sha256"]
        if not same:
            differing.append(str(staged))
        if number < SHOWN:
            size = record["file_reference"]["file_size_bytes"]
            print(f"{str(staged.relative_to(REPO)):<82} {size:>7}  {'yes' if same else 'NO'}")
    if len(records) > SHOWN:
        print(f"… and {len(records) - SHOWN} more")
    if read.exit_code != 0 or not records or differing:
        print(f"demo failed (file transfer): exit code {read.exit_code}, {len(records)} files")
        print(f"differing from their records: {differing}")
        return 1
    return 0


def read_merged_exports() -> int:
    """Two exports of one project, stories changed between them, read as one snapshot."""
    folder = OUTPUT / "merged"
    shutil.rmtree(folder, ignore_errors=True)
    written = write_export(
        folder, "--projects", "1", "--disabled-projects", "0", "--stories", "300", "--export-series", "2"
    )
    config = {"export_files": [str(path) for path in written]}
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    read = run_connector("read", config, configured_catalog(discovered, incremental=False))
    names = ", ".join(path.name for path in written)
    print(f"\nmerged    two exports of one project ({names}), read as one: exit code {read.exit_code}")
    print(f"{'stream':<20} {'records':>8}  from the newest export / an older one")
    for name in ("projects", "stories", "comments", "activity", "attachments"):
        records = read.records.get(name, [])
        newest = sum(1 for r in records if r.get("export_file") == written[-1].name)
        print(f"{name:<20} {len(records):>8}  {newest} / {len(records) - newest}")
    for error in read.errors:
        print(f"error: {error['message']}")
    stories = read.records.get("stories", [])
    if (
        read.exit_code != 0
        or len(read.records.get("projects", [])) != 1
        or len({s["id"] for s in stories}) != len(stories)
    ):
        print("demo failed (merged exports): not one project, or a story twice")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
