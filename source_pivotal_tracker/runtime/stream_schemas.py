"""The JSON schema of every stream, one definition shared by the API and the export readers.

Each stream has its file in schemas/<stream>.json; sub-objects that several streams use (label,
person, …) sit once in schemas/shared/ and are referenced as {"$ref": "shared/x.json"}. The CDK's
non-deprecated InlineSchemaLoader cannot follow file references, so they are inlined here. Keys
beside a $ref override the shared file's, object by object: a stream schema that is its shared
twin plus a non-null primary key is {"$ref": "shared/x.json", "properties": {"id": {"type": ...}}}.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMAS_DIR = Path(__file__).parent.parent / "schemas"
SHARED_PREFIX = "shared/"


def resolve_shared_refs(node: Any, seen: tuple[str, ...] = ()) -> Any:
    """The schema with every {"$ref": "shared/x.json"} replaced by that file's content."""
    if isinstance(node, list):
        return [resolve_shared_refs(item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(SHARED_PREFIX):
        if ref in seen:
            raise ValueError(f"cyclic $ref chain in the stream schemas: {' -> '.join((*seen, ref))}")
        target = json.loads((SCHEMAS_DIR / ref).read_text())
        target.pop("$schema", None)
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return resolve_shared_refs(_merged(target, siblings), (*seen, ref))
    return {key: resolve_shared_refs(value, seen) for key, value in node.items()}


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`base` with `over`'s keys: objects merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


@lru_cache(maxsize=1)
def stream_schemas() -> dict[str, dict[str, Any]]:
    """Every stream's schema by stream name, with shared sub-objects inlined (cached: do not edit)."""
    return {
        path.stem: resolve_shared_refs(json.loads(path.read_text()))
        for path in sorted(SCHEMAS_DIR.glob("*.json"))
    }
