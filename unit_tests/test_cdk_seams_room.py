"""Every reach past a dependency's public surface lives in source_pivotal_tracker/cdk_seams/.

Outside that package no module may name a private attribute of another object (`obj._x`,
`super()._x`), use a private attribute or method that a dependency's class defines (`self._x`),
override one, import a private name, or rebind an attribute of something a dependency gave it.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

import source_pivotal_tracker

PACKAGE = Path(source_pivotal_tracker.__file__).parent
ROOM = PACKAGE / "cdk_seams"
DEPENDENCIES = ("airbyte_cdk", "serpyco_rs", "requests_cache", "urllib3", "requests", "attributes_doc")
# Public-looking names that are a dependency's internals: only the room may use them.
INTERNAL_NAMES = {
    "PRINT_BUFFER",
    "PYDANTIC_MODEL_TO_CONSTRUCTOR",
    "get_declarative_component_schema",
    "MAX_CONNECTION_POOL_SIZE",
}
# The standard library's public names that start with an underscore.
STDLIB_UNDERSCORED = {"os._exit", "sys._getframe"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _dependency(module: str | None) -> bool:
    return bool(module) and str(module).split(".")[0] in DEPENDENCIES


def _modules_outside_room() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if ROOM not in path.parents)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _dependency_defines(cls: type, name: str) -> bool:
    """Whether a dependency class in cls's MRO has `name`: as a class attribute, or set in its code."""
    for base in cls.__mro__:
        if not _dependency(base.__module__):
            continue
        if name in vars(base):
            return True
        for member in vars(base).values():
            code = getattr(getattr(member, "__func__", member), "__code__", None)
            if code is not None and name in code.co_names:
                return True
    return False


def reaches(source: str, classes: dict[str, type] | None = None) -> Iterator[str]:
    """Each reach into a dependency's private or internal names in a module's source."""
    tree = ast.parse(source)
    classes = classes or {}
    from_dependency: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and _dependency(node.module):
            for alias in node.names:
                from_dependency.add(alias.asname or alias.name)
                if _private(alias.name) or any(_private(part) for part in str(node.module).split(".")):
                    yield f"line {node.lineno}: imports {node.module}.{alias.name}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _dependency(alias.name):
                    from_dependency.add((alias.asname or alias.name).split(".")[0])
        if isinstance(node, ast.Name) and node.id in INTERNAL_NAMES:
            yield f"line {node.lineno}: names {node.id}"
        if isinstance(node, ast.alias) and node.name in INTERNAL_NAMES:
            yield f"imports {node.name}"
    for cls_node in [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]:
        cls = classes.get(cls_node.name)
        if cls is not None:
            yield from _through_self(cls_node, cls)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            text = ast.unparse(node)
            if node.attr in INTERNAL_NAMES:
                yield f"line {node.lineno}: names {text}"
            elif _private(node.attr) and text not in STDLIB_UNDERSCORED:
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                    yield f"line {node.lineno}: names {text}"
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                owner = target.value if isinstance(target, ast.Attribute) else None
                if isinstance(owner, ast.Name) and owner.id in from_dependency:
                    yield f"line {node.lineno}: rebinds {ast.unparse(target)}"


def _through_self(cls_node: ast.ClassDef, cls: type) -> Iterator[str]:
    """A dependency's private method overridden, or its private attribute used through self/cls."""
    for item in cls_node.body:
        if isinstance(item, ast.FunctionDef) and _private(item.name) and _dependency_defines(cls, item.name):
            yield f"line {item.lineno}: {cls_node.name} overrides the dependency's {item.name}"
    for node in ast.walk(cls_node):
        owner = node.value if isinstance(node, ast.Attribute) else None
        if not (isinstance(node, ast.Attribute) and isinstance(owner, ast.Name)):
            continue
        if owner.id in ("self", "cls") and _private(node.attr) and _dependency_defines(cls, node.attr):
            yield f"line {node.lineno}: {cls_node.name} uses the dependency's {owner.id}.{node.attr}"


def _classes(path: Path) -> dict[str, type]:
    module = importlib.import_module(_module_name(path))
    return {name: obj for name, obj in vars(module).items() if inspect.isclass(obj)}


@pytest.mark.parametrize("path", _modules_outside_room(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_outside_the_seams_room_reaches_into_a_dependency(path: Path) -> None:
    found = list(reaches(path.read_text(), _classes(path)))
    assert not found, (
        f"{path.relative_to(PACKAGE)} reaches past a dependency's public surface; move it into "
        f"source_pivotal_tracker/cdk_seams/ (with its canary): {found}"
    )


@pytest.mark.parametrize(
    "code",
    [
        "session = requester._http_client._session",
        "from serpyco_rs import _describe",
        "from serpyco_rs._json_schema import convert",
        "from airbyte_cdk.entrypoint import PRINT_BUFFER",
        "def f(factory):\n    return factory.PYDANTIC_MODEL_TO_CONSTRUCTOR",
        "def f(self):\n    return super()._read_pages()",
        "from airbyte_cdk.sources.declarative import concurrent_declarative_source as m\nm.anything = dict",
    ],
)
def test_the_scan_finds_each_kind_of_reach(code: str) -> None:
    assert list(reaches(code)), code


def test_the_scan_finds_a_dependency_private_used_or_overridden_through_self() -> None:
    from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

    class Source(ConcurrentDeclarativeSource):
        pass

    code = (
        "class Source(ConcurrentDeclarativeSource):\n"
        "    def _validate_source(self):\n        pass\n"
        "    def go(self):\n        return self._select_streams([]), self._config, self._own\n"
    )
    found = list(reaches(code, {"Source": Source}))
    assert len(found) == 3 and not any("_own" in line for line in found), found


def test_the_scan_leaves_our_own_private_names_and_the_standard_library_alone() -> None:
    code = "import os\nclass A:\n    def _mine(self):\n        self._x = 1\n        os._exit(0)\n"
    assert list(reaches(code, {"A": type("A", (), {})})) == []
