"""Folder walks and `**` globs that follow symlinks: each real folder walked once, no loop followed.

os.walk skips a symlinked folder without a word (its stories were lost), and glob's `**` follows a
symlink loop until the path is too long (each story came 41 times; two loops never ended). Here a
folder is known by its (st_dev, st_ino): one met again is not walked again, and the link that led
to it is named in the log, as a loop (WARN) when the folder it points to leads back to the link.
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ExportError

FileKey = tuple[int, int]  # (st_dev, st_ino): one real file or folder, whatever path reached it


def file_key(status: os.stat_result) -> FileKey:
    return status.st_dev, status.st_ino


@dataclass
class Visits:
    """What one run has met: each real file read once, and the log lines of what was not followed."""

    files: dict[FileKey, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # symlink loops
    notes: list[str] = field(default_factory=list)  # second ways to a file or folder already read
    repeats: int = 0  # files met again, read once

    def first_visit(self, path: Path, status: os.stat_result) -> bool:
        """Whether the file is read now: a file named twice (or reached by a link) is read once."""
        key = file_key(status)
        first = self.files.get(key)
        if first is None:
            self.files[key] = str(path)
            return True
        self.repeats += 1
        if first != str(path):
            self.notes.append(f"{path}: the same file as {first}, read once")
        return False


@dataclass
class _Skipped:
    link: Path
    parent: FileKey
    target: FileKey


class Walker:
    """One walk: everything under a folder, depth first in name order, each real folder once."""

    def __init__(self, visits: Visits, problems: list[ExportError], hidden: bool = True) -> None:
        self.visits, self.problems, self.hidden = visits, problems, hidden
        self.folders: dict[FileKey, str] = {}
        self.edges: dict[FileKey, set[FileKey]] = {}
        self.skipped: list[_Skipped] = []

    def walk(self, root: Path) -> Iterator[tuple[Path, str, bool]]:
        """(path, path relative to root, is a folder) of the root and everything under it."""
        key = file_key(os.stat(root))
        self.folders[key] = str(root)
        yield root, "", True
        yield from self._below(root, "", key)
        self._name_skipped()

    def _below(self, folder: Path, relative: str, key: FileKey) -> Iterator[tuple[Path, str, bool]]:
        try:
            names = sorted(os.listdir(folder))
        except OSError as error:
            self.problems.append(ExportError(str(folder), f"cannot be listed ({error.strerror or error})"))
            return
        children = self.edges.setdefault(key, set())
        subfolders: list[tuple[Path, str, FileKey]] = []
        for name in names:
            if not self.hidden and name.startswith("."):
                continue  # as glob's `**` does
            path = folder / name
            below = f"{relative}/{name}" if relative else name
            try:
                status = os.stat(path)
            except OSError:
                yield path, below, False  # a dangling link: the reader names it
                continue
            if not stat.S_ISDIR(status.st_mode):
                yield path, below, False
                continue
            child = file_key(status)
            children.add(child)
            if child in self.folders:
                self.skipped.append(_Skipped(path, key, child))
                continue
            # Marked when listed, so a real folder is walked by its own path before a link's.
            self.folders[child] = str(path)
            subfolders.append((path, below, child))
        for path, below, child in subfolders:
            yield path, below, True
            yield from self._below(path, below, child)

    def _name_skipped(self) -> None:
        for skipped in self.skipped:
            first = self.folders[skipped.target]
            if self._leads_to(skipped.target, skipped.parent):
                self.visits.warnings.append(
                    f"{skipped.link}: a symlink loop (it points to {first}, which leads back to it): "
                    "not followed"
                )
            else:
                self.visits.notes.append(f"{skipped.link}: the same folder as {first}, read once there")

    def _leads_to(self, start: FileKey, goal: FileKey) -> bool:
        """Whether the folder `goal` is `start` or under it, following links."""
        reached, pending = {start}, [start]
        while pending:
            current = pending.pop()
            if current == goal:
                return True
            for child in self.edges.get(current, ()):
                if child not in reached:
                    reached.add(child)
                    pending.append(child)
        return False


def expand_glob(pattern: str, visits: Visits, problems: list[ExportError]) -> list[str]:
    """The pattern's matches, sorted; `**` walks folders once each, following links but no loop."""
    parts = pattern.split(os.sep)
    if "**" not in parts:
        return sorted(glob.glob(pattern))  # one level per part: nothing can loop
    at = parts.index("**")
    head, rest = os.sep.join(parts[:at]), os.sep.join(parts[at + 1 :])
    if at == 1 and not parts[0]:
        head = os.sep
    bases = glob.glob(head) if head and glob.has_magic(head) else [head or "."]
    found: list[str] = []
    for base in sorted(bases):
        if not os.path.isdir(base):
            continue
        for path, _, is_folder in Walker(visits, problems, hidden=False).walk(Path(base)):
            if not rest:
                found.append(str(path))
            elif is_folder:
                found += expand_glob(os.path.join(glob.escape(str(path)), rest), visits, problems)
    return sorted(dict.fromkeys(found))
