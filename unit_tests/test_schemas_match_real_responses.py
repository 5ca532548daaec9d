"""Stream JSON schemas agree with real recorded Pivotal Tracker v5 responses.

The samples in ``tracker_fixtures/tracker_samples`` were recorded against the live API (see the
README there). Every item of every sample whose endpoint feeds a stream is validated
against that stream's schema, and every field name a real item carries must be declared
in the schema, so a real attribute that the schema forgot makes a test fail.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker

from source_pivotal_tracker.runtime.stream_schemas import resolve_shared_refs
from tracker_fixtures import SAMPLES_DIR
from tracker_fixtures.streams import PRIMARY_KEYS

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "source_pivotal_tracker" / "schemas"
SHARED_DIR = SCHEMAS_DIR / "shared"

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
SHARED_REF = re.compile(r"shared/[a-z_]+\.json")

STREAMS = sorted(PRIMARY_KEYS)
# Fields the connector adds to records; they are not in the API response.
CONNECTOR_ADDED_FIELDS: dict[str, list[str]] = {
    "activity": ["project_id"],
    "comments": ["project_id"],
    "tasks": ["project_id"],
    "blockers": ["project_id"],
}
# No recorded real response exists for project_memberships, blockers and accounts.
STREAMS_WITH_REAL_SAMPLES = sorted(set(STREAMS) - {"project_memberships", "blockers", "accounts"})

Json = Any
Record = dict[str, Any]


# --------------------------------------------------------------------------- schemas


def load_json(path: Path) -> Json:
    return json.loads(path.read_text())


def schema_path(target: str) -> Path:
    return SCHEMAS_DIR / f"{target}.json"


def resolved_schema(target: str) -> Record:
    """Resolved schema of a stream (``stories``) or a shared file (``shared/comment``)."""
    return resolve_shared_refs(load_json(schema_path(target)))


ALL_SCHEMA_FILES = sorted(str(p.relative_to(SCHEMAS_DIR)) for p in SCHEMAS_DIR.rglob("*.json"))
SHARED_FILES = sorted(p.stem for p in SHARED_DIR.glob("*.json"))

RFC3339_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def is_rfc3339_date_time(value: object) -> bool:
    """jsonschema only checks date-time when rfc3339-validator is installed; do it here."""
    if not isinstance(value, str):
        return True
    if not RFC3339_DATE_TIME.fullmatch(value):
        return False
    datetime.fromisoformat(value)
    return True


def validator_for(target: str) -> Draft7Validator:
    return Draft7Validator(resolved_schema(target), format_checker=FORMAT_CHECKER)


def accepts_null(field_schema: Record) -> bool:
    return Draft7Validator(field_schema).is_valid(None)


def types_of(schema: Record) -> set[str]:
    declared = schema.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def branch_for(instance: Json, schema: Record) -> Record:
    """The (sub)schema describing a non-null instance, looking through ``anyOf``."""
    wanted = {dict: "object", list: "array"}.get(type(instance))
    for option in schema.get("anyOf", []):
        if wanted and wanted in types_of(option):
            return option
        if not wanted and types_of(option) - {"null"}:
            return option
    return schema


def walk_schemas(schema: Json, path: str = "$") -> Iterator[tuple[str, Record]]:
    """Every (sub)schema below ``schema``, with a readable location."""
    if isinstance(schema, dict):
        yield path, schema
        for name, sub in schema.get("properties", {}).items():
            yield from walk_schemas(sub, f"{path}.{name}")
        if isinstance(schema.get("items"), dict):
            yield from walk_schemas(schema["items"], f"{path}[]")
        for index, option in enumerate(schema.get("anyOf", [])):
            yield from walk_schemas(option, f"{path}<anyOf {index}>")


def refs_in(node: Json) -> list[str]:
    if isinstance(node, list):
        return [ref for item in node for ref in refs_in(item)]
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [ref for value in node.values() for ref in refs_in(value)]
    return []


def schema_problems(instance: Json, schema: Record, path: str = "$") -> list[str]:
    """Real fields the schema does not declare, and declared types narrower than real ones.

    Objects whose schema has no ``properties`` are free-form maps (activity
    ``original_values``/``new_values``) and are not looked into.
    """
    if instance is None:
        return []
    schema = branch_for(instance, schema)
    problems: list[str] = []
    if isinstance(instance, dict):
        properties = schema.get("properties")
        if properties is None:
            return []
        for name, value in instance.items():
            if name not in properties:
                problems.append(f"{path}.{name}: real field not declared in the schema")
            else:
                problems += schema_problems(value, properties[name], f"{path}.{name}")
    elif isinstance(instance, list):
        if isinstance(schema.get("items"), dict):
            for value in instance:
                problems += schema_problems(value, schema["items"], f"{path}[]")
    elif isinstance(instance, float) and "number" not in types_of(schema):
        problems.append(f"{path}: real value {instance!r} is a float, schema says {schema.get('type')}")
    elif (
        isinstance(instance, str)
        and RFC3339_DATE_TIME.fullmatch(instance)
        and schema.get("format") != "date-time"
    ):
        problems.append(f"{path}: real timestamp {instance!r} not declared as date-time")
    return problems


# --------------------------------------------------------------------------- samples


@dataclass(frozen=True)
class SampleCase:
    """Items of one recorded response that one schema must describe."""

    label: str
    target: str
    items: tuple[Record, ...]


Extract = Callable[[dict[str, str], Json], list[tuple[str, list[Record]]]]


def as_items(body: Json) -> list[Record]:
    return list(body) if isinstance(body, list) else [body]


def project_id_from(groups: dict[str, str]) -> int | None:
    return int(groups["pid"]) if groups.get("pid") else None


def with_project_id(items: list[Record], project_id: int | None) -> list[Record]:
    return [{**item, "project_id": project_id} for item in items]


def story_cases(stories: list[Record], project_id: int | None) -> list[tuple[str, list[Record]]]:
    """Stories, plus the comments/tasks/blockers they embed (the child streams' source)."""
    cases: list[tuple[str, list[Record]]] = [("stories", stories)]
    for child in ("comments", "tasks", "blockers"):
        children = [
            {**item, "project_id": story.get("project_id", project_id)}
            for story in stories
            for item in story.get(child) or []
        ]
        cases.append((child, children))
    return cases


def activity_items(groups: dict[str, str], body: Json) -> list[Record]:
    project_id = project_id_from(groups)
    return [
        {
            **item,
            "project_id": project_id if project_id is not None else item["project"]["id"],
        }
        for item in as_items(body)
    ]


def whole(target: str) -> Extract:
    return lambda groups, body: [(target, as_items(body))]


def adding_project_id(target: str) -> Extract:
    return lambda groups, body: [(target, with_project_id(as_items(body), project_id_from(groups)))]


PID = r"/projects/(?P<pid>\d+)"
ROUTES: list[tuple[str, Extract]] = [
    (r"/projects", whole("projects")),
    (r"/projects/\d+", whole("projects")),
    (
        rf"{PID}/stories(/\d+)?",
        lambda g, b: story_cases(as_items(b), project_id_from(g)),
    ),
    (r"/stories/\d+", lambda g, b: story_cases(as_items(b), None)),
    (
        rf"{PID}/releases/\d+/stories",
        lambda g, b: story_cases(as_items(b), project_id_from(g)),
    ),
    (
        rf"{PID}/search",
        lambda g, b: [
            *story_cases(b["stories"]["stories"], project_id_from(g)),
            ("epics", b["epics"]["epics"]),
        ],
    ),
    (r"(/projects/\d+)?/epics(/\d+)?", whole("epics")),
    (r"/projects/\d+/labels", whole("labels")),
    (r"/projects/\d+/releases", whole("releases")),
    (
        rf"({PID}(/stories/\d+)?|/my)/activity",
        lambda g, b: [("activity", activity_items(g, b))],
    ),
    (r"/projects/\d+/iterations", whole("iterations")),
    (
        r"/projects/\d+/(stories/\d+/transitions|story_transitions)",
        whole("story_transitions"),
    ),
    (r"/my/notifications", whole("notifications")),
    (rf"{PID}/memberships", whole("project_memberships")),
    (r"/accounts", whole("accounts")),
    (rf"{PID}/stories/\d+/comments(/\d+)?", adding_project_id("comments")),
    (rf"{PID}/stories/\d+/tasks(/\d+)?", adding_project_id("tasks")),
    (rf"{PID}/stories/\d+/blockers(/\d+)?", adding_project_id("blockers")),
    # Shapes that only reach the streams embedded in other records.
    (r"/projects/\d+/epics/\d+/comments(/\d+)?", whole("shared/comment")),
    (r"/projects/\d+/stories/\d+/owners", whole("shared/person")),
    (r"/projects/\d+/stories/\d+/reviews", whole("shared/review")),
    (
        r"/projects/\d+/iterations/\d+/analytics/cycle_time_details",
        whole("shared/cycle_time_details"),
    ),
    (r"/me", lambda g, b: [("shared/time_zone", [b["time_zone"]])]),
]
# Recorded endpoints no stream reads.
OUT_OF_SCOPE = [r"/my/workspaces(/\d+)?", r"/projects/\d+/history/iterations/\d+/days"]


def recorded_requests() -> Iterator[tuple[str, Record]]:
    for path in sorted(SAMPLES_DIR.glob("*.json")):
        for index, request in enumerate(load_json(path)):
            yield f"{path.stem}#{index}", request


def route_for(path: str) -> tuple[Extract, dict[str, str]] | None:
    for pattern, extract in ROUTES:
        match = re.fullmatch(pattern, path)
        if match:
            return extract, {k: v for k, v in match.groupdict().items() if v is not None}
    return None


def sample_cases() -> list[SampleCase]:
    cases = []
    for label, request in recorded_requests():
        found = route_for(request["path"])
        if found is None or not 200 <= request["status"] < 300:
            continue
        extract, groups = found
        for target, items in extract(groups, request["body"]):
            if items:
                cases.append(SampleCase(f"{label}->{target}", target, tuple(items)))
    return cases


SAMPLE_CASES = sample_cases()


# --------------------------------------------------------------------------- tests: samples


@pytest.mark.parametrize("case", [pytest.param(c, id=c.label) for c in SAMPLE_CASES])
def test_real_response_items_validate_against_their_schema(case: SampleCase) -> None:
    validator = validator_for(case.target)
    errors = [
        f"item {index} at {'/'.join(map(str, error.absolute_path))}: {error.message}"
        for index, item in enumerate(case.items)
        for error in validator.iter_errors(item)
    ]
    assert not errors, "\n".join(errors[:20])


@pytest.mark.parametrize("case", [pytest.param(c, id=c.label) for c in SAMPLE_CASES])
def test_every_real_field_is_declared_with_its_real_type(case: SampleCase) -> None:
    schema = resolved_schema(case.target)
    problems = sorted({p for item in case.items for p in schema_problems(item, schema)})
    assert not problems, "\n".join(problems)


def test_every_recorded_endpoint_feeds_a_schema_or_is_explicitly_out_of_scope() -> None:
    unmapped = {
        request["path"]
        for _, request in recorded_requests()
        if route_for(request["path"]) is None
        and not any(re.fullmatch(pattern, request["path"]) for pattern in OUT_OF_SCOPE)
    }
    assert not unmapped


@pytest.mark.parametrize("stream", STREAMS_WITH_REAL_SAMPLES)
def test_real_samples_exercise_the_stream(stream: str) -> None:
    assert any(case.target == stream for case in SAMPLE_CASES)


def test_undeclared_nested_field_and_narrowed_float_are_reported() -> None:
    schema = resolved_schema("iterations")
    item = {
        "number": 1,
        "project_id": 2,
        "effective_points": 9.0,
        "surprise": True,
        "stories": [{"id": 3, "labels": [{"id": 4, "brand_new": 1}]}],
    }
    narrowed = copy.deepcopy(schema)
    narrowed["properties"]["effective_points"]["type"] = ["null", "integer"]

    assert schema_problems(item, schema) == [
        "$.surprise: real field not declared in the schema",
        "$.stories[].labels[].brand_new: real field not declared in the schema",
    ]
    assert "$.effective_points: real value 9.0 is a float" in "\n".join(schema_problems(item, narrowed))


def test_date_time_format_is_enforced_by_the_validator() -> None:
    validator = validator_for("labels")
    assert validator.is_valid({"id": 1, "created_at": "2014-03-02T07:11:04Z"})
    assert not validator.is_valid({"id": 1, "created_at": "2014-03-02 07:11"})
    assert not validator.is_valid({"id": 1, "created_at": "2014-13-02T07:11:04Z"})


# --------------------------------------------------------------------------- tests: schema files


@pytest.mark.parametrize("stream", STREAMS)
def test_every_stream_has_a_schema_file(stream: str) -> None:
    assert schema_path(stream).is_file()


@pytest.mark.parametrize("name", ALL_SCHEMA_FILES)
def test_schema_file_is_a_valid_draft07_schema_before_and_after_inlining(
    name: str,
) -> None:
    raw = load_json(SCHEMAS_DIR / name)
    Draft7Validator.check_schema(raw)
    Draft7Validator.check_schema(resolve_shared_refs(raw))


@pytest.mark.parametrize("stream", STREAMS)
def test_stream_schema_has_the_standard_top_level_layout(stream: str) -> None:
    assert load_json(schema_path(stream))["$schema"] == DRAFT_07
    schema = resolve_shared_refs(load_json(schema_path(stream)))
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is True
    assert isinstance(schema["properties"], dict) and schema["properties"]


@pytest.mark.parametrize("name", ALL_SCHEMA_FILES)
def test_every_object_level_allows_additional_properties(name: str) -> None:
    schema = resolve_shared_refs(load_json(SCHEMAS_DIR / name))
    closed = [
        where
        for where, sub in walk_schemas(schema)
        if "object" in types_of(sub) and sub.get("additionalProperties") is not True
    ]
    assert not closed


@pytest.mark.parametrize("stream", STREAMS)
def test_non_primary_key_top_level_fields_are_nullable(stream: str) -> None:
    properties = resolved_schema(stream)["properties"]
    not_nullable = [
        name for name, sub in properties.items() if name not in PRIMARY_KEYS[stream] and not accepts_null(sub)
    ]
    assert not not_nullable


@pytest.mark.parametrize("stream", STREAMS)
def test_primary_key_fields_are_declared_and_required_to_be_non_null(
    stream: str,
) -> None:
    properties = resolved_schema(stream)["properties"]
    for key in PRIMARY_KEYS[stream]:
        assert key in properties
        assert not accepts_null(properties[key])


@pytest.mark.parametrize("stream", sorted(CONNECTOR_ADDED_FIELDS))
def test_fields_added_by_the_connector_are_declared_as_nullable_integers(
    stream: str,
) -> None:
    properties = resolved_schema(stream)["properties"]
    for field in CONNECTOR_ADDED_FIELDS[stream]:
        assert types_of(properties[field]) == {"null", "integer"}


@pytest.mark.parametrize("stream", STREAMS)
def test_every_top_level_field_has_a_description(stream: str) -> None:
    properties = load_json(schema_path(stream))["properties"]
    undescribed = [name for name, sub in properties.items() if not str(sub.get("description", "")).strip()]
    assert not undescribed


@pytest.mark.parametrize("name", ALL_SCHEMA_FILES)
def test_timestamps_declare_date_time_and_the_airbyte_timestamp_type(name: str) -> None:
    schema = load_json(SCHEMAS_DIR / name)
    wrong = [
        where
        for where, sub in walk_schemas(schema)
        if sub.get("format") == "date-time"
        and (sub.get("airbyte_type") != "timestamp_with_timezone" or types_of(sub) != {"null", "string"})
    ]
    assert not wrong


@pytest.mark.parametrize("name", ALL_SCHEMA_FILES)
def test_refs_use_the_shared_relative_form_and_point_to_existing_files(
    name: str,
) -> None:
    for ref in refs_in(load_json(SCHEMAS_DIR / name)):
        assert SHARED_REF.fullmatch(ref), ref
        assert (SCHEMAS_DIR / ref).is_file(), ref


@pytest.mark.parametrize("name", SHARED_FILES)
def test_shared_files_reference_only_ref_free_shared_files(name: str) -> None:
    for ref in refs_in(load_json(SHARED_DIR / f"{name}.json")):
        assert refs_in(load_json(SCHEMAS_DIR / ref)) == [], f"{name} -> {ref} nests refs two levels deep"


def test_inlined_copies_in_shared_comment_match_the_shared_files() -> None:
    comment = load_json(SHARED_DIR / "comment.json")["properties"]
    assert comment["person"]["properties"] == load_json(SHARED_DIR / "person.json")["properties"]
    assert (
        comment["file_attachments"]["items"]["properties"]
        == load_json(SHARED_DIR / "file_attachment.json")["properties"]
    )
