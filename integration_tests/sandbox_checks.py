"""What the sandbox fidelity tests share: calling the sandbox, recorded samples, comparing shapes."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from integration_tests.sandbox import Sandbox, SandboxOptions
from integration_tests.sandbox.model import Story
from integration_tests.sandbox.store import Store
from tracker_fixtures import SAMPLES_DIR

SAMPLES = SAMPLES_DIR
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
PAGINATION = (
    "X-Tracker-Pagination-Total",
    "X-Tracker-Pagination-Limit",
    "X-Tracker-Pagination-Offset",
    "X-Tracker-Pagination-Returned",
)

# Every attribute Tracker documents per resource, default set and `fields` extras
# (https://www.pivotaltracker.com/help/api/rest/v5#Resources).
DOC_FIELDS: dict[str, set[str]] = {
    resource: set(names)
    for resource, names in json.loads((Path(__file__).with_name("sandbox_fields.json")).read_text()).items()
}


def call(sb: Sandbox, session: requests.Session, path: str, **params: Any) -> requests.Response:
    return session.get(sb.url + path, params=params, timeout=30)


def sample(name: str, index: int = 0) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())[index]


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "timestamp" if TIMESTAMP.match(value) else "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "null"


def compare_shapes(real: list[Any], mine: list[Any], path: str, problems: list[str]) -> None:
    """Every key the real values show must exist in the sandbox's, with no new JSON type."""
    if not mine:
        problems.append(f"{path}: absent from every sandbox object")
        return
    real_types = {json_type(v) for v in real}
    mine_types = {json_type(v) for v in mine}
    if mine_types - real_types:
        problems.append(f"{path}: sandbox sends {sorted(mine_types)}, real {sorted(real_types)}")
        return
    real_objects = [v for v in real if isinstance(v, dict)]
    mine_objects = [v for v in mine if isinstance(v, dict)]
    if real_objects:
        if path.endswith(("original_values", "new_values")):
            return  # partial snapshots of whatever changed: free-form by design
        if path.endswith("changes[]"):
            # Changes of different kinds have different shapes; compare kind by kind.
            real_kinds = {o.get("kind") for o in real_objects}
            mine_kinds = {o.get("kind") for o in mine_objects}
            common = real_kinds & mine_kinds
            if not common:
                problems.append(f"{path}: no change kind in common ({real_kinds}/{mine_kinds})")
            for kind in sorted(common):
                compare_keys(
                    [o for o in real_objects if o.get("kind") == kind],
                    [o for o in mine_objects if o.get("kind") == kind],
                    f"{path}<{kind}>",
                    problems,
                )
            return
        compare_keys(real_objects, mine_objects, path, problems)
    real_items = [x for v in real if isinstance(v, list) for x in v]
    mine_items = [x for v in mine if isinstance(v, list) for x in v]
    if real_items:
        compare_shapes(real_items, mine_items, path + "[]", problems)


def compare_keys(real: list[dict], mine: list[dict], path: str, problems: list[str]) -> None:
    keys = dict.fromkeys(k for obj in real for k in obj)
    for key in keys:
        compare_shapes(
            [o[key] for o in real if key in o],
            [o[key] for o in mine if key in o],
            f"{path}.{key}",
            problems,
        )


def as_list(body: Any) -> list[Any]:
    return body if isinstance(body, list) else [body]


def find_story(store: Store, project_id: int, predicate: Callable[[Story], bool]) -> Story:
    for story in store.project_by_id[project_id].stories:
        if predicate(story):
            return story
    raise AssertionError("no sandbox story matches the sample's shape")


def big_project(sb: Sandbox) -> int:
    return max(sb.store.readable_projects(), key=lambda p: len(p.stories)).id


def disabled_project(sb: Sandbox) -> int:
    return next(p.id for p in sb.store.projects if not p.api_enabled)


def rich_story(sb: Sandbox, *needs: str) -> Story:
    """A story of the big project with description, estimate and owners, plus `needs`."""

    def ok(s: Story) -> bool:
        base = bool(s.description and s.estimate is not None and s.owner_ids and s.labels)
        return base and all(getattr(s, attr) for attr in needs)

    return find_story(sb.store, big_project(sb), ok)


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body)[:3] == ["code", "kind", "error"]
    assert body["code"] == code and body["kind"] == "error"
    assert response.headers["Cache-Control"] == "no-cache"
    return body


def iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def small(**options: Any) -> Sandbox:
    return Sandbox(SandboxOptions(projects=2, stories=30, disabled_projects=0, **options))
