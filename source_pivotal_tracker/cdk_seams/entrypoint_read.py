"""Seam `entrypoint-read-copy`: the `read` branch of AirbyteEntrypoint.run and AirbyteEntrypoint.read, copied.

The CDK maps read's messages to text with AirbyteEntrypoint.airbyte_message_to_string named by
class, which a subclass cannot override; writing RECORDs faster (fast_output.py) needs that one
line changed. So the read branch of `run` and the loop of `read` (CDK 7.39) are copied here, with
the mapping as a method; they use the entrypoint's `_emit_queued_messages` and `_memory_monitor`.
The canary compares the installed CDK's `run` and `read` with the copies' originals (RUN_SHA256,
READ_SHA256): a CDK that changed them must be read and the copy brought level.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import is_platform_debug_log_enabled
from airbyte_cdk.models import AirbyteMessage, ConnectorSpecification
from airbyte_cdk.utils.constants import ENV_REQUEST_CACHE_PATH
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from .broken import code_names, require

SEAM = "entrypoint-read-copy"
# sha256 of inspect.getsource(AirbyteEntrypoint.run / .read) in airbyte-cdk 7.39.1, what was copied.
RUN_SHA256 = "b5d0edc048e7e051eabdfcfa865ab41c5c1bc3b8fc02d2f71c411530e5d9d018"
READ_SHA256 = "e920fe25bc05bae80c2db9c6f36330fd549236f6cfbd1dfe08c6e77b470a1752"

Item = TypeVar("Item")
Line = str | bytes


def source_sha256(function: Callable[..., Any]) -> str:
    """sha256 of a function's source; "no source" where it has none (it cannot be the copy's)."""
    try:
        return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()
    except (OSError, TypeError):
        return "no source"


class CopiedReadEntrypoint(AirbyteEntrypoint):
    """The CDK's entrypoint; `read` yields what `read_lines` makes of the source's read."""

    def run(self, parsed_args: argparse.Namespace) -> Iterable[Line]:  # type: ignore[override]
        if parsed_args.command != "read":
            yield from super().run(parsed_args)
            return
        yield from self._run_read(parsed_args)

    def read_lines(
        self, source_spec: ConnectorSpecification, config: Any, catalog: Any, state: Any
    ) -> Iterable[Line]:
        """The lines of a read; by default, as the CDK writes them."""
        return map(
            AirbyteEntrypoint.airbyte_message_to_string, self.read(source_spec, config, catalog, state)
        )

    def _run_read(self, parsed_args: argparse.Namespace) -> Iterator[Line]:
        """AirbyteEntrypoint.run's `read` branch, with read_lines for the CDK's fixed mapping."""
        if getattr(parsed_args, "debug", False) or is_platform_debug_log_enabled():
            self.logger.setLevel(logging.DEBUG)
            logging.getLogger("airbyte").setLevel(logging.DEBUG)
            self.logger.debug("Debug logs enabled")
        else:
            self.logger.setLevel(logging.INFO)
        source_spec = self.source.spec(self.logger)
        try:
            with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as temp_dir:
                os.environ[ENV_REQUEST_CACHE_PATH] = temp_dir
                raw_config = self.source.read_config(parsed_args.config)
                config = self.source.configure(raw_config, temp_dir)
                yield from [self.airbyte_message_to_string(queued) for queued in self.queued_messages()]
                catalog = self.source.read_catalog(parsed_args.catalog)
                state = self.source.read_state(parsed_args.state)
                yield from self.read_lines(source_spec, config, catalog, state)
        finally:
            yield from [self.airbyte_message_to_string(queued) for queued in self.queued_messages()]

    def copied_read(
        self,
        source_spec: ConnectorSpecification,
        config: Any,
        items: Iterable[Item],
        line: Callable[[Item], Line],
        queued_line: Callable[[AirbyteMessage], Line],
    ) -> Iterator[Line]:
        """AirbyteEntrypoint.read over `items`, each written by `line` (queued messages by `queued_line`).

        As the CDK: the secret filter and the config check first, the memory monitor after every
        message, queued messages (state checkpoints, logs) flushed before a memory failure and last.
        """
        self.set_up_secret_filter(config, source_spec.connectionSpecification)
        if self.source.check_config_against_spec:
            self.validate_connection(source_spec, config)
        check_memory = self._memory_monitor.check_memory_usage
        for item in items:
            yield line(item)
            try:
                check_memory()
            except AirbyteTracedException:
                for queued in self.queued_messages():
                    yield queued_line(queued)
                raise
        for queued in self.queued_messages():
            yield queued_line(queued)

    def queued_messages(self) -> Iterable[AirbyteMessage]:
        return self._emit_queued_messages(self.source)


def check() -> None:
    require(
        SEAM,
        callable(getattr(AirbyteEntrypoint, "_emit_queued_messages", None)),
        "AirbyteEntrypoint._emit_queued_messages",
    )
    require(
        SEAM, "_memory_monitor" in code_names(AirbyteEntrypoint.__init__), "AirbyteEntrypoint._memory_monitor"
    )
    require(
        SEAM,
        "airbyte_message_to_string" in code_names(AirbyteEntrypoint.run),
        "AirbyteEntrypoint.run writing with airbyte_message_to_string",
    )


def copies_current() -> list[str]:
    """Which of the copied CDK methods differ from the installed CDK's (the canary's question)."""
    changed = []
    if source_sha256(AirbyteEntrypoint.run) != RUN_SHA256:
        changed.append("AirbyteEntrypoint.run")
    if source_sha256(AirbyteEntrypoint.read) != READ_SHA256:
        changed.append("AirbyteEntrypoint.read")
    return changed
