"""The `fields=` parameter: parsing and projecting a resource onto a selection.

Reference: https://www.pivotaltracker.com/help/api/rest/v5#Response_Controlling_Parameters

`fields=name,story_type` returns only those attributes plus `id` (and no `kind`);
`:default` stands for the resource's default set; `labels(name)` narrows a nested resource.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class FieldsError(ValueError):
    """A malformed `fields` value or an attribute the resource doesn't have (answered with 400)."""


@dataclass
class Selection:
    default: bool = False
    names: list[str] = field(default_factory=list)
    children: dict[str, Selection] = field(default_factory=dict)
    # Projection plans per spec, computed once per request instead of once per object.
    plans: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def plain_default(self) -> bool:
        return self.default and not self.names

    def wants(self, name: str) -> bool:
        return name in self.names or name in self.children


def parse_fields(text: str | None) -> Selection | None:
    """None means "no fields parameter": the default representation, eligible for caching."""
    if text is None:
        return None
    parser = _Parser(text)
    selection = parser.parse_list()
    if parser.pos != len(text):
        raise FieldsError(f"unexpected {text[parser.pos]!r} in fields at position {parser.pos}")
    if not selection.default and not selection.names:
        return None
    return selection


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse_list(self) -> Selection:
        selection = Selection()
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == ")":
                break
            if char in ", ":
                self.pos += 1
                continue
            start = self.pos
            while self.pos < len(self.text) and self.text[self.pos] not in ",()":
                self.pos += 1
            name = self.text[start : self.pos].strip()
            if not name:
                raise FieldsError(f"empty field name at position {start}")
            if name == ":default":
                selection.default = True
            elif name.startswith(":"):
                raise FieldsError(f"unknown field group {name!r}")
            elif name not in selection.names:
                selection.names.append(name)
            if self.pos < len(self.text) and self.text[self.pos] == "(":
                self.pos += 1
                selection.children[name] = self.parse_list()
                if self.pos >= len(self.text) or self.text[self.pos] != ")":
                    raise FieldsError("unbalanced parentheses in fields")
                self.pos += 1
        return selection


Getter = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Spec:
    """How one resource kind renders.

    `order` lists every attribute the resource knows in the order Tracker serialises them;
    `default` builds the default representation (the hot path, hand-written for speed);
    `getters` return raw values for attributes outside the default set and for associations;
    `nested` names the spec of each association so a sub-selection can be applied to it;
    `extras` are the attributes outside the default set.
    """

    kind: str
    order: tuple[str, ...]
    default: Callable[[Any, Any], dict]
    getters: Mapping[str, Getter] = field(default_factory=dict)
    nested: Mapping[str, str] = field(default_factory=dict)
    extras: frozenset[str] = frozenset()


def project(specs: Mapping[str, Spec], name: str, obj: Any, sel: Selection | None, ctx: Any) -> dict:
    spec = specs[name]
    if sel is None or sel.plain_default and not sel.children:
        return spec.default(obj, ctx)
    steps = sel.plans.get(name)
    if steps is None:
        steps = sel.plans[name] = _plan(spec, sel)
    base = spec.default(obj, ctx)
    out: dict[str, Any] = {}
    for attr, from_base, getter, nested, child in steps:
        if from_base:
            if attr in base:  # absent means null for this object: omitted, like Tracker
                out[attr] = base[attr]
            continue
        value = getter(obj, ctx) if getter is not None else base.get(attr)
        if value is None:
            continue
        if nested is not None:
            # Records are NamedTuples, so only a list means "many" here.
            if isinstance(value, list):
                value = [project(specs, nested, item, child, ctx) for item in value]
            else:
                value = project(specs, nested, value, child, ctx)
        out[attr] = value
    return out


def _plan(spec: Spec, sel: Selection) -> list[tuple[Any, ...]]:
    for wanted in sel.names:
        if wanted not in spec.order:
            raise FieldsError(f"'{wanted}' is not a valid field for a {spec.kind}")
    if sel.default:
        wanted_names = {a for a in spec.order if a not in spec.extras} | set(sel.names)
    else:
        # Explicit lists give only the named attributes plus id; kind, too, must be asked for.
        wanted_names = {"id", *sel.names}
    if "owned_by" in wanted_names:
        # Tracker replaced the deprecated owned_by_id when the person itself was asked for.
        wanted_names.discard("owned_by_id")
    steps = []
    for attr in spec.order:
        if attr not in wanted_names:
            continue
        child = sel.children.get(attr)
        from_base = attr not in spec.extras and child is None
        steps.append((attr, from_base, spec.getters.get(attr), spec.nested.get(attr), child))
    return steps
