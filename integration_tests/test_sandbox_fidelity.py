"""The local Tracker sandbox against real recorded Tracker v5 responses and the API doc.

Shape checks: for every endpoint the connector reads, each field the real recording shows must
appear in the sandbox's answer with the same JSON type (int, float, string, timestamp, bool,
object, list), recursively; and the sandbox must not invent top-level fields that Tracker's
resource lists don't have. Behaviour checks: pagination, errors, auth, ordering, filters,
`fields=`, admin endpoints and every fault option.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from integration_tests.sandbox import Sandbox, SandboxOptions
from integration_tests.sandbox.model import Story
from integration_tests.sandbox.resources import Ctx, story_dict
from integration_tests.sandbox.store import Store
from tracker_fixtures import SAMPLES_DIR, error_body

SAMPLES = SAMPLES_DIR
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
PAGINATION = (
    "X-Tracker-Pagination-Total",
    "X-Tracker-Pagination-Limit",
    "X-Tracker-Pagination-Offset",
    "X-Tracker-Pagination-Returned",
)

# Every attribute Tracker documents per resource (https://www.pivotaltracker.com/help/api/rest/v5#Resources),
# default set and `fields` extras.
DOC_FIELDS: dict[str, set[str]] = {
    "story": {
        "kind",
        "id",
        "project_id",
        "name",
        "description",
        "story_type",
        "current_state",
        "estimate",
        "accepted_at",
        "deadline",
        "requested_by_id",
        "owner_ids",
        "owned_by_id",
        "labels",
        "created_at",
        "updated_at",
        "url",
        "label_ids",
        "task_ids",
        "follower_ids",
        "comment_ids",
        "blocker_ids",
        "blocked_story_ids",
        "pull_request_ids",
        "branch_ids",
        "review_ids",
        "owners",
        "requested_by",
        "owned_by",
        "followers",
        "tasks",
        "comments",
        "blockers",
        "reviews",
        "pull_requests",
        "branches",
        "transitions",
        "cycle_time_details",
        "planned_iteration_number",
        "story_priority",
        "projected_completion",
        "integration_id",
        "external_id",
    },
    "release": {
        "kind",
        "id",
        "project_id",
        "name",
        "description",
        "current_state",
        "accepted_at",
        "deadline",
        "labels",
        "created_at",
        "updated_at",
        "url",
    },
    "epic": {
        "kind",
        "id",
        "project_id",
        "name",
        "description",
        "url",
        "label",
        "created_at",
        "updated_at",
        "label_id",
        "comment_ids",
        "comments",
        "follower_ids",
        "followers",
        "completed_at",
    },
    "project": {
        "kind",
        "id",
        "name",
        "version",
        "account_id",
        "current_iteration_number",
        "created_at",
        "updated_at",
        "iteration_length",
        "week_start_day",
        "point_scale",
        "point_scale_is_custom",
        "bugs_and_chores_are_estimatable",
        "automatic_planning",
        "enable_tasks",
        "time_zone",
        "velocity_averaged_over",
        "number_of_done_iterations_to_show",
        "has_google_domain",
        "enable_incoming_emails",
        "initial_velocity",
        "enable_following",
        "profile_content",
        "description",
        "public",
        "atom_enabled",
        "project_type",
        "start_time",
        "start_date",
        "current_velocity",
        "account",
        "labels",
        "epics",
        "epic_ids",
        "label_ids",
        "memberships",
        "webhooks",
        "integrations",
    },
    "me": {
        "kind",
        "id",
        "name",
        "initials",
        "username",
        "email",
        "time_zone",
        "api_token",
        "has_google_identity",
        "projects",
        "receives_in_app_notifications",
        "created_at",
        "updated_at",
        "project_ids",
        "workspace_ids",
        "workspaces",
        "accounts",
    },
    "notification": {
        "kind",
        "id",
        "project",
        "performer",
        "message",
        "context",
        "notification_type",
        "new_attachment_count",
        "action",
        "story",
        "comment_id",
        "created_at",
        "updated_at",
        "read_at",
        "epic",
        "epic_id",
    },
    "activity": {
        "kind",
        "guid",
        "project_version",
        "message",
        "highlight",
        "changes",
        "primary_resources",
        "secondary_resources",
        "project",
        "performed_by",
        "occurred_at",
    },
    "label": {"kind", "id", "project_id", "name", "created_at", "updated_at", "counts"},
    "iteration": {
        "kind",
        "number",
        "project_id",
        "length",
        "team_strength",
        "stories",
        "start",
        "finish",
        "velocity",
        "points",
        "accepted_points",
        "effective_points",
        "story_ids",
        "planned",
        "analytics",
    },
    "comment": {
        "kind",
        "id",
        "story_id",
        "epic_id",
        "text",
        "person_id",
        "created_at",
        "updated_at",
        "file_attachment_ids",
        "google_attachment_ids",
        "file_attachments",
        "commit_identifier",
        "commit_type",
        "person",
    },
    "task": {"kind", "id", "story_id", "description", "complete", "position", "created_at", "updated_at"},
    "blocker": {"kind", "id", "story_id", "person_id", "description", "resolved", "created_at", "updated_at"},
    "story_transition": {
        "kind",
        "state",
        "story_id",
        "project_id",
        "project_version",
        "occurred_at",
        "performed_by_id",
    },
    "project_membership": {
        "kind",
        "id",
        "project_id",
        "person",
        "person_id",
        "role",
        "project_color",
        "favorite",
        "last_viewed_at",
        "wants_comment_notification_emails",
        "will_receive_mention_notifications_or_emails",
        "created_at",
        "updated_at",
    },
    "person": {"kind", "id", "name", "email", "initials", "username"},
    "account": {
        "kind",
        "id",
        "name",
        "status",
        "plan",
        "days_left",
        "over_the_limit",
        "created_at",
        "updated_at",
        "url",
    },
}


# --------------------------------------------------------------------------- fixtures & helpers


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(seed=7)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def http_session(sb: Sandbox) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers["X-TrackerToken"] = sb.api_token
        yield session


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


# --------------------------------------------------------------------------- shape fidelity

# (sample file, request index, resource, how to ask the sandbox the same question)
ShapeCase = tuple[str, int, str, Callable[[Sandbox], tuple[str, dict[str, str]]]]


def _epic(sb: Sandbox) -> Any:
    project = sb.store.project_by_id[big_project(sb)]
    return next(e for e in project.epics if e.description)


def _release_with_stories(sb: Sandbox) -> int:
    stories = sb.store.project_by_id[big_project(sb)].stories
    for index, story in enumerate(stories):
        if story.story_type == "release" and index > 3 and stories[index - 1].story_type != "release":
            return story.id
    raise AssertionError("no release with stories before it")


def _rich_iteration_offset(sb: Sandbox) -> int:
    project = sb.store.project_by_id[big_project(sb)]
    for index, iteration in enumerate(sb.store.iterations(project)):
        keys = {
            k
            for s in iteration.stories
            for k in ("description", "owned")
            if (k == "description" and s.description) or (k == "owned" and s.owner_ids)
        }
        if (
            len(iteration.stories) >= 4
            and keys == {"description", "owned"}
            and any(s.estimate for s in iteration.stories)
        ):
            return index
    raise AssertionError("no rich iteration")


SHAPE_CASES: list[ShapeCase] = [
    ("get_me.json", 0, "me", lambda sb: ("/me", {})),
    ("get_project.json", 0, "project", lambda sb: (f"/projects/{big_project(sb)}", {})),
    (
        "get_all_projects.json",
        0,
        "project",
        lambda sb: (
            "/projects",
            {"fields": ":default,account,current_velocity,labels(name),epics(:default,label(name))"},
        ),
    ),
    (
        "get_project_with_labels.json",
        0,
        "project",
        lambda sb: (f"/projects/{big_project(sb)}", {"fields": ":default,labels"}),
    ),
    (
        "get_project_with_epics.json",
        0,
        "project",
        lambda sb: (f"/projects/{big_project(sb)}", {"fields": ":default,epics(:default,label(name))"}),
    ),
    (
        "client_get_all_stories_with_pagination.json",
        1,
        "story",
        lambda sb: (f"/projects/{big_project(sb)}/stories", {"limit": "300"}),
    ),
    (
        "get_unscheduled_stories.json",
        0,
        "story",
        lambda sb: (f"/projects/{big_project(sb)}/stories", {"with_state": "unscheduled"}),
    ),
    (
        "get_tasks_when_stories_filtered.json",
        0,
        "story",
        lambda sb: (
            f"/projects/{big_project(sb)}/stories",
            {"fields": "name,story_type", "with_state": "unstarted"},
        ),
    ),
    (
        "get_story.json",
        0,
        "story",
        lambda sb: (f"/projects/{big_project(sb)}/stories/{rich_story(sb).id}", {}),
    ),
    (
        "get_story_with_tasks.json",
        0,
        "story",
        lambda sb: (
            f"/projects/{big_project(sb)}/stories/{rich_story(sb, 'tasks').id}",
            {"fields": ":default,tasks"},
        ),
    ),
    (
        "get_story_with_owners.json",
        0,
        "story",
        lambda sb: (
            f"/projects/{big_project(sb)}/stories/{rich_story(sb).id}",
            {"fields": ":default,owners"},
        ),
    ),
    (
        "client_get_single_story_by_story_id.json",
        0,
        "story",
        lambda sb: (f"/stories/{rich_story(sb).id}", {"fields": ":default,owned_by"}),
    ),
    (
        "get_story_comments.json",
        0,
        "comment",
        lambda sb: (f"/projects/{big_project(sb)}/stories/{rich_story(sb, 'comments').id}/comments", {}),
    ),
    (
        "get_tasks_for_story.json",
        0,
        "task",
        lambda sb: (f"/projects/{big_project(sb)}/stories/{rich_story(sb, 'tasks').id}/tasks", {}),
    ),
    (
        "get_owners_for_story.json",
        0,
        "person",
        lambda sb: (f"/projects/{big_project(sb)}/stories/{rich_story(sb).id}/owners", {}),
    ),
    (
        "get_story_transitions.json",
        0,
        "story_transition",
        lambda sb: (
            f"/projects/{big_project(sb)}/stories/{rich_story(sb, 'transitions').id}/transitions",
            {},
        ),
    ),
    ("get_epics.json", 0, "epic", lambda sb: (f"/projects/{big_project(sb)}/epics", {})),
    (
        "get_epic.json",
        0,
        "epic",
        lambda sb: (f"/projects/{big_project(sb)}/epics/{_epic(sb).id}", {}),
    ),
    (
        "client_get_single_epic_by_epic_id.json",
        0,
        "epic",
        lambda sb: (f"/epics/{_epic(sb).id}", {"fields": ":default,label_id"}),
    ),
    ("get_labels.json", 0, "label", lambda sb: (f"/projects/{big_project(sb)}/labels", {})),
    ("get_releases.json", 1, "release", lambda sb: (f"/projects/{big_project(sb)}/releases", {})),
    (
        "release_stories.json",
        0,
        "story",
        lambda sb: (f"/projects/{big_project(sb)}/releases/{_release_with_stories(sb)}/stories", {}),
    ),
    (
        "get_project_activity.json",
        0,
        "activity",
        lambda sb: (f"/projects/{big_project(sb)}/activity", {}),
    ),
    (
        "get_story_activity.json",
        0,
        "activity",
        lambda sb: (
            f"/projects/{big_project(sb)}/stories/"
            f"{sb.store.project_by_id[big_project(sb)].events[-1].story.id}/activity",
            {},
        ),
    ),
    (
        "get_done_iterations.json",
        0,
        "iteration",
        lambda sb: (f"/projects/{big_project(sb)}/iterations", {"offset": "-12", "scope": "done"}),
    ),
    (
        "client_done_iterations_with_pagination.json",
        1,
        "iteration",
        lambda sb: (
            f"/projects/{big_project(sb)}/iterations",
            {"limit": "5", "offset": "-12", "scope": "done"},
        ),
    ),
    (
        "get_iteration_by_number.json",
        0,
        "iteration",
        lambda sb: (
            f"/projects/{big_project(sb)}/iterations",
            {"limit": "1", "offset": str(_rich_iteration_offset(sb))},
        ),
    ),
    (
        "get_current_iteration.json",
        0,
        "iteration",
        lambda sb: (f"/projects/{big_project(sb)}/iterations", {"scope": "current"}),
    ),
    (
        "get_current_iteration.json",
        1,
        "iteration",
        lambda sb: (
            f"/projects/{big_project(sb)}/iterations",
            {"scope": "current", "fields": ":default,velocity,points,accepted_points,effective_points"},
        ),
    ),
    ("get_all_notifications.json", 0, "notification", lambda sb: ("/my/notifications", {})),
]


@pytest.mark.parametrize(
    ("sample_name", "index", "resource", "ask"),
    SHAPE_CASES,
    ids=[f"{case[0].removesuffix('.json')}[{case[1]}]" for case in SHAPE_CASES],
)
def test_sandbox_answer_has_every_field_and_type_of_the_real_recording(
    sb: Sandbox,
    http_session: requests.Session,
    sample_name: str,
    index: int,
    resource: str,
    ask: Callable[[Sandbox], tuple[str, dict[str, str]]],
) -> None:
    real = sample(sample_name, index)
    path, params = ask(sb)
    response = call(sb, http_session, path, **params)
    assert response.status_code == real["status"] == 200, response.text[:300]
    problems: list[str] = []
    compare_shapes(as_list(real["body"]), as_list(response.json()), "$", problems)
    assert not problems, "\n".join(problems)

    real_tracker_headers = {h for h in real["headers"] if h.startswith("X-Tracker-")}
    mine_tracker_headers = {h for h in response.headers if h.startswith("X-Tracker-")}
    mine_tracker_headers.discard("X-Tracker-Client-Pinger-Interval")
    assert mine_tracker_headers == real_tracker_headers
    for header in ("X-Tracker-Pagination-Limit", "X-Tracker-Pagination-Offset"):
        if header in real["headers"] and params.get("offset") == real["query"].get("offset"):
            assert response.headers[header] == real["headers"][header]
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"

    allowed = DOC_FIELDS[resource] | set(params.get("fields", "").replace("(", ",").split(","))
    invented = {k for obj in as_list(response.json()) for k in obj} - allowed
    assert not invented, f"fields Tracker never had: {invented}"


def test_every_timestamp_the_sandbox_sends_has_tracker_format(
    sb: Sandbox, http_session: requests.Session
) -> None:
    project = big_project(sb)
    bodies = [
        call(
            sb,
            http_session,
            f"/projects/{project}/stories",
            limit="500",
            fields=":default,comments,tasks,blockers,transitions",
        ).json(),
        call(sb, http_session, f"/projects/{project}/activity", limit="500").json(),
        call(sb, http_session, "/my/notifications").json(),
        call(sb, http_session, f"/projects/{project}/memberships").json(),
        call(sb, http_session, "/accounts").json(),
    ]
    stamps: list[str] = []

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif key.endswith(("_at", "deadline", "start", "finish", "start_time")) and value:
            stamps.append(value)

    walk(bodies)
    assert len(stamps) > 1000
    assert all(isinstance(s, str) and TIMESTAMP.match(s) for s in stamps)


def test_nulls_are_omitted_never_sent(sb: Sandbox, http_session: requests.Session) -> None:
    body = call(sb, http_session, f"/projects/{big_project(sb)}/stories", limit="500").json()
    assert all(None not in story.values() for story in body)
    estimated = [s for s in body if "estimate" in s]
    assert 0 < len(estimated) < len(body)  # unestimated stories leave the key out
    assert all("accepted_at" in s for s in body if s["current_state"] == "accepted")
    assert not any("accepted_at" in s for s in body if s["current_state"] != "accepted")
    assert not any("deadline" in s for s in body if s["story_type"] != "release")


def test_blockers_and_comments_expansions_embed_full_objects_or_empty_lists(
    sb: Sandbox, http_session: requests.Session
) -> None:
    body = call(
        sb,
        http_session,
        f"/projects/{big_project(sb)}/stories",
        limit="500",
        fields=":default,comments,tasks,blockers",
    ).json()
    assert all(isinstance(s[k], list) for s in body for k in ("comments", "tasks", "blockers"))
    assert any(s["blockers"] for s in body) and any(not s["blockers"] for s in body)
    blocker = next(b for s in body for b in s["blockers"])
    assert set(blocker) == DOC_FIELDS["blocker"]
    comment = next(c for s in body for c in s["comments"])
    real_comment = sample("get_comments.json")["body"][0]
    assert list(comment) == list(real_comment)
    positions = [[t["position"] for t in s["tasks"]] for s in body if s["tasks"]]
    assert all(p == list(range(1, len(p) + 1)) for p in positions)


# --------------------------------------------------------------------------- pagination


def test_pagination_headers_report_total_limit_offset_and_returned(
    sb: Sandbox, http_session: requests.Session
) -> None:
    project = sb.store.project_by_id[big_project(sb)]
    response = call(sb, http_session, f"/projects/{project.id}/stories", limit="250", offset="1000")
    headers = {h: response.headers[h] for h in PAGINATION}
    expected_returned = min(250, len(project.stories) - 1000)
    assert headers == {
        "X-Tracker-Pagination-Total": str(len(project.stories)),
        "X-Tracker-Pagination-Limit": "250",
        "X-Tracker-Pagination-Offset": "1000",
        "X-Tracker-Pagination-Returned": str(expected_returned),
    }
    assert len(response.json()) == expected_returned
    default = call(sb, http_session, f"/projects/{project.id}/stories")
    assert default.headers["X-Tracker-Pagination-Limit"] == "100"
    assert len(default.json()) == 100


@pytest.mark.parametrize("endpoint", ["stories", "releases", "activity", "story_transitions"])
def test_limit_above_500_is_clamped_silently(
    sb: Sandbox, http_session: requests.Session, endpoint: str
) -> None:
    response = call(sb, http_session, f"/projects/{big_project(sb)}/{endpoint}", limit="10000")
    assert response.status_code == 200
    assert response.headers["X-Tracker-Pagination-Limit"] == "500"
    assert len(response.json()) == min(500, int(response.headers["X-Tracker-Pagination-Total"]))


def test_offset_past_the_end_returns_empty_list_with_real_total(
    sb: Sandbox, http_session: requests.Session
) -> None:
    project = sb.store.project_by_id[big_project(sb)]
    response = call(sb, http_session, f"/projects/{project.id}/stories", offset="9999")
    assert response.status_code == 200 and response.json() == []
    assert response.headers["X-Tracker-Pagination-Total"] == str(len(project.stories))
    assert response.headers["X-Tracker-Pagination-Returned"] == "0"


@pytest.mark.parametrize(
    "path",
    [
        "/projects",
        "/projects/{p}/epics",
        "/projects/{p}/labels",
        "/projects/{p}/memberships",
        "/my/notifications",
        "/accounts",
        "/me",
        "/projects/{p}/stories/{s}/comments",
        "/projects/{p}/stories/{s}/tasks",
        "/projects/{p}/stories/{s}/blockers",
    ],
)
def test_non_paginated_endpoints_return_everything_without_pagination_headers(
    sb: Sandbox, http_session: requests.Session, path: str
) -> None:
    story = rich_story(sb, "comments", "tasks")
    response = call(sb, http_session, path.format(p=big_project(sb), s=story.id), limit="1")
    assert response.status_code == 200
    assert not [h for h in response.headers if h.startswith("X-Tracker-Pagination")]
    if path == "/projects":
        assert len(response.json()) == len(sb.store.projects)


def test_iterations_default_to_10_per_page_and_done_scope_counts_back_with_negative_offsets(
    sb: Sandbox, http_session: requests.Session
) -> None:
    project = sb.store.project_by_id[big_project(sb)]
    done = project.current_iteration_number - 1
    path = f"/projects/{project.id}/iterations"
    first = call(sb, http_session, path)
    assert first.headers["X-Tracker-Pagination-Limit"] == "10"
    assert [it["number"] for it in first.json()] == list(range(1, 11))
    back = call(sb, http_session, path, scope="done", offset="-12", limit="5")
    assert back.headers["X-Tracker-Pagination-Offset"] == "-12"
    assert back.headers["X-Tracker-Pagination-Total"] == str(done)
    assert [it["number"] for it in back.json()] == list(range(done - 11, done - 6))
    tail = call(sb, http_session, path, scope="done", offset="-2", limit="10")
    assert [it["number"] for it in tail.json()] == [done - 1, done]
    current = call(sb, http_session, path, scope="current")
    assert [it["number"] for it in current.json()] == [project.current_iteration_number]
    assert "X-Tracker-Pagination-Total" not in current.headers
    clamped = call(sb, http_session, path, limit="400")
    assert clamped.headers["X-Tracker-Pagination-Limit"] == "50"


def test_iterations_max_limit_is_an_option() -> None:
    with Sandbox(
        SandboxOptions(projects=1, stories=30, disabled_projects=0, iterations_max_limit=20)
    ) as sandbox:
        pid = sandbox.store.projects[0].id
        response = requests.get(
            f"{sandbox.url}/projects/{pid}/iterations?limit=400",
            headers={"X-TrackerToken": sandbox.api_token},
            timeout=10,
        )
        assert response.headers["X-Tracker-Pagination-Limit"] == "20"


def test_paging_all_stories_delivers_exactly_the_truth_in_priority_order(
    sb: Sandbox, http_session: requests.Session
) -> None:
    project = sb.store.project_by_id[big_project(sb)]
    seen: list[int] = []
    offset = 0
    while True:
        page = call(
            sb, http_session, f"/projects/{project.id}/stories", limit="500", offset=str(offset)
        ).json()
        seen.extend(s["id"] for s in page)
        offset += 500
        if len(page) < 500:
            break
    assert seen == [s.id for s in project.stories]
    assert sorted(seen) == sorted(sb.store.truth("stories", [project.id]))
    assert len(seen) > 1000


# --------------------------------------------------------------------------- errors and auth


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body)[:3] == ["code", "kind", "error"]
    assert body["code"] == code and body["kind"] == "error"
    assert response.headers["Cache-Control"] == "no-cache"
    return body


def test_bad_or_missing_token_answers_403_invalid_authentication(sb: Sandbox) -> None:
    for headers in ({"X-TrackerToken": "0" * 32}, {}):
        body = assert_error(
            requests.get(sb.url + "/projects", headers=headers, timeout=10), 403, "invalid_authentication"
        )
        assert body["possible_fix"].startswith("Verify that your token value")


def test_auth_status_option_turns_invalid_authentication_into_401() -> None:
    with Sandbox(SandboxOptions(projects=1, stories=1, disabled_projects=0, auth_status=401)) as sandbox:
        response = requests.get(sandbox.url + "/me", headers={"X-TrackerToken": "x"}, timeout=10)
        assert_error(response, 401, "invalid_authentication")


def test_basic_auth_with_username_or_email_works_on_me_only(sb: Sandbox) -> None:
    for user in (sb.username, sb.email):
        response = requests.get(sb.url + "/me", auth=(user, sb.password), timeout=10)
        assert response.status_code == 200
        assert response.json()["api_token"] == sb.api_token
    wrong = requests.get(sb.url + "/me", auth=(sb.username, "nope"), timeout=10)
    assert assert_error(wrong, 403, "invalid_authentication")["possible_fix"].startswith("Recheck your name")
    elsewhere = requests.get(sb.url + "/projects", auth=(sb.username, sb.password), timeout=10)
    assert_error(elsewhere, 403, "invalid_authentication")


def test_disabled_project_is_listed_but_every_project_path_answers_403(
    sb: Sandbox, http_session: requests.Session
) -> None:
    disabled = disabled_project(sb)
    assert disabled in [p["id"] for p in call(sb, http_session, "/projects").json()]
    assert disabled in [m["project_id"] for m in call(sb, http_session, "/me").json()["projects"]]
    story = sb.store.project_by_id[disabled].stories[0]
    for path in (
        "",
        "/stories",
        "/epics",
        "/labels",
        "/activity",
        "/iterations",
        "/memberships",
        "/releases",
        f"/stories/{story.id}/comments",
    ):
        body = assert_error(
            call(sb, http_session, f"/projects/{disabled}{path}"), 403, "unauthorized_operation"
        )
        assert body["general_problem"] == "You aren't authorized to access the requested resource."
    assert_error(call(sb, http_session, f"/stories/{story.id}"), 403, "unauthorized_operation")
    assert disabled not in {pid for pid, _n in sb.store.truth("iterations")}
    assert story.id not in sb.store.truth("stories")


def test_unknown_ids_and_routes_answer_like_tracker(sb: Sandbox, http_session: requests.Session) -> None:
    assert_error(call(sb, http_session, "/projects/99/stories"), 403, "unauthorized_operation")
    body = assert_error(call(sb, http_session, "/projects/wrongid"), 404, "unfound_resource")
    assert "could not be found.  It may" in body["error"]
    assert_error(call(sb, http_session, "/projects//epics"), 404, "unfound_resource")
    assert_error(call(sb, http_session, "/projects//stories//comments"), 404, "route_not_found")
    assert_error(call(sb, http_session, "/projects/1/bananas"), 404, "route_not_found")
    assert_error(call(sb, http_session, f"/projects/{big_project(sb)}/stories/1"), 404, "unfound_resource")


def test_error_bodies_match_the_recorded_texts(sb: Sandbox, http_session: requests.Session) -> None:
    body = call(sb, http_session, f"/projects/{disabled_project(sb)}").json()
    assert list(body.items()) == list(error_body("unauthorized_operation").items())
    assert list(call(sb, http_session, "/nope").json().items()) == list(error_body("route_not_found").items())


# --------------------------------------------------------------------------- ordering & filters


def test_stories_come_in_priority_order_not_id_or_creation_order(
    sb: Sandbox, http_session: requests.Session
) -> None:
    body = call(sb, http_session, f"/projects/{big_project(sb)}/stories", limit="500").json()
    ids = [s["id"] for s in body]
    assert ids != sorted(ids)
    assert [s["created_at"] for s in body] != sorted(s["created_at"] for s in body)
    states = [s["current_state"] for s in body]
    accepted = [s["accepted_at"] for s in body if s["current_state"] == "accepted"]
    assert states[: len(accepted)] == ["accepted"] * len(accepted)
    assert accepted == sorted(accepted)
    everything = sb.store.project_by_id[big_project(sb)].stories
    icebox = [i for i, s in enumerate(everything) if s.current_state == "unscheduled"]
    assert icebox == list(range(len(everything) - len(icebox), len(everything)))


def test_other_collections_are_ordered_like_tracker(sb: Sandbox, http_session: requests.Session) -> None:
    project = big_project(sb)
    labels = [lab["name"] for lab in call(sb, http_session, f"/projects/{project}/labels").json()]
    assert labels == sorted(labels)
    activity = call(sb, http_session, f"/projects/{project}/activity", limit="300").json()
    versions = [a["project_version"] for a in activity]
    assert versions == sorted(versions, reverse=True)
    assert versions[0] == sb.store.project_by_id[project].version
    ascending = call(sb, http_session, f"/projects/{project}/activity", sort_order="asc").json()
    assert [a["project_version"] for a in ascending] == sorted(a["project_version"] for a in ascending)
    transitions = call(sb, http_session, f"/projects/{project}/story_transitions", limit="500").json()
    assert [t["occurred_at"] for t in transitions] == sorted(t["occurred_at"] for t in transitions)
    story = rich_story(sb, "comments")
    comments = call(sb, http_session, f"/projects/{project}/stories/{story.id}/comments").json()
    assert [c["created_at"] for c in comments] == sorted(c["created_at"] for c in comments)


def test_activity_since_version_and_occurred_filters(sb: Sandbox, http_session: requests.Session) -> None:
    project = sb.store.project_by_id[big_project(sb)]
    since = project.version - 5
    newer = call(sb, http_session, f"/projects/{project.id}/activity", since_version=str(since))
    assert [a["project_version"] for a in newer.json()] == list(range(project.version, since, -1))
    event = project.events[-50]
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(event.occurred_at))
    after = call(
        sb, http_session, f"/projects/{project.id}/activity", occurred_after=when, limit="500"
    ).json()
    assert all(a["occurred_at"] > when for a in after)


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@pytest.mark.parametrize("mode", ["strict", "inclusive"])
def test_date_filter_boundaries_are_strict_or_inclusive_by_option(mode: str) -> None:
    with Sandbox(SandboxOptions(projects=1, stories=200, disabled_projects=0, date_filter=mode)) as sandbox:
        store = sandbox.store
        project = store.projects[0]
        story = project.stories[len(project.stories) // 2]
        headers = {"X-TrackerToken": sandbox.api_token}
        url = f"{sandbox.url}/projects/{project.id}/stories"
        for value in (
            _iso(story.updated_at),
            str(story.updated_at * 1000),
            _iso(story.updated_at).replace("Z", ".000Z"),
        ):
            params = {"updated_after": value, "limit": "500"}
            ids = {s["id"] for s in requests.get(url, params=params, headers=headers, timeout=10).json()}
            expected = {
                s.id
                for s in project.stories
                if (s.updated_at > story.updated_at if mode == "strict" else s.updated_at >= story.updated_at)
            }
            assert ids == expected
            assert (story.id in ids) is (mode == "inclusive")
        created = _iso(story.created_at)
        before = requests.get(
            url, params={"created_before": created, "limit": "500"}, headers=headers, timeout=10
        ).json()
        assert (story.id in {s["id"] for s in before}) is (mode == "inclusive")


def test_stories_filters_with_state_label_and_recent_creation(
    sb: Sandbox, http_session: requests.Session
) -> None:
    project = sb.store.project_by_id[big_project(sb)]
    path = f"/projects/{project.id}/stories"
    started = call(sb, http_session, path, with_state="started", limit="500").json()
    assert started and {s["current_state"] for s in started} == {"started"}
    label = project.labels[0].name
    labelled = call(sb, http_session, path, with_label=label, limit="500").json()
    assert labelled and all(label in [x["name"] for x in s["labels"]] for s in labelled)
    three_days_ago = _iso(sb.store.t0 - 3 * 86400)
    recent = call(sb, http_session, path, created_after=three_days_ago).json()
    assert 0 < len(recent) < 100
    years = {s.created_at // (365 * 86400) for s in project.stories}
    assert len(years) >= 5  # spread across several years


def test_notifications_filters_and_timestamp_header(sb: Sandbox, http_session: requests.Session) -> None:
    response = call(sb, http_session, "/my/notifications")
    body = response.json()
    assert body and all(n["kind"] == "notification" for n in body)
    assert any("read_at" in n for n in body) and any("read_at" not in n for n in body)
    newest = max(n["created_at"] for n in body)
    stamp = int(response.headers["X-Tracker-Last-Notification-Timestamp"])
    assert _iso(stamp // 1000) == newest
    cut = sorted(n["created_at"] for n in body)[len(body) // 2]
    filtered = call(sb, http_session, "/my/notifications", created_after=cut).json()
    assert filtered and all(n["created_at"] > cut for n in filtered)
    with Sandbox(SandboxOptions(seed=7, notifications_ignore_filters=True)) as other:
        everything = requests.get(
            other.url + "/my/notifications",
            params={"created_after": cut},
            headers={"X-TrackerToken": other.api_token},
            timeout=10,
        )
        assert len(everything.json()) == len(body)


# --------------------------------------------------------------------------- fields & formats


def test_explicit_fields_return_only_id_and_named_fields(sb: Sandbox, http_session: requests.Session) -> None:
    body = call(sb, http_session, f"/projects/{big_project(sb)}/stories", fields="name,story_type").json()
    assert all(list(s) == ["id", "story_type", "name"] for s in body)
    nested = call(
        sb,
        http_session,
        f"/projects/{big_project(sb)}/stories",
        limit="500",
        fields="labels(name),owners(name,initials)",
    ).json()
    labels = [lab for s in nested for lab in s["labels"]]
    assert labels and all(set(lab) == {"id", "name"} for lab in labels)
    owners = [o for s in nested for o in s["owners"]]
    assert owners and all(set(o) == {"id", "name", "initials"} for o in owners)
    bad = call(sb, http_session, f"/projects/{big_project(sb)}/stories", fields="nonsense")
    assert_error(bad, 400, "invalid_parameter")


def test_connector_expansions_are_supported(sb: Sandbox, http_session: requests.Session) -> None:
    fields = (
        ":default,owners,requested_by,story_priority,label_ids,follower_ids,"
        "blocked_story_ids,comments,tasks,blockers"
    )
    body = call(sb, http_session, f"/projects/{big_project(sb)}/stories", limit="500", fields=fields).json()
    story = body[0]
    for key in (
        "owners",
        "requested_by",
        "story_priority",
        "label_ids",
        "follower_ids",
        "blocked_story_ids",
        "comments",
        "tasks",
        "blockers",
        "kind",
        "url",
    ):
        assert key in story
    assert any(s["blocked_story_ids"] for s in body)
    assert story["requested_by"]["kind"] == "person"
    iterations = call(
        sb,
        http_session,
        f"/projects/{big_project(sb)}/iterations",
        fields=":default,story_ids,velocity,points,accepted_points,effective_points,planned",
    ).json()
    assert all(isinstance(it["effective_points"], float) for it in iterations)
    assert all(it["planned"] is False and isinstance(it["story_ids"], list) for it in iterations)


def test_project_version_header_tracks_changes(sb: Sandbox, http_session: requests.Session) -> None:
    project = sb.store.project_by_id[big_project(sb)]
    before = int(
        call(sb, http_session, f"/projects/{project.id}/labels").headers["X-Tracker-Project-Version"]
    )
    assert before == project.version
    assert "X-Tracker-Project-Version" not in call(sb, http_session, "/projects").headers
    assert "X-Tracker-Project-Version" not in call(sb, http_session, "/me").headers


# --------------------------------------------------------------------------- store & admin


def test_generation_is_deterministic_for_a_seed() -> None:
    options = SandboxOptions(seed=11, projects=3, stories=50)
    first, second = Store(options), Store(options)
    for stream in ("stories", "comments", "activity", "iterations", "notifications"):
        assert first.truth(stream) == second.truth(stream)
    assert first.api_token == second.api_token
    assert Store(SandboxOptions(seed=12, projects=3, stories=50)).truth("stories") != first.truth("stories")


def test_default_data_has_the_promised_variety(sb: Sandbox) -> None:
    sizes = sorted(len(p.stories) for p in sb.store.projects)
    assert sizes[0] == 0 and sizes[-1] > 1000
    empty = next(p for p in sb.store.projects if not p.stories)
    assert not empty.epics and not empty.labels
    stories = [s for p in sb.store.projects for s in p.stories]
    assert any(len(s.description or "") > 3000 for s in stories)
    assert any(not s.name.isascii() for s in stories)
    assert any(s.created_at > sb.store.t0 - 3 * 86400 for s in stories)
    assert sb.store.truth("releases") and sb.store.truth("blockers")
    assert len(set(sb.store.truth("comments"))) == len(sb.store.truth("comments"))


def test_create_and_update_story_feed_incremental_syncs() -> None:
    with Sandbox(SandboxOptions(projects=1, stories=40, disabled_projects=0)) as sandbox:
        store = sandbox.store
        project = store.projects[0]
        version = project.version
        created = story_dict(
            store.create_story(project.id, name="Brand new ✨", labels=["fresh"]), Ctx(store)
        )
        assert project.version > version
        assert created["created_at"] == created["updated_at"]
        assert created["id"] in store.truth("stories")
        kinds = [e.action for e in project.events[-2:]]
        assert "create" in kinds
        icebox_start = next(i for i, s in enumerate(project.stories) if s.current_state == "unscheduled")
        assert project.stories[icebox_start].id == created["id"]
        old = next(s for s in project.stories if s.current_state == "unstarted")
        time.sleep(1.05)  # updated_at has whole seconds; make "now" differ from t0
        updated = story_dict(store.update_story(old.id, name="Renamed", current_state="accepted"), Ctx(store))
        assert updated["updated_at"] == updated["accepted_at"] > _iso(store.t0)
        assert old.transitions[-1].state == "accepted"
        assert (old.id, old.transitions[-1].project_version) in store.truth("story_transitions")
        accepted = [s for s in project.stories if s.current_state == "accepted"]
        assert accepted[-1] is old  # it joins the done stories, after the older acceptances
        response = requests.post(
            f"{sandbox.base_url}/__sandbox/stories",
            params={"project_id": project.id},
            json={"name": "via admin"},
            timeout=10,
        )
        assert response.status_code == 200 and response.json()["name"] == "via admin"


def test_admin_endpoints_serve_truth_and_uncounted_request_statistics() -> None:
    with Sandbox(SandboxOptions(projects=2, stories=20, disabled_projects=1)) as sandbox:
        admin = sandbox.base_url + "/__sandbox"
        headers = {"X-TrackerToken": sandbox.api_token}
        pid = sandbox.store.projects[0].id
        requests.get(f"{sandbox.url}/projects/{pid}/stories", headers=headers, timeout=10)
        requests.get(f"{sandbox.url}/projects/{pid}/stories", headers=headers, timeout=10)
        requests.get(f"{sandbox.url}/projects/{pid}/labels", headers=headers, timeout=10)
        truth = requests.get(
            f"{admin}/truth", params={"stream": "iterations", "project_ids": str(pid)}, timeout=10
        )
        assert truth.json() == [list(k) for k in sandbox.store.truth("iterations", [pid])]
        stats = requests.get(f"{admin}/requests", timeout=10).json()
        assert stats["total"] == 3
        assert stats["by_endpoint"] == {"GET /projects/{id}/stories": 2, "GET /projects/{id}/labels": 1}
        requests.post(f"{admin}/requests/reset", timeout=10)
        assert requests.get(f"{admin}/requests", timeout=10).json()["total"] == 0
        assert requests.get(f"{admin}/mutations", timeout=10).json() == {
            "created": [],
            "deleted": [],
            "moved": [],
        }
        activity = sandbox.store.truth("activity")
        assert all(re.fullmatch(r"\d+_\d+", guid) for guid in activity)


# --------------------------------------------------------------------------- HTTP & faults


def test_keep_alive_connection_serves_many_requests_with_exact_content_length(
    sb: Sandbox,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    try:
        for _ in range(3):
            connection.request(
                "GET",
                f"/services/v5/projects/{big_project(sb)}/stories?limit=50",
                headers={"X-TrackerToken": sb.api_token},
            )
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200
            assert int(response.getheader("Content-Length")) == len(body)
            assert len(json.loads(body)) == 50
    finally:
        connection.close()


def small(**options: Any) -> Sandbox:
    return Sandbox(SandboxOptions(projects=2, stories=30, disabled_projects=0, **options))


def test_latency_is_applied_per_request_without_serialising_others() -> None:
    with small(latency_ms=400) as sandbox:
        url = sandbox.url + "/me"
        headers = {"X-TrackerToken": sandbox.api_token}
        statuses: list[int] = []
        took: list[float] = []

        def fetch() -> None:
            started = time.perf_counter()
            statuses.append(requests.get(url, headers=headers, timeout=10).status_code)
            took.append(time.perf_counter() - started)

        threads = [threading.Thread(target=fetch) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200] * 6
        # A busy machine only lengthens a request; the server counting two or more requests in
        # their wait at once is what shows the waits do not queue, however slow the machine.
        assert min(took) >= 0.4
        assert sandbox.stats["most_waiting_at_once"] > 1


def test_error_every_alternates_500_and_503_and_counts_them() -> None:
    with small(error_every=3) as sandbox:
        session = requests.Session()
        session.headers["X-TrackerToken"] = sandbox.api_token
        statuses = [session.get(sandbox.url + "/me", timeout=10).status_code for _ in range(7)]
        assert statuses == [200, 200, 500, 200, 200, 503, 200]
        stats = sandbox.stats
        assert stats["total"] == 7 and stats["by_status"] == {"200": 5, "500": 1, "503": 1}
        third = requests.get(sandbox.url + "/me", headers=session.headers, timeout=10)
        fourth = requests.get(sandbox.url + "/me", headers=session.headers, timeout=10)
        assert third.status_code == 200 and fourth.status_code == 500
        assert_error(fourth, 500, "api_internal_error")


def test_rate_limit_every_answers_429_with_retry_after() -> None:
    with small(rate_limit_every=2) as sandbox:
        headers = {"X-TrackerToken": sandbox.api_token}
        first = requests.get(sandbox.url + "/me", headers=headers, timeout=10)
        second = requests.get(sandbox.url + "/me", headers=headers, timeout=10)
        assert first.status_code == 200
        body = assert_error(second, 429, "rate_limit_exceeded")
        assert second.headers["Retry-After"] == "1" and body["kind"] == "error"


def test_drop_every_closes_the_connection_without_answering() -> None:
    with small(drop_every=2) as sandbox:
        headers = {"X-TrackerToken": sandbox.api_token}
        assert requests.get(sandbox.url + "/me", headers=headers, timeout=10).status_code == 200
        with pytest.raises(requests.ConnectionError):
            requests.get(sandbox.url + "/me", headers=headers, timeout=10)
        assert requests.get(sandbox.url + "/me", headers=headers, timeout=10).status_code == 200
        assert sandbox.stats["by_status"]["dropped"] == 1


def test_truncate_every_sends_half_a_body_with_matching_content_length() -> None:
    with small(truncate_every=2) as sandbox:
        headers = {"X-TrackerToken": sandbox.api_token}
        pid = sandbox.store.projects[0].id
        url = f"{sandbox.url}/projects/{pid}/stories"
        whole = requests.get(url, headers=headers, timeout=10)
        cut = requests.get(url, headers=headers, timeout=10)
        assert whole.status_code == cut.status_code == 200
        assert int(cut.headers["Content-Length"]) == len(cut.content) == len(whole.content) // 2
        with pytest.raises(ValueError):
            cut.json()


def test_mutate_stories_makes_offset_paging_lose_stories_that_existed_throughout() -> None:
    with Sandbox(SandboxOptions(projects=1, stories=60, disabled_projects=0, mutate_stories=True)) as sandbox:
        store = sandbox.store
        project = store.projects[0]
        initial = set(store.truth("stories"))
        headers = {"X-TrackerToken": sandbox.api_token}
        seen: set[int] = set()
        offset = 0
        while True:
            page = requests.get(
                f"{sandbox.url}/projects/{project.id}/stories",
                params={"limit": "10", "offset": str(offset)},
                headers=headers,
                timeout=10,
            ).json()
            seen |= {s["id"] for s in page}
            offset += 10
            if len(page) < 10:
                break
        mutations = requests.get(f"{sandbox.base_url}/__sandbox/mutations", timeout=10).json()
        assert mutations["created"] and mutations["deleted"] and mutations["moved"]
        throughout = initial - set(mutations["deleted"])
        assert throughout - seen, "offset paging should have missed a story"
        now = set(store.truth("stories"))
        assert now == throughout | set(mutations["created"])
        assert not set(mutations["deleted"]) & now


def test_faults_never_touch_admin_endpoints() -> None:
    with small(error_every=1) as sandbox:
        admin = sandbox.base_url + "/__sandbox"
        assert requests.get(f"{admin}/requests", timeout=10).status_code == 200
        assert requests.get(f"{admin}/truth", params={"stream": "projects"}, timeout=10).status_code == 200
        assert requests.get(sandbox.url + "/me", timeout=10).status_code == 500


# --------------------------------------------------------------------------- CLI


def test_cli_prints_one_json_line_and_exits_cleanly_on_sigterm() -> None:
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "integration_tests.sandbox",
            "--port",
            "0",
            "--projects",
            "2",
            "--stories",
            "5",
            "--seed",
            "3",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = json.loads(process.stdout.readline())
        assert set(banner) == {"url", "api_token", "username", "password"}
        assert banner["url"].startswith("http://127.0.0.1:") and banner["url"].endswith("/services/v5")
        credentials = base64.b64encode(f"{banner['username']}:{banner['password']}".encode())
        me = requests.get(
            banner["url"] + "/me", headers={"Authorization": "Basic " + credentials.decode()}, timeout=10
        )
        assert me.json()["api_token"] == banner["api_token"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
