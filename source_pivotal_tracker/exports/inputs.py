"""The files behind `export_files`: paths, globs, folders, ZIPs and https URLs, as a flat list.

Nothing is ever extracted to disk: ZIP members are streamed, with their decompressed bytes
counted. An archive that looks made to hurt (see the limits below) is refused as a whole.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import BinaryIO, overload
from urllib.parse import urlsplit

from ..checks.config_checks import URL_SCHEME
from .downloads import download, shown_url
from .errors import ExportError
from .ids import named_like_export
from .projects import Origin, archive_origin, folder_origin
from .walk import Visits, Walker, expand_glob

# Archive limits (documented in docs/pivotal-tracker.md, "Reading exports").
MAX_MEMBERS = 100_000
MAX_MEMBER_BYTES = 8 * 1024**3
MAX_ARCHIVE_BYTES = 64 * 1024**3
# Deflate cannot pass ~1032:1; text CSVs compress 5-30:1, padded ones more. A large member
# compressed past this ratio is a zip bomb, not an export.
MAX_RATIO = 200
RATIO_CHECKED_ABOVE = 16 * 1024**2
CHUNK = 1 << 16

GLOB_CHARACTERS = re.compile(r"[*?\[]")
# A stories or history table: a CSV, or its spreadsheet re-save (an .xlsx is a ZIP, read as a table).
TABLE_SUFFIXES = (".csv", ".xlsx")
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass(frozen=True)
class ExportMember:
    """One file of an export: a CSV (classified later by its header) or a story's attachment."""

    display: str  # how messages name it: a path, or `archive.zip!member`
    path: str  # its path inside the archive or the configured folder, else its file name
    origin: Origin  # the archive or folder it came from: which export it belongs to (projects.py)
    story_id: int | None  # the attachment's story; None for a CSV
    size: int | None
    opener: Callable[[], BinaryIO]
    # A ZIP member's CRC-32 from the archive's directory: a merged read knows a file it has already
    # read (story, name, size, CRC) without reading it again (merge.py).
    crc32: int | None = None

    def open(self, check_nul: bool = False) -> BinaryIO:
        """A fresh binary stream; for CSVs, a NUL byte fails with the line it is on."""
        return io.BufferedReader(GuardedReader(self.opener(), self.display, self.size, check_nul), CHUNK)


class GuardedReader(io.RawIOBase):
    """Counts the bytes read: stops past the declared size, and finds NUL bytes in CSVs."""

    def __init__(self, raw: BinaryIO, display: str, limit: int | None, check_nul: bool) -> None:
        self._raw, self._display, self._limit, self._check_nul = raw, display, limit, check_nul
        self._read = 0
        self._newlines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        size = len(data)
        self._read += size
        if self._limit is not None and self._read > self._limit:
            raise ExportError(self._display, f"inflates past its declared size of {self._limit} bytes")
        if self._check_nul:
            nul = data.find(b"\x00")
            if nul >= 0:
                line = self._newlines + data.count(b"\n", 0, nul) + 1
                raise ExportError(self._display, "has a NUL byte: not a text CSV", line)
            self._newlines += data.count(b"\n")
        buffer[:size] = data
        return size

    def close(self) -> None:
        self._raw.close()
        super().close()


def is_url(entry: str) -> bool:
    return URL_SCHEME.match(entry) is not None


# The files of an entry in order: lists, and each archive's ArchiveMembers.
Members = Sequence[ExportMember]


@dataclass
class ResolvedInputs:
    """What the entries name: the files to read, the files that failed, the files left alone."""

    groups: list[Members] = field(default_factory=list)
    problems: list[ExportError] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    visits: Visits = field(default_factory=Visits)  # symlink loops (warnings), files met twice (notes)

    @property
    def members(self) -> Iterator[ExportMember]:
        """Every file, in order; an archive's members are made as they are reached."""
        return chain.from_iterable(self.groups)


