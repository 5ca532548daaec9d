"""Attachments as files: `delivery_method: use_file_transfer` copies each one to the staging folder."""

from __future__ import annotations

import hashlib
import logging
import struct
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import AirbyteMessage, Status
from airbyte_cdk.test.entrypoint_wrapper import read

from source_pivotal_tracker.checks.config_checks import config_problem
from source_pivotal_tracker.exports import file_transfer, inputs
from source_pivotal_tracker.exports.errors import ExportError
from source_pivotal_tracker.exports.file_transfer import STAGING_ENV, Stager
from source_pivotal_tracker.exports.inputs import ExportMember
from source_pivotal_tracker.exports.projects import Origin
from source_pivotal_tracker.exports.source import EXPORT_STREAMS, ExportSource
from source_pivotal_tracker.runtime.manifest_loading import parsed_manifest
from unit_tests.exports.builder import export_zip, stories_csv, story
from unit_tests.exports.reading import catalog

LOGGER = logging.getLogger("airbyte")
GOOD = stories_csv("E", [story(1), story(2)])
FILES = {
    "1/spec.pdf": b"%PDF-1.4 spec" * 1000,
    "2/screen shot ✓.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
}
FILE_TRANSFER = {"delivery_type": "use_file_transfer"}


@pytest.fixture
def staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "staging"
    monkeypatch.setenv(STAGING_ENV, str(folder))
    return folder


def _read(entries: list[str], delivery_method: dict[str, Any] | None = FILE_TRANSFER) -> Any:
    config: dict[str, Any] = {"export_files": entries}
    if delivery_method is not None:
        config["delivery_method"] = delivery_method
    return read(ExportSource(), config, catalog(("stories", "attachments")))


def _attachments(output: Any) -> list[AirbyteMessage]:
    found = [m for m in output.records if m.record.stream == "attachments"]
    return sorted(found, key=lambda m: m.record.data["path"])


def _staged_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def test_each_attachment_is_copied_to_the_staging_folder_and_its_record_references_it(
    tmp_path: Path, staging: Path
) -> None:
    archive = export_zip(tmp_path / "shop_20250101_120000-export.zip", GOOD, attachments=FILES)

    output = _read([str(archive)])

    assert not output.errors
    messages = _attachments(output)
    assert [m.record.data["path"] for m in messages] == sorted(FILES)
    for message in messages:
        data, reference = message.record.data, message.record.file_reference
        content = FILES[data["path"]]
        staged = Path(reference.staging_file_url)
        # As the CDK stages a file: <staging>/<a folder of its own>/<relative path>.
        assert staged.relative_to(staging).parts[1:] == tuple(data["path"].split("/"))
        assert len(staged.relative_to(staging).parts[0]) == 32
        assert staged.read_bytes() == content
        assert reference.source_file_relative_path == data["path"]
        assert reference.file_size_bytes == data["size"] == len(content)
        assert data["sha256"] == hashlib.sha256(content).hexdigest()
    assert len(_staged_files(staging)) == len(FILES)
    assert len(output.records) == len(FILES) + 2  # the stories are read as before


def test_an_unzipped_export_folder_is_copied_as_well(tmp_path: Path, staging: Path) -> None:
    folder = tmp_path / "shop_20250101_120000-export"
    (folder / "1").mkdir(parents=True)
    (folder / "shop_20250101_1200.csv").write_bytes(GOOD)
    (folder / "1" / "spec.pdf").write_bytes(FILES["1/spec.pdf"])

    [message] = _attachments(_read([str(folder)]))

    assert Path(message.record.file_reference.staging_file_url).read_bytes() == FILES["1/spec.pdf"]
    assert message.record.file_reference.source_file_relative_path == "1/spec.pdf"


def test_without_preserved_directories_files_are_staged_by_their_names(tmp_path: Path, staging: Path) -> None:
    archive = export_zip(tmp_path / "shop.zip", GOOD, attachments=FILES)

    output = _read([str(archive)], {**FILE_TRANSFER, "preserve_directory_structure": False})

    for message in _attachments(output):
        name = message.record.data["file_name"]
        assert message.record.file_reference.source_file_relative_path == name
        assert Path(message.record.file_reference.staging_file_url).name == name
        assert Path(message.record.file_reference.staging_file_url).parent.parent == staging


