"""JSON representations of every resource, following the recorded responses field by field.

Key order, omitted nulls and the odd placements (label objects start with `id` inside stories but
with `kind` in /labels; `owned_by_id` comes last) copy tracker_fixtures/tracker_samples.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from .model import (
    STORY_STATES,
    Account,
    Blocker,
    Comment,
    Epic,
    Iteration,
    Label,
    Membership,
    Person,
    Project,
    Story,
    Task,
    Transition,
)
from .timeutil import iso


class World(Protocol):
    """What rendering reads besides the object itself (the Store has it; resources never import it)."""

    api_token: str
    me: Person
    me_time_zone: tuple[str, str, int]
    me_created_at: int
    me_updated_at: int
    people: dict[int, Person]
    projects: list[Project]
    project_by_id: dict[int, Project]
    account_by_id: dict[int, Account]

    def velocity(self, project: Project) -> int: ...


STORY_URL = "https://www.pivotaltracker.com/story/show/"
EPIC_URL = "https://www.pivotaltracker.com/epic/show/"
ACCOUNT_URL = "https://www.pivotaltracker.com/accounts/"


class Ctx:
    """What a renderer needs besides the object: the world's lookups."""

    __slots__ = ("store",)

    def __init__(self, store: World) -> None:
        self.store = store


# ----------------------------------------------------------------------------- people, labels


def person_dict(p: Person, ctx: Ctx) -> dict:
    return {
        "kind": "person",
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "initials": p.initials,
        "username": p.username,
    }


def time_zone_dict(tz: tuple[str, str, int], ctx: Ctx) -> dict:
    return {"kind": "time_zone", "olson_name": tz[0], "offset": tz[1]}


def label_dict(label: Label, ctx: Ctx) -> dict:
    return {
        "kind": "label",
        "id": label.id,
        "project_id": label.project_id,
        "name": label.name,
        "created_at": iso(label.created_at),
        "updated_at": iso(label.updated_at),
    }


def label_ref_dict(label: Label, ctx: Ctx) -> dict:
    return {
        "id": label.id,
        "project_id": label.project_id,
        "kind": "label",
        "name": label.name,
        "created_at": iso(label.created_at),
        "updated_at": iso(label.updated_at),
    }


def _label_counts(label: Label, ctx: Ctx) -> dict:
    project = ctx.store.project_by_id[label.project_id]
    counts = {state: 0 for state in STORY_STATES}
    points = dict(counts)
    zero = dict(counts)
    for story in project.stories:
        if label in story.labels:
            counts[story.current_state] += 1
            points[story.current_state] += story.estimate or 0
            if not story.estimate:
                zero[story.current_state] += 1
    return {
        "number_of_zero_point_stories_by_state": {**zero, "kind": "counts_by_story_state"},
        "sum_of_story_estimates_by_state": {**points, "kind": "counts_by_story_state"},
        "number_of_stories_by_state": {**counts, "kind": "counts_by_story_state"},
        "kind": "story_counts",
    }


# ----------------------------------------------------------------------------- stories


def story_dict(s: Story, ctx: Ctx) -> dict:
    d: dict[str, Any] = {
        "kind": "story",
        "id": s.id,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
    }
    if s.accepted_at is not None:
        d["accepted_at"] = iso(s.accepted_at)
    if s.deadline is not None:
        d["deadline"] = iso(s.deadline)
    if s.estimate is not None:
        d["estimate"] = s.estimate
    d["story_type"] = s.story_type
    d["name"] = s.name
    if s.description:
        d["description"] = s.description
    d["current_state"] = s.current_state
    d["requested_by_id"] = s.requested_by_id
    d["url"] = STORY_URL + str(s.id)
    d["project_id"] = s.project_id
    d["owner_ids"] = list(s.owner_ids)
    d["labels"] = [label_ref_dict(label, ctx) for label in s.labels]
    if s.owner_ids:
        d["owned_by_id"] = s.owner_ids[0]
    return d


def story_json(s: Story, ctx: Ctx) -> bytes:
    """Default ISO rendering, cached on the story: pages are served by joining these bytes."""
    cached = s.cached_json
    if cached is None:
        cached = orjson.dumps(story_dict(s, ctx))
        s.cached_json = cached
    return cached


def release_dict(s: Story, ctx: Ctx) -> dict:
    d: dict[str, Any] = {
        "kind": "release",
        "id": s.id,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
    }
    if s.accepted_at is not None:
        d["accepted_at"] = iso(s.accepted_at)
    if s.deadline is not None:
        d["deadline"] = iso(s.deadline)
    d["name"] = s.name
    if s.description:
        d["description"] = s.description
    d["current_state"] = s.current_state
    d["url"] = STORY_URL + str(s.id)
    d["project_id"] = s.project_id
    d["labels"] = [label_ref_dict(label, ctx) for label in s.labels]
    return d