@contextmanager
def export_members(entries: list[str], url_allowed: Callable[[str], bool]) -> Iterator[ResolvedInputs]:
    """Every file the entries name, in order; archives stay open (and downloads on disk) until exit.

    A file that fails (missing, not a regular file, a damaged or hostile archive, not downloadable)
    is a problem of its own; every other file, of its entry too, still counts.
    """
    with ExitStack() as stack:
        resolved = ResolvedInputs()
        for entry in entries:
            shown = shown_url(entry) if is_url(entry) else entry
            before = (len(resolved.problems), resolved.visits.repeats)
            try:
                groups = _Entry(resolved, stack).members(entry, url_allowed)
            except ExportError as problem:
                resolved.problems.append(problem)
                continue
            except OSError as error:  # an unreadable folder named by the entry itself
                where = str(error.filename or shown)
                resolved.problems.append(ExportError(where, f"cannot be read ({error.strerror or error})"))
                continue
            if any(map(_holds_table, groups)):
                resolved.groups += groups
            elif before == (len(resolved.problems), resolved.visits.repeats):
                # Not when its files failed (each is named) or an earlier entry read them.
                resolved.problems.append(ExportError(shown, NO_TABLE))
        yield resolved


# The one rule of check and read for what an entry must hold: a sync that reads nothing from an
# entry (a folder of other files, a ZIP without CSVs) must not end in success with 0 records.
NO_TABLE = (
    "holds no stories or history table: give an export ZIP, a stories or history CSV, "
    "an .xlsx re-save of one, or a folder holding one"
)


def _holds_table(group: Members) -> bool:
    """Whether a group has a file that is not an attachment: a CSV or workbook to read as a table."""
    if isinstance(group, ArchiveMembers):
        return group.holds_table()
    return any(member.story_id is None for member in group)


class _Entry:
    """The files of one entry; each file that fails is a problem of its own, the others are read."""

    def __init__(self, resolved: ResolvedInputs, stack: ExitStack) -> None:
        self.stack = stack
        self.visits, self.problems, self.ignored = resolved.visits, resolved.problems, resolved.ignored

    def members(self, entry: str, url_allowed: Callable[[str], bool]) -> list[Members]:
        if is_url(entry):
            return self._file(download(entry, url_allowed, self.stack), shown_url(entry))
        if GLOB_CHARACTERS.search(entry):
            matches = expand_glob(os.path.expanduser(entry), self.visits, self.problems)
            if not matches:
                raise ExportError(entry, "the pattern matches no file")
            return [group for match in matches for group in self._path(Path(match))]
        path = Path(os.path.expanduser(entry))
        if not path.exists() and not path.is_symlink():
            raise ExportError(str(path), "no such file or folder")
        return self._path(path)

    def _path(self, path: Path) -> list[Members]:
        if path.is_dir():
            return self._folder(path)
        try:
            return self._file(path, str(path), regular_status(path, str(path)))
        except ExportError as problem:
            self.problems.append(problem)
            return []

    def _file(self, path: Path, display: str, status: os.stat_result | None = None) -> list[Members]:
        """A file named by the entry (or matched by its glob); `status` None: a download."""
        if status is not None and not self.visits.first_visit(path, status):
            return []
        try:
            with open_regular(path, display) as file:
                magic = file.read(4)
        except OSError as error:
            raise ExportError(display, f"cannot be opened ({error.strerror or error})") from None
        name = Path(urlsplit(display).path).name if is_url(display) else path.name
        if magic in ZIP_MAGIC and not name.lower().endswith(TABLE_SUFFIXES):
            return [self._archive(path, display)]
        # A downloaded CSV is an export of its own; a file on disk, one of its folder's.
        origin = Origin(display, "", archive=False) if is_url(display) else folder_origin(path.parent)
        return [[ExportMember(display, name, origin, None, None, _file_opener(path, display))]]

    def _archive(self, path: Path, display: str) -> ArchiveMembers:
        return _archive_members(path, display, self.stack, self.ignored)

    def _folder(self, root: Path) -> list[Members]:
        """An unzipped export (or several): CSVs, ZIPs, and attachments in `<story id>/` folders."""
        members: list[ExportMember] = []
        groups: list[Members] = [members]
        root = root.resolve()
        for path, relative, is_folder in Walker(self.visits, self.problems).walk(root):
            if is_folder:
                continue
            try:
                status = regular_status(path, str(path))
            except ExportError as problem:
                self.problems.append(problem)
                continue
            if not self.visits.first_visit(path, status):
                continue
            story_id = _story_folder(relative)
            name = path.name
            if _macos_metadata(relative):
                self.ignored.append(str(path))
            elif story_id is not None:
                members.append(
                    ExportMember(
                        display=str(path),
                        path=_attachment_path(relative),
                        origin=folder_origin(path.parent.parent),
                        story_id=story_id,
                        size=status.st_size,
                        opener=_file_opener(path, str(path)),
                    )
                )
            elif name.lower().endswith(".zip"):
                try:
                    archive = self._archive(path, str(path))
                except ExportError as problem:
                    self.problems.append(problem)
                    continue
                members = []
                groups += [archive, members]
            elif name.lower().endswith(TABLE_SUFFIXES):
                members.append(
                    ExportMember(
                        display=str(path),
                        path=relative,
                        origin=folder_origin(path.parent),
                        story_id=None,
                        size=None,
                        opener=_file_opener(path, str(path)),
                    )
                )
            else:
                self.ignored.append(str(path))
        return groups


