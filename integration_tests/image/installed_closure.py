"""Prints, as JSON, every distribution that a distribution needs, with its installed version.

Run by the image tests both inside the image (`python - NAME < this file`) and in a fresh venv, so
it uses the standard library only, plus `packaging`, which it finds installed in both places.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def closure(root: str) -> dict[str, str]:
    found: dict[str, str] = {}
    pending: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    while pending:
        name, extras = pending.pop()
        dist = metadata.distribution(name)
        key = canonicalize_name(dist.metadata["Name"])
        if key in found and not extras:
            continue
        found[key] = dist.version
        for line in dist.requires or []:
            requirement = Requirement(line)
            wanted = not requirement.marker or any(
                requirement.marker.evaluate({"extra": extra}) for extra in ("", *extras)
            )
            if wanted:
                pending.append((requirement.name, frozenset(requirement.extras)))
    return found


if __name__ == "__main__":
    print(json.dumps(closure(sys.argv[1]), sort_keys=True))
