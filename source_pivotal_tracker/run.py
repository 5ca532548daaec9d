"""Console-script entry point: `source-pivotal-tracker spec|check|discover|read ...`."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    ConnectorSpecification,
    FailureType,
)
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets, filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from .cdk_seams import SeamBroken, print_buffer, verify
from .checks.config_checks import config_problem, derived_secrets
from .checks.input_checks import check_state
from .exports import ExportSource, is_export_config
from .runtime.error_trace import error_trace_line
from .runtime.fast_output import FastRecordEntrypoint, write_records
from .runtime.gc_pause import pause_collection, resume_collection
from .runtime.signals import output_closed, stop_on_signals
from .runtime.spec_source import SpecOnlySource
from .source import SourcePivotalTracker


class TrackerEntrypoint(FastRecordEntrypoint):
    """The CDK entrypoint, with config errors that name the field and masks for derived secrets.

    FastRecordEntrypoint (fast_output.py) writes read's RECORD messages out in less time.
    """

    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        problem = config_problem(config, source_spec.connectionSpecification)
        if problem:
            raise AirbyteTracedException(
                message=f"Config validation error: {problem}",
                internal_message=problem,
                failure_type=FailureType.config_error,
            )

    @staticmethod
    def set_up_secret_filter(config: Mapping[str, Any], connection_specification: Mapping[str, Any]) -> None:
        AirbyteEntrypoint.set_up_secret_filter(config, connection_specification)
        for secret in derived_secrets(config):
            add_to_secrets(secret)


def _trace_error(message: str, failure_type: FailureType) -> str:
    """The error being handled as a TRACE line, its message and traceback masked."""
    internal = filter_secrets(traceback.format_exc())
    return error_trace_line(filter_secrets(message), failure_type, internal).decode()


def _build_source(args: list[str]) -> SourcePivotalTracker | ExportSource:
    """The source of the config's way in; a catalog or state file it cannot use fails here, alike
    for both ways in (a config error naming the file's problem)."""
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    config_path = AirbyteEntrypoint.extract_config(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    catalog = SourcePivotalTracker.read_catalog(catalog_path) if catalog_path else None
    config: Mapping[str, Any] | None = SourcePivotalTracker.read_config(config_path) if config_path else None
    if config is not None:
        # Mask the secrets before anything can print them, even a failure to start.
        TrackerEntrypoint.set_up_secret_filter(config, _spec())
        if config_problem(config, _spec()):
            # Streams are never built from a config that breaks the spec: the entrypoint
            # rejects it with a message naming the field, as FAILED for check, TRACE otherwise.
            config = None
    state = SourcePivotalTracker.read_state(state_path) if state_path else None
    check_state(state)
    if config is not None and is_export_config(config):
        return ExportSource()
    return SourcePivotalTracker(catalog, config, state)


def _spec() -> Mapping[str, Any]:
    from .runtime.manifest_loading import parsed_manifest

    return parsed_manifest()["spec"]["connection_specification"]


# glibc's mallopt option for the number of malloc arenas (M_ARENA_MAX in malloc.h).
M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Two malloc arenas for the whole process, as MALLOC_ARENA_MAX=2 would give.

    glibc gives each worker thread an arena of its own, and pages of stories parsed on one
    thread and freed on another fragment them: the process grew by tens of MB per hundred
    thousand records. With two arenas its peak stays flat, at no measurable cost in speed.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas)


def quiet_when_output_closes(main: Callable[[], None]) -> Callable[[], None]:
    """`main`, ending quietly if the reader of stdout goes away (closed_output.py).

    Most writes go through signals.write_output, which ends the process itself; this catches
    the others (a print before the entrypoint runs, a trace the CDK prints).
    """

    @functools.wraps(main)
    def guarded() -> None:
        try:
            main()
        except BrokenPipeError:
            output_closed()

    return guarded


def failure_type_of(error: Exception) -> FailureType | None:
    """Who must act on a start-up failure: the user (config) or whoever installed the connector."""
    if isinstance(error, AirbyteTracedException):
        return error.failure_type
    # No config fixes an airbyte-cdk without what a seam needs: the installation does.
    return FailureType.system_error if isinstance(error, SeamBroken) else FailureType.config_error


@quiet_when_output_closes
def run() -> None:
    stop_on_signals()
    limit_malloc_arenas()
    pause_collection()  # until the source is built (gc_pause.py)
    args = sys.argv[1:]
    try:
        verify()  # an airbyte-cdk without what a seam needs stops here, naming it (cdk_seams)
        # spec needs none of the streams: no source is built for it (spec_source.py).
        source = SpecOnlySource() if args[:1] == ["spec"] else _build_source(args)
    except Exception as error:  # a bad file or config must not end in a bare traceback
        failure = failure_type_of(error)
        print(
            _trace_error(
                f"The connector could not start: {error}",
                failure or FailureType.config_error,
            )
        )
        sys.exit(1)
    resume_collection()
    entrypoint = TrackerEntrypoint(source)  # type: ignore[arg-type]
    parsed = entrypoint.parse_args(args)
    with print_buffer.print_buffer():
        for message in entrypoint.run(parsed):
            if type(message) is bytes:  # RECORD lines of an export read (fast_output.py)
                write_records(message)
                continue
            # One write per message: threads must not interleave a message and its newline.
            # sys.stdout is the CDK's PRINT_BUFFER here; print() would write twice (text, end).
            sys.stdout.write(message + "\n")  # type: ignore[operator,arg-type]
