"""Ids that exports do not carry: projects (from their names, see projects.py) and comments, tasks,
blockers, labels.

Every derived id comes from the first 53 bits of BLAKE2b-64 over a text that names the thing, so
it is stable across re-reads of the same export (and of two exports of the same project) and fits
in a double, which is how JSON consumers (and some warehouses) hold numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from hashlib import blake2b

# `<project name>_<YYYYMMDD>_<HHMM[SS]>[-export]`, as Tracker named its CSVs and ZIPs.
EXPORT_NAME = re.compile(
    r"(?P<name>.+?)_(?P<date>\d{8})_(?P<time>\d{4}(?:\d{2})?)(?:-export)?", re.IGNORECASE
)
EXTENSIONS = (".zip", ".csv", ".xlsx")
# ` (1)`: what browsers add to a file downloaded again; the same export, so the same project.
DOWNLOAD_COPY = re.compile(r" \(\d+\)$")


def stable_id(text: str) -> int:
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big") >> 11


def project_id(name: str) -> int:
    return stable_id(f"project:{name}")


ID_MASK = (1 << 53) - 1


def derived_ids(kind: str, owner_id: int) -> int:
    """The base of the ids of the comments (tasks, blockers) of one story or epic.

    The `position`-th (1-based) one has the id `(base + position) & ID_MASK`: one hash per story
    and kind, not per item, and ids of two stories meet only with odds of about 1 in 2**40.
    """
    return stable_id(f"{kind}:{owner_id}")


def label_id(project: int, name: str) -> int:
    return stable_id(f"label:{project}:{name}")


@dataclass(frozen=True)
class ProjectName:
    name: str
    exported_at: str | None


def stem(file_name: str) -> str:
    """The name without extension, a browser's ` (1)` and `-export`."""
    lowered = file_name.lower()
    for extension in EXTENSIONS:
        if lowered.endswith(extension):
            file_name = file_name[: -len(extension)]
            break
    file_name = DOWNLOAD_COPY.sub("", file_name)
    return file_name[: -len("-export")] if file_name.lower().endswith("-export") else file_name


def export_name(file_name: str) -> ProjectName | None:
    """The project and time of a name made as Tracker made it, else None."""
    match = EXPORT_NAME.fullmatch(stem(file_name))
    if match is None:
        return None
    stamp = match["date"] + match["time"].ljust(6, "0")
    try:
        exported = datetime.strptime(stamp, "%Y%m%d%H%M%S").strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return ProjectName(match["name"], exported)


def named_like_export(file_name: str) -> bool:
    """`<name>_<YYYYMMDD>_<HHMM[SS]>[-export]` + `.csv` or `.zip`, as Tracker named its files
    (or `.xlsx`: a CSV re-saved by a spreadsheet keeps its name)."""
    return file_name.lower().endswith(EXTENSIONS) and export_name(file_name) is not None
