"""Attribute docstrings for serpyco with each module parsed once: every command starts 0.2 s sooner.

Building a serializer, serpyco_rs asks attributes_doc for the attribute docstrings of every class
it describes (they become descriptions in the serializer's JSON schema, which nothing in a
connector reads; the protocol's classes have none at all). attributes_doc takes each class's
source with inspect.getsource, and on Python 3.11 that parses the class's whole module again for
every class: the CDK's import builds its protocol serializers over ~50 classes and spent 0.23 s
there, a third of the import (profile in README, Performance).

Here a module is parsed once and its classes are found as inspect finds them (the first class
definition with the class's qualified name, nested in classes and functions alike); their
docstrings are read by attributes_doc's own rule. A class that has no such definition, or whose
attribute docstring is an f-string, is handed to attributes_doc itself. unit_tests/
test_attribute_docs.py holds the two to the same answers for every class the CDK describes.
"""

from __future__ import annotations

import ast
import sys
from functools import cache


class _AskAttributesDoc(Exception):
    """A class this module does not answer for: attributes_doc's own lookup decides."""


def _body_docs(node: ast.ClassDef) -> dict[str, str] | None:
    """attributes_doc's rule over one class body (an assignment, then a string); None at an f-string."""
    docs: dict[str, str] = {}
    for statement, following in zip(node.body, node.body[1:], strict=False):
        if not isinstance(statement, (ast.Assign, ast.AnnAssign)) or not isinstance(following, ast.Expr):
            continue
        value = following.value
        if isinstance(value, ast.JoinedStr):
            return None  # attributes_doc raises its own error for these
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            targets = [statement.target] if isinstance(statement, ast.AnnAssign) else statement.targets
            for target in targets:
                if isinstance(target, ast.Name):
                    docs[target.id] = value.value
    return docs


class _ClassDocs(ast.NodeVisitor):
    """Each class body's docs by qualified name; the first definition of a name (inspect._ClassFinder)."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.found: dict[str, dict[str, str] | None] = {}

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.stack += [node.name, "<locals>"]
        self.generic_visit(node)
        del self.stack[-2:]

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.stack.append(node.name)
        self.found.setdefault(".".join(self.stack), _body_docs(node))
        self.generic_visit(node)
        self.stack.pop()


@cache
def _module_docs(filename: str) -> dict[str, dict[str, str] | None]:
    """The docs of every class in a source file, read at once; the syntax tree is not kept."""
    try:
        with open(filename, encoding="utf-8") as source:
            tree = ast.parse(source.read(), filename)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return {}
    finder = _ClassDocs()
    finder.visit(tree)
    return finder.found


def _own_docs(parent: type) -> dict[str, str]:
    """The docs of the attributes parent's own body defines."""
    filename = getattr(sys.modules.get(parent.__module__), "__file__", None)
    if filename is None:
        return {}  # a built-in class: inspect.getsource fails and attributes_doc skips it
    if not isinstance(filename, str) or not filename.endswith(".py"):
        raise _AskAttributesDoc  # compiled or extension modules: inspect has its own ways
    docs = _module_docs(filename).get(parent.__qualname__)
    if docs is None:  # no such definition in the file, or an f-string docstring
        raise _AskAttributesDoc
    return docs


def get_attributes_doc(cls: type) -> dict[str, str]:
    """attributes_doc.get_attributes_doc(cls): the docstrings of cls's attributes, its bases' first."""
    try:
        docs: dict[str, str] = {}
        for parent in reversed(cls.mro()):
            docs.update(_own_docs(parent))
        return docs
    except _AskAttributesDoc:
        from attributes_doc import get_attributes_doc as attributes_doc_get  # serpyco_rs's dependency

        return attributes_doc_get(cls)


def install() -> None:
    """serpyco_rs uses get_attributes_doc from now on (seam serpyco-attribute-docs)."""
    from .cdk_seams import serpyco_docs

    serpyco_docs.install(get_attributes_doc)
