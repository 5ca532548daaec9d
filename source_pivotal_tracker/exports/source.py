"""The connector in export mode: spec, check, discover and read over Tracker's export files.

A read first plans (merge.py): which export each file belongs to, which exports hold one project.
It then goes project by project, newest export first, through each stories CSV once for every
selected stream: its records interleave, as the protocol allows. Labels, iterations and projects,
which add up over many rows, come at the end. A file that cannot be read is reported by name (and
line); the other files are still read, then the sync fails, so nothing is skipped silently.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteRecordMessageFileReference,
    AirbyteStateMessage,
    AirbyteStream,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    ConnectorSpecification,
    FailureType,
    Level,
    Status,
    StreamDescriptor,
    SyncMode,
    Type,
)
from airbyte_cdk.sources import Source
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message as status_message
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from ..checks.config_checks import url_follows_https_rule
from ..checks.input_checks import check_catalog
from ..runtime.manifest_loading import parsed_manifest
from ..runtime.spec_source import connector_spec
from ..runtime.stream_schemas import stream_schemas
from .bad_rows import BadRows
from .csv_format import HistoryLayout
from .csv_rows import open_csv
from .errors import ExportError
from .file_transfer import Stager, StagingError, streamed_digest, uses_file_transfer
from .inputs import ExportMember, Members, export_members
from .merge import PlannedExport, PlannedProject, ReadPlan, plan_read
from .projects import project_rules
from .records import STORY_STREAMS, HistoryRows, ProjectAggregates, Record, StoryRows

EXPORT_STREAMS = (
    "projects",
    "stories",
    "epics",
    "releases",
    "comments",
    "tasks",
    "blockers",
    "labels",
    "iterations",
    "activity",
    "attachments",
)
# The API streams' keys come from the manifest; attachments exist only in exports. Two exports of
# a project may hold two versions of a story's file under one name: both are kept.
ATTACHMENTS_PRIMARY_KEY = ["project_id", "path", "sha256"]
FROM_STORIES_CSV = {*STORY_STREAMS, "labels", "iterations"}
# A record as read: (stream, data, emitted_at), and an attachment's file reference with file
# transfer. read() makes each an AirbyteMessage; the entrypoint writes them straight out as RECORD
# lines (fast_output.py), without a message object per record.
RecordItem = tuple[str, Record, int] | tuple[str, Record, int, AirbyteRecordMessageFileReference]


def is_export_config(config: Mapping[str, Any]) -> bool:
    return config.get("export_files") is not None and config.get("credentials") is None


def primary_key(stream: str) -> list[str]:
    if stream == "attachments":
        return ATTACHMENTS_PRIMARY_KEY
    return list(parsed_manifest()["definitions"]["streams"][stream]["primary_key"])


class ExportSource(Source):
    """Reads `export_files` (see docs/pivotal-tracker.md, "Reading exports")."""

    check_config_against_spec = True
    message_repository = None

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return connector_spec()  # the one spec of both modes, as `spec` prints it

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Every input exists, opens, and each of its CSVs has a Tracker header; files can be staged."""
        try:
            stager = Stager.of(config)
            if stager is not None:
                stager.check()
            with export_members(list(config["export_files"]), _url_allowed) as resolved:
                for warning in resolved.visits.warnings:
                    logger.warning(warning)
                problems = list(resolved.problems)
                for member in resolved.members:
                    if member.story_id is None:
                        try:
                            with open_csv(member):
                                pass
                        except ExportError as problem:
                            problems.append(problem)
        except StagingError as error:
            return _failed(error.traced().message or str(error))
        except ExportError as error:
            return _failed(f"Export file {error}")
        if problems:
            # One line per bad file, as a read reports them; the status names them all.
            for bad in problems:
                logger.error(f"Export file {bad}")
            if len(problems) == 1:
                return _failed(f"Export file {problems[0]}")
            return _failed(f"{len(problems)} export files cannot be read: " + "; ".join(map(str, problems)))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        schemas = stream_schemas()
        return AirbyteCatalog(
            streams=[
                AirbyteStream(
                    name=name,
                    json_schema=schemas[name],
                    supported_sync_modes=[SyncMode.full_refresh],
                    source_defined_primary_key=[[key] for key in primary_key(name)],
                    is_resumable=False,
                    # As the CDK marks a file-based stream that transfers files.
                    is_file_based=True if name == "attachments" and uses_file_transfer(config) else None,
                )
                for name in EXPORT_STREAMS
            ]
        )

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        for item in self.read_items(logger, config, catalog, state):
            if type(item) is tuple:
                stream, data, emitted_at, *file_reference = item
                record = AirbyteRecordMessage(
                    stream=stream,
                    data=data,
                    emitted_at=emitted_at,
                    file_reference=file_reference[0] if file_reference else None,
                )
                yield AirbyteMessage(type=Type.RECORD, record=record)
            else:
                yield item  # type: ignore[misc]

    def read_items(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage | RecordItem]:
        """read()'s messages, with each record as a RecordItem."""
        check_catalog(catalog, EXPORT_STREAMS)  # the API way's rules, and its messages
        streams = [c.stream for c in catalog.streams if c.stream.name in EXPORT_STREAMS]
        for configured in catalog.streams:
            if configured.stream.name not in EXPORT_STREAMS:
                # As the CDK marks a stream of the catalog that the API way has not.
                yield status_message(configured.stream, AirbyteStreamStatus.INCOMPLETE)
        sync = _Sync({stream.name for stream in streams}, BadRows(config), Stager.of(config))
        for stream in streams:
            yield status_message(stream, AirbyteStreamStatus.STARTED)
        problems: list[ExportError] = []
        with export_members(list(config["export_files"]), _url_allowed) as resolved:
            problems += resolved.problems
            for ignored in resolved.ignored:
                yield _log(Level.INFO, f"Not part of a Tracker export, left alone: {ignored}")
            for warning in resolved.visits.warnings:
                yield _log(Level.WARN, warning)
            for note in resolved.visits.notes:
                yield _log(Level.INFO, note)
            plan = plan_read(resolved.groups, project_rules(config))
            problems += plan.problems
            for item in _planned_members(plan, resolved.groups):
                if isinstance(item, AirbyteMessage):
                    yield item
                    continue
                try:
                    yield from sync.member(*item)
                except ExportError as problem:
                    problems.append(problem)
                    if isinstance(problem, StagingError):
                        break  # a full disk or unwritable folder fails every file alike
        yield from sync.aggregates()
        skipped = sync.bad_rows.summary()
        if skipped:
            yield _log(Level.WARN, skipped)
        for stream in streams:
            if problems:
                yield status_message(stream, AirbyteStreamStatus.INCOMPLETE)
            else:
                if stream.name not in sync.running:
                    yield status_message(stream, AirbyteStreamStatus.RUNNING)
                yield status_message(stream, AirbyteStreamStatus.COMPLETE)
        if problems:
            for failed in problems:
                yield failed.traced().as_airbyte_message()
            raise AirbyteTracedException(
                message=f"{len(problems)} export file(s) could not be read; the first: {problems[0]}",
                internal_message="; ".join(str(problem) for problem in problems),
                failure_type=FailureType.config_error,
            )


