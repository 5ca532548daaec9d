"""An export ZIP heavy with attachments, for the `files` benchmark (file transfer against unzip).

A real export of the sandbox (its stories CSV, history CSV and small attachments), with large
attachments added in story folders: sizes log-uniform from 10 KB to 200 MB (the largest and the
smallest always among them) until they add up to the total asked. Their bytes are noise, as a
PNG's or a PDF's compressed content is to deflate, written a megabyte at a time (deflate level 1:
the archive takes seconds to build, and the reader inflates it as it would any level).
"""

from __future__ import annotations

import math
import random
import zipfile
from pathlib import Path

SMALLEST = 10 * 1024
LARGEST = 200 * 1024 * 1024
CHUNK = 1 << 20


def attachment_sizes(total: int, seed: int = 16) -> list[int]:
    """Sizes from SMALLEST to LARGEST, log-uniform, adding up to `total` (the last one trimmed)."""
    chosen = random.Random(seed)
    sizes = [LARGEST, SMALLEST]
    while sum(sizes) < total:
        sizes.append(int(math.exp(chosen.uniform(math.log(SMALLEST), math.log(LARGEST)))))
    excess = sum(sizes) - total
    if excess > 0 and sizes[-1] - excess >= SMALLEST:
        sizes[-1] -= excess
    return sizes


def add_attachments(archive_path: Path, story_ids: list[int], sizes: list[int], seed: int = 16) -> int:
    """Appends one attachment of each size to the ZIP, in the stories' folders; their bytes in all."""
    noise = random.Random(seed)
    written = 0
    with zipfile.ZipFile(archive_path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for index, size in enumerate(sizes):
            name = f"{story_ids[index % len(story_ids)]}/mockup-{index:03d}.bin"
            with archive.open(name, "w", force_zip64=size > 1 << 30) as out:
                left = size
                while left:
                    step = min(left, CHUNK)
                    out.write(noise.randbytes(step))
                    left -= step
            written += size
    return written


def attachment_bytes(archive_path: Path) -> tuple[int, int]:
    """The number and total size of the files in story folders: what a file transfer copies."""
    with zipfile.ZipFile(archive_path) as archive:
        files = [i for i in archive.infolist() if not i.is_dir() and i.filename.split("/")[0].isdigit()]
    return len(files), sum(i.file_size for i in files)


def story_ids(archive_path: Path) -> list[int]:
    """The stories that already hold an attachment in the export: their folders take the new ones."""
    with zipfile.ZipFile(archive_path) as archive:
        folders = {name.split("/")[0] for name in archive.namelist() if "/" in name}
    return sorted(int(folder) for folder in folders if folder.isdigit())
