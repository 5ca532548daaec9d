"""The sandbox's modules depend on each other one way: server -> api -> store -> model."""

from __future__ import annotations

import ast
from pathlib import Path

SANDBOX = Path(__file__).resolve().parent / "sandbox"


def _imports() -> dict[str, set[str]]:
    """Each sandbox module and the sandbox modules it imports (relative imports, any depth)."""
    graph: dict[str, set[str]] = {}
    for path in SANDBOX.glob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
        graph[path.stem] = found
    return graph


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module == goal:
            return True
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return False


def test_no_sandbox_module_imports_one_that_imports_it_back() -> None:
    graph = _imports()
    cycles = [(a, b) for a, targets in graph.items() for b in targets if b != a and _reaches(graph, b, a)]
    assert cycles == []


def test_renderers_and_the_store_never_reach_the_http_layers() -> None:
    graph = _imports()
    for low in ("model", "resources", "messages", "registry", "store"):
        for high in ("server", "api", "admin"):
            assert not _reaches(graph, low, high), f"{low} reaches {high}"
    assert _reaches(graph, "server", "api") and _reaches(graph, "api", "store")
    assert _reaches(graph, "store", "model") and _reaches(graph, "resources", "model")
