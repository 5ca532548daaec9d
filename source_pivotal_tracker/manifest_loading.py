"""The manifest as the CDK builds it, with the stream schemas kept out of the way until they are used.

Building the source, the CDK resolves every $ref of the manifest (copying the referenced node at
each use), then deep-copies each of its ~600 components again while propagating types and
parameters, then deep-copies the stream definitions once more for every stream it builds. The 14
stream schemas are 100 kB of JSON, inlined in each stream and in every parent-stream reference to
projects, so they were most of what got copied: half a second per command (README, Performance).

So the manifest the CDK processes carries a small placeholder per schema ({"type": "object",
PLACEHOLDER: "<stream>"}, a JSON schema object to the CDK, which it neither descends into nor
changes), and the real schema is put in when an InlineSchemaLoader is built from it
(`schema_for`). `fill_schemas` does the same to a whole manifest; the tests use it to prove that
the CDK, given the manifest with its schemas inline, resolves exactly the same manifest.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import yaml

from .stream_schemas import stream_schemas

MANIFEST_PATH = Path(__file__).parent / "manifest.yaml"
PLACEHOLDER = "$tracker_stream_schema"
# libyaml's loader parses the manifest in a fifth of the pure-Python loader's time; PyYAML wheels
# ship it, but a source build may lack it.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=1)
def parsed_manifest() -> dict[str, Any]:
    """manifest.yaml as parsed, its `schemas` map still empty (cached: do not edit, copy)."""
    manifest = yaml.load(MANIFEST_PATH.read_text(), Loader=_LOADER)  # noqa: S506 - a safe loader
    if not isinstance(manifest, dict):
        raise ValueError(f"{MANIFEST_PATH} must hold a mapping, not {type(manifest).__name__}")
    return manifest


def manifest_with_placeholders() -> dict[str, Any]:
    """A fresh copy of the manifest whose `schemas` map holds a placeholder per stream."""
    manifest = copy.deepcopy(parsed_manifest())
    manifest["schemas"] = {name: {"type": "object", PLACEHOLDER: name} for name in stream_schemas()}
    return manifest


def schema_for(node: Any) -> dict[str, Any] | None:
    """A fresh copy of the stream schema that `node` stands for, or None if it is no placeholder.

    A copy for each use, as the CDK gives each schema loader its own: nothing the CDK does with
    one stream's schema can reach another's, nor stream_schemas()'s cache.
    """
    if not isinstance(node, dict) or PLACEHOLDER not in node:
        return None
    name = node[PLACEHOLDER]
    schemas = stream_schemas()
    if name not in schemas:
        raise ValueError(f"no schema file schemas/{name}.json for the manifest's placeholder")
    copied: dict[str, Any] = orjson.loads(orjson.dumps(schemas[name]))
    return copied


def fill_schemas(node: Any) -> Any:
    """`node` with every placeholder replaced by its schema (a new structure; `node` is not changed)."""
    schema = schema_for(node)
    if schema is not None:
        return schema
    if isinstance(node, dict):
        return {key: fill_schemas(value) for key, value in node.items()}
    if isinstance(node, list):
        return [fill_schemas(item) for item in node]
    return node
