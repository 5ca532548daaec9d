"""Facts only an export carries, which the sandbox's model lacks: pull requests, branches, files.

Derived from the story id alone, so every export of the same world holds the same ones, and a
test can recompute them. The API serves none of them (its pull_requests and branches are empty).
"""

from __future__ import annotations

import hashlib
import random
from typing import NamedTuple

from .model import Story

_WORKED_ON = ("started", "finished", "delivered", "rejected", "accepted")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALLEST_REAL = 10 * 1024


class Attachment(NamedTuple):
    story_id: int
    file_name: str
    content: bytes

    @property
    def path(self) -> str:
        """Inside the archive: one folder per story, named by the bare story id."""
        return f"{self.story_id}/{self.file_name}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def pull_requests(story: Story) -> list[str]:
    if story.current_state not in _WORKED_ON or story.id % 4:
        return []
    count = 2 if story.id % 3 == 0 else 1
    repo = f"https://github.com/sandbox-org/project-{story.project_id}/pull/"
    return [f"{repo}{story.id % 9000 + 1 + k}" for k in range(count)]


def branches(story: Story) -> list[str]:
    if not pull_requests(story):
        return []
    return [f"{story.story_type}/{story.id}-work"]


def attachments(story: Story, largest: int | None = None) -> list[Attachment]:
    """A screenshot on every fifth story with comments; a text note on every third of those.

    Screenshots are tiny, unless `largest` gives them the sizes of real ones: from 10 KB up to
    `largest` bytes, by story id, of noise (a PNG's compressed pixels deflate no better).
    """
    if not story.comments or story.id % 5:
        return []
    seed = hashlib.sha256(str(story.id).encode()).digest()
    if largest is None:
        screenshot = _PNG_SIGNATURE + seed * (1 + story.id % 7)
    else:
        size = SMALLEST_REAL + int.from_bytes(seed[:4], "big") % max(largest - SMALLEST_REAL, 1)
        screenshot = _PNG_SIGNATURE + random.Random(story.id).randbytes(size - len(_PNG_SIGNATURE))
    files = [Attachment(story.id, "screenshot.png", screenshot)]
    if story.id % 3 == 0:
        note = f"Notes on story {story.id}: Ünïcode ✓\n".encode()
        files.append(Attachment(story.id, "notes on it.txt", note))
    return files
