"""Tracker API v5 endpoints: authentication, lookups, filters, pagination and rendering.

HTTP concerns (sockets, faults, latency, statistics) live in server.py; this module turns a
parsed request into status, headers and body bytes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import orjson

from . import errors, messages, registry, resources, routes, timeutil
from .errors import ApiError
from .fields import FieldsError, Selection, parse_fields
from .model import STORY_STATES, STORY_TYPES, Event, Iteration, Project, Story
from .options import SandboxOptions
from .store import Store


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    params: list[str] = field(default_factory=list)
    template: str = ""
    selection: Selection | None = None
    ctx: resources.Ctx | None = None


@dataclass
class Page:
    total: int
    limit: int
    offset: int
    returned: int


@dataclass
class Result:
    """What a handler produces; `data` is the serialised JSON payload."""

    data: bytes
    status: int = 200
    project: Project | None = None
    page: Page | None = None
    headers: dict[str, str] = field(default_factory=dict)


class TrackerApi:
    def __init__(self, store: Store, options: SandboxOptions) -> None:
        self.store = store
        self.options = options
        # Activity never changes once recorded: each event is rendered once, by (project, version).
        self._activity_json: dict[tuple[int, int], bytes] = {}
        self._handlers: dict[str, Callable[[Request], Result]] = {
            name: getattr(self, "_" + name) for _template, name in routes.ROUTES
        }

    # ------------------------------------------------------------------------- entry point

    def handle(self, method: str, path: str, query: dict[str, str], headers: Message) -> Result:
        """Answer one request; errors come back as a Result with Tracker's error body."""
        req = Request(method, path, query, headers)
        try:
            return self._dispatch(req)
        except ApiError as exc:
            return self._error_result(req, exc)

    def endpoint_key(self, method: str, path: str) -> str:
        found = routes.match(path)
        return f"{method} {found.template if found else routes.normalise(path)}"

    def _dispatch(self, req: Request) -> Result:
        found = routes.match(req.path)
        if found is None or req.method != "GET":
            # The sandbox is read-only; writes have no route here.
            raise errors.route_not_found()
        req.params, req.template = found.params, found.template
        self._authenticate(req)
        try:
            req.selection = parse_fields(req.query.get("fields"))
        except FieldsError as exc:
            raise errors.invalid_parameter(str(exc)) from None
        req.ctx = resources.Ctx(self.store)
        try:
            result = self._handlers[found.handler](req)
        except FieldsError as exc:
            raise errors.invalid_parameter(str(exc)) from None
        return self._finish(req, result)

    def _finish(self, req: Request, result: Result) -> Result:
        if result.project is not None:
            result.headers["X-Tracker-Project-Version"] = str(result.project.version)
        if result.page is not None:
            page = result.page
            result.headers.update(
                {
                    "X-Tracker-Pagination-Total": str(page.total),
                    "X-Tracker-Pagination-Limit": str(page.limit),
                    "X-Tracker-Pagination-Offset": str(page.offset),
                    "X-Tracker-Pagination-Returned": str(page.returned),
                }
            )
        return result

    def _error_result(self, req: Request, exc: ApiError) -> Result:
        return Result(orjson.dumps(exc.body), exc.status, headers=dict(exc.headers))

    # ------------------------------------------------------------------------- auth

    def _authenticate(self, req: Request) -> None:
        status = self.options.auth_status
        token = req.headers.get("X-TrackerToken")
        if token is not None:
            if token != self.store.api_token:
                raise errors.invalid_token(status)
            return
        authorization = req.headers.get("Authorization") or ""
        if req.template == "/me" and authorization[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise errors.invalid_password(status) from None
            user, _sep, password = decoded.partition(":")
            me = self.store.me
            if user in (me.username, me.email) and password == self.store.password:
                return
            raise errors.invalid_password(status)
        raise errors.invalid_token(status)

    # ------------------------------------------------------------------------- helpers

    def _readable_project(self, raw: str) -> Project:
        if not raw.isdigit():
            raise errors.unfound_resource()
        project = self.store.project_by_id.get(int(raw))
        # Unknown numeric ids answer 403 like forbidden ones: Tracker doesn't reveal existence.
        if project is None or not project.api_enabled:
            raise errors.unauthorized_project()
        return project

    def _story_in(self, project: Project, raw: str) -> Story:
        if not raw.isdigit():
            raise errors.unfound_resource()
        story = self.store.story_by_id.get(int(raw))
        if story is None or story.project_id != project.id:
            raise errors.unfound_resource()
        return story

    def _int(self, req: Request, name: str, default: int) -> int:
        raw = req.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise errors.invalid_parameter(f"'{name}' must be an integer") from None

    def _paginate(
        self,
        req: Request,
        items: Sequence[Any],
        default_limit: int,
        max_limit: int,
        negative_offsets: bool = False,
    ) -> tuple[Sequence[Any], Page]:
        limit = self._int(req, "limit", default_limit)
        if limit < 0:
            raise errors.invalid_parameter("'limit' must not be negative")
        if limit > max_limit and self.options.over_max_limit == "reject":
            raise errors.invalid_parameter(f"'limit' must be at most {max_limit}")
        limit = min(limit, max_limit)  # silently clamped: stories?limit=10000 returned 500
        offset = self._int(req, "offset", 0)
        total = len(items)
        # Only done iterations count back from the end with a negative offset: scope=done&offset=-2
        # answers the two most recent done iterations.
        start = offset if offset >= 0 else max(0, total + offset) if negative_offsets else 0
        if self.options.ignore_offset != "no":  # a hostile server: always the first page
            start = 0
            offset = offset if self.options.ignore_offset == "echo" else 0
        chunk = items[start : start + limit]
        return chunk, Page(total, limit, offset, len(chunk))

    def _time_param(self, req: Request, name: str) -> int | None:
        raw = req.query.get(name)
        if raw is None or raw == "":
            return None
        try:
            return timeutil.parse_datetime_param(raw)
        except ValueError:
            problem = f"'{name}' must be an ISO 8601 datetime or epoch milliseconds"
            raise errors.invalid_parameter(problem) from None

    def _time_window(self, req: Request, prefix: str) -> Callable[[int], bool] | None:
        """Predicate on epoch seconds for `<prefix>_after` / `<prefix>_before`, or None."""
        after = self._time_param(req, prefix + "_after")
        before = self._time_param(req, prefix + "_before")
        if after is None and before is None:
            return None
        inclusive = self.options.date_filter == "inclusive"
        low = -(2**62) if after is None else after
        high = 2**62 if before is None else before
        if inclusive:
            return lambda ts: low <= ts * 1000 <= high
        return lambda ts: low < ts * 1000 < high

    def _list(self, req: Request, spec: str, items: Sequence[Any], **kwargs: Any) -> Result:
        ctx = req.ctx
        assert ctx is not None
        sel = req.selection
        if sel is None and spec == "story":
            data = b"[" + b",".join([resources.story_json(s, ctx) for s in items]) + b"]"
        elif sel is None and spec == "activity":
            data = b"[" + b",".join([self._activity(e, ctx) for e in items]) + b"]"
        else:
            data = orjson.dumps([registry.render(spec, item, sel, ctx) for item in items])
        return Result(data, **kwargs)

    def _activity(self, event: Event, ctx: resources.Ctx) -> bytes:
        key = (event.story.project_id, event.version)
        cached = self._activity_json.get(key)
        if cached is None:
            cached = orjson.dumps(messages.activity_dict(event, ctx))
            self._activity_json[key] = cached
        return cached

    def _one(self, req: Request, spec: str, item: Any, **kwargs: Any) -> Result:
        ctx = req.ctx
        assert ctx is not None
        if req.selection is None and spec == "story":
            return Result(resources.story_json(item, ctx), **kwargs)
        return Result(orjson.dumps(registry.render(spec, item, req.selection, ctx)), **kwargs)

    # ------------------------------------------------------------------------- user level

    def _me(self, req: Request) -> Result:
        return self._one(req, "me", self.store.me)

    def _accounts(self, req: Request) -> Result:
        return self._list(req, "account", self.store.accounts)

    def _account(self, req: Request) -> Result:
        raw = req.params[0]
        if not raw.isdigit():
            raise errors.unfound_resource()
        account = self.store.account_by_id.get(int(raw))
        if account is None:
            raise errors.unauthorized_project()
        return self._one(req, "account", account)

    def _notifications(self, req: Request) -> Result:
        items = self.store.notifications
        if not self.options.notifications_ignore_filters:
            created = self._time_window_single(req, "created_after")
            updated = self._time_window_single(req, "updated_after")
            if created is not None:
                items = [n for n in items if created(n.created_at)]
            if updated is not None:
                items = [n for n in items if updated(n.updated_at)]
        latest = max((n.created_at for n in self.store.notifications), default=0)
        result = self._list(req, "notification", items)
        result.headers["X-Tracker-Last-Notification-Timestamp"] = str(latest * 1000)
        return result

    def _time_window_single(self, req: Request, name: str) -> Callable[[int], bool] | None:
        bound = self._time_param(req, name)
        if bound is None:
            return None
        if self.options.date_filter == "inclusive":
            return lambda ts: ts * 1000 >= bound
        return lambda ts: ts * 1000 > bound

    # ------------------------------------------------------------------------- projects

    def _projects(self, req: Request) -> Result:
        if self.options.projects_answer == "forbidden":
            raise errors.unauthorized_project()
        if self.options.projects_answer == "object":
            return Result(orjson.dumps({"projects": [p.id for p in self.store.projects]}))
        projects = self.store.projects
        account_ids = req.query.get("account_ids")
        if account_ids:
            wanted = {int(a) for a in account_ids.split(",") if a.strip().isdigit()}
            projects = [p for p in projects if p.account_id in wanted]
        return self._list(req, "project", projects)

    def _project_detail(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        return self._one(req, "project", project, project=project)

    def _epics(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        return self._list(req, "epic", project.epics, project=project)

    def _epic(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        epic = next((e for e in project.epics if str(e.id) == req.params[1]), None)
        if epic is None:
            raise errors.unfound_resource()
        return self._one(req, "epic", epic, project=project)

    def _epic_by_id(self, req: Request) -> Result:
        raw = req.params[0]
        for project in self.store.projects:
            for epic in project.epics:
                if str(epic.id) == raw:
                    if not project.api_enabled:
                        raise errors.unauthorized_project()
                    return self._one(req, "epic", epic, project=project)
        raise errors.unfound_resource()

    def _labels(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        return self._list(req, "label", project.labels, project=project)

    def _label(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        label = next((lab for lab in project.labels if str(lab.id) == req.params[1]), None)
        if label is None:
            raise errors.unfound_resource()
        return self._one(req, "label", label, project=project)

    def _memberships(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        return self._list(req, "project_membership", project.memberships, project=project)

    # ------------------------------------------------------------------------- stories

    def _stories(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        if self.options.mutate_stories:
            offset = self._int(req, "offset", 0)
            limit = min(max(self._int(req, "limit", 100), 0), 500)
            self.store.mutate_before_page(project, offset, limit)
        stories = self._filter_stories(req, project.stories)
        page, info = self._paginate(req, stories, 100, 500)
        return self._list(req, "story", page, project=project, page=info)

    def _filter_stories(self, req: Request, stories: list[Story]) -> list[Story]:
        q = req.query
        state = q.get("with_state")
        if state:
            if state not in STORY_STATES:
                raise errors.invalid_parameter(f"'with_state' must be one of {', '.join(STORY_STATES)}")
            stories = [s for s in stories if s.current_state == state]
        story_type = q.get("with_story_type")
        if story_type:
            if story_type not in STORY_TYPES:
                raise errors.invalid_parameter(f"'with_story_type' must be one of {', '.join(STORY_TYPES)}")
            stories = [s for s in stories if s.story_type == story_type]
        label = q.get("with_label")
        if label:
            stories = [s for s in stories if any(lab.name == label for lab in s.labels)]
        for prefix, attr in (
            ("created", "created_at"),
            ("updated", "updated_at"),
            ("accepted", "accepted_at"),
            ("deadline", "deadline"),
        ):
            window = self._time_window(req, prefix)
            if window is not None:
                stories = [s for s in stories if getattr(s, attr) is not None and window(getattr(s, attr))]
        return stories

    def _story(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        story = self._story_in(project, req.params[1])
        return self._one(req, "story", story, project=project)

    def _story_by_id(self, req: Request) -> Result:
        raw = req.params[0]
        story = self.store.story_by_id.get(int(raw)) if raw.isdigit() else None
        if story is None:
            raise errors.unfound_resource()
        project = self._readable_project(str(story.project_id))
        return self._one(req, "story", story, project=project)

    def _story_children(self, req: Request) -> tuple[Project, Story]:
        project = self._readable_project(req.params[0])
        return project, self._story_in(project, req.params[1])

    def _comments(self, req: Request) -> Result:
        project, story = self._story_children(req)
        return self._list(req, "comment", story.comments, project=project)

    def _comment(self, req: Request) -> Result:
        project, story = self._story_children(req)
        found = next((c for c in story.comments if str(c.id) == req.params[2]), None)
        if found is None:
            raise errors.unfound_resource()
        return self._one(req, "comment", found, project=project)

    def _tasks(self, req: Request) -> Result:
        project, story = self._story_children(req)
        tasks = sorted(story.tasks, key=lambda t: t.position)
        return self._list(req, "task", tasks, project=project)

    def _task(self, req: Request) -> Result:
        project, story = self._story_children(req)
        found = next((t for t in story.tasks if str(t.id) == req.params[2]), None)
        if found is None:
            raise errors.unfound_resource()
        return self._one(req, "task", found, project=project)

    def _blockers(self, req: Request) -> Result:
        project, story = self._story_children(req)
        return self._list(req, "blocker", story.blockers, project=project)

    def _owners(self, req: Request) -> Result:
        project, story = self._story_children(req)
        owners = [self.store.people[i] for i in story.owner_ids]
        return self._list(req, "person", owners, project=project)

    def _story_labels(self, req: Request) -> Result:
        project, story = self._story_children(req)
        return self._list(req, "label", list(story.labels), project=project)

    def _story_transitions(self, req: Request) -> Result:
        project, story = self._story_children(req)
        page, info = self._paginate(req, story.transitions, 100, self.options.listing_max_limit)
        return self._list(req, "story_transition", page, project=project, page=info)

    def _project_transitions(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        if self.options.mutate_transitions:
            self.store.delete_before_page(project, self._int(req, "offset", 0))
        rows: Sequence[Any] = self.store.project_transitions(project)
        window = None if self.options.transitions_ignore_filters else self._time_window(req, "occurred")
        if window is not None:
            rows = [t for t in rows if window(t.occurred_at)]
        if self.options.transitions_unpaged:
            return self._list(req, "story_transition", rows, project=project)
        page, info = self._paginate(req, rows, 100, self.options.listing_max_limit)
        return self._list(req, "story_transition", page, project=project, page=info)

    def _releases(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        releases = [s for s in project.stories if s.story_type == "release"]
        state = req.query.get("with_state")
        if state:
            releases = [s for s in releases if s.current_state == state]
        page, info = self._paginate(req, releases, 100, self.options.listing_max_limit)
        return self._list(req, "release", page, project=project, page=info)

    def _release_stories(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        release = self._story_in(project, req.params[1])
        if release.story_type != "release":
            raise errors.unfound_resource()
        # A release holds the stories between the previous release marker and itself.
        chunk: list[Story] = []
        for story in project.stories:
            if story is release:
                break
            if story.story_type == "release":
                chunk = []
            else:
                chunk.append(story)
        return self._list(req, "story", chunk, project=project)

    # ------------------------------------------------------------------------- iterations

    def _iterations(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        iterations = self.store.iterations(project)
        current = project.current_iteration_number
        scope = req.query.get("scope") or ""
        if scope == "current":
            selected = [it for it in iterations if it.number == current]
            return self._list(req, "iteration", self._label_filter(req, selected), project=project)
        if scope == "done":
            selected = [it for it in iterations if it.number < current]
        elif scope == "backlog":
            selected = [it for it in iterations if it.number > current]
        elif scope == "current_backlog":
            selected = [it for it in iterations if it.number >= current]
        elif scope == "":
            selected = iterations
        else:
            raise errors.invalid_parameter("'scope' must be one of done, current, backlog, current_backlog")
        page, info = self._paginate(
            req, selected, 10, self.options.iterations_max_limit, negative_offsets=scope == "done"
        )
        page = self._label_filter(req, list(page))
        return self._list(req, "iteration", page, project=project, page=info)

    @staticmethod
    def _label_filter(req: Request, iterations: list[Iteration]) -> list[Iteration]:
        label = req.query.get("label")
        if not label:
            return iterations
        return [
            it._replace(stories=[s for s in it.stories if any(x.name == label for x in s.labels)])
            for it in iterations
        ]

    # ------------------------------------------------------------------------- activity

    def _filter_events(self, req: Request, events: Sequence[Event]) -> Sequence[Event]:
        """`events` arrive in ascending order; the answer is in `sort_order` (newest first by default)."""
        since = req.query.get("since_version")
        window = self._time_window(req, "occurred")
        if since:
            try:
                floor = int(since)
            except ValueError:
                raise errors.invalid_parameter("'since_version' must be an integer") from None
            events = [e for e in events if e.version > floor]
        if window is not None:
            events = [e for e in events if window(e.occurred_at)]
        order = (req.query.get("sort_order") or "desc").lower()
        if order not in ("asc", "desc"):
            raise errors.invalid_parameter("'sort_order' must be asc or desc")
        if order == "desc":
            events = events[::-1]
        return events

    def _project_activity(self, req: Request) -> Result:
        project = self._readable_project(req.params[0])
        events = self._filter_events(req, project.events)
        page, info = self._paginate(req, events, 100, self.options.listing_max_limit)
        return self._list(req, "activity", page, project=project, page=info)

    def _story_activity(self, req: Request) -> Result:
        project, story = self._story_children(req)
        own = [e for e in project.events if e.story is story]
        events = self._filter_events(req, own)
        page, info = self._paginate(req, events, 100, self.options.listing_max_limit)
        return self._list(req, "activity", page, project=project, page=info)