def _people(ids: Any, ctx: Ctx) -> list[Person]:
    people = ctx.store.people
    return [people[i] for i in ids if i in people]


def _followers(s: Story) -> list[int]:
    seen = dict.fromkeys([s.requested_by_id, *s.owner_ids])
    for comment in s.comments:
        seen.setdefault(comment.person_id)
    return list(seen)


STORY_GETTERS: dict[str, Any] = {
    "owners": lambda s, c: _people(s.owner_ids, c),
    "owned_by": lambda s, c: _people(s.owner_ids[:1], c)[0] if s.owner_ids else None,
    "requested_by": lambda s, c: c.store.people.get(s.requested_by_id),
    "followers": lambda s, c: _people(_followers(s), c),
    "follower_ids": lambda s, c: _followers(s),
    "labels": lambda s, c: list(s.labels),
    "label_ids": lambda s, c: [label.id for label in s.labels],
    "tasks": lambda s, c: list(s.tasks),
    "task_ids": lambda s, c: [t.id for t in s.tasks],
    "comments": lambda s, c: list(s.comments),
    "comment_ids": lambda s, c: [m.id for m in s.comments],
    "blockers": lambda s, c: list(s.blockers),
    "blocker_ids": lambda s, c: [b.id for b in s.blockers],
    "blocked_story_ids": lambda s, c: list(s.blocked_story_ids),
    "transitions": lambda s, c: list(s.transitions),
    "story_priority": lambda s, c: s.story_priority,
    "pull_requests": lambda s, c: [],
    "pull_request_ids": lambda s, c: [],
    "branches": lambda s, c: [],
    "branch_ids": lambda s, c: [],
    "reviews": lambda s, c: [],
    "review_ids": lambda s, c: [],
    "integration_id": lambda s, c: None,
    "external_id": lambda s, c: None,
    "planned_iteration_number": lambda s, c: None,
}

STORY_ORDER = (
    "kind",
    "id",
    "created_at",
    "updated_at",
    "accepted_at",
    "deadline",
    "estimate",
    "story_type",
    "name",
    "description",
    "current_state",
    "requested_by_id",
    "requested_by",
    "url",
    "project_id",
    "owned_by",
    "owner_ids",
    "owners",
    "labels",
    "label_ids",
    "tasks",
    "task_ids",
    "comments",
    "comment_ids",
    "blockers",
    "blocker_ids",
    "blocked_story_ids",
    "follower_ids",
    "followers",
    "pull_requests",
    "pull_request_ids",
    "branches",
    "branch_ids",
    "reviews",
    "review_ids",
    "transitions",
    "story_priority",
    "integration_id",
    "external_id",
    "planned_iteration_number",
    "owned_by_id",
)

STORY_NESTED = {
    "owners": "person",
    "owned_by": "person",
    "requested_by": "person",
    "followers": "person",
    "labels": "label_ref",
    "tasks": "task",
    "comments": "comment",
    "blockers": "blocker",
    "transitions": "story_transition",
}


# ----------------------------------------------------------------------------- story children


