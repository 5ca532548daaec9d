"""The few behaviours of Pivotal Tracker that the declarative manifest cannot express.

Each class says why YAML was not enough. Everything else lives in ``manifest.yaml``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Generator, Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.decoders.json_decoder import JsonDecoder
from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import (
    DefaultErrorHandler,
)
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import (
    PaginationStrategy,
)
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.streams.http.error_handlers.response_models import (
    ErrorResolution,
    ResponseAction,
)
from airbyte_cdk.sources.types import Config, Record, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from .cdk_seams.retriever import AdoptedRetriever
from .http_safety import redirect_refused, redirect_response
from .skipped_projects import SKIPPED_PROJECTS

logger = logging.getLogger("airbyte")

TOTAL_HEADER = "X-Tracker-Pagination-Total"
OFFSET_HEADER = "X-Tracker-Pagination-Offset"
RETURNED_HEADER = "X-Tracker-Pagination-Returned"
TRACKER_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

CREDENTIALS_REJECTED = (
    "Pivotal Tracker rejected the credentials (invalid_authentication). "
    "Check the API token, or the username and password."
)

_NOT_PARSED = object()
_PROJECT_IN_PATH = re.compile(r"/projects/(\d+)")


def parsed_body(response: requests.Response) -> Any:
    """The response's JSON, parsed once and kept on the response.

    The error handler must parse every 2xx body to catch a cut-off answer, and the decoder needs
    the same document a moment later; parsing a 500-story page twice would cost more than the
    rest of the page's processing in the connector.
    """
    body = getattr(response, "tracker_body", _NOT_PARSED)
    if body is _NOT_PARSED:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        response.tracker_body = body  # type: ignore[attr-defined]
    return body


def cacheable(response: requests.Response) -> bool:
    """Whether the CDK may cache an answer: only a whole JSON list, never a cut-off or odd one."""
    return response.status_code == 200 and isinstance(parsed_body(response), list)


class TrackerJsonDecoder(JsonDecoder):
    """Yields the items of a JSON page from the body the error handler already parsed."""

    def __init__(self, parameters: Mapping[str, Any] | None = None, **_: Any) -> None:
        super().__init__(parameters or {})

    def decode(self, response: requests.Response) -> Generator[MutableMapping[str, Any], None, None]:
        body = parsed_body(response)
        if isinstance(body, list):
            yield from body
        elif isinstance(body, dict):
            yield body


def _error_code(response: requests.Response) -> str | None:
    body = parsed_body(response)
    return body.get("code") if isinstance(body, dict) else None


@dataclass
class TrackerErrorHandler(DefaultErrorHandler):
    """Tracker's error rules, which need the body as well as the status code.

    - Tracker may answer rejected credentials with 401 or 403 (``invalid_authentication``), and a
      project the user cannot read with 403 ``unauthorized_operation``. In the manifest a filter
      with ``http_codes: [403]`` and a ``predicate`` matches on either, so one rule would swallow
      the other; and a predicate re-parses every 200 page.
    - A 200 whose JSON is cut off must be retried: left to the CDK's decoder it yields nothing,
      which the paginator takes for the last page, silently ending the stream.
    Everything else (429, 5xx, timeouts, dropped connections, backoff) is the CDK's default,
    configured in the manifest.
    """

    def interpret_response(
        self, response_or_exception: requests.Response | Exception | None
    ) -> ErrorResolution:
        redirect = redirect_response(response_or_exception)
        if redirect is not None:
            return ErrorResolution(
                response_action=ResponseAction.FAIL,
                failure_type=FailureType.config_error,
                error_message=redirect_refused(redirect),
            )
        if isinstance(response_or_exception, requests.Timeout):
            # The adapter (response_deadline.py) names the server, the path and the limit passed.
            return ErrorResolution(
                response_action=ResponseAction.RETRY,
                failure_type=FailureType.transient_error,
                error_message=f"{response_or_exception}.",
            )
        if isinstance(response_or_exception, requests.Response):
            resolution = self._interpret_tracker_response(response_or_exception)
            if resolution is not None:
                return resolution
        return super().interpret_response(response_or_exception)

    def _interpret_tracker_response(self, response: requests.Response) -> ErrorResolution | None:
        status = response.status_code
        if 200 <= status < 300:
            body = parsed_body(response)
            if body is None:
                return ErrorResolution(
                    response_action=ResponseAction.RETRY,
                    failure_type=FailureType.transient_error,
                    error_message=f"Pivotal Tracker sent an incomplete JSON answer for {_path(response)}.",
                )
            if not isinstance(body, list):
                # Every listing the connector reads is a JSON array; anything else would pass
                # for one record, or none, and end the sync "successfully" with nothing read.
                return ErrorResolution(
                    response_action=ResponseAction.FAIL,
                    failure_type=FailureType.system_error,
                    error_message=(
                        f"Pivotal Tracker answered {_path(response)} with a JSON "
                        f"{type(body).__name__ if not isinstance(body, dict) else 'object'} where a list "
                        "was expected; is api_url a Tracker v5 API?"
                    ),
                )
            return None
        code = _error_code(response)
        if status == 401 or code == "invalid_authentication":
            return ErrorResolution(
                response_action=ResponseAction.FAIL,
                failure_type=FailureType.config_error,
                error_message=CREDENTIALS_REJECTED,
            )
        if status == 403 and code == "unauthorized_operation" and _path(response).endswith("/projects"):
            # Without the project list nothing can be read: a failure, not one skipped project.
            return ErrorResolution(
                response_action=ResponseAction.FAIL,
                failure_type=FailureType.config_error,
                error_message=(
                    "Pivotal Tracker refused to list the projects (GET /projects: 403 "
                    "unauthorized_operation); check that the user may use the API."
                ),
            )
        if status == 403 and code == "unauthorized_operation":
            project = _PROJECT_IN_PATH.search(_path(response))
            what = f"project {project.group(1)}" if project else _path(response)
            if project:
                SKIPPED_PROJECTS.add(project.group(1))
            message = (
                f"Skipping {what} ({_path(response)}): Pivotal Tracker refused access "
                "(unauthorized_operation: API access disabled, or membership removed)."
            )
            logger.warning(message)
            return ErrorResolution(
                response_action=ResponseAction.IGNORE,
                failure_type=FailureType.config_error,
                error_message=message,
            )
        return None


def _path(response: requests.Response) -> str:
    return _path_of(response.url)


def _path_of(url: str | bytes | None) -> str:
    # The path alone: never the query string or host credentials in a user-facing message.
    text = url.decode(errors="replace") if isinstance(url, bytes) else url or ""
    return requests.utils.urlparse(text).path


def pagination_number(response: requests.Response, header: str, default: int | None = None) -> int | None:
    """A pagination header as an integer; a value that is not one is the server's fault."""
    raw = response.headers.get(header)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise AirbyteTracedException(
            message=(
                f"Pivotal Tracker sent a malformed {header} header ({raw[:40]!r}, not a number) for "
                f"{_path(response)}; the server's answer cannot be paged."
            ),
            failure_type=FailureType.system_error,
        ) from None


