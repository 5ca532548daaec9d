"""Seam `retriever-adoption`: our retriever is the CDK's SimpleRetriever, as its factory wired it.

A CustomRetriever would have to redo the factory's wiring of a SimpleRetriever (cursor request
options, paginator, partition router), which the CDK does not pass to custom classes. So the
factory builds each SimpleRetriever as usual and `wired_like` copies its dataclass fields (and
the `_parameters` it keeps) into our subclass. Paging and request parameters have no public hook:
`_read_pages` and `_request_params` are overridden here, and call the public-named methods that
components.TrackerRetriever defines.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import requests
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.types import Record, StreamSlice

from .broken import code_names, require

SEAM = "retriever-adoption"
RecordsFromResponse = Callable[[requests.Response | None], Iterable[Record]]
_R = TypeVar("_R", bound="AdoptedRetriever")


@dataclass
class AdoptedRetriever(SimpleRetriever):
    """SimpleRetriever with public-named hooks for paging (`read_pages`) and request parameters."""

    @classmethod
    def wired_like(cls: type[_R], retriever: SimpleRetriever, **extra: Any) -> _R:
        """A new retriever of this class, with every field the CDK's factory gave `retriever`."""
        wiring = {f.name: getattr(retriever, f.name) for f in fields(SimpleRetriever) if f.init}
        return cls(**wiring, parameters=retriever._parameters, **extra)

    def _read_pages(
        self, records_generator_fn: RecordsFromResponse, stream_slice: StreamSlice
    ) -> Iterable[Record]:
        return self.read_pages(records_generator_fn, stream_slice)

    def read_pages(
        self, records_generator_fn: RecordsFromResponse, stream_slice: StreamSlice
    ) -> Iterable[Record]:
        """The records of one partition, page by page; by default the CDK's paging."""
        return self.cdk_pages(records_generator_fn, stream_slice)

    def cdk_pages(
        self, records_generator_fn: RecordsFromResponse, stream_slice: StreamSlice
    ) -> Iterable[Record]:
        """SimpleRetriever's own paging of one partition."""
        return super()._read_pages(records_generator_fn, stream_slice)

    def _request_params(
        self,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
        page_size_override: int | None = None,
    ) -> Mapping[str, Any]:
        params = super()._request_params(stream_slice, next_page_token, page_size_override)
        return self.request_params(stream_slice, params)

    def request_params(
        self, stream_slice: StreamSlice | None, params: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """The query parameters of a request, given the CDK's; by default those."""
        return params


def check() -> None:
    for name, parameters in (
        ("_read_pages", ["self", "records_generator_fn", "stream_slice"]),
        ("_request_params", ["self", "stream_slice", "next_page_token", "page_size_override"]),
    ):
        method = getattr(SimpleRetriever, name, None)
        require(SEAM, callable(method), f"SimpleRetriever.{name}")
        found = list(inspect.signature(method).parameters) if method is not None else []
        require(
            SEAM,
            found == parameters,
            f"SimpleRetriever.{name}({', '.join(parameters[1:])}), not ({', '.join(found[1:])})",
        )
    require(SEAM, "_parameters" in code_names(SimpleRetriever.__post_init__), "SimpleRetriever._parameters")
    fetch = code_names(getattr(SimpleRetriever, "_fetch_next_page", None))
    require(SEAM, "_request_params" in fetch, "SimpleRetriever._fetch_next_page calling _request_params")
    require(
        SEAM,
        "_read_pages" in code_names(getattr(SimpleRetriever, "_read_records_or_split_request_window", None))
        or "_read_pages" in code_names(SimpleRetriever.read_records),
        "SimpleRetriever reading through _read_pages",
    )
