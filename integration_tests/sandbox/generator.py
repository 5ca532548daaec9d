"""Deterministic generation of a realistic Tracker account.

Everything is drawn from one `random.Random(seed)` in a fixed order, and every timestamp is an
offset from the start moment `t0`, so two sandboxes started with the same options hold the same
ids, names and story histories; only the wall-clock anchor moves. No draw may depend on the
weekday of `t0` (iteration boundaries do), or the stream, and every id after it, would shift.

Speed matters (20 projects x 10,000 stories must take seconds): draws go through `random()`
directly, which is several times cheaper than `randrange`/`choice`/`sample`.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TypeVar

from . import vocabulary as vocab
from .model import (
    Account,
    Blocker,
    Comment,
    Epic,
    Event,
    Label,
    Membership,
    Notification,
    Person,
    Project,
    Story,
    Task,
    Transition,
)
from .options import SandboxOptions

HOUR = 3600
DAY = 24 * HOUR
WEEK = 7 * DAY

# Default project sizes when --stories is not given: very different on purpose (one empty,
# one above 1,000 stories so a connector must page at limit=500 several times).
DEFAULT_SIZES = (1203, 87, 0, 342, 15, 160)
AGES_WEEKS = (338, 156, 12, 208, 10, 104)  # even numbers: valid for 1- and 2-week iterations
ITERATION_LENGTHS = (1, 2, 1, 1, 2, 1)
PROJECT_TYPES = ("private", "private", "private", "public", "demo", "shared")
POINT_SCALES = ("0,1,2,3", "0,1,2,3,5,8", "0,1,2,3", "0,1,2,4,8", "0,1,2,3", "0,1,2,3,5,8")
RECENT_WINDOW = 3 * DAY
COLORS = ("8100ea", "555555", "e75f00", "0ea5e9", "16a34a", "b91c1c")

# The states a story went through to reach its current one.
TRANSITION_PATHS: dict[str, tuple[str, ...]] = {
    "unscheduled": (),
    "unstarted": (),
    "planned": (),
    "started": ("started",),
    "finished": ("started", "finished"),
    "delivered": ("started", "finished", "delivered"),
    "accepted": ("started", "accepted"),
    "rejected": ("started", "delivered", "rejected"),
}

T = TypeVar("T")


@dataclass
class World:
    t0: int
    me: Person
    password: str
    api_token: str
    people: dict[int, Person]
    accounts: list[Account]
    projects: list[Project]
    notifications: list[Notification]
    next_ids: dict[str, int]


def generate(options: SandboxOptions, t0: int) -> World:
    return _Generator(options, t0).run()


class _Draft:
    """A story before its id is known (ids are assigned in global creation order)."""

    __slots__ = (
        "project",
        "seq",
        "created_at",
        "story_type",
        "state",
        "force_long",
        "force_mention",
        "story",
    )

    def __init__(self, project: Project, seq: int, created_at: int, story_type: str, state: str):
        self.project = project
        self.seq = seq
        self.created_at = created_at
        self.story_type = story_type
        self.state = state
        self.force_long = False
        self.force_mention = False
        self.story: Story | None = None


class _Generator:
    def __init__(self, options: SandboxOptions, t0: int) -> None:
        self.options = options
        self.t0 = t0
        self.rng = random.Random(options.seed)
        self.rand = self.rng.random
        self.next_ids = {
            "account": 1_104_000,
            "person": 3_112_000,
            "project": 2_401_000,
            "membership": 12_300_000,
            "label": 21_400_000,
            "epic": 4_810_000,
            "story": 160_000_000,
            "comment": 215_000_000,
            "task": 68_500_000,
            "blocker": 5_230_000,
            "notification": 421_000_000,
        }
        # Other Tracker users created ids in between, so sequences have irregular gaps.
        self.gaps = {"project": 40_000, "account": 5_000, "person": 3_000, "story": 9}
        # Per-project scratch data: labels by creation time, and timed events per story.
        self.labels_by_age: dict[int, tuple[list[Label], list[int]]] = {}
        self.pending: dict[int, list[tuple]] = {}
        self.seq = 0
        self.names: dict[tuple[str, str], str] = {}  # one string per distinct story name

    # ------------------------------------------------------------------------- draw helpers

    def take(self, kind: str) -> int:
        value = self.next_ids[kind]
        self.next_ids[kind] = value + 1 + int(self.rand() * self.gaps.get(kind, 40))
        return value

    def below(self, n: int) -> int:
        return int(self.rand() * n)

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.rand() * len(seq))]

    def some(self, seq: Sequence[T], k: int) -> list[T]:
        """k distinct items (k is tiny), in draw order."""
        k = min(k, len(seq))
        chosen: list[T] = []
        while len(chosen) < k:
            item = seq[int(self.rand() * len(seq))]
            if item not in chosen:
                chosen.append(item)
        return chosen

    # ------------------------------------------------------------------------- the account

    def run(self) -> World:
        options, t0, rng = self.options, self.t0, self.rng
        people = [
            Person(self.take("person"), name, initials, username, f"{username}@example.com")
            for name, initials, username in vocab.PEOPLE
        ]
        me = people[0]
        password = f"sandbox-{rng.getrandbits(32):08x}"
        api_token = f"{rng.getrandbits(128):032x}"
        accounts = []
        for index, (name, plan) in enumerate(vocab.ACCOUNTS):
            created = t0 - (400 + self.below(2200)) * DAY
            days_left = 0 if plan == "Enterprise" else 23 + index
            accounts.append(
                Account(
                    self.take("account"), name, "active", plan, days_left, False, created, created + 3 * DAY
                )
            )

        sizes = [
            options.stories if options.stories is not None else DEFAULT_SIZES[i % 6]
            for i in range(options.projects)
        ]
        projects = [self.project(i, sizes[i], people, accounts) for i in range(options.projects)]
        for project in projects[len(projects) - options.disabled_projects :]:
            project.api_enabled = False

        drafts: list[_Draft] = []
        for i, project in enumerate(projects):
            drafts.extend(self.drafts(project, sizes[i], AGES_WEEKS[i % 6]))
        # Story ids follow creation time across the whole account, like Tracker's sequence.
        drafts.sort(key=lambda d: (d.created_at, d.seq))
        stories: dict[int, list[Story]] = {p.id: [] for p in projects}
        for draft in drafts:
            story = self.realise(draft)
            stories[draft.project.id].append(story)
            draft.story = story
        for draft in drafts:
            self.children(draft, stories[draft.project.id], me)

        plans = {a.id: a.plan for a in accounts}
        for project in projects:
            self.finish(project, stories[project.id])
            # History retention: 25 months on Enterprise, 6 on smaller plans. Versions
            # keep counting, so the feed starts well after version 1, as in the recordings.
            months = 25 if plans[project.account_id] == "Enterprise" else 6
            cutoff = t0 - months * 30 * DAY
            project.events = [e for e in project.events if e.occurred_at >= cutoff]
        notifications = self.notifications(projects, me)
        return World(
            t0,
            me,
            password,
            api_token,
            {p.id: p for p in people},
            accounts,
            projects,
            notifications,
            dict(self.next_ids),
        )

    # ------------------------------------------------------------------------- projects

    def project(self, i: int, size: int, people: list[Person], accounts: list[Account]) -> Project:
        t0, rng = self.t0, self.rng
        slot = i % 6
        name = vocab.PROJECT_NAMES[i % len(vocab.PROJECT_NAMES)]
        if i >= len(vocab.PROJECT_NAMES):
            name = f"{name} #{i // len(vocab.PROJECT_NAMES) + 1}"
        if size and "(empty)" in name:
            name = name.replace(" (empty)", "")
        account = accounts[0] if i % 3 != 2 else accounts[1]
        project = Project(self.take("project"), name, account.id)
        tz = vocab.TIME_ZONES[i % len(vocab.TIME_ZONES)]
        project.time_zone = tz
        project.week_start_day = "Sunday" if slot == 4 else "Monday"
        project.iteration_length = ITERATION_LENGTHS[slot]
        project.project_type = PROJECT_TYPES[slot]
        project.public = project.project_type == "public"
        project.point_scale = POINT_SCALES[slot]
        project.bugs_and_chores_are_estimatable = slot == 3
        project.profile_content = (
            f"{name}: generated by the Tracker sandbox (seed {self.options.seed}). Ünïcode ✓"
        )
        if slot in (0, 3):
            project.description = "Everything the customer-facing team works on. Voir le wiki."
        # The current iteration starts at local midnight of the last week_start_day and the
        # project a whole number of iterations earlier, so numbering never depends on weekday.
        age_weeks = AGES_WEEKS[slot]
        project.start_time = _week_start(t0, tz[2], project.week_start_day) - age_weeks * WEEK
        project.current_iteration_number = age_weeks // project.iteration_length + 1
        project.created_at = project.start_time + HOUR + self.below(2 * DAY)
        project.updated_at = project.created_at + self.below(DAY)

        span = age_weeks * WEEK - 4 * DAY
        label_count = min(len(vocab.LABELS), 4 + int(math.log2(size + 1) * 2)) if size else 0
        labels = []
        for label_name in rng.sample(vocab.LABELS, label_count):
            created = project.created_at + int(self.rand() ** 3 * span)  # most on day one
            labels.append(Label(self.take("label"), project.id, label_name, created, created))
        project.labels = sorted(labels, key=lambda lab: lab.name)
        by_age = sorted(labels, key=lambda lab: (lab.created_at, lab.id))
        self.labels_by_age[project.id] = (by_age, [lab.created_at for lab in by_age])

        for label in sorted(rng.sample(labels, len(labels) // 3), key=lambda lab: lab.created_at):
            description = None
            if self.rand() < 0.5:
                description = f"Everything about {label.name}. Tout ce qui concerne ça."
            updated = min(label.created_at + self.below(90 * DAY), t0 - DAY)
            project.epics.append(
                Epic(
                    self.take("epic"),
                    project.id,
                    label.name.replace("-", " ").title(),
                    description,
                    label,
                    label.created_at,
                    updated,
                )
            )
        rng.shuffle(project.epics)  # epics are listed in their own priority order

        count = 1 if size == 0 else min(len(people) - 1, 2 + size // 60)
        teammates = rng.sample(people[1:], count)
        my_role = {1: "member", 4: "viewer"}.get(slot, "owner")
        for person in [people[0], *teammates]:
            joined = project.created_at + self.below(span // 4)
            viewed = t0 - self.below(30 * DAY) if self.rand() < 0.8 else None
            if person is people[0]:
                role, joined, viewed = my_role, project.created_at, t0 - self.below(3 * DAY)
            else:
                role = self.pick(("member", "member", "member", "owner", "viewer"))
            project.memberships.append(
                Membership(
                    self.take("membership"),
                    project.id,
                    person,
                    role,
                    self.pick(COLORS),
                    self.rand() < 0.3,
                    viewed,
                    self.rand() < 0.9,
                    True,
                    joined,
                    joined,
                )
            )
        return project

    # ------------------------------------------------------------------------- stories

    def drafts(self, project: Project, size: int, age_weeks: int) -> list[_Draft]:
        # 3 days of margin keep every story after the project's creation on any weekday.
        span = age_weeks * WEEK - 3 * DAY
        recent = max(1, round(size * 0.03)) if size else 0
        rand = self.rand
        drafts = []
        for j in range(size):
            if j < recent:
                age = HOUR + int(rand() * (RECENT_WINDOW - HOUR))
            else:
                age = DAY + int(rand() * (span - DAY))
            r = rand()
            story_type = "release" if r < 0.03 else "feature" if r < 0.61 else "bug" if r < 0.82 else "chore"
            state = _pick_state(age, rand())
            if story_type == "release" and state not in ("accepted", "unstarted", "unscheduled"):
                state = "unstarted"
            self.seq += 1
            draft = _Draft(project, self.seq, self.t0 - age, story_type, state)
            draft.force_long = j == recent and size >= 5
            draft.force_mention = j == 0
            drafts.append(draft)
        return drafts

    def realise(self, draft: _Draft) -> Story:
        rand, project = self.rand, draft.project
        members = project.memberships
        story_type, state = draft.story_type, draft.state
        if story_type == "feature":
            key = (self.pick(vocab.ROLES), self.pick(vocab.ACTIONS))
            name = self.names.get(key) or self.names.setdefault(key, f"{key[0]} should be able to {key[1]}")
        else:
            name = self.pick(
                vocab.BUGS
                if story_type == "bug"
                else vocab.CHORES
                if story_type == "chore"
                else vocab.RELEASES
            )
        story = Story(
            self.take("story"),
            project.id,
            name,
            story_type,
            state,
            draft.created_at,
            self.pick(members).person.id,
        )
        r = rand()
        if draft.force_long or r < 0.02:
            story.description = vocab.LONG_PARAGRAPH * (6 + self.below(10))
        elif r < 0.47:
            story.description = self.pick(vocab.SHORT_DESCRIPTIONS)
        if story_type != "release":
            if story_type == "feature" or project.bugs_and_chores_are_estimatable:
                # Tracker refuses to start an unestimated feature.
                p = 0.8 if state == "unstarted" else 0.35 if state == "unscheduled" else 1.0
                if rand() < p:
                    story.estimate = int(self.pick(project.point_scale.split(",")))
            if state not in ("unstarted", "unscheduled") or state == "unstarted" and rand() < 0.2:
                owners = self.some(members, 1 if rand() < 0.75 else 2)
                story.owner_ids = tuple(m.person.id for m in owners)
        by_age, times = self.labels_by_age[project.id]
        # A story can only carry labels that existed when it was written.
        existing = bisect.bisect_right(times, draft.created_at)
        if existing and rand() < 0.55:
            k = 1 if rand() < 0.7 else 2 if rand() < 0.85 else 3
            chosen = self.some(by_age[:existing], k)
            story.labels = tuple(sorted(chosen, key=lambda lab: lab.name))
        r = rand()
        story.story_priority = (
            "p0" if r < 0.03 else "p1" if r < 0.18 else "p2" if r < 0.43 else "p3" if r < 0.6 else "none"
        )
        return story

    def children(self, draft: _Draft, siblings: list[Story], me: Person) -> None:
        """Comments, tasks, blockers and the state history of one story, as timed events."""
        story = draft.story
        assert story is not None
        rand, t0, project, take = self.rand, self.t0, draft.project, self.take
        members = project.memberships
        n_members = len(members)
        story_id = story.id
        created = story.created_at
        age = t0 - created
        flat = self.pending.setdefault(project.id, [])
        flat.append((created, story_id, "create", story, story.requested_by_id, None))
        latest = created
        # Stories are usually worked on soon after they are written.
        lifetime = min(int(age * 0.9), int(-math.log(1.0 - rand()) * 14 * DAY))

        state = story.current_state
        path = TRANSITION_PATHS[state]
        if path and story.story_type == "release":
            path = ("accepted",)
        if path:
            spent = lifetime if state == "accepted" else int(rand() * age * 0.95)
            end = min(created + max(len(path) * 60, spent), t0 - 1)
            times = sorted([created + 1 + int(rand() * max(1, end - created - 1)) for _ in path[1:]])
            times.append(end)
            performer = story.owner_ids[0] if story.owner_ids else story.requested_by_id
            previous = "unstarted"
            for to_state, when in zip(path, times, strict=True):
                flat.append((when, story_id, "transition", story, performer, (previous, to_state)))
                previous = to_state
            latest = end
            if state == "accepted":
                story.accepted_at = end
        if story.story_type == "release" and rand() < 0.6:
            story.deadline = (created + (7 + int(rand() * 90)) * DAY) // DAY * DAY

        r = rand()
        if r >= 0.55:
            count = 1 if r < 0.8 else 2 if r < 0.92 else 3 if r < 0.97 else 4 + int(rand() * 3)
        else:
            count = 0
        mention_last = draft.force_mention and n_members > 1
        if mention_last and not count:
            count = 1
        window = max(60, lifetime, min(age, RECENT_WINDOW))
        if count:
            comments = []
            comment_texts, mentions = vocab.COMMENTS, vocab.MENTIONS
            for k in range(count):
                when = min(created + 30 + int(rand() * window), t0)
                person = members[int(rand() * n_members)].person
                forced = mention_last and k == count - 1
                if forced:
                    # Guarantees a recent, unread mention in every project with teammates.
                    while person.id == me.id:
                        person = members[int(rand() * n_members)].person
                    back = int(rand() * min(2 * DAY, max(1, age - 90)))
                    when = max(created + 30, t0 - 60 - back)
                if person.id != me.id and (forced or rand() < 0.15):
                    text = mentions[int(rand() * len(mentions))].format(user=me.username)
                else:
                    text = comment_texts[int(rand() * len(comment_texts))]
                updated = when if rand() < 0.9 else min(t0, when + 1 + int(rand() * DAY))
                comment = Comment(take("comment"), story_id, person.id, text, when, updated)
                comments.append(comment)
                flat.append((when, story_id, "comment", story, person.id, comment))
                if updated != when:
                    flat.append((updated, story_id, "comment_edit", story, person.id, comment))
                if updated > latest:
                    latest = updated
            if count > 1:
                comments.sort(key=lambda c: (c.created_at, c.id))
            story.comments = comments

        if rand() < 0.35:
            done = state == "accepted"
            task_names = vocab.TASKS
            first_days = min(window, 2 * DAY)
            tasks = []
            for position in range(1, 2 + int(rand() * 5)):
                when = created + int(rand() * first_days)
                updated = min(t0, when + (int(rand() * window) if rand() < 0.5 else 0))
                tasks.append(
                    Task(
                        take("task"),
                        story_id,
                        task_names[int(rand() * len(task_names))],
                        done or rand() < 0.5,
                        position,
                        when,
                        updated,
                    )
                )
                if updated > latest:
                    latest = updated
            story.tasks = tasks

        if rand() < 0.07:
            blockers = []
            for _ in range(1 if rand() < 0.85 else 2):
                text = self.pick(vocab.BLOCKERS)
                blocking: Story | None = None
                if "{story_id}" in text:
                    blocking = self.pick(siblings)
                    if blocking is story:
                        blocking, text = None, vocab.BLOCKERS[0]
                    else:
                        text = text.format(story_id=blocking.id)
                when = created + self.below(window)
                resolved = state == "accepted" or rand() < 0.5
                updated = min(t0, when + (self.below(window) if resolved else 0))
                blockers.append(
                    Blocker(
                        take("blocker"), story_id, self.pick(members).person.id, text, resolved, when, updated
                    )
                )
                if blocking is not None:
                    blocking.blocked_story_ids = [*blocking.blocked_story_ids, story_id]
                latest = max(latest, updated)
            story.blockers = blockers

        if age > 7 * DAY and rand() < 0.16:
            # A later edit (grooming the backlog) puts old stories into updated_after windows.
            when = t0 - self.below(7 * DAY) if rand() < 0.4 else created + 1 + self.below(age - 1)
            flat.append((when, story_id, "edit", story, members[0].person.id, None))
            latest = max(latest, when)
        story.updated_at = min(latest, t0)

    def finish(self, project: Project, stories: list[Story]) -> None:
        """Number the project's events, derive transitions and the priority order."""
        flat = self.pending.pop(project.id, [])
        # Stable sort on the time alone (a C-level key): same-second events keep their
        # generation order, which is deterministic and already create-before-update per story.
        flat.sort(key=itemgetter(0))
        # Versions before the first event belong to the project's setup (labels, epics,
        # memberships); the real feed, too, starts well after version 1.
        version = 1 + len(project.labels) + len(project.epics) + len(project.memberships)
        result: list[Event] = []
        transitions: dict[int, list[Transition]] = {}
        last_update: dict[int, int] = {}
        # tuple.__new__ skips NamedTuple's Python-level constructor: ~700k events per 200k stories.
        make = tuple.__new__
        for when, story_id, action, story, performer, detail in flat:
            version += 1
            previous_update = last_update.get(story_id, when)
            last_update[story_id] = when
            if action == "transition":
                from_state, to_state = detail
                transitions.setdefault(story_id, []).append(
                    make(Transition, (story_id, project.id, to_state, when, performer, version))
                )
                detail = (from_state, to_state, previous_update, when if to_state == "accepted" else None)
            elif action in ("comment", "comment_edit"):
                detail = (detail, previous_update)
            elif action == "edit":
                detail = ({"updated_at": previous_update}, {"updated_at": when})
            else:  # create
                detail = "unscheduled" if story.current_state == "unscheduled" else "unstarted"
            result.append(make(Event, (version, when, action, story, performer, detail)))
        project.events = result
        project.version = version
        for story in stories:
            story.transitions = transitions.get(story.id, ())
        project.stories = self.priority_order(stories)

    def priority_order(self, stories: list[Story]) -> list[Story]:
        """Done stories by acceptance, then work in progress, backlog, icebox: Tracker's priority order."""
        done = sorted(
            (s for s in stories if s.current_state == "accepted"), key=lambda s: (s.accepted_at, s.id)
        )
        doing = [s for s in stories if s.current_state in ("started", "finished", "delivered", "rejected")]
        self.rng.shuffle(doing)
        backlog = [s for s in stories if s.current_state in ("unstarted", "planned")]
        self.rng.shuffle(backlog)
        icebox = sorted((s for s in stories if s.current_state == "unscheduled"), key=lambda s: -s.created_at)
        # Newest first, but groomed: neighbours swap places now and then.
        for k in range(0, len(icebox) - 1, 2):
            if self.rand() < 0.3:
                icebox[k], icebox[k + 1] = icebox[k + 1], icebox[k]
        return done + doing + backlog + icebox

    # ------------------------------------------------------------------------- notifications

    def notifications(self, projects: list[Project], me: Person) -> list[Notification]:
        """Mentions of the user in the last year, the newest 200 (Tracker trimmed older ones)."""
        t0 = self.t0
        marker = f"@{me.username}"
        mentions = []
        for project in projects:
            if not project.api_enabled:
                continue  # its stories can't be read, so neither are notifications about them
            for story in project.stories:
                for comment in story.comments:
                    if comment.created_at > t0 - 365 * DAY and marker in comment.text:
                        mentions.append((comment.created_at, comment.id, project, story, comment))
        mentions.sort(key=lambda m: (m[0], m[1]))
        result = []
        for created, _cid, project, story, comment in mentions[-200:]:
            read_at = None
            if created < t0 - 2 * DAY and self.rand() < 0.7:
                read_at = min(t0, created + self.below(2 * DAY))
            result.append(
                Notification(
                    self.take("notification"),
                    project.id,
                    comment.person_id,
                    story,
                    comment,
                    created,
                    created if read_at is None else read_at,
                    read_at,
                )
            )
        result.reverse()  # newest first
        return result


def _week_start(t0: int, offset: int, week_start_day: str) -> int:
    local_day = (t0 + offset) // DAY
    weekday = (local_day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    back = weekday if week_start_day == "Monday" else (weekday + 1) % 7
    return (local_day - back) * DAY - offset


def _pick_state(age: int, r: float) -> str:
    if age > 30 * DAY:
        table = ((0.80, "accepted"), (0.90, "unscheduled"), (0.97, "unstarted"))
    elif age > RECENT_WINDOW:
        table = ((0.35, "accepted"), (0.50, "unstarted"), (0.65, "unscheduled"))
    else:
        table = ((0.40, "unscheduled"), (0.75, "unstarted"), (0.90, "started"))
    for threshold, state in table:
        if r < threshold:
            return state
    return ("started", "finished", "delivered", "rejected")[int(r * 1000) % 4]
