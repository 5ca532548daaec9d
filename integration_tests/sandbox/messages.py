"""Activity and notification messages: what Tracker said happened to a story, field by field.

Key order and wording copy tracker_fixtures/tracker_samples (get_project_activity.json and
get_all_notifications.json).
"""

from __future__ import annotations

from typing import Any

from .model import Event, Notification, Story
from .resources import STORY_URL, Ctx
from .timeutil import iso

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


def _values(values: dict) -> dict:
    return {k: (iso(v) if k in _TIME_KEYS and isinstance(v, int) else v) for k, v in values.items()}


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
                "created_at": iso(s.created_at),
                "updated_at": iso(s.created_at),
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
            new["accepted_at"] = iso(accepted)
        original["updated_at"] = iso(previous_update)
        new["updated_at"] = iso(event.occurred_at)
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
                    "created_at": iso(comment.created_at),
                    "updated_at": iso(comment.created_at),
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
                {"updated_at": iso(previous_update)},
                {"updated_at": iso(comment.created_at)},
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
                "original_values": {"text": comment.text[:-1], "updated_at": iso(comment.created_at)},
                "new_values": {"text": comment.text, "updated_at": iso(comment.updated_at)},
            },
            _change(
                "update",
                story_id,
                {"updated_at": iso(previous_update)},
                {"updated_at": iso(event.occurred_at)},
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
        changes = [_change("update", story_id, _values(original), _values(new))]
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
        "occurred_at": iso(event.occurred_at),
    }


# ----------------------------------------------------------------------------- notifications


def notification_dict(n: Notification, ctx: Ctx) -> dict:
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
        "created_at": iso(n.created_at),
        "updated_at": iso(n.updated_at),
    }
    if n.read_at is not None:
        d["read_at"] = iso(n.read_at)
    return d