def test_records_only_is_the_default_and_stages_nothing(tmp_path: Path, staging: Path) -> None:
    archive = export_zip(tmp_path / "shop.zip", GOOD, attachments=FILES)

    for method in (None, {"delivery_type": "use_records_transfer"}):
        messages = _attachments(_read([str(archive)], method))
        assert [m.record.file_reference for m in messages] == [None, None]
        assert [m.record.data["sha256"] for m in messages] == [
            hashlib.sha256(FILES[name]).hexdigest() for name in sorted(FILES)
        ]
    assert not staging.exists()


def _member(path: str, content: bytes = b"x") -> ExportMember:
    return ExportMember(
        display=f"evil.zip!{path}",
        path=path,
        origin=Origin("evil.zip", "evil.zip", archive=True),
        story_id=1,
        size=len(content),
        opener=lambda: __import__("io").BytesIO(content),
    )


@pytest.mark.parametrize(
    "name", ["1/../../escape.txt", "../escape.txt", "/tmp/escape.txt", "1//escape.txt", "1/./x", "1/a\x00b"]
)
def test_no_member_name_can_write_outside_the_staging_folder(tmp_path: Path, name: str) -> None:
    stager = Stager(tmp_path / "staging")
    with pytest.raises(ExportError, match="refused: its name .* points outside the folder"):
        stager.stage(_member(name))
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == []


@pytest.mark.parametrize("member", ["1/../../../escape.png", "/1/escape.png", "1/..\\..\\escape.png"])
def test_an_archive_with_a_name_leaving_it_stages_nothing(tmp_path: Path, staging: Path, member: str) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("stories.csv", GOOD)
        archive.writestr("1/fine.png", b"fine")
        archive.writestr(zipfile.ZipInfo(member), b"evil")

    output = _read([str(path)])

    assert any("outside the archive" in error.trace.error.message for error in output.errors)
    assert _staged_files(staging) == [] and not (tmp_path / "escape.png").exists()


