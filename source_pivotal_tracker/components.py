"""The few behaviours of Pivotal Tracker that the declarative manifest cannot express.

Each class says why YAML was not enough. Everything else lives in ``manifest.yaml``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass, field, fields
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
    body = getattr(response, "_tracker_body", _NOT_PARSED)
    if body is _NOT_PARSED:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        response._tracker_body = body  # type: ignore[attr-defined]
    return body


class TrackerJsonDecoder(JsonDecoder):
    """Yields the items of a JSON page from the body the error handler already parsed."""

    def __init__(self, parameters: Mapping[str, Any] | None = None, **_: Any) -> None:
        super().__init__(parameters or {})

    def decode(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
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
            return None
        code = _error_code(response)
        if status == 401 or code == "invalid_authentication":
            return ErrorResolution(
                response_action=ResponseAction.FAIL,
                failure_type=FailureType.config_error,
                error_message=CREDENTIALS_REJECTED,
            )
        if status == 403 and code == "unauthorized_operation":
            project = _PROJECT_IN_PATH.search(_path(response))
            what = f"project {project.group(1)}" if project else _path(response)
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
    # The path alone: never the query string or host credentials in a user-facing message.
    return requests.utils.urlparse(response.url or "").path


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
        headers = response.headers
        if TOTAL_HEADER not in headers:
            return None
        total = int(headers[TOTAL_HEADER])
        offset = int(headers.get(OFFSET_HEADER, last_page_token_value or 0))
        returned = int(headers.get(RETURNED_HEADER, last_page_size))
        next_offset = offset + returned
        if returned <= 0 or next_offset >= total:
            return None
        return next_offset

    def get_page_size(self) -> int | None:
        return self.page_size


@dataclass
class TrackerRetriever(SimpleRetriever):
    """The CDK's SimpleRetriever, with per-project progress and, for stories, verified paging.

    Progress: users of long syncs want to see how far each project got, so every partition
    ends with a log line of its record count and the newest cursor value it read.

    Verified paging (``upper_bound_parameter`` set): Tracker lists stories in priority order, so a
    story deleted or moved up between two page requests shifts the rest by one and one story is
    never seen. Each pass is pinned to stories created before the partition started, so no new
    story can enter the listing; a pass then saw every story exactly when all its pages reported
    the same total and the distinct story ids equal that total. Otherwise the partition is read
    again, emitting only the stories (and their embedded records) not read yet, up to
    ``max_passes`` times. When nothing
    changes this costs nothing: one request per page, as plain paging.
    """

    upper_bound_parameter: str | None = None
    cursor_field: str | None = None
    max_passes: int = 4
    _bound_key: str = field(default="tracker_upper_bound", init=False, repr=False)

    @classmethod
    def adopt(
        cls, retriever: SimpleRetriever, upper_bound_parameter: str | None, cursor_field: str | None
    ) -> TrackerRetriever:
        """The same retriever, as wired by the CDK's factory, with Tracker's reading."""
        wiring = {f.name: getattr(retriever, f.name) for f in fields(SimpleRetriever) if f.init}
        return cls(
            **wiring,
            parameters=retriever._parameters,
            upper_bound_parameter=upper_bound_parameter,
            cursor_field=cursor_field,
        )

    def _read_pages(
        self,
        records_generator_fn: Callable[[requests.Response | None], Iterable[Record]],
        stream_slice: StreamSlice,
    ) -> Iterable[Record]:
        progress = _Progress(self.cursor_field)
        pages = self._verified_pages if self.upper_bound_parameter else super()._read_pages
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
        read_before: set[Any] = set()
        for attempt in range(1, int(self.max_passes) + 1):
            census = _PageCensus()

            def counted(
                response: requests.Response | None,
                census: _PageCensus = census,
                read_before: set[Any] = read_before,
            ) -> Iterable[Record]:
                if response is not None:
                    census.observe(response)
                    if read_before:
                        _drop_items(response, read_before)
                yield from records_generator_fn(response)

            yield from super()._read_pages(counted, pinned)
            if census.complete():
                return
            read_before |= census.ids
            logger.warning(
                f"Stream {self.name}, {_describe(stream_slice)}: the stories changed while they "
                f"were paged ({census}); reading them again (pass {attempt + 1})."
            )
        logger.warning(
            f"Stream {self.name}, {_describe(stream_slice)}: stories kept changing during "
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

    def _request_params(
        self,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Mapping[str, Any]:
        params = super()._request_params(stream_slice, next_page_token, **kwargs)
        bound = stream_slice.extra_fields.get(self._bound_key) if stream_slice else None
        if bound and self.upper_bound_parameter and self.upper_bound_parameter not in params:
            return {**params, self.upper_bound_parameter: bound}
        return params


def _drop_items(response: requests.Response, read_before: set[Any]) -> None:
    """Removes the stories an earlier pass read from a page, before its records are extracted.

    A re-read pass then emits only stories (or their comments, tasks, blockers) not emitted yet.
    """
    body = parsed_body(response)
    if isinstance(body, list):
        response._tracker_body = [  # type: ignore[attr-defined]
            item for item in body if not (isinstance(item, dict) and item.get("id") in read_before)
        ]


class _PageCensus:
    """What one pass over a paged listing saw: the totals reported and the distinct item ids."""

    def __init__(self) -> None:
        self.totals: set[int] = set()
        self.ids: set[Any] = set()
        self.unpaged = False

    def observe(self, response: requests.Response) -> None:
        total = response.headers.get(TOTAL_HEADER)
        if total is None:
            self.unpaged = True
            return
        self.totals.add(int(total))
        body = parsed_body(response)
        if isinstance(body, list):
            self.ids.update(item.get("id") for item in body if isinstance(item, dict))

    def complete(self) -> bool:
        if self.unpaged or not self.totals:
            return True
        return len(self.totals) == 1 and len(self.ids) == next(iter(self.totals))

    def __str__(self) -> str:
        return f"totals {sorted(self.totals)}, {len(self.ids)} distinct stories"


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
