"""JSON representations of every resource, following the recorded responses field by field.

Key order, omitted nulls and the odd placements (label objects start with `id` inside stories but
with `kind` in /labels; `owned_by_id` comes last) copy tracker_fixtures/tracker_samples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from . import fields as fields_mod
from .fields import Selection, Spec
from .model import (
    STORY_STATES,
    Account,
    Blocker,
    Comment,
    Epic,
    Event,
    Iteration,
    Label,
    Membership,
    Notification,
    Person,
    Project,
    Story,
    Task,
    Transition,
)
from .timeutil import TimeFormatter, iso

if TYPE_CHECKING:
    from .store import Store

STORY_URL = "https://www.pivotaltracker.com/story/show/"
EPIC_URL = "https://www.pivotaltracker.com/epic/show/"
ACCOUNT_URL = "https://www.pivotaltracker.com/accounts/"


class Ctx:
    """What a renderer needs besides the object: the store and the datetime format."""

    __slots__ = ("store", "tf", "is_iso")

    def __init__(self, store: Store, tf: TimeFormatter = iso) -> None:
        self.store = store
        self.tf = tf
        self.is_iso = tf is iso


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
    tf = ctx.tf
    return {
        "kind": "label",
        "id": label.id,
        "project_id": label.project_id,
        "name": label.name,
        "created_at": tf(label.created_at),
        "updated_at": tf(label.updated_at),
    }


def label_ref_dict(label: Label, ctx: Ctx) -> dict:
    tf = ctx.tf
    return {
        "id": label.id,
        "project_id": label.project_id,
        "kind": "label",
        "name": label.name,
        "created_at": tf(label.created_at),
        "updated_at": tf(label.updated_at),
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
    tf = ctx.tf
    d: dict[str, Any] = {
        "kind": "story",
        "id": s.id,
        "created_at": tf(s.created_at),
        "updated_at": tf(s.updated_at),
    }
    if s.accepted_at is not None:
        d["accepted_at"] = tf(s.accepted_at)
    if s.deadline is not None:
        d["deadline"] = tf(s.deadline)
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
    tf = ctx.tf
    d: dict[str, Any] = {
        "kind": "release",
        "id": s.id,
        "created_at": tf(s.created_at),
        "updated_at": tf(s.updated_at),
    }
    if s.accepted_at is not None:
        d["accepted_at"] = tf(s.accepted_at)
    if s.deadline is not None:
        d["deadline"] = tf(s.deadline)
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
    tf = ctx.tf
    return {
        "kind": "comment",
        "id": c.id,
        "story_id": c.story_id,
        "text": c.text,
        "person_id": c.person_id,
        "created_at": tf(c.created_at),
        "updated_at": tf(c.updated_at),
    }


def task_dict(t: Task, ctx: Ctx) -> dict:
    tf = ctx.tf
    return {
        "kind": "task",
        "id": t.id,
        "story_id": t.story_id,
        "description": t.description,
        "complete": t.complete,
        "position": t.position,
        "created_at": tf(t.created_at),
        "updated_at": tf(t.updated_at),
    }


def blocker_dict(b: Blocker, ctx: Ctx) -> dict:
    tf = ctx.tf
    return {
        "kind": "blocker",
        "id": b.id,
        "story_id": b.story_id,
        "person_id": b.person_id,
        "description": b.description,
        "resolved": b.resolved,
        "created_at": tf(b.created_at),
        "updated_at": tf(b.updated_at),
    }


def transition_dict(t: Transition, ctx: Ctx) -> dict:
    return {
        "kind": "story_transition",
        "state": t.state,
        "story_id": t.story_id,
        "project_id": t.project_id,
        "project_version": t.project_version,
        "occurred_at": ctx.tf(t.occurred_at),
        "performed_by_id": t.performed_by_id,
    }


# ----------------------------------------------------------------------------- epics, projects


def epic_dict(e: Epic, ctx: Ctx) -> dict:
    tf = ctx.tf
    d: dict[str, Any] = {
        "id": e.id,
        "kind": "epic",
        "created_at": tf(e.created_at),
        "updated_at": tf(e.updated_at),
        "project_id": e.project_id,
        "name": e.name,
    }
    if e.description:
        d["description"] = e.description
    d["url"] = EPIC_URL + str(e.id)
    d["label"] = label_ref_dict(e.label, ctx)
    return d


def project_dict(p: Project, ctx: Ctx) -> dict:
    tf = ctx.tf
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
    d["start_time"] = tf(p.start_time)
    d["created_at"] = tf(p.created_at)
    d["updated_at"] = tf(p.updated_at)
    d["account_id"] = p.account_id
    d["current_iteration_number"] = p.current_iteration_number
    d["enable_following"] = True
    return d


def account_summary_dict(a: Account, ctx: Ctx) -> dict:
    return {"kind": "account_summary", "id": a.id, "name": a.name, "status": a.status, "plan": a.plan}


def account_dict(a: Account, ctx: Ctx) -> dict:
    tf = ctx.tf
    return {
        "kind": "account",
        "id": a.id,
        "name": a.name,
        "status": a.status,
        "plan": a.plan,
        "days_left": a.days_left,
        "over_the_limit": a.over_the_limit,
        "created_at": tf(a.created_at),
        "updated_at": tf(a.updated_at),
        "url": ACCOUNT_URL + str(a.id),
    }


def membership_dict(m: Membership, ctx: Ctx) -> dict:
    tf = ctx.tf
    d: dict[str, Any] = {"kind": "project_membership", "project_id": m.project_id, "id": m.id}
    if m.last_viewed_at is not None:
        d["last_viewed_at"] = tf(m.last_viewed_at)
    d["created_at"] = tf(m.created_at)
    d["updated_at"] = tf(m.updated_at)
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
        d["last_viewed_at"] = ctx.tf(m.last_viewed_at)
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
        "created_at": ctx.tf(store.me_created_at),
        "updated_at": ctx.tf(store.me_updated_at),
    }


# ----------------------------------------------------------------------------- iterations


def iteration_dict(it: Iteration, ctx: Ctx) -> dict:
    tf = ctx.tf
    if ctx.is_iso:
        stories: list[Any] = [orjson.Fragment(story_json(s, ctx)) for s in it.stories]
    else:
        stories = [story_dict(s, ctx) for s in it.stories]
    return {
        "number": it.number,
        "project_id": it.project_id,
        "length": it.length,
        "team_strength": it.team_strength,
        "stories": stories,
        "start": tf(it.start),
        "finish": tf(it.finish),
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


# ----------------------------------------------------------------------------- activity


def _story_ref(s: Story) -> dict:
    return {
        "kind": "story",
        "id": s.id,
        "name": s.name,
        "story_type": s.story_type,
        "url": STORY_URL + str(s.id),
    }


_TIME_KEYS = frozenset(("updated_at", "created_at", "accepted_at", "deadline"))


def _values(values: dict, tf: TimeFormatter) -> dict:
    return {k: (tf(v) if k in _TIME_KEYS and isinstance(v, int) else v) for k, v in values.items()}


def _change(
    change_type: str,
    story_id: int,
    original_values: dict | None = None,
    new_values: dict | None = None,
) -> dict:
    change: dict[str, Any] = {"kind": "story", "change_type": change_type, "id": story_id}
    if original_values is not None:
        change["original_values"] = original_values
    if new_values is not None:
        change["new_values"] = new_values
    return change


def activity_dict(event: Event, ctx: Ctx) -> dict:
    tf = ctx.tf
    store = ctx.store
    s = event.story
    project = store.project_by_id[s.project_id]
    performer = store.people[event.performer_id]
    kind_word = s.story_type
    story_id = s.id
    action = event.action
    if action == "create":
        kind, highlight = "story_create_activity", "added"
        message = f"{performer.name} added this {kind_word}"
        new_values: dict[str, Any] = {"id": s.id, "project_id": s.project_id, "name": s.name}
        if s.description:
            new_values["description"] = s.description
        new_values.update(
            {
                "story_type": s.story_type,
                "current_state": event.detail,
                "requested_by_id": s.requested_by_id,
                "owner_ids": [],
                "label_ids": [label.id for label in s.labels],
                "follower_ids": [s.requested_by_id],
                "created_at": tf(s.created_at),
                "updated_at": tf(s.created_at),
                "blocked_story_ids": [],
                "labels": [label.name for label in s.labels],
            }
        )
        changes = [_change("create", story_id, new_values=new_values)]
    elif action == "transition":
        from_state, to_state, previous_update, accepted = event.detail  # type: ignore[misc]
        kind, highlight = "story_update_activity", to_state
        message = f"{performer.name} {to_state} this {kind_word}"
        original: dict[str, Any] = {"current_state": from_state}
        new: dict[str, Any] = {"current_state": to_state}
        if to_state == "accepted":
            original["accepted_at"] = None
            new["accepted_at"] = tf(accepted)
        original["updated_at"] = tf(previous_update)
        new["updated_at"] = tf(event.occurred_at)
        changes = [_change("update", story_id, original, new)]
    elif action == "comment":
        comment, previous_update = event.detail  # type: ignore[misc]
        kind, highlight = "comment_create_activity", "added comment:"
        message = f'{performer.name} added comment: "{comment.text}"'
        changes = [
            {
                "kind": "comment",
                "change_type": "create",
                "id": comment.id,
                "new_values": {
                    "id": comment.id,
                    "story_id": comment.story_id,
                    "text": comment.text,
                    "person_id": comment.person_id,
                    "created_at": tf(comment.created_at),
                    "updated_at": tf(comment.created_at),
                    "file_attachment_ids": [],
                    "google_attachment_ids": [],
                    "attachment_ids": [],
                    "file_attachments": [],
                    "google_attachments": [],
                },
            },
            _change(
                "update",
                story_id,
                {"updated_at": tf(previous_update)},
                {"updated_at": tf(comment.created_at)},
            ),
        ]
    elif action == "comment_edit":
        comment, previous_update = event.detail  # type: ignore[misc]
        kind, highlight = "comment_update_activity", "edited"
        message = f"{performer.name} edited this comment"
        changes = [
            {
                "kind": "comment",
                "change_type": "update",
                "id": comment.id,
                # The earlier wording is not kept; a one-character typo fix stands in for it.
                "original_values": {"text": comment.text[:-1], "updated_at": tf(comment.created_at)},
                "new_values": {"text": comment.text, "updated_at": tf(comment.updated_at)},
            },
            _change(
                "update",
                story_id,
                {"updated_at": tf(previous_update)},
                {"updated_at": tf(event.occurred_at)},
            ),
        ]
    elif action == "delete":
        kind, highlight = "story_delete_activity", "deleted"
        message = f"{performer.name} deleted this {kind_word}"
        changes = [_change("delete", story_id)]
    else:  # edit, update, move
        original, new = event.detail  # type: ignore[misc]
        if action == "move":
            kind, highlight = "story_move_activity", "moved"
        else:
            kind = "story_update_activity"
            highlight = new.get("current_state", "edited")
        verb = "moved" if action == "move" else highlight
        message = f"{performer.name} {verb} this {kind_word}"
        changes = [_change("update", story_id, _values(original, tf), _values(new, tf))]
    for change in changes:
        if change["kind"] == "story":
            change["name"] = s.name
            change["story_type"] = s.story_type
    return {
        "kind": kind,
        "guid": f"{project.id}_{event.version}",
        "project_version": event.version,
        "message": message,
        "highlight": highlight,
        "changes": changes,
        "primary_resources": [_story_ref(s)],
        "secondary_resources": [],
        "project": {"kind": "project", "id": project.id, "name": project.name},
        "performed_by": {
            "kind": "person",
            "id": performer.id,
            "name": performer.name,
            "initials": performer.initials,
        },
        "occurred_at": tf(event.occurred_at),
    }


# ----------------------------------------------------------------------------- notifications


def notification_dict(n: Notification, ctx: Ctx) -> dict:
    tf = ctx.tf
    store = ctx.store
    project = store.project_by_id[n.project_id]
    performer = store.people[n.performer_id]
    d: dict[str, Any] = {
        "kind": "notification",
        "id": n.id,
        "project": {"kind": "project", "id": project.id, "name": project.name},
        "performer": {"kind": "person", "id": performer.id, "name": performer.name},
        "message": f"You were mentioned by {performer.name}",
        "context": n.comment.text,
        "notification_type": "comment_with_mention",
        "new_attachment_count": 0,
        "action": "create",
        "story": {"kind": "story", "id": n.story.id, "name": n.story.name},
        "comment_id": n.comment.id,
        "created_at": tf(n.created_at),
        "updated_at": tf(n.updated_at),
    }
    if n.read_at is not None:
        d["read_at"] = tf(n.read_at)
    return d


# ----------------------------------------------------------------------------- the registry


def _keys(*names: str) -> tuple[str, ...]:
    return names


SPECS: dict[str, Spec] = {
    "story": Spec(
        "story",
        STORY_ORDER,
        story_dict,
        STORY_GETTERS,
        STORY_NESTED,
        frozenset(STORY_GETTERS) - {"labels"},
    ),
    "release": Spec(
        "release",
        _keys(
            "kind",
            "id",
            "created_at",
            "updated_at",
            "accepted_at",
            "deadline",
            "name",
            "description",
            "current_state",
            "url",
            "project_id",
            "labels",
            "label_ids",
        ),
        release_dict,
        {"labels": STORY_GETTERS["labels"], "label_ids": STORY_GETTERS["label_ids"]},
        {"labels": "label_ref"},
        extras=frozenset({"label_ids"}),
    ),
    "label": Spec(
        "label",
        _keys("kind", "id", "project_id", "name", "created_at", "updated_at", "counts"),
        label_dict,
        {"counts": _label_counts},
        extras=frozenset({"counts"}),
    ),
    "label_ref": Spec(
        "label",
        _keys("id", "project_id", "kind", "name", "created_at", "updated_at", "counts"),
        label_ref_dict,
        {"counts": _label_counts},
        extras=frozenset({"counts"}),
    ),
    "person": Spec("person", _keys("kind", "id", "name", "email", "initials", "username"), person_dict),
    "time_zone": Spec("time_zone", _keys("kind", "olson_name", "offset"), time_zone_dict),
    "comment": Spec(
        "comment",
        _keys(
            "kind",
            "id",
            "story_id",
            "text",
            "person_id",
            "person",
            "created_at",
            "updated_at",
            "file_attachment_ids",
            "google_attachment_ids",
            "file_attachments",
            "google_attachments",
            "commit_identifier",
            "commit_type",
        ),
        comment_dict,
        {
            "person": lambda c, ctx: ctx.store.people.get(c.person_id),
            "file_attachment_ids": lambda c, ctx: [],
            "google_attachment_ids": lambda c, ctx: [],
            "file_attachments": lambda c, ctx: [],
            "google_attachments": lambda c, ctx: [],
            "commit_identifier": lambda c, ctx: None,
            "commit_type": lambda c, ctx: None,
        },
        {"person": "person"},
        extras=frozenset(
            {
                "person",
                "file_attachment_ids",
                "google_attachment_ids",
                "file_attachments",
                "google_attachments",
                "commit_identifier",
                "commit_type",
            }
        ),
    ),
    "task": Spec(
        "task",
        _keys(
            "kind",
            "id",
            "story_id",
            "description",
            "complete",
            "position",
            "created_at",
            "updated_at",
        ),
        task_dict,
    ),
    "blocker": Spec(
        "blocker",
        _keys(
            "kind",
            "id",
            "story_id",
            "person_id",
            "description",
            "resolved",
            "created_at",
            "updated_at",
        ),
        blocker_dict,
    ),
    "story_transition": Spec(
        "story_transition",
        _keys(
            "kind",
            "state",
            "story_id",
            "project_id",
            "project_version",
            "occurred_at",
            "performed_by_id",
            "performed_by",
        ),
        transition_dict,
        {"performed_by": lambda t, ctx: ctx.store.people.get(t.performed_by_id)},
        {"performed_by": "person"},
        extras=frozenset({"performed_by"}),
    ),
    "epic": Spec(
        "epic",
        _keys(
            "id",
            "kind",
            "created_at",
            "updated_at",
            "project_id",
            "name",
            "label_id",
            "description",
            "url",
            "label",
            "comment_ids",
            "comments",
            "follower_ids",
            "followers",
            "completed_at",
        ),
        epic_dict,
        {
            "label_id": lambda e, c: e.label.id,
            "label": lambda e, c: e.label,
            "comment_ids": lambda e, c: [],
            "comments": lambda e, c: [],
            "follower_ids": lambda e, c: [],
            "followers": lambda e, c: [],
            "completed_at": lambda e, c: None,
        },
        {"label": "label_ref"},
        extras=frozenset(
            {"label_id", "comment_ids", "comments", "follower_ids", "followers", "completed_at"}
        ),
    ),
    "project": Spec(
        "project",
        _keys(
            "id",
            "kind",
            "name",
            "version",
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
            "description",
            "profile_content",
            "enable_incoming_emails",
            "initial_velocity",
            "public",
            "atom_enabled",
            "project_type",
            "start_date",
            "start_time",
            "created_at",
            "updated_at",
            "epics",
            "epic_ids",
            "labels",
            "label_ids",
            "memberships",
            "account",
            "account_id",
            "current_iteration_number",
            "current_velocity",
            "enable_following",
            "integrations",
            "webhooks",
        ),
        project_dict,
        {
            "time_zone": lambda p, c: p.time_zone,
            "start_date": lambda p, c: _date(p),
            "epics": lambda p, c: p.epics,
            "epic_ids": lambda p, c: [e.id for e in p.epics],
            "labels": lambda p, c: p.labels,
            "label_ids": lambda p, c: [label.id for label in p.labels],
            "memberships": lambda p, c: p.memberships,
            "account": lambda p, c: c.store.account_by_id.get(p.account_id),
            "current_velocity": lambda p, c: c.store.velocity(p),
            "integrations": lambda p, c: [],
            "webhooks": lambda p, c: [],
        },
        {
            "time_zone": "time_zone",
            "epics": "epic",
            "labels": "label_ref",
            "memberships": "project_membership",
            "account": "account_summary",
        },
        extras=frozenset(
            {
                "start_date",
                "epics",
                "epic_ids",
                "labels",
                "label_ids",
                "memberships",
                "account",
                "current_velocity",
                "integrations",
                "webhooks",
            }
        ),
    ),
    "account_summary": Spec(
        "account_summary", _keys("kind", "id", "name", "status", "plan"), account_summary_dict
    ),
    "account": Spec(
        "account",
        _keys(
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
        ),
        account_dict,
    ),
    "project_membership": Spec(
        "project_membership",
        _keys(
            "kind",
            "project_id",
            "id",
            "last_viewed_at",
            "created_at",
            "updated_at",
            "role",
            "project_color",
            "favorite",
            "wants_comment_notification_emails",
            "will_receive_mention_notifications_or_emails",
            "person_id",
            "person",
        ),
        membership_dict,
        {"person": lambda m, c: m.person, "person_id": lambda m, c: m.person.id},
        {"person": "person"},
        extras=frozenset({"person_id"}),
    ),
    "membership_summary": Spec(
        "membership_summary",
        _keys(
            "kind",
            "id",
            "project_id",
            "project_name",
            "project_color",
            "favorite",
            "role",
            "last_viewed_at",
        ),
        membership_summary_dict,
    ),
    "me": Spec(
        "me",
        _keys(
            "kind",
            "id",
            "name",
            "initials",
            "username",
            "time_zone",
            "api_token",
            "has_google_identity",
            "project_ids",
            "projects",
            "workspace_ids",
            "workspaces",
            "email",
            "receives_in_app_notifications",
            "created_at",
            "updated_at",
        ),
        me_dict,
        {
            "time_zone": lambda me, c: c.store.me_time_zone,
            "projects": lambda me, c: _my_memberships(c),
            "project_ids": lambda me, c: [p.id for p, _m in _my_memberships(c)],
            "workspace_ids": lambda me, c: [],
            "workspaces": lambda me, c: [],
        },
        {"time_zone": "time_zone", "projects": "membership_summary"},
        extras=frozenset({"project_ids", "workspace_ids", "workspaces"}),
    ),
    "iteration": Spec(
        "iteration",
        _keys(
            "velocity",
            "points",
            "accepted_points",
            "effective_points",
            "number",
            "project_id",
            "length",
            "team_strength",
            "story_ids",
            "stories",
            "start",
            "finish",
            "kind",
            "planned",
        ),
        iteration_dict,
        ITERATION_GETTERS,
        {"stories": "story"},
        extras=frozenset(
            {"velocity", "points", "accepted_points", "effective_points", "story_ids", "planned"}
        ),
    ),
    "activity": Spec(
        "activity",
        _keys(
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
        ),
        activity_dict,
    ),
    "notification": Spec(
        "notification",
        _keys(
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
        ),
        notification_dict,
    ),
}


def _date(p: Project) -> str:
    return iso(p.start_time)[:10]


def render(name: str, obj: Any, sel: Selection | None, ctx: Ctx) -> dict:
    return fields_mod.project(SPECS, name, obj, sel, ctx)