def test_a_large_attachment_is_streamed_never_held_whole(tmp_path: Path) -> None:
    content = bytes(range(256)) * (48 * 1024 * 1024 // 256)  # 48 MB
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("1/video.bin", content)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("1/video.bin")
        member = ExportMember(
            "big.zip!1/video.bin",
            "1/video.bin",
            Origin("big.zip", "big.zip", archive=True),
            1,
            info.file_size,
            lambda: archive.open(info),
        )
        tracemalloc.start()
        try:
            staged = Stager(tmp_path / "staging").stage(member)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert staged.size == len(content) and staged.sha256 == hashlib.sha256(content).hexdigest()
    assert Path(staged.file_reference.staging_file_url).stat().st_size == len(content)
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB of Python memory for a 48 MB file"


def test_a_member_inflating_past_its_declared_size_leaves_no_staged_file(
    tmp_path: Path, staging: Path
) -> None:
    content = b"A" * 5000
    archive = export_zip(tmp_path / "shop.zip", GOOD, attachments={"1/lying.bin": content})
    data = bytearray(archive.read_bytes())
    needle, small = struct.pack("<I", len(content)), struct.pack("<I", 100)
    start = 0
    while (index := data.find(needle, start)) >= 0:  # the local header and the central directory
        data[index : index + 4] = small
        start = index + 1
    archive.write_bytes(bytes(data))

    output = _read([str(archive)])

    assert any(f"{archive}!1/lying.bin" in e.trace.error.message for e in output.errors)
    assert _staged_files(staging) == [] and list(staging.iterdir()) == []


def test_a_zip_bomb_is_refused_before_anything_is_staged(tmp_path: Path, staging: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("stories.csv", GOOD)
        archive.writestr("123/zeros.bin", b"\0" * (20 * 1024 * 1024))

    output = _read([str(path)])

    assert any("zip bomb" in error.trace.error.message for error in output.errors)
    assert _staged_files(staging) == []


def test_too_many_members_are_refused_with_file_transfer_too(
    tmp_path: Path, staging: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs, "MAX_MEMBERS", 5)
    archive = export_zip(tmp_path / "shop.zip", GOOD, attachments={f"1/{n}.txt": b"x" for n in range(6)})
    output = _read([str(archive)])
    assert any("limit of 5" in error.trace.error.message for error in output.errors)
    assert _staged_files(staging) == []


def test_a_staging_folder_that_cannot_be_made_stops_the_read_naming_file_and_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(STAGING_ENV, str(blocker / "staging"))
    archive = export_zip(tmp_path / "shop.zip", GOOD, attachments=FILES)

    output = _read([str(archive)])

    first = output.errors[0].trace.error
    assert f"{archive}!1/spec.pdf" in first.message and str(blocker / "staging") in first.message
    assert "Not a directory" in first.message and first.failure_type.value == "config_error"
    # One error, not one per file: the read stopped at the first.
    assert (
        sum("cannot be written" in e.trace.error.message for e in output.errors) == 2
    )  # its own, the summary
    assert ("attachments", "INCOMPLETE") in [
        (m.trace.stream_status.stream_descriptor.name, m.trace.stream_status.status.name)
        for m in output.trace_messages
        if m.trace.stream_status is not None
    ]


def test_check_fails_naming_a_staging_folder_that_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = export_zip(tmp_path / "shop.zip", GOOD, attachments=FILES)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(STAGING_ENV, str(blocker))
    config = {"export_files": [str(archive)], "delivery_method": FILE_TRANSFER}
    status = ExportSource().check(LOGGER, config)
    assert status.status == Status.FAILED
    assert str(blocker) in (status.message or "") and "staging folder" in (status.message or "")

    monkeypatch.setenv(STAGING_ENV, str(tmp_path / "new" / "staging"))
    assert ExportSource().check(LOGGER, config).status == Status.SUCCEEDED
    assert (tmp_path / "new" / "staging").is_dir() and list((tmp_path / "new" / "staging").iterdir()) == []


def test_discover_marks_attachments_file_based_only_with_file_transfer() -> None:
    def file_based(config: dict[str, Any]) -> dict[str, Any]:
        return {s.name: s.is_file_based for s in ExportSource().discover(LOGGER, config).streams}

    with_files = file_based({"export_files": ["x"], "delivery_method": FILE_TRANSFER})
    assert with_files["attachments"] is True
    assert {name for name, value in with_files.items() if value} == {"attachments"}
    assert not any(file_based({"export_files": ["x"]}).values())
    assert len(with_files) == len(EXPORT_STREAMS)


def test_the_spec_offers_delivery_method_in_the_shape_of_the_cdk_file_based_sources() -> None:
    spec = parsed_manifest()["spec"]["connection_specification"]
    method = spec["properties"]["delivery_method"]
    assert method["type"] == "object" and method["display_type"] == "radio"
    records, files = method["oneOf"]
    assert (records["title"], files["title"]) == ("Replicate Records", "Copy Raw Files")
    for option, value in ((records, "use_records_transfer"), (files, "use_file_transfer")):
        assert option["required"] == ["delivery_type"]
        assert option["properties"]["delivery_type"] == {
            "title": "Delivery Type",
            "default": value,
            "const": value,
            "enum": [value],
            "type": "string",
        }
    preserve = files["properties"]["preserve_directory_structure"]
    assert preserve["type"] == "boolean" and preserve["default"] is True
    assert file_transfer.FILE_TRANSFER == "use_file_transfer"


def test_a_delivery_method_outside_the_spec_is_named_with_its_options() -> None:
    spec = parsed_manifest()["spec"]["connection_specification"]
    base = {"export_files": ["x.zip"]}
    assert config_problem({**base, "delivery_method": FILE_TRANSFER}, spec) is None
    assert (
        config_problem({**base, "delivery_method": {"delivery_type": "use_records_transfer"}}, spec) is None
    )
    assert config_problem({**base, "delivery_method": {"delivery_type": "ftp"}}, spec) == (
        "The config field 'delivery_method' must be one of the delivery methods: "
        "use_records_transfer, or use_file_transfer."
    )
    problem = config_problem(
        {**base, "delivery_method": {**FILE_TRANSFER, "preserve_directory_structure": 1}}, spec
    )
    assert (
        problem == "The config field 'delivery_method.preserve_directory_structure' must be of type boolean."
    )
