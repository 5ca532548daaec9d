"""The sandbox's data: generated once, then changed only through the methods below.

Writers hold `lock` and replace `Project.stories` with a new list instead of editing it, so the
HTTP threads can read a project's story list without locking.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable
from typing import Any

import orjson

from . import resources, timeutil
from .generator import WEEK, generate
from .model import (
    STATE_GROUP,
    STORY_STATES,
    STORY_TYPES,
    Account,
    Event,
    Iteration,
    Label,
    Notification,
    Person,
    Project,
    Story,
    Transition,
)
from .options import SandboxOptions

STREAMS = (
    "projects",
    "epics",
    "stories",
    "notifications",
    "project_memberships",
    "labels",
    "releases",
    "activity",
    "iterations",
    "story_transitions",
    "comments",
    "tasks",
    "blockers",
    "accounts",
)

_IN_PROGRESS = ("started", "finished", "delivered", "rejected")
_EDITABLE = {
    "name",
    "description",
    "story_type",
    "current_state",
    "estimate",
    "labels",
    "owner_ids",
    "requested_by_id",
    "deadline",
    "story_priority",
}


class Store:
    def __init__(self, options: SandboxOptions, t0: int | None = None) -> None:
        self.options = options
        self.t0 = timeutil.now() if t0 is None else t0
        # The cyclic GC would rescan the growing heap again and again during generation (and
        # later while serving); nothing generated forms garbage cycles, so pause it, then freeze
        # the result out of future collections.
        gc_enabled = gc.isenabled()
        gc.disable()
        try:
            world = generate(options, self.t0)
        finally:
            if gc_enabled:
                gc.enable()
        gc.freeze()
        self.me: Person = world.me
        self.password = options.password or world.password
        self.api_token = options.api_token or world.api_token
        self.people: dict[int, Person] = world.people
        self.accounts: list[Account] = world.accounts
        self.account_by_id = {a.id: a for a in self.accounts}
        self.projects: list[Project] = world.projects
        self.project_by_id = {p.id: p for p in self.projects}
        self.notifications: list[Notification] = world.notifications
        self.me_time_zone = self.projects[0].time_zone
        self.me_created_at = min(p.created_at for p in self.projects) - 3 * 86400
        self.me_updated_at = self.t0 - 86400
        self.story_by_id: dict[int, Story] = {s.id: s for p in self.projects for s in p.stories}
        self._next_ids = world.next_ids
        self.lock = threading.RLock()
        self.mutations: dict[str, list[int]] = {"created": [], "deleted": [], "moved": []}
        self._mutated_first_page: set[int] = set()
        self._transitions_mutated: set[int] = set()
        # Rendered activity entries by (project id, version): history never changes.
        self._activity_json: dict[tuple[int, int], bytes] = {}
        self._my_activity: tuple[tuple[int, ...], list[Event]] = ((), [])

    # ------------------------------------------------------------------------- lookups

    def now(self) -> int:
        # Never before t0: generated data ends at t0, and created_at must not go backwards.
        return max(timeutil.now(), self.t0)

    def readable_projects(self, project_ids: Iterable[int] | None = None) -> list[Project]:
        wanted = None if project_ids is None else set(project_ids)
        return [p for p in self.projects if p.api_enabled and (wanted is None or p.id in wanted)]

    def ctx(self, tf: timeutil.TimeFormatter = timeutil.iso) -> resources.Ctx:
        return resources.Ctx(self, tf)

    # ------------------------------------------------------------------------- derived views

    def _cached(self, project: Project, key: str, build: Any) -> Any:
        version = project.version
        hit = project.caches.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = build(project)
        project.caches[key] = (version, value)
        return value

    def iterations(self, project: Project) -> list[Iteration]:
        return self._cached(project, "iterations", self._build_iterations)

    def velocity(self, project: Project) -> int:
        return self.iterations(project)[-1].velocity  # there is always a current iteration

    def _build_iterations(self, project: Project) -> list[Iteration]:
        length = project.iteration_length * WEEK
        current = project.current_iteration_number
        start = project.start_time
        done: list[list[Story]] = [[] for _ in range(current - 1)]
        now_list: list[Story] = []
        doing: list[Story] = []
        backlog: list[Story] = []
        for story in project.stories:
            state = story.current_state
            if state == "accepted":
                index = max(0, ((story.accepted_at or story.updated_at) - start) // length)
                (done[index] if index < current - 1 else now_list).append(story)
            elif state in _IN_PROGRESS:
                doing.append(story)
            elif state in ("unstarted", "planned"):
                backlog.append(story)
        for bucket in done:
            bucket.sort(key=lambda s: (s.accepted_at, s.id))
        now_list.sort(key=lambda s: (s.accepted_at, s.id))
        recent = [sum(s.estimate or 0 for s in bucket) for bucket in done[-3:]]
        velocity = round(sum(recent) / len(recent)) if recent and sum(recent) else 0
        velocity = velocity or project.initial_velocity

        iterations = []
        for number, bucket in enumerate(done, start=1):
            begin = start + (number - 1) * length
            iterations.append(
                Iteration(
                    project.id, number, project.iteration_length, 1, begin, begin + length, bucket, velocity
                )
            )
        current_stories = now_list + doing
        points = sum(s.estimate or 0 for s in current_stories)
        queue = iter(backlog)
        pending = next(queue, None)
        while pending is not None and (points + (pending.estimate or 0) <= velocity):
            current_stories.append(pending)
            points += pending.estimate or 0
            pending = next(queue, None)
        number = current
        begin = start + (number - 1) * length
        iterations.append(
            Iteration(
                project.id,
                number,
                project.iteration_length,
                1,
                begin,
                begin + length,
                current_stories,
                velocity,
            )
        )
        while pending is not None:
            number += 1
            begin += length
            chunk = [pending]
            points = pending.estimate or 0
            pending = next(queue, None)
            while pending is not None and points + (pending.estimate or 0) <= velocity:
                chunk.append(pending)
                points += pending.estimate or 0
                pending = next(queue, None)
            iterations.append(
                Iteration(
                    project.id, number, project.iteration_length, 1, begin, begin + length, chunk, velocity
                )
            )
        return iterations

    def project_transitions(self, project: Project) -> list[Transition]:
        def build(p: Project) -> list[Transition]:
            rows = [t for s in p.stories for t in s.transitions]
            rows.sort(key=lambda t: (t.occurred_at, t.project_version))
            return rows

        return self._cached(project, "transitions", build)

    def my_activity(self) -> list[Event]:
        """Activity of every readable project, newest first."""
        with self.lock:
            key = tuple(p.version for p in self.projects)
            if self._my_activity[0] != key:
                events = [e for p in self.readable_projects() for e in p.events]
                events.sort(key=lambda e: (e.occurred_at, e.story.project_id, e.version), reverse=True)
                self._my_activity = (key, events)
            return self._my_activity[1]

    def activity_json(self, event: Event) -> bytes:
        key = (event.story.project_id, event.version)
        cached = self._activity_json.get(key)
        if cached is None:
            cached = orjson.dumps(resources.activity_dict(event, self.ctx()))
            self._activity_json[key] = cached
        return cached

    # ------------------------------------------------------------------------- truth

    def truth(self, stream: str, project_ids: Iterable[int] | None = None) -> list:
        """Primary keys a correct connector delivers for `stream` right now."""
        if stream not in STREAMS:
            raise ValueError(f"unknown stream {stream!r}; expected one of {', '.join(STREAMS)}")
        with self.lock:
            wanted = None if project_ids is None else {int(i) for i in project_ids}
            if stream == "projects":
                return [p.id for p in self.projects if wanted is None or p.id in wanted]
            if stream == "accounts":
                return [a.id for a in self.accounts]
            projects = self.readable_projects(wanted)
            if stream == "notifications":
                ids = {p.id for p in projects}
                return [n.id for n in self.notifications if n.project_id in ids]
            keys: list = []
            for p in projects:
                stories = p.stories
                if stream == "stories":
                    keys.extend(s.id for s in stories)
                elif stream == "releases":
                    keys.extend(s.id for s in stories if s.story_type == "release")
                elif stream == "epics":
                    keys.extend(e.id for e in p.epics)
                elif stream == "labels":
                    keys.extend(label.id for label in p.labels)
                elif stream == "project_memberships":
                    keys.extend(m.id for m in p.memberships)
                elif stream == "activity":
                    keys.extend(f"{p.id}_{e.version}" for e in p.events)
                elif stream == "iterations":
                    keys.extend((p.id, it.number) for it in self.iterations(p))
                elif stream == "story_transitions":
                    keys.extend((t.story_id, t.project_version) for t in self.project_transitions(p))
                elif stream == "comments":
                    keys.extend(c.id for s in stories for c in s.comments)
                elif stream == "tasks":
                    keys.extend(t.id for s in stories for t in s.tasks)
                elif stream == "blockers":
                    keys.extend(b.id for s in stories for b in s.blockers)
            return keys

    # ------------------------------------------------------------------------- mutations

    def _take_id(self, kind: str) -> int:
        value = self._next_ids[kind]
        self._next_ids[kind] = value + 1 + value % 7
        return value

    def _record(
        self,
        project: Project,
        when: int,
        action: str,
        story: Story,
        detail: object,
        performer_id: int | None = None,
    ) -> Event:
        project.version += 1
        event = Event(project.version, when, action, story, performer_id or self.me.id, detail)
        project.events = [*project.events, event]
        return event

    @staticmethod
    def _insertion_index(stories: list[Story], state: str) -> int:
        """Where Tracker puts a story entering `state`: after its group, or atop the icebox."""
        group = STATE_GROUP[state]
        limit = group if group == 3 else group + 1
        index = 0
        for position, other in enumerate(stories):
            if STATE_GROUP[other.current_state] < limit:
                index = position + 1
        return index

    def _resolve_labels(self, project: Project, values: Iterable[Any], when: int) -> tuple:
        result: list[Label] = []
        by_name = {label.name: label for label in project.labels}
        by_id = {label.id: label for label in project.labels}
        for value in values:
            if isinstance(value, Label):
                value = value.id
            if isinstance(value, int):
                if value not in by_id:
                    raise ValueError(f"label {value} is not in project {project.id}")
                result.append(by_id[value])
                continue
            label = by_name.get(str(value))
            if label is None:
                label = Label(self._take_id("label"), project.id, str(value), when, when)
                project.labels = sorted([*project.labels, label], key=lambda lab: lab.name)
                by_name[label.name] = label
                project.version += 1  # label creation is a change of its own
            result.append(label)
        return tuple(sorted(result, key=lambda lab: lab.name))

    def _apply(self, project: Project, story: Story, fields: dict[str, Any], when: int) -> None:
        unknown = set(fields) - _EDITABLE
        if unknown:
            raise ValueError(f"unsupported story fields: {', '.join(sorted(unknown))}")
        for name, value in fields.items():
            if name == "labels":
                story.labels = self._resolve_labels(project, value, when)
            elif name == "owner_ids":
                story.owner_ids = tuple(int(v) for v in value)
            elif name == "story_type" and value not in STORY_TYPES:
                raise ValueError(f"story_type must be one of {STORY_TYPES}")
            elif name == "current_state" and value not in STORY_STATES:
                raise ValueError(f"current_state must be one of {STORY_STATES}")
            else:
                setattr(story, name, value)

    def create_story(self, project_id: int, **fields: Any) -> dict:
        """Create a story now, as a user would in the UI (default: top of the icebox)."""
        with self.lock:
            project = self.project_by_id[int(project_id)]
            when = self.now()
            story = Story(
                self._take_id("story"),
                project.id,
                str(fields.pop("name", "New story")),
                str(fields.get("story_type", "feature")),
                str(fields.get("current_state", "unscheduled")),
                when,
                int(fields.pop("requested_by_id", self.me.id)),
            )
            self._apply(project, story, fields, when)
            initial = "unscheduled" if story.current_state == "unscheduled" else "unstarted"
            self._record(project, when, "create", story, initial)
            if STATE_GROUP[story.current_state] < 2:
                self._transition(project, story, initial, story.current_state, when)
            stories = list(project.stories)
            stories.insert(self._insertion_index(stories, story.current_state), story)
            project.stories = stories
            self.story_by_id[story.id] = story
            return resources.story_dict(story, self.ctx())

    def _transition(self, project: Project, story: Story, old: str, new: str, when: int) -> None:
        if new == "accepted":
            story.accepted_at = when
        elif old == "accepted":
            story.accepted_at = None
        self._record(project, when, "transition", story, (old, new, story.updated_at, story.accepted_at))
        story.transitions = [
            *story.transitions,
            Transition(story.id, project.id, new, when, self.me.id, project.version),
        ]

    def update_story(self, story_id: int, **fields: Any) -> dict:
        """Change a story now: bumps updated_at and the project version, records activity."""
        with self.lock:
            story = self.story_by_id[int(story_id)]
            project = self.project_by_id[story.project_id]
            when = self.now()
            before = {name: getattr(story, name) for name in fields if name in _EDITABLE}
            old_state = story.current_state
            previous_update = story.updated_at
            self._apply(project, story, fields, when)
            new_state = story.current_state
            if new_state != old_state:
                self._transition(project, story, old_state, new_state, when)
            original: dict[str, Any] = {}
            new: dict[str, Any] = {}
            for name, old_value in before.items():
                if name in ("current_state",):
                    continue
                value = getattr(story, name)
                if name == "labels":
                    original["label_ids"] = [label.id for label in old_value]
                    new["label_ids"] = [label.id for label in value]
                    original["labels"] = [label.name for label in old_value]
                    new["labels"] = [label.name for label in value]
                elif old_value != value:
                    original[name] = list(old_value) if isinstance(old_value, tuple) else old_value
                    new[name] = list(value) if isinstance(value, tuple) else value
            story.updated_at = when
            story.cached_json = None
            if original or new_state == old_state:
                original["updated_at"] = previous_update
                new["updated_at"] = when
                self._record(project, when, "update", story, (original, new))
            if STATE_GROUP[new_state] != STATE_GROUP[old_state]:
                stories = [s for s in project.stories if s is not story]
                stories.insert(self._insertion_index(stories, new_state), story)
                project.stories = stories
            return resources.story_dict(story, self.ctx())

    def delete_story(self, story_id: int) -> None:
        with self.lock:
            story = self.story_by_id.pop(int(story_id))
            project = self.project_by_id[story.project_id]
            project.stories = [s for s in project.stories if s is not story]
            story.deleted = True
            self._record(project, self.now(), "delete", story, None)
            self.mutations["deleted"].append(story.id)

    def move_story_to_top(self, story_id: int) -> None:
        with self.lock:
            story = self.story_by_id[int(story_id)]
            project = self.project_by_id[story.project_id]
            stories = project.stories
            index = stories.index(story)
            if index == 0:
                return
            when = self.now()
            original = {
                "before_id": stories[index + 1].id if index + 1 < len(stories) else None,
                "after_id": stories[index - 1].id,
                "updated_at": story.updated_at,
            }
            new = {"before_id": stories[0].id, "updated_at": when}
            project.stories = [story, *stories[:index], *stories[index + 1 :]]
            story.updated_at = when
            story.cached_json = None
            self._record(project, when, "move", story, (original, new))
            self.mutations["moved"].append(story.id)

    def delete_before_page(self, project: Project, offset: int) -> None:
        """The --mutate-transitions fault: the story of the last transition read is deleted, once.

        Its transitions leave the listing, so every later one shifts back by one place.
        """
        with self.lock:
            if offset <= 0 or project.id in self._transitions_mutated:
                return
            self._transitions_mutated.add(project.id)
            rows = self.project_transitions(project)
            if offset <= len(rows) and rows[offset - 1].story_id in self.story_by_id:
                self.delete_story(rows[offset - 1].story_id)

    def mutate_before_page(self, project: Project, offset: int, limit: int) -> None:
        """The --mutate-stories fault: what a busy team does while a connector pages through."""
        with self.lock:
            first_page = offset <= 0
            if first_page:
                if project.id in self._mutated_first_page:
                    return
                self._mutated_first_page.add(project.id)
            stories = project.stories
            if 0 < offset <= len(stories):
                self.delete_story(stories[offset - 1].id)
            stories = project.stories
            target = offset + limit if offset + limit < len(stories) else len(stories) - 1
            if stories and target >= max(offset, 1):
                self.move_story_to_top(stories[target].id)
            created = self.create_story(project.id, name="Created while you were paging ⏳")
            self.mutations["created"].append(created["id"])
