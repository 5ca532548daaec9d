"""attribute_docs.py answers what attributes_doc answers, for every class serpyco_rs describes."""

from __future__ import annotations

import dataclasses
import enum
import importlib.util
import inspect
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import airbyte_protocol_dataclasses.models as protocol_models
import attributes_doc
import pytest
import serpyco_rs
from airbyte_cdk.models import airbyte_protocol, airbyte_protocol_serializers
from serpyco_rs import _describe, _utils
from serpyco_rs._json_schema import _convert

from source_pivotal_tracker.runtime import attribute_docs

# Classes in every shape inspect.getsource and attributes_doc meet.
CLASSES_SOURCE = '''
import dataclasses
import enum

@dataclasses.dataclass
class Base:
    name: str = ""
    """The base's name."""
    size: int = 0
    """Inherited, then documented again below."""

@dataclasses.dataclass
class Child(Base):
    size: int = 1
    """The child's own size."""
    plain: int = 2
    count = total = 3
    """Both names of a chained assignment."""
    number: int = 4
    42
    other: int = 5
    b"bytes are not a docstring"

class Outer:
    class Inner:
        x: int
        """Nested in a class."""

def factory():
    class Local:
        y: int
        """Defined in a function."""
    return Local

LOCAL = factory()

if True:
    class InIf:
        z: int
        """Defined under an if."""
else:
    class InIf:
        z: int
        """Never defined: inspect takes the first definition in the file."""

try:
    class InTry:
        w: int
        """Defined in a try block."""
except ImportError:
    pass

class Colour(enum.Enum):
    RED = "red"
    """A warm colour."""
    BLUE = "blue"

class FString:
    a: int
    f"""an f-string: {1 + 1}"""

Dynamic = type("Dynamic", (Base,), {})
Undocumented = type("Undocumented", (), {})
'''


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    path = tmp_path_factory.mktemp("shapes") / "attribute_doc_shapes.py"
    path.write_text(CLASSES_SOURCE)
    spec = importlib.util.spec_from_file_location("attribute_doc_shapes", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def answer(lookup: Callable[[type], dict[str, str]], cls: Any) -> Any:
    """What a lookup gives for cls: its docs, or the type of the error it raises."""
    try:
        return lookup(cls)
    except Exception as error:  # the two must fail alike too
        return type(error)


@pytest.mark.parametrize(
    "name",
    ["Base", "Child", "Outer.Inner", "LOCAL", "InIf", "InTry", "Colour", "FString", "Dynamic"]
    + ["Undocumented"],
)
def test_docs_of_every_class_shape_are_attributes_docs(shapes: ModuleType, name: str) -> None:
    cls: Any = shapes
    for part in name.split("."):
        cls = getattr(cls, part)
    ours = answer(attribute_docs.get_attributes_doc, cls)
    assert ours == answer(attributes_doc.get_attributes_doc, cls)
    if name == "Child":  # the shapes are read at all: a base's doc, an override, both chained names
        assert ours == {
            "name": "The base's name.",
            "size": "The child's own size.",
            "count": "Both names of a chained assignment.",
            "total": "Both names of a chained assignment.",
        }


def test_a_class_whose_source_file_is_gone_is_answered_as_attributes_doc_answers(tmp_path: Path) -> None:
    path = tmp_path / "vanishing_module.py"
    path.write_text(textwrap.dedent('class Gone:\n    x: int\n    """gone"""\n'))
    spec = importlib.util.spec_from_file_location("vanishing_module", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        path.unlink()
        assert answer(attribute_docs.get_attributes_doc, module.Gone) == answer(
            attributes_doc.get_attributes_doc, module.Gone
        )
    finally:
        del sys.modules[spec.name]


def protocol_classes() -> list[type]:
    """Every class of the Airbyte protocol's modules, the CDK's own included."""
    found: dict[int, type] = {}
    for module in (protocol_models, airbyte_protocol):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum):
                found[id(cls)] = cls
    return list(found.values())


def test_docs_of_every_protocol_class_are_attributes_docs() -> None:
    classes = protocol_classes()
    assert len(classes) > 40
    for cls in classes:
        assert attribute_docs.get_attributes_doc(cls) == attributes_doc.get_attributes_doc(cls), cls


@contextmanager
def serpyco_docs(lookup: Callable[[type], dict[str, str]]) -> Iterator[None]:
    """serpyco_rs describing classes with `lookup`, as attribute_docs.install() would set it."""
    modules = (_utils, _describe, _convert)
    before = [module.get_attributes_doc for module in modules]  # type: ignore[attr-defined]
    for module in modules:
        module.get_attributes_doc = lru_cache(maxsize=None)(lookup)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module, original in zip(modules, before, strict=True):
            module.get_attributes_doc = original  # type: ignore[attr-defined]


def test_the_cdks_serializers_describe_the_protocol_alike_with_either_lookup() -> None:
    """Each serializer the CDK builds, built with either lookup: the same JSON schema."""
    described = [
        getattr(airbyte_protocol, name.removesuffix("Serializer"))
        for name, value in vars(airbyte_protocol_serializers).items()
        if isinstance(value, serpyco_rs.Serializer)
    ]
    assert len(described) >= 8
    resolver = airbyte_protocol_serializers.custom_type_resolver
    for cls in described:
        schemas = []
        for lookup in (attributes_doc.get_attributes_doc, attribute_docs.get_attributes_doc):
            with serpyco_docs(lookup):
                serializer = serpyco_rs.Serializer(cls, omit_none=True, custom_type_resolver=resolver)
                schemas.append(serializer.get_json_schema())
        assert schemas[0] == schemas[1], cls


def test_importing_the_connector_puts_the_fast_lookup_in_serpyco() -> None:
    """A serpyco_rs or CDK upgrade that drops the lookup shows here, not as a slower start."""
    code = (
        "import source_pivotal_tracker, serpyco_rs._describe as d, serpyco_rs._json_schema._convert as c;"
        "print(d.get_attributes_doc.__wrapped__.__module__, c.get_attributes_doc.__wrapped__.__module__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["source_pivotal_tracker.runtime.attribute_docs"] * 2
