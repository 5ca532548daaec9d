"""Not a seam, a requirement checked at start-up: the HttpRequester's timeout fields.

The timeouts are public manifest fields (`connect_timeout_in_seconds`, `read_timeout_in_seconds`).
The CDK's component schema lets a requester carry fields it does not know, so a CDK without them
would ignore them silently and leave every request without a timeout: start-up checks them.
"""

from __future__ import annotations

from dataclasses import fields

from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    HttpRequester as HttpRequesterModel,
)
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester

from .broken import require

SEAM = "requester-timeouts"
FIELDS = ("connect_timeout_in_seconds", "read_timeout_in_seconds")


def check() -> None:
    model_fields = set(getattr(HttpRequesterModel, "model_fields", None) or HttpRequesterModel.__fields__)
    requester_fields = {f.name for f in fields(HttpRequester)}
    for name in FIELDS:
        require(SEAM, name in model_fields and name in requester_fields, f"the HttpRequester field {name}")
