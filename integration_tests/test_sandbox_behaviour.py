"""The sandbox behaves like Tracker: paging, errors and auth, ordering, filters, the store, the CLI."""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from integration_tests.sandbox import Sandbox, SandboxOptions
from integration_tests.sandbox.resources import Ctx, story_dict
from integration_tests.sandbox.store import Store
from integration_tests.sandbox_checks import (
    PAGINATION,
    assert_error,
    big_project,
    call,
    disabled_project,
    iso,
    rich_story,
)
from tracker_fixtures import error_body

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


@pytest.mark.parametrize("endpoint", ["releases", "activity", "story_transitions"])
def test_max_limit_of_the_endpoints_without_a_recorded_maximum_is_an_option(endpoint: str) -> None:
    # Only the stories' 500 is recorded; the others' maximum never was, so tests can shrink it.
    options = SandboxOptions(projects=1, stories=300, disabled_projects=0, listing_max_limit=7)
    with Sandbox(options) as sandbox:
        pid = sandbox.store.projects[0].id
        answers = [
            requests.get(
                f"{sandbox.url}/projects/{pid}/{path}?limit=400",
                headers={"X-TrackerToken": sandbox.api_token},
                timeout=10,
            )
            for path in (endpoint, "stories")
        ]
        assert [a.headers["X-Tracker-Pagination-Limit"] for a in answers] == ["7", "400"]
        assert int(answers[0].headers["X-Tracker-Pagination-Total"]) > 7
        assert len(answers[0].json()) == 7


@pytest.mark.parametrize(("unpaged", "ignore_filters"), [(True, False), (False, True), (True, True)])
def test_project_story_transitions_paging_and_filters_are_options(
    unpaged: bool, ignore_filters: bool
) -> None:
    # Whether Tracker paged GET /projects/{id}/story_transitions, or honoured occurred_before
    # there, was never recorded.
    options = SandboxOptions(
        projects=1,
        stories=200,
        disabled_projects=0,
        transitions_unpaged=unpaged,
        transitions_ignore_filters=ignore_filters,
    )
    with Sandbox(options) as sandbox:
        project = sandbox.store.projects[0]
        every = sandbox.store.project_transitions(project)
        middle = every[len(every) // 2].occurred_at
        response = requests.get(
            f"{sandbox.url}/projects/{project.id}/story_transitions",
            params={"limit": "5", "occurred_before": iso(middle)},
            headers={"X-TrackerToken": sandbox.api_token},
            timeout=10,
        )
        expected = [t for t in every if ignore_filters or t.occurred_at < middle]
        assert ("X-Tracker-Pagination-Total" not in response.headers) is unpaged
        wanted = expected if unpaged else expected[:5]
        assert [(t["story_id"], t["project_version"]) for t in response.json()] == [
            (t.story_id, t.project_version) for t in wanted
        ]
        if not unpaged:
            assert response.headers["X-Tracker-Pagination-Total"] == str(len(expected))


def test_a_limit_over_the_maximum_is_refused_when_the_option_says_so() -> None:
    # Clamping is recorded for stories only; elsewhere Tracker might have answered 400 instead.
    options = SandboxOptions(projects=1, stories=30, disabled_projects=0, over_max_limit="reject")
    with Sandbox(options) as sandbox:
        path = f"{sandbox.url}/projects/{sandbox.store.projects[0].id}/iterations"
        headers = {"X-TrackerToken": sandbox.api_token}
        refused = requests.get(path, params={"limit": "51"}, headers=headers, timeout=10)
        assert_error(refused, 400, "invalid_parameter")
        assert "50" in refused.json()["general_problem"]
        accepted = requests.get(path, params={"limit": "50"}, headers=headers, timeout=10)
        assert accepted.status_code == 200 and accepted.headers["X-Tracker-Pagination-Limit"] == "50"


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


@pytest.mark.parametrize("mode", ["strict", "inclusive"])
def test_date_filter_boundaries_are_strict_or_inclusive_by_option(mode: str) -> None:
    with Sandbox(SandboxOptions(projects=1, stories=200, disabled_projects=0, date_filter=mode)) as sandbox:
        store = sandbox.store
        project = store.projects[0]
        story = project.stories[len(project.stories) // 2]
        headers = {"X-TrackerToken": sandbox.api_token}
        url = f"{sandbox.url}/projects/{project.id}/stories"
        for value in (
            iso(story.updated_at),
            str(story.updated_at * 1000),
            iso(story.updated_at).replace("Z", ".000Z"),
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
        created = iso(story.created_at)
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
    three_days_ago = iso(sb.store.t0 - 3 * 86400)
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
    assert iso(stamp // 1000) == newest
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
        assert updated["updated_at"] == updated["accepted_at"] > iso(store.t0)
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
