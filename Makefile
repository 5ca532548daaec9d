# The two set-up commands of the README. Both build .venv from nothing on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SOURCES := setup.py $(shell find source_pivotal_tracker -type f -not -path '*/__pycache__/*')

.PHONY: demo test test-cdk-range lint benchmark image-test

# Install the connector as a user would (`pip install .`, not editable), with the test tools.
$(INSTALLED): $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ".[tests]"
	touch $@

# Offline demo: sandbox + spec, check, discover and read of every stream via the installed command.
demo: $(INSTALLED)
	$(BIN)/python scripts/demo.py

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

# Every test: lint, unit, sandbox fidelity, end-to-end, the CDK standard tests and our Docker image
# (integration_tests/image). The CDK's own `image_tests` need the image registry: deselected.
# The CDK range's ends first, but not the release .venv holds: its unit tests run just after.
test: lint
	$(PYTHON) scripts/cdk_range_test.py --covered-by $(BIN)/python
	$(BIN)/python -m pytest -q -m "not image_tests" unit_tests integration_tests

# The unit tests on the lowest and the highest airbyte-cdk of the declared range (cdk_seams/cdk_range.py, which
# setup.py's pin reads), each in its own .venv-cdk-<version>/, built on first use and then reused.
test-cdk-range:
	$(PYTHON) scripts/cdk_range_test.py

benchmark: $(INSTALLED)
	$(BIN)/python scripts/benchmark.py all

# The Docker image from this Dockerfile on a stand-in base, run against the sandbox (needs root).
image-test: $(INSTALLED)
	$(BIN)/python -m pytest -q integration_tests/image
