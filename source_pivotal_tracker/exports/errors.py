"""The one error of the export reader: a problem in one input, named by file (and line)."""

from __future__ import annotations

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


class ExportError(Exception):
    """A file that cannot be read as a Tracker export; `line` is the 1-based physical line."""

    def __init__(self, file: str, problem: str, line: int | None = None) -> None:
        self.file, self.problem, self.line = file, problem, line
        where = f"{file}, line {line}" if line is not None else file
        super().__init__(f"{where}: {problem}")

    def traced(self) -> AirbyteTracedException:
        """As the CDK's config error: the user's file, not the connector, has to change."""
        return AirbyteTracedException(
            message=f"Export file {self}",
            internal_message=str(self),
            failure_type=FailureType.config_error,
        )
