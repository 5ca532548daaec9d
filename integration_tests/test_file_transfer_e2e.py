"""Attachments as files (file transfer) through the installed command, against the sandbox's files.

The sandbox writes its world as exports with screenshots of real sizes (10 KB to 3 MB); the
command copies them to a staging folder, and every copy must equal the bytes the sandbox wrote.
A disk that fills up and a folder that cannot be written are real OS failures here: a small
tmpfs (or, where `mount` is not allowed, RLIMIT_FSIZE, which fails writes with EFBIG), and a
read-only tmpfs (or, without `mount`, a folder without write permission).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, AirbyteRecordMessageFileReference, Type

from integration_tests.harness import CONNECTOR, ConnectorRun, configured_catalog, parse_output, run_connector
from integration_tests.sandbox import SandboxOptions
from integration_tests.sandbox.export_writer import ExportedProject, ExportOptions, write_exports
from integration_tests.sandbox.store import Store
from unit_tests.exports.test_exports_lean_read import CDK_LAUNCH, _messages

T0 = 1_742_827_383  # 2025-03-24 14:43:03 UTC
LARGEST = 3 * 1024 * 1024
FILE_TRANSFER = {"delivery_type": "use_file_transfer"}
STREAMS = ("stories", "attachments")


@pytest.fixture(scope="module")
def store() -> Store:
    return Store(SandboxOptions(projects=2, stories=80, disabled_projects=0), t0=T0)


@pytest.fixture(scope="module")
def catalog(store: Store, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("discover")
    write_exports(store, folder, ExportOptions())
    config = {"export_files": [str(folder)], "delivery_method": FILE_TRANSFER}
    discovered = run_connector("discover", config).only("CATALOG")["catalog"]
    return configured_catalog(discovered, STREAMS, incremental=False)


def _originals(exported: list[ExportedProject]) -> dict[str, bytes]:
    return {attachment.path: attachment.content for e in exported for attachment in e.attachments}


def _read(
    exports: list[Path],
    catalog: dict[str, Any],
    staging: Path,
    preexec: Callable[[], None] | None = None,
) -> ConnectorRun:
    """The installed command's read with file transfer into `staging` (optionally under limits)."""
    config = {"export_files": [str(path) for path in exports], "delivery_method": FILE_TRANSFER}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps(config))
        (Path(tmp) / "catalog.json").write_text(json.dumps(catalog))
        args = ["read", "--config", f"{tmp}/config.json", "--catalog", f"{tmp}/catalog.json"]
        done = subprocess.run(
            [CONNECTOR, *args],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "AIRBYTE_STAGING_DIRECTORY": str(staging)},
            preexec_fn=preexec,
        )
    return parse_output(done.returncode, done.stdout, done.stderr)


def _attachment_lines(stdout: str) -> list[str]:
    return [
        line
        for line in stdout.splitlines()
        if line.startswith('{"type":"RECORD"') and '"attachments"' in line
    ]


@pytest.mark.parametrize("layout", ["zip", "folder"])
def test_staged_files_equal_the_sandbox_originals_byte_for_byte(
    store: Store, catalog: dict[str, Any], tmp_path: Path, layout: str
) -> None:
    exported = write_exports(
        store, tmp_path / "export", ExportOptions(layout=layout, attachment_bytes=LARGEST)
    )
    originals = _originals(exported)
    assert max(len(content) for content in originals.values()) > 1024 * 1024  # several copy chunks
    staging = tmp_path / "staging"

    read = _read([e.path for e in exported], catalog, staging)

    assert read.exit_code == 0 and not read.errors, read.errors or read.stderr[-2000:]
    lines = [orjson.loads(line)["record"] for line in _attachment_lines(read.stdout)]
    assert sorted(record["data"]["path"] for record in lines) == sorted(originals)
    for record in lines:
        data, reference = record["data"], record["file_reference"]
        content = originals[data["path"]]
        staged = Path(reference["staging_file_url"])
        assert staged.is_relative_to(staging) and staged.read_bytes() == content, data["path"]
        assert reference["source_file_relative_path"] == data["path"]
        assert reference["file_size_bytes"] == data["size"] == len(content)
        assert data["sha256"] == hashlib.sha256(content).hexdigest()
    assert len([p for p in staging.rglob("*") if p.is_file()]) == len(originals)
    if layout == "folder":  # the originals on disk, too
        for record in lines:
            original = next(e.path for e in exported if (e.path / record["data"]["path"]).exists())
            assert (
                Path(record["file_reference"]["staging_file_url"]).read_bytes()
                == (original / record["data"]["path"]).read_bytes()
            )


def test_each_attachment_line_is_the_cdk_serialization_of_its_message(
    store: Store, catalog: dict[str, Any], tmp_path: Path
) -> None:
    exported = write_exports(store, tmp_path / "export", ExportOptions(attachment_bytes=64 * 1024))
    read = _read([e.path for e in exported], catalog, tmp_path / "staging")

    lines = _attachment_lines(read.stdout)
    assert lines and read.exit_code == 0
    for line in lines:
        record = orjson.loads(line)["record"]
        message = AirbyteMessage(
            type=Type.RECORD,
            record=AirbyteRecordMessage(
                stream=record["stream"],
                data=record["data"],
                emitted_at=record["emitted_at"],
                file_reference=AirbyteRecordMessageFileReference(**record["file_reference"]),
            ),
        )
        assert line == AirbyteEntrypoint.airbyte_message_to_string(message)


