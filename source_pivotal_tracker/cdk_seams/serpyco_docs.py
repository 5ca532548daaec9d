"""Seam `serpyco-attribute-docs`: serpyco_rs reads attribute docs with our lookup (0.2 s of every start).

serpyco_rs asks `attributes_doc.get_attributes_doc` through three private modules of its own
(`_utils`, `_describe`, `_json_schema._convert`), and that parses a class's whole module again
for every class. attribute_docs.py answers the same, each module parsed once. Should serpyco_rs
move it, its own lookup runs (slower, never wrong); the canary says so.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from types import ModuleType

from .broken import require

SEAM = "serpyco-attribute-docs"
LOOKUP = "get_attributes_doc"


def _modules() -> list[ModuleType]:
    try:
        from serpyco_rs import _describe, _utils
        from serpyco_rs._json_schema import _convert
    except ImportError:
        return []
    return [_utils, _describe, _convert]


def install(lookup: Callable[[type], dict[str, str]]) -> None:
    """serpyco_rs uses `lookup` from now on (cached, as serpyco_rs caches its own)."""
    cached = lru_cache(maxsize=None)(lookup)
    for module in _modules():
        if hasattr(module, LOOKUP):
            setattr(module, LOOKUP, cached)


def check() -> None:
    modules = _modules()
    require(SEAM, len(modules) == 3, "serpyco_rs._utils, _describe and _json_schema._convert")
    for module in modules:
        require(SEAM, hasattr(module, LOOKUP), f"{module.__name__}.{LOOKUP}")
