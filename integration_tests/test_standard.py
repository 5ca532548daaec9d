"""airbyte-cdk's standard tests (spec, check, discover, basic_read, bad catalog) on the sandbox.

Scenarios come from acceptance-test-config.yml; their configs point at 127.0.0.1:18765, where
this module serves the default sandbox (whose token and login are deterministic) at a fixed epoch
(so its records are those of expected_records.jsonl), or at the same world as export ZIPs, written
to .tmp/standard-tests/export/ (export_config.json's relative glob).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.models.scenario import REMOVED_ENTRY_KEYS
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase
from boltons.typeutils import classproperty

from integration_tests.harness import REPO
from integration_tests.sandbox import Sandbox, SandboxOptions
from integration_tests.sandbox.export_writer import write_exports
from source_pivotal_tracker.exports import ExportSource
from source_pivotal_tracker.run import _build_source
from source_pivotal_tracker.source import SourcePivotalTracker

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]

SANDBOX_PORT = 18765
# The sandbox world's "now" (2025-01-01T00:00:00Z) for the acceptance tests: every generated date,
# so every record, is the same in every run. README's CAT instructions start the sandbox with it.
ACCEPTANCE_EPOCH = 1735689600
ACCEPTANCE_CONFIG = REPO / "acceptance-test-config.yml"
EXPORT_DIR = REPO / ".tmp" / "standard-tests" / "export"


@pytest.fixture(scope="module", autouse=True)
def sandbox_on_the_configured_port() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(port=SANDBOX_PORT, epoch=ACCEPTANCE_EPOCH)) as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def export_at_the_configured_path(sandbox_on_the_configured_port: Sandbox) -> Iterator[None]:
    """The sandbox's world as export ZIPs, where export_config.json's relative glob finds them."""
    shutil.rmtree(EXPORT_DIR, ignore_errors=True)
    write_exports(sandbox_on_the_configured_port.store, EXPORT_DIR)
    before = os.getcwd()
    os.chdir(REPO)
    try:
        yield
    finally:
        os.chdir(before)


def without_record_comparison(config: dict[str, Any]) -> dict[str, Any]:
    """The acceptance-test config without CAT's record-comparison keys, which the CDK rejects.

    Only keys of the CDK's own REMOVED_ENTRY_KEYS are dropped (CAT's expect_records and its
    companions): every other key still reaches the CDK's strict check.
    """

    def kept(test: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in test.items() if key not in REMOVED_ENTRY_KEYS}

    sections = {
        name: {**part, "tests": [kept(test) for test in part["tests"]]} if "tests" in part else part
        for name, part in config["acceptance_tests"].items()
    }
    return {**config, "acceptance_tests": sections}


class TestPivotalTrackerStandards(SourceTestSuiteBase):
    @classproperty
    def acceptance_test_config(cls) -> Any:  # noqa: N805 (a class property, as in the CDK)
        return without_record_comparison(yaml.safe_load(ACCEPTANCE_CONFIG.read_text()))

    @classmethod
    def create_connector(cls, scenario: ConnectorTestScenario | None) -> SourcePivotalTracker | ExportSource:
        # CDK 7 builds streams from the constructor's config: the default no-argument
        # construction would run every scenario with an empty config. The console script's own
        # builder picks the API source or the export reader from the config, as in production.
        if scenario is None or scenario.config_path is None:
            return _build_source(["spec"])
        config_path = scenario.config_path
        if not config_path.is_absolute():
            config_path = cls.get_connector_root_dir() / config_path
        return _build_source(["check", "--config", str(config_path)])
