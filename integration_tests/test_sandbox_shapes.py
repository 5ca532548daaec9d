"""The sandbox's answers against real recorded Tracker v5 responses: fields, types, `fields=`.

For every endpoint the connector reads, each field the real recording shows must appear in the
sandbox's answer with the same JSON type (int, float, string, timestamp, bool, object, list),
recursively; and the sandbox must not invent top-level fields that Tracker's resource lists
(sandbox_fields.json) don't have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from integration_tests.sandbox import Sandbox
from integration_tests.sandbox_checks import (
    DOC_FIELDS,
    TIMESTAMP,
    as_list,
    assert_error,
    big_project,
    call,
    compare_shapes,
    rich_story,
    sample,
)

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
