"""The failure type of a failed sync's closing error: the streams' own, not always config_error.

When a stream fails, the CDK ends the sync with a summary error ("During the sync, the following
streams did not sync successfully…") that it always types config_error, which tells the user to
fix the config when the server sent a malformed header or stopped answering. The summary takes
the type of the stream errors instead whenever none of them was the user's to fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from airbyte_cdk.models import AirbyteMessage, FailureType, TraceType, Type
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


def honest_failure_type(messages: Iterator[AirbyteMessage]) -> Iterator[AirbyteMessage]:
    seen: set[FailureType] = set()
    try:
        for message in messages:
            if message.type == Type.TRACE and message.trace and message.trace.type == TraceType.ERROR:
                error = message.trace.error
                if error is not None and error.failure_type is not None:
                    seen.add(error.failure_type)
            yield message
    except AirbyteTracedException as summary:
        if summary.failure_type == FailureType.config_error and seen and FailureType.config_error not in seen:
            only_transient = seen == {FailureType.transient_error}
            summary.failure_type = FailureType.transient_error if only_transient else FailureType.system_error
        raise
