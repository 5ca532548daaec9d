"""acceptance-test-config.yml is accepted by both of its readers, and its inputs tell the truth.

Airbyte's connector-acceptance-test (CAT) is not on the package index, so its high-strictness rules
are checked here as CAT's reference states them; the CDK's standard tests are asked directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from airbyte_cdk.test.models.scenario import REMOVED_ENTRY_KEYS

from integration_tests import test_standard as standard
from integration_tests.harness import REPO, run_connector, sandbox_process
from source_pivotal_tracker.config_checks import config_problem

HIGH_STRICTNESS_SECTIONS = ("spec", "connection", "discovery", "basic_read", "full_refresh", "incremental")


def acceptance_config() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(standard.ACCEPTANCE_CONFIG.read_text())
    return loaded


def entries(section: str) -> list[dict[str, Any]]:
    tests: list[dict[str, Any]] = acceptance_config()["acceptance_tests"][section].get("tests", [])
    return tests


def load_json(relative: str) -> Any:
    return json.loads((REPO / relative).read_text())


def spec_from_command() -> dict[str, Any]:
    spec: dict[str, Any] = run_connector("spec").only("SPEC")["spec"]
    return spec


def test_spec_file_is_what_the_spec_command_prints() -> None:
    (entry,) = entries("spec")
    assert load_json(entry["spec_path"]) == spec_from_command(), (
        "integration_tests/spec.json is stale: write it anew from `source-pivotal-tracker spec`"
    )


def test_every_section_cat_demands_at_high_strictness_is_declared() -> None:
    config = acceptance_config()
    assert config["test_strictness_level"] == "high"
    image = yaml.safe_load((REPO / "metadata.yaml").read_text())["data"]["dockerRepository"]
    assert config["connector_image"] == f"{image}:dev"
    for section in HIGH_STRICTNESS_SECTIONS:
        declared = config["acceptance_tests"].get(section, {})
        assert declared.get("tests") or declared.get("bypass_reason"), (
            f"{section}: no tests and no bypass_reason"
        )


def test_basic_read_entries_follow_cat_high_strictness() -> None:
    for entry in entries("basic_read"):
        # At high strictness CAT reads the discovered catalog minus empty_streams: no catalog file.
        assert "configured_catalog_path" not in entry, entry["config_path"]
        assert all(stream.get("bypass_reason") for stream in entry.get("empty_streams", []))
        expected = entry["expect_records"]
        assert expected.get("path") or expected.get("bypass_reason"), entry["config_path"]


def test_incremental_entries_give_a_future_state_for_every_incremental_stream() -> None:
    for entry in entries("incremental"):
        catalog = load_json(entry["configured_catalog_path"])
        state = load_json(entry["future_state"]["future_state_path"])
        in_state = {message["stream"]["stream_descriptor"]["name"] for message in state}
        incremental = {s["stream"]["name"] for s in catalog["streams"] if s["sync_mode"] == "incremental"}
        missing = {stream["name"] for stream in entry["future_state"].get("missing_streams", [])}
        assert incremental and incremental == in_state | missing


PATH_KEYS = ("config_path", "configured_catalog_path", "spec_path")


def referenced_files() -> set[str]:
    found: set[str] = set()
    for section in HIGH_STRICTNESS_SECTIONS:
        for entry in entries(section):
            found |= {
                entry[key] for key in ("config_path", "configured_catalog_path", "spec_path") if key in entry
            }
            found |= {entry.get("expect_records", {}).get("path")} - {None}
            found |= {entry.get("future_state", {}).get("future_state_path")} - {None}
    return found


def test_every_file_the_config_names_exists() -> None:
    missing = sorted(path for path in referenced_files() if not (REPO / path).is_file())
    assert not missing


def test_configs_expected_to_work_are_valid_against_the_spec() -> None:
    spec = spec_from_command()["connectionSpecification"]
    failing = {entry["config_path"] for entry in entries("connection") if entry.get("status") == "failed"}
    for path in sorted(p for p in referenced_files() if "config" in Path(p).name and "catalog" not in p):
        problem = config_problem(load_json(path), spec)
        if path in failing:
            continue
        assert problem is None, f"{path}: {problem}"


def kept_tests(config: dict[str, Any], section: str) -> list[dict[str, Any]]:
    tests: list[dict[str, Any]] = config["acceptance_tests"][section].get("tests", [])
    return tests


def test_the_cdk_standard_tests_accept_the_file_without_cats_record_keys_only() -> None:
    raw = acceptance_config()
    handed = standard.without_record_comparison(raw)
    dropped = {
        key
        for section, part in raw["acceptance_tests"].items()
        for before, after in zip(part.get("tests", []), kept_tests(handed, section), strict=True)
        for key in set(before) - set(after)
    }
    assert dropped == {"expect_records"} and dropped <= set(REMOVED_ENTRY_KEYS)
    scenarios = standard.TestPivotalTrackerStandards.get_scenarios()
    configs = {str(scenario.config_path) for scenario in scenarios}
    assert {entry["config_path"] for entry in entries("basic_read")} <= configs


def test_the_cdk_would_reject_the_file_as_cat_needs_it() -> None:
    """Why test_standard.py hands the CDK the file without expect_records: the CDK refuses it."""

    class AsWritten(standard.TestPivotalTrackerStandards):  # not collected: no Test prefix
        acceptance_test_config = acceptance_config()

    with pytest.raises(Exception, match="expect_records"):
        AsWritten.get_scenarios()


@pytest.fixture(scope="module")
def sandbox() -> Any:
    with sandbox_process("--epoch", str(standard.ACCEPTANCE_EPOCH)) as sandbox:
        yield sandbox


def test_expected_records_are_read_from_the_acceptance_sandbox(sandbox: Any) -> None:
    (entry,) = [e for e in entries("basic_read") if "path" in e["expect_records"]]
    expected = [
        json.loads(line) for line in (REPO / entry["expect_records"]["path"]).read_text().splitlines()
    ]
    streams = sorted({record["stream"] for record in expected})
    catalog = {
        "streams": [
            s
            for s in load_json("integration_tests/configured_catalog.json")["streams"]
            if s["stream"]["name"] in streams
        ]
    }
    run = run_connector("read", sandbox.config(), catalog)
    assert run.exit_code == 0, run.stderr[-2000:]
    missing = [record for record in expected if record["data"] not in run.records[record["stream"]]]
    assert not missing, f"{len(missing)} expected records were not read, e.g. {missing[0]}"
    assert len(streams) == len(catalog["streams"]) == 14


def test_future_state_reads_no_records(sandbox: Any) -> None:
    (entry,) = entries("incremental")
    state = load_json(entry["future_state"]["future_state_path"])
    run = run_connector("read", sandbox.config(), load_json(entry["configured_catalog_path"]), state)
    assert run.exit_code == 0 and not run.errors, run.stderr[-2000:]
    assert not any(run.records.values())
    baseline = run_connector("read", sandbox.config(), load_json(entry["configured_catalog_path"]))
    assert sum(map(len, baseline.records.values())) > 0