class _Sync:
    """The state of one read: selected streams, projects seen, aggregates, streams running."""

    def __init__(self, selected: set[str], bad_rows: BadRows, stager: Stager | None = None) -> None:
        self.selected = selected
        self.bad_rows = bad_rows
        self.stager = stager  # None: attachments as records only
        self.running: set[str] = set()
        self.projects: list[PlannedProject] = []
        self.aggregates_by_project: dict[int, tuple[ProjectAggregates, str]] = {}

    def message(
        self,
        stream: str,
        data: Record,
        emitted_at: int,
        file_reference: AirbyteRecordMessageFileReference | None = None,
    ) -> Iterator[AirbyteMessage | RecordItem]:
        if stream not in self.running:
            self.running.add(stream)
            yield _running(stream)
        if file_reference is None:
            yield stream, data, emitted_at
        else:
            yield stream, data, emitted_at, file_reference

    def member(
        self, member: ExportMember, planned: PlannedProject, export: PlannedExport
    ) -> Iterator[AirbyteMessage | RecordItem]:
        """The records of one file of `export`, the project's newest export not yet read."""
        project = planned.id
        if not self.projects or self.projects[-1] is not planned:
            self.projects.append(planned)
        if member.story_id is not None:
            seen = planned.seen
            if "attachments" in self.selected and not (seen and seen.known_attachment(member)):
                record, emitted_at, file_reference = _attachment(member, project, export.label, self.stager)
                if seen is None or seen.first_attachment(member, str(record["sha256"])):
                    yield from self.message("attachments", record, emitted_at, file_reference)
            return
        with open_csv(member) as opened:
            layout, reader = opened.layout, opened.reader
            if isinstance(layout, HistoryLayout):
                if "activity" in self.selected:
                    history = HistoryRows(layout, project, export.label, planned.seen)
                    yield from self._history(member, history, reader)
                return
            if not self.selected & FROM_STORIES_CSV:
                return
            if layout.unknown:
                yield _log(Level.WARN, f"{member.display}: columns not read: {', '.join(layout.unknown)}")
            # The first stories CSV of a project read is its newest export's: it names the iterations.
            aggregates, _ = self.aggregates_by_project.setdefault(
                project, (ProjectAggregates(), export.label)
            )
            rows = StoryRows(
                layout,
                project,
                self.selected,
                aggregates,
                export.label,
                seen=planned.seen,
                iterations=export.gives_iterations,
            )
            running, running_message = self.running, _running
            before = reader.line_num
            count = 0
            for row in reader:
                try:
                    records = rows.records(row)
                except ValueError as error:
                    # on_bad_rows: fail raises; skip warns and reads on.
                    yield _log(Level.WARN, self.bad_rows.found(member.display, before + 2, str(error)))
                    records = []
                if records:
                    count += 1
                    emitted_at = _now()
                    for stream, data in records:
                        if stream not in running:
                            running.add(stream)
                            yield running_message(stream)
                        yield stream, data, emitted_at
                before = reader.line_num
        yield _log(Level.INFO, f"{member.display}: {count} rows read (project {planned.name})")

    def _history(
        self, member: ExportMember, rows: HistoryRows, reader: Iterator[list[str]]
    ) -> Iterator[AirbyteMessage | RecordItem]:
        before = reader.line_num  # type: ignore[attr-defined]
        for row in reader:
            if any(row):
                try:
                    record = rows.record(row)
                except ValueError as error:
                    yield _log(Level.WARN, self.bad_rows.found(member.display, before + 2, str(error)))
                    record = None
                if record is not None:
                    yield from self.message("activity", record, _now())
            before = reader.line_num  # type: ignore[attr-defined]

    def aggregates(self) -> Iterator[AirbyteMessage | RecordItem]:
        now = _now()
        for project, (aggregates, newest) in self.aggregates_by_project.items():
            if "labels" in self.selected:
                for record in aggregates.label_records(project):
                    yield from self.message("labels", record, now)
            if "iterations" in self.selected:
                for record in aggregates.iteration_records(project, newest):
                    yield from self.message("iterations", record, now)
        if "projects" in self.selected:
            for planned in self.projects:
                record = {
                    "kind": "project",
                    "id": planned.id,
                    "name": planned.name,
                    "exported_at": planned.exported_at,
                    "export_file": planned.exports[0].label,
                }
                yield from self.message("projects", record, now)


