"""Attachments as files (Airbyte file transfer): each one copied from its export to the staging folder.

With `"delivery_method": {"delivery_type": "use_file_transfer"}` (the spec's option, shaped as
the CDK's file-based sources shape theirs: DeliverRecords / DeliverRawFiles), every attachment is
streamed from its ZIP or folder into `AIRBYTE_STAGING_DIRECTORY` (default `/staging/files`), and
its record carries an AirbyteRecordMessageFileReference, as AbstractFileBasedStreamReader.upload
makes one (CDK 7.39):

- the file goes to `<staging>/<uuid4 hex>/<relative path>`: a folder of its own per file, so
  that two files with the same relative path never share a staging file (the destination
  deletes each one once it has taken it);
- `source_file_relative_path` is that relative path: the attachment's `<story id>/<file name>`,
  or its file name alone with `preserve_directory_structure: false`;
- `file_size_bytes` is the size written.

Unlike the CDK's get_files_directory(), a missing staging folder is created, and one that cannot
be written is an error naming it, rather than a silent fall-back to /tmp, where the platform
would never find the files.

The bytes are copied a chunk at a time (never held whole), the SHA-256 and size come from the
bytes written, and the reader's limits still hold (inputs.GuardedReader stops a member that
inflates past its declared size). No member name can write outside the staging folder: names
with `..`, absolute names and the like are refused here too, not only by the archive checks.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airbyte_cdk.models import AirbyteRecordMessageFileReference, FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from .csv_rows import reading
from .errors import ExportError
from .inputs import ExportMember

FILE_TRANSFER = "use_file_transfer"  # DeliverRawFiles' delivery_type
STAGING_ENV = "AIRBYTE_STAGING_DIRECTORY"
DEFAULT_STAGING = "/staging/files"
# Large enough that Python's per-chunk work is lost in the copy (unzip moves 32-64 KB at a time).
COPY_CHUNK = 1 << 20
# Space on the disk, not the folder's setup: the operator frees or adds space, then re-runs.
_OUT_OF_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def uses_file_transfer(config: Mapping[str, Any]) -> bool:
    method = config.get("delivery_method")
    return isinstance(method, Mapping) and method.get("delivery_type") == FILE_TRANSFER


class StagingError(ExportError):
    """An attachment that cannot be written to the staging folder: a disk or setup problem.

    Every other file would fail alike, so the read stops at the first.
    """

    def __init__(self, file: str, folder: Path, error: OSError) -> None:
        reason = error.strerror or str(error)
        super().__init__(file, f"cannot be written to the staging folder {folder} ({reason})")
        self.folder = folder
        self.out_of_space = error.errno in _OUT_OF_SPACE

    def traced(self) -> AirbyteTracedException:
        hint = (
            "free space there or give it a larger volume"
            if self.out_of_space
            else f"make it a writable folder, or set {STAGING_ENV} to one"
        )
        return AirbyteTracedException(
            message=f"File transfer stopped: {self}; {hint}",
            internal_message=str(self),
            failure_type=FailureType.system_error if self.out_of_space else FailureType.config_error,
        )


@dataclass(frozen=True)
class Staged:
    """What one attachment became: the bytes written, their SHA-256 and the file's reference."""

    size: int
    sha256: str
    file_reference: AirbyteRecordMessageFileReference


@dataclass(frozen=True)
class Stager:
    """Copies attachments into the staging folder, as the config's delivery_method asks."""

    folder: Path
    preserve_directory_structure: bool = True

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Stager | None:
        """The stager of a config with file transfer, else None (records only, the default)."""
        if not uses_file_transfer(config):
            return None
        method = config["delivery_method"]
        folder = Path(os.path.abspath(os.environ.get(STAGING_ENV) or DEFAULT_STAGING))
        return cls(folder, bool(method.get("preserve_directory_structure", True)))

    def check(self) -> None:
        """The staging folder exists (made if missing) and takes a file: check's question."""
        probe = self.folder / f".write-check-{uuid.uuid4().hex}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            raise StagingError(str(self.folder), self.folder, error) from None

    def stage(self, member: ExportMember) -> Staged:
        """The member's bytes streamed to `<folder>/<uuid4 hex>/<relative path>`."""
        relative = _relative_path(member, self.preserve_directory_structure)
        own = self.folder / uuid.uuid4().hex
        target = own / relative
        try:
            target.parent.mkdir(parents=True)
            # O_EXCL | O_NOFOLLOW: a fresh file of our own, never one a link points to.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            out = open(os.open(target, flags, 0o644), "wb", buffering=0)  # noqa: SIM115 - closed below
        except OSError as error:
            _remove(own)
            raise StagingError(member.display, self.folder, error) from None

        def write(chunk: memoryview) -> None:
            try:
                written = 0
                while written < len(chunk):  # a raw write may take part of the chunk
                    written += out.write(chunk[written:])
            except OSError as error:
                raise StagingError(member.display, self.folder, error) from None

        try:
            size, digest = streamed_digest(member, write)
        except BaseException:
            out.close()
            _remove(own)
            raise
        try:
            out.close()
        except OSError as error:
            _remove(own)
            raise StagingError(member.display, self.folder, error) from None
        reference = AirbyteRecordMessageFileReference(
            staging_file_url=str(target), source_file_relative_path=relative, file_size_bytes=size
        )
        return Staged(size, digest, reference)


def streamed_digest(
    member: ExportMember, write: Callable[[memoryview], None] | None = None
) -> tuple[int, str]:
    """The size and SHA-256 of the member's bytes, read a chunk at a time; with `write`, each chunk
    is written before it counts, so that they are those of the bytes written."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(COPY_CHUNK)
    view = memoryview(buffer)
    with reading(member), member.open() as source:
        while read := source.readinto(buffer):  # type: ignore[attr-defined]
            chunk = view[:read]
            if write is not None:
                write(chunk)
            digest.update(chunk)
            size += read
    return size, digest.hexdigest()


def _relative_path(member: ExportMember, preserve_directory_structure: bool) -> str:
    """`<story id>/<file name>` (or the file name), refused if any part could leave the folder."""
    parts = member.path.split("/")
    if any(part in ("", ".", "..") or "\x00" in part for part in parts):
        raise ExportError(member.display, f"refused: its name {member.path!r} points outside the folder")
    return member.path if preserve_directory_structure else parts[-1]


def _remove(own: Path) -> None:
    """A half-written file is not left for the destination to pick up (its folder is its own)."""
    shutil.rmtree(own, ignore_errors=True)
