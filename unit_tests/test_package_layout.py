"""The package shows its architecture: two ways in (API, exports) on one shared runtime.

Each rule is checked on the imports written in the package's source (relative or absolute), so
a module that reaches the other way in fails here, naming the file and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import source_pivotal_tracker

PACKAGE = Path(source_pivotal_tracker.__file__).parent
NAME = "source_pivotal_tracker"
API = {f"{NAME}.api", f"{NAME}.source", f"{NAME}.components"}
EXPORTS = {f"{NAME}.exports"}
SHARED = {f"{NAME}.runtime", f"{NAME}.checks"}


def module_name(path: Path) -> str:
    parts = [NAME, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> list[str]:
    """Every module (or module.name) that `source`, the text of `module`, imports."""
    here = module.split(".")
    package = here if is_package else here[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found += [module] + [f"{module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


def within(module: str, area: set[str]) -> bool:
    return any(module == top or module.startswith(f"{top}.") for top in area)


def reaches(area: set[str], forbidden: set[str]) -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        if within(module, area):
            imports = imported_modules(path.read_text(), module, path.name == "__init__.py")
            bad += [f"{path.relative_to(PACKAGE)}: {m}" for m in imports if within(m, forbidden)]
    return bad


def test_the_api_way_in_never_imports_the_export_way_in() -> None:
    assert reaches(API, EXPORTS) == []


def test_the_export_way_in_never_imports_the_api_way_in() -> None:
    assert reaches(EXPORTS, API) == []


def test_the_shared_runtime_and_checks_import_neither_way_in() -> None:
    assert reaches(SHARED, API | EXPORTS) == []


def test_the_rule_resolves_relative_and_absolute_imports_across_the_ways_in() -> None:
    written = "from ..api.login import signed_in\nimport source_pivotal_tracker.components\n"
    imports = imported_modules(written, f"{NAME}.exports.records")
    assert within(imports[0], API) and imports[0] == f"{NAME}.api.login"
    assert f"{NAME}.components" in imports


def test_the_package_top_holds_only_the_design_cards_files_and_the_areas() -> None:
    top = {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    assert top == {
        "__init__.py",
        "manifest.yaml",
        "schemas",
        "components.py",
        "source.py",
        "run.py",
        "api",
        "exports",
        "runtime",
        "checks",
        "cdk_seams",
    }
