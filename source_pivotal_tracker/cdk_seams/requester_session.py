"""Seam `requester-session`: the requests session inside each HttpRequester.

The CDK builds a session per requester (`HttpRequester._http_client._session`) and offers no
option for what the connector sets on it: a response hook that refuses every 3xx before requests
follows it (the token goes only to api_url), the response-deadline adapter (response_deadline.py),
and the request cache's filter (a cut-off answer is never cached). Pool size as the CDK's own.
"""

from __future__ import annotations

import requests
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.streams.http import http_client

from .broken import code_names, require

SEAM = "requester-session"
# The CDK's connection pool size per session; the deadline adapter replaces its adapter with the same.
POOL_SIZE: int = getattr(http_client, "MAX_CONNECTION_POOL_SIZE", 20)


def requester_session(requester: HttpRequester) -> requests.Session:
    session = getattr(getattr(requester, "_http_client", None), "_session", None)
    require(SEAM, isinstance(session, requests.Session), "HttpRequester._http_client._session")
    assert isinstance(session, requests.Session)
    return session


def check() -> None:
    require(SEAM, "_http_client" in code_names(HttpRequester.__post_init__), "HttpRequester._http_client")
    require(SEAM, "_session" in code_names(http_client.HttpClient.__init__), "HttpClient._session")
    send = code_names(getattr(http_client.HttpClient, "_send", None))
    require(SEAM, "_session" in send, "HttpClient._send sending through _session")
