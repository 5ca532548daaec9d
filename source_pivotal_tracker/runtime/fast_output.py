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

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, DefaultDict

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteRecordMessageFileReference,
    ConnectorSpecification,
    Type,
)
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor

from ..cdk_seams import print_buffer
from ..cdk_seams.entrypoint_read import CopiedReadEntrypoint
from .signals import write_output, writing_output

BATCH = 100  # RECORD lines an export read writes at once


def record_to_string(message: AirbyteMessage) -> str:
    """The CDK's AirbyteEntrypoint.airbyte_message_to_string(message), faster for RECORD messages."""
    line = _record_bytes(message)
    return line.decode() if line is not None else AirbyteEntrypoint.airbyte_message_to_string(message)


def _record_bytes(message: AirbyteMessage) -> bytes | None:
    """record_to_string's text as UTF-8, or None where only the CDK's way gives it."""
    record = message.record
    if not _plain_record(message):
        return None
    assert record is not None  # _plain_record checked it
    data = record.data
    if None in data.values():
        data = {key: value for key, value in data.items() if value is not None}
    body: dict[str, Any] = {"stream": record.stream, "data": data, "emitted_at": record.emitted_at}
    if record.namespace is not None:
        body["namespace"] = record.namespace
    try:
        return orjson.dumps({"type": "RECORD", "record": body})
    except (TypeError, orjson.JSONEncodeError):
        # Non-string keys, integers beyond 64 bits, …: the CDK's fallback (json, with its warning).
        return None


_HEADS: dict[str, bytes] = {}


def item_line(
    stream: str,
    data: dict[str, Any],
    emitted_at: int,
    file_reference: AirbyteRecordMessageFileReference | None = None,
) -> bytes | str:
    """The RECORD line of a record read as (stream, data, emitted_at), without an AirbyteMessage.

    orjson writes `{"type":"RECORD","record":{"stream":…,"data":…,"emitted_at":…}}` compactly
    and in key order, so only `data` needs dumping per record; the rest is the stream's prefix.
    A record with a file reference (an attachment with file transfer: one per file copied, so
    rare) is written the CDK's way, from its message.
    """
    if file_reference is not None:
        return _cdk_record_line(stream, data, emitted_at, file_reference)
    head = _HEADS.get(stream)
    if head is None:
        head = _HEADS[stream] = b'{"type":"RECORD","record":{"stream":' + orjson.dumps(stream) + b',"data":'
    kept = data
    if None in data.values():
        kept = {key: value for key, value in data.items() if value is not None}
    try:
        return b'%s%s,"emitted_at":%d}}' % (head, orjson.dumps(kept), emitted_at)
    except (TypeError, orjson.JSONEncodeError):
        return _cdk_record_line(stream, data, emitted_at)


def _cdk_record_line(
    stream: str,
    data: dict[str, Any],
    emitted_at: int,
    file_reference: AirbyteRecordMessageFileReference | None = None,
) -> str:
    """item_line's record written the CDK's way, from its message (the rare records it must)."""
    record = AirbyteRecordMessage(
        stream=stream, data=data, emitted_at=emitted_at, file_reference=file_reference
    )
    return AirbyteEntrypoint.airbyte_message_to_string(AirbyteMessage(type=Type.RECORD, record=record))


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


def _encoded_batches(lines: Iterable[bytes | str]) -> Iterator[bytes | str]:
    """A read of read_items' lines, with runs of up to BATCH RECORD lines (bytes) joined as bytes.

    Each string costs the main thread a locked write, as much again as serializing a record.
    Runs go to write_records, not through the CDK's print buffer; any other message (a str) ends
    a run, so every message still comes out in order. The API path writes one message a string:
    there, runs raised the peak RSS at 200,000 stories by 8-16 MB for 1-2 % of CPU.
    """
    pending: list[bytes] = []
    try:
        for line in lines:
            if type(line) is bytes:
                pending.append(line)
                if len(pending) < BATCH:
                    continue
                line = b"\n".join(pending)
            elif pending:
                yield b"\n".join(pending)
            pending.clear()
            yield line
    except GeneratorExit:
        raise  # closed by the consumer: nothing may be yielded any more
    except BaseException:
        if pending:  # the records read before a failure (or a signal's exit) are written before it
            yield b"\n".join(pending)
        raise
    if pending:
        yield b"\n".join(pending)