def test_the_command_writes_what_the_cdk_entrypoint_writes_with_file_transfer(
    store: Store, catalog: dict[str, Any], tmp_path: Path
) -> None:
    """The same read by the command (read_items, fast_output) and by the CDK's launch() (read())."""
    exported = write_exports(store, tmp_path / "export", ExportOptions(attachment_bytes=64 * 1024))
    config = {"export_files": [str(e.path) for e in exported], "delivery_method": FILE_TRANSFER}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    args = ["read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")]
    outputs = []
    for name, command in (("ours", [CONNECTOR, *args]), ("cdk", [sys.executable, "-c", CDK_LAUNCH, *args])):
        staging = tmp_path / f"staging-{name}"
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            env={**os.environ, "AIRBYTE_STAGING_DIRECTORY": str(staging)},
        )
        assert done.returncode == 0, done.stderr[-2000:]
        messages = _messages(done.stdout)
        for message in messages:
            reference = message.get("record", {}).get("file_reference")
            if reference:  # <staging>/<a uuid of this run>/<path>: the same once both are dropped
                staged = Path(reference["staging_file_url"]).relative_to(staging)
                assert len(staged.parts[0]) == 32
                reference["staging_file_url"] = "/".join(staged.parts[1:])
        outputs.append(messages)
    ours, cdk = outputs
    assert ours == cdk
    assert sum(1 for m in ours if m.get("record", {}).get("file_reference")) == len(_originals(exported))


@contextmanager
def _tmpfs(folder: Path, options: str) -> Iterator[bool]:
    """A tmpfs mounted on `folder` for the with block; False where mounting is not allowed."""
    folder.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _assert_stopped_naming_file_and_folder(read: ConnectorRun, staging: Path, failure_type: str) -> None:
    assert read.exit_code != 0
    first = read.errors[0]
    assert "File transfer stopped:" in first["message"], first["message"]
    assert f"cannot be written to the staging folder {staging} (" in first["message"]
    assert re.search(
        r"-export\.zip!\d+/(screenshot\.png|notes on it\.txt): cannot be written", first["message"]
    )
    assert first["failure_type"] == failure_type
    assert "Traceback" not in read.stderr
    assert sum("cannot be written" in error["message"] for error in read.errors) == 2  # its own, the summary
    assert ("attachments", "INCOMPLETE") in read.stream_statuses


def test_a_full_disk_stops_the_read_naming_the_file_and_the_folder(
    store: Store, catalog: dict[str, Any], tmp_path: Path
) -> None:
    exported = write_exports(store, tmp_path / "export", ExportOptions(attachment_bytes=LARGEST))
    originals = _originals(exported)
    staging = tmp_path / "small-disk"
    limit = 2 * 1024 * 1024
    assert sum(map(len, originals.values())) > 2 * limit

    def file_size_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with _tmpfs(staging, f"size={limit}") as mounted:
        read = _read([e.path for e in exported], catalog, staging, None if mounted else file_size_limit)
        staged = [path for path in staging.rglob("*") if path.is_file()]
        complete = {path.read_bytes() for path in staged}

    _assert_stopped_naming_file_and_folder(read, staging, "system_error")
    reason = "No space left on device" if mounted else "File too large"
    assert f"({reason}); free space there or give it a larger volume" in read.errors[0]["message"]
    # What was staged before the disk filled is whole; the file being written was removed.
    assert complete <= set(originals.values())
    assert len(read.records["attachments"]) == len(staged)


def test_a_folder_that_cannot_be_written_fails_check_and_read_naming_it(
    store: Store, catalog: dict[str, Any], tmp_path: Path
) -> None:
    exported = write_exports(store, tmp_path / "export", ExportOptions())
    staging = tmp_path / "read-only"
    config = {"export_files": [str(e.path) for e in exported], "delivery_method": FILE_TRANSFER}
    with _tmpfs(staging, "ro,size=1m") as mounted:
        if not mounted:
            staging.chmod(0o500)  # honoured without mount's privileges, i.e. not as root
        check = run_connector("check", config, env={"AIRBYTE_STAGING_DIRECTORY": str(staging)})
        read = _read([e.path for e in exported], catalog, staging)

    status = check.only("CONNECTION_STATUS")["connectionStatus"]
    assert status["status"] == "FAILED" and f"staging folder {staging} (" in status["message"]
    _assert_stopped_naming_file_and_folder(read, staging, "config_error")
    reason = "Read-only file system" if mounted else "Permission denied"
    assert (
        f"({reason}); make it a writable folder, or set AIRBYTE_STAGING_DIRECTORY to one"
        in (read.errors[0]["message"])
    )