def comment_dict(c: Comment, ctx: Ctx) -> dict:
    return {
        "kind": "comment",
        "id": c.id,
        "story_id": c.story_id,
        "text": c.text,
        "person_id": c.person_id,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


def task_dict(t: Task, ctx: Ctx) -> dict:
    return {
        "kind": "task",
        "id": t.id,
        "story_id": t.story_id,
        "description": t.description,
        "complete": t.complete,
        "position": t.position,
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
    }


def blocker_dict(b: Blocker, ctx: Ctx) -> dict:
    return {
        "kind": "blocker",
        "id": b.id,
        "story_id": b.story_id,
        "person_id": b.person_id,
        "description": b.description,
        "resolved": b.resolved,
        "created_at": iso(b.created_at),
        "updated_at": iso(b.updated_at),
    }


def transition_dict(t: Transition, ctx: Ctx) -> dict:
    return {
        "kind": "story_transition",
        "state": t.state,
        "story_id": t.story_id,
        "project_id": t.project_id,
        "project_version": t.project_version,
        "occurred_at": iso(t.occurred_at),
        "performed_by_id": t.performed_by_id,
    }


# ----------------------------------------------------------------------------- epics, projects


def epic_dict(e: Epic, ctx: Ctx) -> dict:
    d: dict[str, Any] = {
        "id": e.id,
        "kind": "epic",
        "created_at": iso(e.created_at),
        "updated_at": iso(e.updated_at),
        "project_id": e.project_id,
        "name": e.name,
    }
    if e.description:
        d["description"] = e.description
    d["url"] = EPIC_URL + str(e.id)
    d["label"] = label_ref_dict(e.label, ctx)
    return d


def project_dict(p: Project, ctx: Ctx) -> dict:
    d: dict[str, Any] = {
        "id": p.id,
        "kind": "project",
        "name": p.name,
        "version": p.version,
        "iteration_length": p.iteration_length,
        "week_start_day": p.week_start_day,
        "point_scale": p.point_scale,
        "point_scale_is_custom": False,
        "bugs_and_chores_are_estimatable": p.bugs_and_chores_are_estimatable,
        "automatic_planning": True,
        "enable_tasks": True,
        "time_zone": time_zone_dict(p.time_zone, ctx),
        "velocity_averaged_over": 3,
        "number_of_done_iterations_to_show": 12,
        "has_google_domain": False,
    }
    if p.description:
        d["description"] = p.description
    d["profile_content"] = p.profile_content
    d["enable_incoming_emails"] = True
    d["initial_velocity"] = p.initial_velocity
    d["public"] = p.public
    d["atom_enabled"] = False
    d["project_type"] = p.project_type
    d["start_time"] = iso(p.start_time)
    d["created_at"] = iso(p.created_at)
    d["updated_at"] = iso(p.updated_at)
    d["account_id"] = p.account_id
    d["current_iteration_number"] = p.current_iteration_number
    d["enable_following"] = True
    return d


def account_summary_dict(a: Account, ctx: Ctx) -> dict:
    return {"kind": "account_summary", "id": a.id, "name": a.name, "status": a.status, "plan": a.plan}


def account_dict(a: Account, ctx: Ctx) -> dict:
    return {
        "kind": "account",
        "id": a.id,
        "name": a.name,
        "status": a.status,
        "plan": a.plan,
        "days_left": a.days_left,
        "over_the_limit": a.over_the_limit,
        "created_at": iso(a.created_at),
        "updated_at": iso(a.updated_at),
        "url": ACCOUNT_URL + str(a.id),
    }


def membership_dict(m: Membership, ctx: Ctx) -> dict:
    d: dict[str, Any] = {"kind": "project_membership", "project_id": m.project_id, "id": m.id}
    if m.last_viewed_at is not None:
        d["last_viewed_at"] = iso(m.last_viewed_at)
    d["created_at"] = iso(m.created_at)
    d["updated_at"] = iso(m.updated_at)
    d["role"] = m.role
    d["project_color"] = m.project_color
    d["favorite"] = m.favorite
    d["wants_comment_notification_emails"] = m.wants_comment_notification_emails
    d["will_receive_mention_notifications_or_emails"] = m.will_receive_mention_notifications_or_emails
    d["person"] = person_dict(m.person, ctx)
    return d


def membership_summary_dict(pair: tuple[Project, Membership], ctx: Ctx) -> dict:
    project, m = pair
    d: dict[str, Any] = {
        "kind": "membership_summary",
        "id": m.id,
        "project_id": project.id,
        "project_name": project.name,
        "project_color": m.project_color,
        "favorite": m.favorite,
        "role": m.role,
    }
    if m.last_viewed_at is not None:
        d["last_viewed_at"] = iso(m.last_viewed_at)
    return d


def _my_memberships(ctx: Ctx) -> list[tuple[Project, Membership]]:
    store = ctx.store
    pairs = []
    for project in store.projects:
        for m in project.memberships:
            if m.person.id == store.me.id:
                pairs.append((project, m))
    return pairs


def me_dict(me: Person, ctx: Ctx) -> dict:
    store = ctx.store
    return {
        "kind": "me",
        "id": me.id,
        "name": me.name,
        "initials": me.initials,
        "username": me.username,
        "time_zone": time_zone_dict(store.me_time_zone, ctx),
        "api_token": store.api_token,
        "has_google_identity": False,
        "projects": [membership_summary_dict(pair, ctx) for pair in _my_memberships(ctx)],
        "email": me.email,
        "receives_in_app_notifications": True,
        "created_at": iso(store.me_created_at),
        "updated_at": iso(store.me_updated_at),
    }


# ----------------------------------------------------------------------------- iterations


def iteration_dict(it: Iteration, ctx: Ctx) -> dict:
    stories = [orjson.Fragment(story_json(s, ctx)) for s in it.stories]
    return {
        "number": it.number,
        "project_id": it.project_id,
        "length": it.length,
        "team_strength": it.team_strength,
        "stories": stories,
        "start": iso(it.start),
        "finish": iso(it.finish),
        "kind": "iteration",
    }


def _points(it: Iteration, accepted_only: bool = False) -> int:
    return sum(s.estimate or 0 for s in it.stories if not accepted_only or s.current_state == "accepted")


ITERATION_GETTERS: dict[str, Any] = {
    "velocity": lambda it, c: it.velocity,
    "points": lambda it, c: _points(it),
    "accepted_points": lambda it, c: _points(it, accepted_only=True),
    "effective_points": lambda it, c: float(_points(it)) / it.team_strength,
    "story_ids": lambda it, c: [s.id for s in it.stories],
    "stories": lambda it, c: it.stories,
    "planned": lambda it, c: False,
}