def write_records(lines: bytes) -> None:
    """A run of RECORD lines written to stdout's bytes, after everything printed before them.

    The CDK's print buffer gathers 0.1 s of output in a StringIO, which holds text with any
    character past U+00FF (a CJK name, an emoji) at four bytes per character, then copies it
    out and encodes it: tens of MB at a time, left as fragmented heap. Export runs (already
    UTF-8 from orjson) skip it: the buffer is flushed first, under its lock, so order holds.
    """
    with writing_output():  # a stop signal waits for the whole run (signals.py)
        print_buffer.flush()
        write_output(lines + b"\n")


@lru_cache(maxsize=1024)
def _descriptor(name: str, namespace: str | None) -> HashableStreamDescriptor:
    return HashableStreamDescriptor(name=name, namespace=namespace)


class FastRecordEntrypoint(CopiedReadEntrypoint):
    """The CDK's entrypoint; `read` writes its messages with record_to_string (seam entrypoint-read-copy)."""

    def read_lines(
        self, source_spec: ConnectorSpecification, config: Any, catalog: Any, state: Any
    ) -> Iterable[str | bytes]:
        """A read as lines; read_items' RECORD lines come in runs, as bytes (write_records)."""
        read_items = getattr(self.source, "read_items", None)
        if read_items is None:
            return map(record_to_string, self.read(source_spec, config, catalog, state))
        return _encoded_batches(self._item_lines(read_items, source_spec, config, catalog, state))

    def _item_lines(
        self,
        read_items: Callable[..., Iterable[AirbyteMessage | tuple[Any, ...]]],
        source_spec: ConnectorSpecification,
        config: Any,
        catalog: Any,
        state: Any,
    ) -> Iterator[bytes | str]:
        """The CDK's read for a source that gives records as (stream, data, emitted_at).

        The export reader's (exports/source.py): a record is written from its parts, with no
        AirbyteMessage, descriptor or serializer pass per record; the counts per stream that a
        STATE message carries are kept by stream name.
        """
        counts: dict[str, float] = {}
        to_string = AirbyteEntrypoint.airbyte_message_to_string

        def line(item: AirbyteMessage | tuple[Any, ...]) -> bytes | str:
            if type(item) is tuple:
                stream = item[0]
                counts[stream] = counts.get(stream, 0.0) + 1.0
                return item_line(*item)
            return to_string(_counted(item, counts))  # type: ignore[arg-type]

        def queued_line(message: AirbyteMessage) -> str:
            return to_string(_counted(message, counts))

        items = read_items(self.logger, config, catalog, state)
        return self.copied_read(source_spec, config, items, line, queued_line)

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


def _counted(message: AirbyteMessage, counts: dict[str, float]) -> AirbyteMessage:
    """handle_record_counts over counts kept by stream name (read items have no namespace).

    A record message counts for its stream; a STATE message takes (and resets) its stream's count.
    """
    record = message.record
    if message.type is Type.RECORD and record is not None and record.namespace is None:
        counts[record.stream] = counts.get(record.stream, 0.0) + 1.0
        return message
    if message.type is not Type.STATE:
        return AirbyteEntrypoint.handle_record_counts(message, defaultdict(float))
    by_descriptor: DefaultDict[HashableStreamDescriptor, float] = defaultdict(float)
    by_descriptor.update((_descriptor(name, None), count) for name, count in counts.items())
    message = AirbyteEntrypoint.handle_record_counts(message, by_descriptor)
    counts.clear()
    counts.update((descriptor.name, count) for descriptor, count in by_descriptor.items())
    return message