@dataclass
class TrackerOffsetPagination(PaginationStrategy):
    """limit/offset paging driven by Tracker's pagination headers.

    The CDK's OffsetIncrement counts extracted records, but the comment, task and blocker streams
    extract several records (or none) per story, and Tracker silently clamps a limit above an
    endpoint's maximum. So the next offset is the requested offset plus the items the server says
    it returned, and paging stops once ``X-Tracker-Pagination-Total`` is reached, without asking
    for an empty page.
    """

    parameters: InitVar[Mapping[str, Any]]
    config: Config = field(default_factory=dict)
    page_size: int = 500

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.page_size = int(self.page_size)

    @property
    def initial_token(self) -> Any | None:
        return None

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Record | None,
        last_page_token_value: Any | None,
        page_size_override: int | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> Any | None:
        total = pagination_number(response, TOTAL_HEADER)
        if total is None:
            return None
        requested = int(last_page_token_value or 0)
        offset = pagination_number(response, OFFSET_HEADER, requested)
        returned = pagination_number(response, RETURNED_HEADER, last_page_size)
        assert offset is not None and returned is not None
        next_offset = offset + returned
        if returned <= 0 or next_offset >= total:
            return None
        if last_page_token_value is not None and next_offset <= requested:
            # Asking again would get the same page again, forever.
            raise AirbyteTracedException(
                message=(
                    f"Pivotal Tracker's paging of {_path(response)} does not advance (asked for "
                    f"offset {requested}, its headers point to offset {next_offset} next); stopping "
                    "rather than reading the same page forever."
                ),
                failure_type=FailureType.system_error,
            )
        return next_offset

    def get_page_size(self) -> int | None:
        return self.page_size


