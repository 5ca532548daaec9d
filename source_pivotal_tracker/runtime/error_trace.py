"""An ERROR trace message as a line of JSON, for failures met outside the CDK's entrypoint.

The connector failing to start (run.py) and a stop signal (signals.py) are reported before or
beside the entrypoint's own output, so they write their trace line themselves, in the CDK's form.
"""

from __future__ import annotations

import orjson
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    FailureType,
    TraceType,
    Type,
)
from airbyte_cdk.utils.datetime_helpers import ab_datetime_now


def error_trace_line(message: str, failure_type: FailureType, internal_message: str | None = None) -> bytes:
    """The TRACE message of an error, as the CDK serializes it, without its newline."""
    error = AirbyteErrorTraceMessage(
        message=message, internal_message=internal_message, failure_type=failure_type
    )
    trace = AirbyteTraceMessage(
        type=TraceType.ERROR, emitted_at=ab_datetime_now().to_epoch_millis(), error=error
    )
    return orjson.dumps(AirbyteMessageSerializer.dump(AirbyteMessage(type=Type.TRACE, trace=trace)))
