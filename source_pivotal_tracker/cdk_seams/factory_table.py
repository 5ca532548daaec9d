"""Seam `factory-table`: the CDK's component factory builds some components our way.

The source's factory (`ConcurrentDeclarativeSource._constructor`) keeps a table from each manifest
model to the method that builds it (`PYDANTIC_MODEL_TO_CONSTRUCTOR`). The CDK takes no factory
from outside, and custom components do not get the factory's wiring of a SimpleRetriever or an
HttpRequester, so three entries are wrapped: retrievers are adopted as TrackerRetriever, schema
loaders get the real schema for a placeholder, requesters get the session rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory

from .broken import code_names, require

SEAM = "factory-table"
TABLE = "PYDANTIC_MODEL_TO_CONSTRUCTOR"

Constructor = Callable[..., Any]


def component_factory(source: ConcurrentDeclarativeSource) -> ModelToComponentFactory:
    """The factory the source builds its components with."""
    factory = getattr(source, "_constructor", None)
    require(SEAM, isinstance(factory, ModelToComponentFactory), "ConcurrentDeclarativeSource._constructor")
    assert isinstance(factory, ModelToComponentFactory)
    return factory


def wrap_constructor(
    factory: ModelToComponentFactory, model: type, wrap: Callable[[Constructor], Constructor]
) -> None:
    """The factory builds `model` with wrap(the CDK's constructor for it)."""
    table = getattr(factory, TABLE, None)
    require(
        SEAM, isinstance(table, dict) and model in table, f"ModelToComponentFactory.{TABLE}[{model.__name__}]"
    )
    assert isinstance(table, dict)
    table[model] = wrap(table[model])


def check() -> None:
    require(
        SEAM,
        "_constructor" in code_names(ConcurrentDeclarativeSource.__init__),
        "ConcurrentDeclarativeSource._constructor",
    )
    table = getattr(ModelToComponentFactory(), TABLE, None)
    require(SEAM, isinstance(table, dict), f"ModelToComponentFactory.{TABLE}")
