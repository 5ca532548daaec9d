"""RECORD messages to JSON without the CDK's generic per-message machinery, with the same output.

Streaming stories, the main thread is the read's bottleneck (the workers wait on the full record
queue), and most of its time per record went to writing the record out: the CDK's serializer
(serpyco) turns the whole AirbyteMessage into a dict before orjson makes it JSON, the record
counter builds and hashes a descriptor per record, and print() makes two locked writes (run.py
now makes one).

Writing runs of records as one string was tried too: it saved another 1-2 % of CPU, but the
faster main thread let the workers hold more pages at once, and the peak RSS at 200,000 stories
rose by 8-16 MB, past the 150 MB target; so every message is still a string of its own.

For a RECORD message, what serpyco produces is known: the message's non-None fields in field
order, with the record's `data` passed through as it is except that its top-level None values are
left out (serpyco's omit_none). `record_to_string` builds that dict directly and has orjson dump
it, as the CDK does; anything else (other message types, a record with meta or a file reference,
data orjson cannot dump) goes the CDK's way. unit_tests/test_fast_output.py holds the two paths
to the same text, message for message.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any, DefaultDict

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import is_platform_debug_log_enabled
from airbyte_cdk.models import AirbyteMessage, Type
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor
from airbyte_cdk.utils.constants import ENV_REQUEST_CACHE_PATH


def record_to_string(message: AirbyteMessage) -> str:
    """The CDK's AirbyteEntrypoint.airbyte_message_to_string(message), faster for RECORD messages."""
    record = message.record
    if not _plain_record(message):
        return AirbyteEntrypoint.airbyte_message_to_string(message)
    assert record is not None  # _plain_record checked it
    data = record.data
    if None in data.values():
        data = {key: value for key, value in data.items() if value is not None}
    body: dict[str, Any] = {"stream": record.stream, "data": data, "emitted_at": record.emitted_at}
    if record.namespace is not None:
        body["namespace"] = record.namespace
    try:
        return orjson.dumps({"type": "RECORD", "record": body}).decode()
    except (TypeError, orjson.JSONEncodeError):
        # Non-string keys, integers beyond 64 bits, …: the CDK's fallback (json, with its warning).
        return AirbyteEntrypoint.airbyte_message_to_string(message)


def _plain_record(message: AirbyteMessage) -> bool:
    """A RECORD whose dump is known: no meta, no file reference, no other part of a message set.

    Plain `and`s: this runs once per record, and generator expressions cost more than the rest.
    """
    record = message.record
    return (
        message.type is Type.RECORD
        and record is not None
        and record.meta is None
        and record.file_reference is None
        and type(record.data) is dict
        and type(record.stream) is str
        and type(record.emitted_at) is int
        and message.log is None
        and message.spec is None
        and message.connectionStatus is None
        and message.catalog is None
        and message.state is None
        and message.trace is None
        and message.control is None
    )


@lru_cache(maxsize=1024)
def _descriptor(name: str, namespace: str | None) -> HashableStreamDescriptor:
    return HashableStreamDescriptor(name=name, namespace=namespace)


class FastRecordEntrypoint(AirbyteEntrypoint):
    """The CDK's entrypoint; `read` writes its messages with record_to_string."""

    def run(self, parsed_args: argparse.Namespace) -> Iterable[str]:
        if parsed_args.command != "read":
            yield from super().run(parsed_args)
            return
        yield from self._run_read(parsed_args)

    def _run_read(self, parsed_args: argparse.Namespace) -> Iterator[str]:
        """AirbyteEntrypoint.run's `read` branch (CDK 7.39), mapping messages with record_to_string.

        The CDK maps read's messages with AirbyteEntrypoint.airbyte_message_to_string named by
        class, which a subclass cannot override; everything else here is as the CDK does it.
        """
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
                yield from [
                    self.airbyte_message_to_string(queued)
                    for queued in self._emit_queued_messages(self.source)
                ]
                catalog = self.source.read_catalog(parsed_args.catalog)
                state = self.source.read_state(parsed_args.state)
                yield from map(record_to_string, self.read(source_spec, config, catalog, state))
        finally:
            yield from [
                self.airbyte_message_to_string(queued) for queued in self._emit_queued_messages(self.source)
            ]

    @staticmethod
    def handle_record_counts(
        message: AirbyteMessage, stream_message_count: DefaultDict[HashableStreamDescriptor, float]
    ) -> AirbyteMessage:
        """The CDK's count, with one descriptor per stream rather than a new one per record."""
        record = message.record
        if message.type is Type.RECORD and record is not None:
            stream_message_count[_descriptor(record.stream, record.namespace)] += 1.0
            return message
        return AirbyteEntrypoint.handle_record_counts(message, stream_message_count)