# What a path is when it is not a regular file: opening a FIFO waits for a writer (a hang), a
# device may never end.
_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _not_regular(status: os.stat_result) -> str:
    kind = next((name for test, name in _KINDS if test(status.st_mode)), "not a regular file")
    return f"is {kind}: only regular files are read"


def regular_status(path: Path, display: str) -> os.stat_result:
    """The file's status (through links), checked before anything opens it: only regular files are read."""
    try:
        status = os.stat(path)
    except OSError as error:
        raise ExportError(display, f"cannot be read ({error.strerror or error})") from None
    if not stat.S_ISREG(status.st_mode):
        raise ExportError(display, _not_regular(status))
    return status


def open_regular(path: Path, display: str) -> BinaryIO:
    """The file, opened without waiting: a FIFO put in its place after the listing is refused."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise ExportError(display, _not_regular(status))
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb", buffering=0)
    except BaseException:
        os.close(descriptor)
        raise


def _file_opener(path: Path, display: str) -> Callable[[], BinaryIO]:
    return lambda: open_regular(path, display)


def _story_folder(relative: str) -> int | None:
    """The story id of an attachment: the file sits in a folder named by a bare story id.

    A CSV or ZIP named like an export is an export even there: `2021/` is then a user's year.
    """
    parts = _parts(relative)
    if len(parts) >= 2 and parts[-2].isdigit() and parts[-2].isascii() and not named_like_export(parts[-1]):
        return int(parts[-2])
    return None


def _macos_metadata(relative: str) -> bool:
    """Finder's `__MACOSX/` folder and `._<name>` files: binary metadata beside the real files,
    added when a Mac re-zips an export or copies it to a USB or network drive."""
    parts = _parts(relative)
    return bool(parts) and (parts[-1].startswith("._") or "__MACOSX" in parts)


def _attachment_path(relative: str) -> str:
    """`<story id>/<file name>`: the same for a ZIP and for its unzipped folder."""
    return "/".join(_parts(relative)[-2:])


def _parts(relative: str) -> list[str]:
    """PurePosixPath(relative).parts without a root, and without interning every part.

    pathlib interns each part (sys.intern): for every member name of a large archive, that grew
    the interpreter's table of interned strings by ~2 MB, never given back.
    """
    return [part for part in relative.split("/") if part and part != "."]


def _archive_members(path: Path, display: str, stack: ExitStack, ignored: list[str]) -> ArchiveMembers:
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise ExportError(display, f"is not a readable ZIP archive ({error})") from None
    infos = [info for info in archive.infolist() if not info.is_dir()]
    refuse_hostile(infos, display)
    archive_name = Path(urlsplit(display).path).name if is_url(display) else path.name
    kept: list[zipfile.ZipInfo] = []
    for info in infos:
        name = info.filename
        if _macos_metadata(name) or (
            _story_folder(name) is None and not name.lower().endswith(TABLE_SUFFIXES)
        ):
            ignored.append(f"{display}!{name}")
        else:
            kept.append(info)
    origin = archive_origin(None if is_url(display) else path, display, archive_name)
    return ArchiveMembers(archive, display, origin, kept)


class ArchiveMembers(Sequence[ExportMember]):
    """An archive's CSVs and attachments, each ExportMember made when it is reached.

    An export of 100,000 stories holds some 12,000 attachments: made up front, their members
    (names, projects, openers) held ~15 MB until the end of the read, and grew with the export.
    The archive's own ZipInfo list (zipfile's central directory) is all that stays.
    """

    def __init__(self, archive: zipfile.ZipFile, display: str, origin: Origin, infos: list[zipfile.ZipInfo]):
        self._archive, self._display, self._origin, self._infos = archive, display, origin, infos

    def __len__(self) -> int:
        return len(self._infos)

    def holds_table(self) -> bool:
        return any(_story_folder(info.filename) is None for info in self._infos)

    @overload
    def __getitem__(self, index: int) -> ExportMember: ...

    @overload
    def __getitem__(self, index: slice) -> list[ExportMember]: ...

    def __getitem__(self, index: int | slice) -> ExportMember | list[ExportMember]:
        if isinstance(index, slice):
            return [self._member(info) for info in self._infos[index]]
        return self._member(self._infos[index])

    def __iter__(self) -> Iterator[ExportMember]:
        return map(self._member, self._infos)

    def _member(self, info: zipfile.ZipInfo) -> ExportMember:
        name = info.filename
        story_id = _story_folder(name)
        return ExportMember(
            display=f"{self._display}!{name}",
            path=name if story_id is None else _attachment_path(name),
            origin=self._origin,
            story_id=story_id,
            size=info.file_size,
            crc32=info.CRC,
            opener=_member_opener(self._archive, info, f"{self._display}!{name}"),
        )


def _member_opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo, display: str) -> Callable[[], BinaryIO]:
    def opener() -> BinaryIO:
        try:
            return archive.open(info)  # type: ignore[return-value]
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as error:
            raise ExportError(display, f"cannot be read from the archive ({error})") from None

    return opener


def refuse_hostile(infos: list[zipfile.ZipInfo], display: str) -> None:
    if len(infos) > MAX_MEMBERS:
        raise ExportError(display, f"refused: {len(infos)} files, more than the limit of {MAX_MEMBERS}")
    total = 0
    for info in infos:
        name = info.filename
        parts = _parts(name.replace("\\", "/"))
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts:
            raise ExportError(display, f"refused: the member name {name!r} points outside the archive")
        if info.file_size > MAX_MEMBER_BYTES:
            raise ExportError(
                display,
                f"refused: {name!r} declares {info.file_size} bytes, "
                f"more than the limit of {MAX_MEMBER_BYTES}",
            )
        if info.file_size > RATIO_CHECKED_ABOVE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ExportError(
                display,
                f"refused: {name!r} would inflate {info.file_size // max(info.compress_size, 1)} times "
                f"(a zip bomb; the limit is {MAX_RATIO} times)",
            )
        total += info.file_size
    if total > MAX_ARCHIVE_BYTES:
        raise ExportError(
            display, f"refused: {total} bytes uncompressed, more than the limit of {MAX_ARCHIVE_BYTES}"
        )
