"""airbyte-cdk's standard tests (spec, check, discover, basic_read, bad catalog) on the sandbox.

Scenarios come from acceptance-test-config.yml; their configs point at 127.0.0.1:18765, where
this module serves the default sandbox (whose token and login are deterministic).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase

from integration_tests.sandbox import Sandbox, SandboxOptions
from source_pivotal_tracker.source import SourcePivotalTracker

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]

SANDBOX_PORT = 18765


@pytest.fixture(scope="module", autouse=True)
def sandbox_on_the_configured_port() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(port=SANDBOX_PORT)) as server:
        yield server


class TestPivotalTrackerStandards(SourceTestSuiteBase):
    @classmethod
    def create_connector(cls, scenario: ConnectorTestScenario | None) -> SourcePivotalTracker:
        # CDK 7 builds streams from the constructor's config: the default no-argument
        # construction would run every scenario with an empty config.
        config = (
            scenario.get_config_dict(connector_root=cls.get_connector_root_dir(), empty_if_missing=True)
            if scenario
            else None
        )
        return SourcePivotalTracker(catalog=None, config=config, state=None)