@dataclass
class TrackerRetriever(AdoptedRetriever):
    """The CDK's SimpleRetriever, with per-project progress and verified paging.

    Progress: users of long syncs want to see how far each project got, so every partition
    ends with a log line of its record count and the newest cursor value it read.

    Verified paging (``verified_key`` set; every paged listing has it): Tracker's listings change
    while they are read, and an item deleted or moved up between two page requests shifts the rest
    by one, so one item is never seen. Where the API has an upper time bound
    (``upper_bound_parameter``: created_before, occurred_before), each pass is pinned to items older
    than the start of the partition, so no new item can enter the listing. A pass then saw every
    item exactly when all its pages reported the same total and the distinct keys equal that total.
    Otherwise the partition is read again, emitting only the items (and their embedded records) not
    read yet, up to ``max_passes`` times. When nothing changes this costs nothing: one request per
    page, as plain paging. A server that serves a page it already served (it ignores ``offset``)
    stops the read with an error instead of looping.
    """

    upper_bound_parameter: str | None = None
    cursor_field: str | None = None
    verified_key: str | None = None
    max_passes: int = 4
    _bound_key: str = field(default="tracker_upper_bound", init=False, repr=False)

    @classmethod
    def adopt(
        cls,
        retriever: SimpleRetriever,
        upper_bound_parameter: str | None,
        cursor_field: str | None,
        verified_key: str | None = None,
    ) -> TrackerRetriever:
        """The same retriever, as wired by the CDK's factory, with Tracker's reading."""
        return cls.wired_like(
            retriever,
            upper_bound_parameter=upper_bound_parameter,
            cursor_field=cursor_field,
            verified_key=verified_key,
        )

    def read_pages(
        self,
        records_generator_fn: Callable[[requests.Response | None], Iterable[Record]],
        stream_slice: StreamSlice,
    ) -> Iterable[Record]:
        progress = _Progress(self.cursor_field)
        pages = self._verified_pages if self.verified_key else self.cdk_pages
        for record in pages(records_generator_fn, stream_slice):
            progress.observe(record)
            yield record
        project = stream_slice.partition.get("project_id") if stream_slice.partition else None
        if project is not None:
            logger.info(f"Stream {self.name}, project {project}: {progress}.")

    def _verified_pages(
        self,
        records_generator_fn: Callable[[requests.Response | None], Iterable[Record]],
        stream_slice: StreamSlice,
    ) -> Iterable[Record]:
        pinned = self._pin_upper_bound(stream_slice)
        key = item_key(str(self.verified_key))
        read_before: set[Any] = set()
        for attempt in range(1, int(self.max_passes) + 1):
            census = _PageCensus(key)

            def counted(
                response: requests.Response | None,
                census: _PageCensus = census,
                read_before: set[Any] = read_before,
            ) -> Iterable[Record]:
                if response is not None:
                    repeated = census.observe(response)
                    if repeated:
                        raise AirbyteTracedException(
                            message=(
                                f"Stream {self.name}, {_describe(stream_slice)}: Pivotal Tracker served "
                                f"the same page of {_path(response)} twice ({repeated}); it ignores "
                                "`offset`, so paging stops here rather than read the same items forever."
                            ),
                            failure_type=FailureType.system_error,
                        )
                    if read_before:
                        _drop_items(response, read_before, key)
                yield from records_generator_fn(response)

            yield from self.cdk_pages(counted, pinned)
            if census.complete():
                return
            read_before |= census.ids
            logger.warning(
                f"Stream {self.name}, {_describe(stream_slice)}: the items changed while they "
                f"were paged ({census}); reading them again (pass {attempt + 1})."
            )
        logger.warning(
            f"Stream {self.name}, {_describe(stream_slice)}: the items kept changing during "
            f"{self.max_passes} passes; the next sync will pick up what moved."
        )

    def _pin_upper_bound(self, stream_slice: StreamSlice) -> StreamSlice:
        if not self.upper_bound_parameter:
            return stream_slice
        now = datetime.now(timezone.utc).strftime(TRACKER_TIME_FORMAT)
        return StreamSlice(
            partition=stream_slice.partition,
            cursor_slice=stream_slice.cursor_slice,
            extra_fields={**stream_slice.extra_fields, self._bound_key: now},
        )

    def request_params(
        self, stream_slice: StreamSlice | None, params: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        bound = stream_slice.extra_fields.get(self._bound_key) if stream_slice else None
        if bound and self.upper_bound_parameter and self.upper_bound_parameter not in params:
            return {**params, self.upper_bound_parameter: bound}
        return params


def item_key(fields_spec: str) -> Callable[[Mapping[str, Any]], Any]:
    """The key of a listed item: one field ("id"), or several ("story_id,project_version")."""
    names = [name.strip() for name in fields_spec.split(",") if name.strip()]
    if len(names) == 1:
        name = names[0]
        return lambda item: item.get(name)
    return lambda item: tuple(item.get(name) for name in names)


def _drop_items(
    response: requests.Response, read_before: set[Any], key: Callable[[Mapping[str, Any]], Any]
) -> None:
    """Removes the items an earlier pass read from a page, before its records are extracted.

    A re-read pass then emits only items (or their comments, tasks, blockers) not emitted yet.
    """
    body = parsed_body(response)
    if isinstance(body, list):
        response.tracker_body = [  # type: ignore[attr-defined]
            item for item in body if not (isinstance(item, dict) and key(item) in read_before)
        ]


class _PageCensus:
    """What one pass over a paged listing saw: the totals reported, the distinct keys, the pages."""

    def __init__(self, key: Callable[[Mapping[str, Any]], Any]) -> None:
        self.key = key
        self.totals: set[int] = set()
        self.ids: set[Any] = set()
        self.unpaged = False
        self._pages: dict[tuple[Any, ...], int] = {}

    def observe(self, response: requests.Response) -> str | None:
        """Counts one page; says how, if it repeats a page this pass already read."""
        total = pagination_number(response, TOTAL_HEADER)
        if total is None:
            self.unpaged = True
            return None
        self.totals.add(total)
        body = parsed_body(response)
        if not isinstance(body, list):
            return None
        page = tuple(self.key(item) for item in body if isinstance(item, dict))
        self.ids.update(page)
        seen = self._pages.get(page, 0)
        self._pages[page] = seen + 1
        # One item shifting by one place can make a one-item page look like the one before, once;
        # a page of several items, or one item three times, is the server ignoring the offset.
        if page and (seen >= 2 or (seen == 1 and len(page) > 1)):
            offset = response.headers.get(OFFSET_HEADER, "?")
            return f"{len(page)} items again at offset {offset}"
        return None

    def complete(self) -> bool:
        if self.unpaged or not self.totals:
            return True
        return len(self.totals) == 1 and len(self.ids) == next(iter(self.totals))

    def __str__(self) -> str:
        return f"totals {sorted(self.totals)}, {len(self.ids)} distinct items"


class _Progress:
    """How many records a partition read, and the newest value of its cursor."""

    def __init__(self, cursor_field: str | None) -> None:
        self.cursor_field = cursor_field
        self.records = 0
        self.newest: Any = None

    def observe(self, record: Mapping[str, Any]) -> None:
        self.records += 1
        if self.cursor_field:
            value = record.get(self.cursor_field)
            # Tracker's ISO 8601 "Z" timestamps order as strings.
            if value is not None and (self.newest is None or value > self.newest):
                self.newest = value

    def __str__(self) -> str:
        read = f"{self.records} records read"
        if self.cursor_field and self.newest is not None:
            return f"{read}, {self.cursor_field} reached {self.newest}"
        return read


def _describe(stream_slice: StreamSlice) -> str:
    project = stream_slice.partition.get("project_id") if stream_slice.partition else None
    return f"project {project}" if project is not None else "all projects"


@dataclass
class AddProjectId(RecordTransformation):
    """Stamps the partition's project id on child records that Tracker leaves it out of.

    ``AddFields`` with ``{{ stream_partition.project_id }}`` renders a Jinja template for every
    record; this is a dict assignment, which matters on streams of hundreds of thousands of rows.
    """

    parameters: InitVar[Mapping[str, Any] | None] = None

    def transform(
        self,
        record: MutableMapping[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        if stream_slice is not None and "project_id" not in record:
            project_id = stream_slice.partition.get("project_id")
            if project_id is not None:
                record["project_id"] = int(project_id)


@dataclass
class PerProjectStartState(StateMigration):
    """Drops the global cursor from a per-project state.

    The CDK starts a project it has no state for from the global cursor, the newest record of any
    project. A project added to Tracker (or to ``project_ids``) since the last sync would then skip
    every older story; without the global cursor it starts from ``days_back`` as a new project
    should. A flat legacy state such as ``{"created_at": "..."}`` is left alone: it is meant for
    every project.
    """

    parameters: InitVar[Mapping[str, Any] | None] = None

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return "states" in stream_state and "state" in stream_state

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        return {key: value for key, value in stream_state.items() if key not in {"state", "lookback_window"}}
