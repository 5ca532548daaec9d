"""The airbyte-cdk releases this connector supports, defined once, and the start-up gate on them.

The connector reaches into CDK internals (README, Supported airbyte-cdk versions), so a CDK outside
the tested range can break it silently: on 7.30 a timeout setting is accepted and ignored. pip
keeps the range when it installs the package, but not `pip install --no-deps`, a later
`pip install airbyte-cdk==...` or an image that upgrades the CDK under it. The gate stops such an
installation before any CDK module is imported (an older CDK may not even import our modules), with
a TRACE error naming the installed version and the range, as the Airbyte platform shows it.

setup.py reads CDK_REQUIREMENT from this file (it cannot import the package: that imports the CDK),
so this module imports nothing but the standard library at its top, and `packaging` where used.
"""

from __future__ import annotations

import json
import sys
import time
from importlib import metadata

# Lowest and first excluded release. Moving them moves setup.py's pin and `make test-cdk-range`.
LOWEST_CDK = "7.35.0"
BELOW_CDK = "7.40"
CDK_REQUIREMENT = f"airbyte-cdk>={LOWEST_CDK},<{BELOW_CDK}"


class UnsupportedCdk(SystemExit):
    """The installed airbyte-cdk is outside CDK_REQUIREMENT.

    A SystemExit, so the command ends with status 1 and this message on stderr instead of a
    traceback: it is raised while the package is imported, before run() can catch anything.
    """

    def __init__(self, installed: str) -> None:
        self.installed = installed
        super().__init__(unsupported_message(installed))


def unsupported_message(installed: str) -> str:
    return (
        f"source-pivotal-tracker cannot run on the installed airbyte-cdk {installed}: it supports "
        f"{CDK_REQUIREMENT} only, the releases its tests ran on (it relies on CDK internals that "
        f"change between releases). Install a supported release: pip install '{CDK_REQUIREMENT}'."
    )


def installed_cdk() -> str:
    try:
        return metadata.version("airbyte-cdk")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def is_supported(version: str) -> bool:
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        # Pre-releases count: 7.40.0rc1 is outside `<7.40` (no tested release is one).
        return SpecifierSet(CDK_REQUIREMENT.removeprefix("airbyte-cdk")).contains(
            Version(version), prereleases=True
        )
    except InvalidVersion:
        return False


def unsupported_trace_line(installed: str) -> str:
    """The TRACE error the platform shows, built without the CDK's models (they may not import)."""
    message = unsupported_message(installed)
    trace = {
        "type": "TRACE",
        "trace": {
            "type": "ERROR",
            "emitted_at": int(time.time() * 1000),
            "error": {"message": message, "internal_message": message, "failure_type": "system_error"},
        },
    }
    return json.dumps(trace, separators=(",", ":"))


def require_supported_cdk(installed: str | None = None) -> None:
    """Stops the process, a TRACE error on stdout and the reason on stderr, outside the range."""
    version = installed_cdk() if installed is None else installed
    if not is_supported(version):
        sys.stdout.write(unsupported_trace_line(version) + "\n")
        sys.stdout.flush()
        raise UnsupportedCdk(version)
