"""Every place where the connector reaches past airbyte-cdk's (and serpyco_rs's) public surface.

No module outside this package names a dependency's private attribute, overrides its private
methods or rewires its module globals (unit_tests/test_cdk_seams.py scans for that). Each seam has
its module, a `check()` that `verify()` runs at start-up, and a canary in unit_tests/test_cdk_seams.py
that fails, naming it, when the CDK code it relies on changes.

Each seam: what it touches; why; what a user would see if it broke.

- factory-table (factory_table.py): `ConcurrentDeclarativeSource._constructor` and its
  `PYDANTIC_MODEL_TO_CONSTRUCTOR`; retrievers adopted as TrackerRetriever, real schemas for the
  placeholders, session rules on requesters; broken: start-up stops, naming this seam.
- per-partition-state-throttle (state_throttle.py): `ConcurrentPerPartitionCursor.
  _throttle_state_message`; a STATE after every finished project (the CDK: one per 600 s at most);
  broken: a stopped sync reads again every project it had finished.
- catalog-streams-only (declarative_source.py): `_streams_by_name`, `_select_streams`,
  `_concurrent_source.read`; a read builds only the catalog's streams; broken: start-up stops
  (without `_streams_by_name`, new in 7.39.1, every stream is built, as the CDK's read does).
- record-queue-bound (declarative_source.py): `_concurrent_source._queue.maxsize`; 1,000 queued
  records, not 10,000, for flat memory; broken: start-up stops (else tens of MB more on big reads).
- source-config (declarative_source.py): `ConcurrentDeclarativeSource._config`; streams built with
  the token of the username/password sign-in; broken: Tracker rejects username/password syncs.
- retriever-adoption (retriever.py): `SimpleRetriever`'s fields and `_parameters`, overrides of
  `_read_pages` and `_request_params`; verified paging (no story lost while a listing shifts) and
  per-project progress; broken: start-up stops, naming this seam.
- requester-session (requester_session.py): `HttpRequester._http_client._session`; the redirect
  refusal, the response deadline, the cache filter; broken: start-up stops (never a request
  without them).
- entrypoint-read-copy (entrypoint_read.py): copies of `AirbyteEntrypoint.run`'s read branch and
  of `read`, `_emit_queued_messages`, `_memory_monitor`; RECORDs written in a third of the CDK's
  time; broken: a read that differs from the CDK's (the canary catches a changed CDK first).
- print-buffer (print_buffer.py): `PRINT_BUFFER.flush`, `.buffer`, `.lock`; a stop signal never
  repeats or cuts a message, export runs written past the buffer; broken: start-up stops.
- serpyco-attribute-docs (serpyco_docs.py): `get_attributes_doc` in `serpyco_rs._utils`,
  `_describe` and `_json_schema._convert`; every command 0.2 s sooner; broken: every command
  0.2 s slower (serpyco's own lookup runs).

Not a seam, but checked with them (requester_timeouts.py): the HttpRequester's public timeout
fields, which a CDK without them would ignore silently.

Measured and dropped (README, Performance): skipping the manifest's validation at start-up (a
swap of the module function `get_declarative_component_schema` and an override of
`_validate_source`), 0.07 s of a 0.85 s command.
"""

from __future__ import annotations

from importlib import import_module

from .broken import SeamBroken, supported_cdk

__all__ = ["SEAMS", "SeamBroken", "supported_cdk", "verify"]

# Seam module -> whether a break stops the connector at start-up (correctness), or only its canary
# fails (speed: the CDK's own, slower way runs instead).
SEAMS: dict[str, bool] = {
    "factory_table": True,
    "state_throttle": True,
    "declarative_source": True,
    "retriever": True,
    "requester_session": True,
    "entrypoint_read": True,
    "print_buffer": True,
    "serpyco_docs": False,
    "requester_timeouts": True,
}


def verify(everything: bool = False) -> None:
    """Raises SeamBroken, naming the seam and the supported CDK range, if the installed CDK lacks
    what a seam needs. At start-up only the seams that correctness rests on; `everything=True`
    (the tests) the speed seams too."""
    for name, needed in SEAMS.items():
        if needed or everything:
            import_module(f"{__name__}.{name}").check()
