"""URL templates of the Tracker API the sandbox serves, relative to /services/v5."""

from __future__ import annotations

from typing import NamedTuple

ROUTES: tuple[tuple[str, str], ...] = (
    ("/me", "me"),
    ("/my/notifications", "notifications"),
    ("/accounts", "accounts"),
    ("/accounts/{id}", "account"),
    ("/projects", "projects"),
    ("/projects/{id}", "project_detail"),
    ("/projects/{id}/stories", "stories"),
    ("/projects/{id}/stories/{id}", "story"),
    ("/projects/{id}/stories/{id}/comments", "comments"),
    ("/projects/{id}/stories/{id}/comments/{id}", "comment"),
    ("/projects/{id}/stories/{id}/tasks", "tasks"),
    ("/projects/{id}/stories/{id}/tasks/{id}", "task"),
    ("/projects/{id}/stories/{id}/blockers", "blockers"),
    ("/projects/{id}/stories/{id}/owners", "owners"),
    ("/projects/{id}/stories/{id}/labels", "story_labels"),
    ("/projects/{id}/stories/{id}/transitions", "story_transitions"),
    ("/projects/{id}/stories/{id}/activity", "story_activity"),
    ("/projects/{id}/story_transitions", "project_transitions"),
    ("/projects/{id}/epics", "epics"),
    ("/projects/{id}/epics/{id}", "epic"),
    ("/projects/{id}/labels", "labels"),
    ("/projects/{id}/labels/{id}", "label"),
    ("/projects/{id}/releases", "releases"),
    ("/projects/{id}/releases/{id}/stories", "release_stories"),
    ("/projects/{id}/memberships", "memberships"),
    ("/projects/{id}/iterations", "iterations"),
    ("/projects/{id}/activity", "project_activity"),
    ("/stories/{id}", "story_by_id"),
    ("/epics/{id}", "epic_by_id"),
)

_COMPILED = tuple((tuple(t.strip("/").split("/")), t, name) for t, name in ROUTES)


class Match(NamedTuple):
    handler: str
    template: str
    params: list[str]


def match(path: str) -> Match | None:
    """Match a path; placeholders take any segment and are validated by the handler.

    Recorded behaviour: `/projects//epics` (empty project id) answered unfound_resource but
    `/projects//stories//comments` route_not_found, so only the first placeholder may be empty.
    """
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    segments = path[1:].split("/") if path.startswith("/") else path.split("/")
    for parts, template, name in _COMPILED:
        if len(parts) != len(segments):
            continue
        params: list[str] = []
        for index, (part, segment) in enumerate(zip(parts, segments, strict=True)):
            if part == "{id}":
                if not segment and (params or index != 1):
                    break
                params.append(segment)
            elif part != segment:
                break
        else:
            return Match(name, template, params)
    return None


def normalise(path: str) -> str:
    """Endpoint key for request statistics when no route matched."""
    return "/".join("{id}" if s.isdigit() else s for s in path.split("/"))
