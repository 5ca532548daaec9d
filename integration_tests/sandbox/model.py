"""In-memory records, timestamps in epoch seconds; resources.py, messages.py and registry.py render them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

# Priority groups of the story list, the order GET /projects/{id}/stories answers in: done, in
# progress, backlog, icebox (https://www.pivotaltracker.com/help/api/rest/v5#Stories).
STATE_GROUP = {
    "accepted": 0,
    "started": 1,
    "finished": 1,
    "delivered": 1,
    "rejected": 1,
    "planned": 2,
    "unstarted": 2,
    "unscheduled": 3,
}
STORY_STATES = tuple(STATE_GROUP)
STORY_TYPES = ("feature", "bug", "chore", "release")


class Person(NamedTuple):
    id: int
    name: str
    initials: str
    username: str
    email: str


class Account(NamedTuple):
    id: int
    name: str
    status: str
    plan: str
    days_left: int
    over_the_limit: bool
    created_at: int
    updated_at: int


class Label(NamedTuple):
    id: int
    project_id: int
    name: str
    created_at: int
    updated_at: int


class Epic(NamedTuple):
    id: int
    project_id: int
    name: str
    description: str | None
    label: Label
    created_at: int
    updated_at: int


class Membership(NamedTuple):
    id: int
    project_id: int
    person: Person
    role: str
    project_color: str
    favorite: bool
    last_viewed_at: int | None
    wants_comment_notification_emails: bool
    will_receive_mention_notifications_or_emails: bool
    created_at: int
    updated_at: int


class Comment(NamedTuple):
    id: int
    story_id: int
    person_id: int
    text: str
    created_at: int
    updated_at: int


class Task(NamedTuple):
    id: int
    story_id: int
    description: str
    complete: bool
    position: int
    created_at: int
    updated_at: int


class Blocker(NamedTuple):
    id: int
    story_id: int
    person_id: int
    description: str
    resolved: bool
    created_at: int
    updated_at: int


class Transition(NamedTuple):
    story_id: int
    project_id: int
    state: str
    occurred_at: int
    performed_by_id: int
    project_version: int


class Event(NamedTuple):
    """One entry of a project's activity feed; rendered lazily because feeds are large."""

    version: int
    occurred_at: int
    action: str  # create | transition | comment | comment_edit | edit | update | move | delete
    story: Story
    performer_id: int
    # create: initial state; transition: (from, to, previous updated_at, accepted_at);
    # comment/comment_edit: (Comment, previous updated_at); edit/update/move:
    # (original_values, new_values) with epoch-second times; delete: None.
    detail: object


class Notification(NamedTuple):
    id: int
    project_id: int
    performer_id: int
    story: Story
    comment: Comment
    created_at: int
    updated_at: int
    read_at: int | None


class Story:
    __slots__ = (
        "id",
        "project_id",
        "name",
        "description",
        "story_type",
        "current_state",
        "estimate",
        "created_at",
        "updated_at",
        "accepted_at",
        "deadline",
        "requested_by_id",
        "owner_ids",
        "labels",
        "story_priority",
        "comments",
        "tasks",
        "blockers",
        "transitions",
        "blocked_story_ids",
        "deleted",
        "cached_json",
    )

    def __init__(
        self,
        story_id: int,
        project_id: int,
        name: str,
        story_type: str,
        current_state: str,
        created_at: int,
        requested_by_id: int,
    ) -> None:
        self.id = story_id
        self.project_id = project_id
        self.name = name
        self.description: str | None = None
        self.story_type = story_type
        self.current_state = current_state
        self.estimate: int | None = None
        self.created_at = created_at
        self.updated_at = created_at
        self.accepted_at: int | None = None
        self.deadline: int | None = None
        self.requested_by_id = requested_by_id
        self.owner_ids: tuple[int, ...] = ()
        self.labels: tuple[Label, ...] = ()
        self.story_priority = "none"
        # Most stories have none of these; a shared empty tuple saves five lists per story.
        self.comments: Sequence[Comment] = ()
        self.tasks: Sequence[Task] = ()
        self.blockers: Sequence[Blocker] = ()
        self.transitions: Sequence[Transition] = ()
        self.blocked_story_ids: Sequence[int] = ()
        self.deleted = False
        # The default JSON rendering, built once and reused by every page that contains the story.
        self.cached_json: bytes | None = None

    def __repr__(self) -> str:
        return f"Story(id={self.id}, project_id={self.project_id}, state={self.current_state})"


class Iteration(NamedTuple):
    project_id: int
    number: int
    length: int
    team_strength: int
    start: int
    finish: int
    stories: list[Story]
    velocity: int


class Project:
    __slots__ = (
        "id",
        "name",
        "description",
        "profile_content",
        "account_id",
        "api_enabled",
        "created_at",
        "updated_at",
        "start_time",
        "iteration_length",
        "week_start_day",
        "point_scale",
        "bugs_and_chores_are_estimatable",
        "time_zone",
        "initial_velocity",
        "public",
        "project_type",
        "current_iteration_number",
        "version",
        "labels",
        "epics",
        "memberships",
        "stories",
        "events",
        "caches",
    )

    def __init__(self, project_id: int, name: str, account_id: int) -> None:
        self.id = project_id
        self.name = name
        self.description: str | None = None
        self.profile_content = ""
        self.account_id = account_id
        self.api_enabled = True
        self.created_at = 0
        self.updated_at = 0
        self.start_time = 0
        self.iteration_length = 1
        self.week_start_day = "Monday"
        self.point_scale = "0,1,2,3"
        self.bugs_and_chores_are_estimatable = False
        self.time_zone: tuple[str, str, int] = ("Etc/UTC", "+00:00", 0)
        self.initial_velocity = 10
        self.public = False
        self.project_type = "private"
        self.current_iteration_number = 1
        self.version = 1
        self.labels: list[Label] = []  # sorted by name, as the API lists them
        self.epics: list[Epic] = []
        self.memberships: list[Membership] = []
        # Priority order. Replaced, never mutated in place, so readers need no lock.
        self.stories: list[Story] = []
        self.events: list[Event] = []  # ascending project_version
        # Derived views (iterations, transitions...) keyed by the version they were built at.
        self.caches: dict[str, tuple[int, object]] = {}

    def __repr__(self) -> str:
        return f"Project(id={self.id}, name={self.name!r}, stories={len(self.stories)})"
