"""Every form in which a secret can reach the connector's output, so that each can be masked.

The CDK masks a secret where it appears verbatim. But a token containing a quote, a backslash or
a non-ASCII letter reaches a --debug log JSON-escaped (the request headers are dumped as JSON),
a repr() shows it Python-escaped, a URL carries it percent-encoded, and the Basic header of the
sign-in carries base64 of "username:password".
"""

from __future__ import annotations

import base64
import contextlib
import json
from urllib.parse import quote, quote_plus

# Shorter "secrets" would mask ordinary text everywhere (a one-letter password masks every "a").
MIN_MASKED_LENGTH = 3


def secret_forms(secret: str) -> set[str]:
    """The secret as written, JSON-escaped (UTF-8 and ASCII), repr()-escaped and URL-encoded."""
    if not secret:
        return set()
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
    }
    # Escaped once more: a JSON document (a debug log's extras) inside a JSON message.
    forms |= {json.dumps(form)[1:-1] for form in list(forms)}
    return {form for form in forms if len(form) >= MIN_MASKED_LENGTH}


def basic_auth_forms(username: str, password: str) -> set[str]:
    """base64 of the Basic pair, as requests encodes it (latin-1 when it can, else UTF-8)."""
    pair = f"{username}:{password}"
    encodings = [pair.encode("utf-8")]
    with contextlib.suppress(UnicodeEncodeError):
        encodings.append(pair.encode("latin-1"))
    return {base64.b64encode(raw).decode() for raw in encodings}
