"""Seam `manifest-validation-skip`: no parse of the CDK's component schema at every start.

ConcurrentDeclarativeSource.__init__ parses the CDK's 200 kB declarative_component_schema.yaml
(module function `get_declarative_component_schema`) only for `_validate_source`. The source skips
that validation (unit_tests/test_manifest_loading.py runs it on every manifest the source can be
built from): 0.08-0.10 s of every command. Should the CDK rename either, the CDK validates as usual
(slower, never wrong); the canary says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airbyte_cdk.sources.declarative import concurrent_declarative_source
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

from .broken import code_names, require

SEAM = "manifest-validation-skip"
SCHEMA_LOADER = "get_declarative_component_schema"


@contextmanager
def unvalidated_construction() -> Iterator[None]:
    """While the source is built: the component schema is an empty dict; restored on the way out."""
    original = getattr(concurrent_declarative_source, SCHEMA_LOADER, None)
    if original is None:  # a CDK without it: nothing to skip
        yield
        return
    setattr(concurrent_declarative_source, SCHEMA_LOADER, dict)
    try:
        yield
    finally:
        setattr(concurrent_declarative_source, SCHEMA_LOADER, original)


class WithoutStartupValidation:
    """Mixed into the source before ConcurrentDeclarativeSource: `_validate_source` does nothing."""

    def _validate_source(self) -> None:
        """The manifest is part of the package, and a unit test validates it with the CDK's own check."""


def check() -> None:
    names = code_names(ConcurrentDeclarativeSource.__init__)
    require(SEAM, SCHEMA_LOADER in names, f"ConcurrentDeclarativeSource.__init__ calling {SCHEMA_LOADER}")
    require(
        SEAM, "_validate_source" in names, "ConcurrentDeclarativeSource.__init__ calling _validate_source"
    )