def _planned_members(
    plan: ReadPlan, groups: Sequence[Members]
) -> Iterator[AirbyteMessage | tuple[ExportMember, PlannedProject, PlannedExport]]:
    """Each file to read with its project and export, newest export first; logs of what is merged."""
    for project in plan.projects:
        if len(project.exports) > 1:
            exports = ", ".join(export.label for export in project.exports)
            yield _log(Level.INFO, f"Project {project.name}: {exports} merged, newest first")
        for export in project.exports:
            for group, index in export.covered:
                shown = groups[group][index].display
                yield _log(Level.INFO, f"{shown}: every story of it is in a newer export, not read again")
            for group, index in export.members:
                yield groups[group][index], project, export


def _attachment(
    member: ExportMember, project: int, export_file: str, stager: Stager | None
) -> tuple[Record, int, AirbyteRecordMessageFileReference | None]:
    """The attachment's record, and with file transfer the reference of its staged copy."""
    file_reference = None
    if stager is None:
        size, sha256 = streamed_digest(member)
    else:
        staged = stager.stage(member)
        size, sha256, file_reference = staged.size, staged.sha256, staged.file_reference
    record: Record = {
        "story_id": member.story_id,
        "project_id": project,
        "path": member.path,
        # `<story id>/<name>` (inputs._attachment_path); pathlib would intern every name.
        "file_name": member.path.rpartition("/")[2],
        "size": size,
        "sha256": sha256,
        "export_file": export_file,
    }
    return record, _now(), file_reference


def _url_allowed(url: str) -> bool:
    return url_follows_https_rule(url, parsed_manifest()["spec"]["connection_specification"])


def _now() -> int:
    return int(time.time() * 1000)


def _running(stream: str) -> AirbyteMessage:
    return status_message(StreamDescriptor(name=stream), AirbyteStreamStatus.RUNNING)


def _log(level: Level, message: str) -> AirbyteMessage:
    return AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=level, message=message))


def _failed(message: str) -> AirbyteConnectionStatus:
    return AirbyteConnectionStatus(status=Status.FAILED, message=message)
