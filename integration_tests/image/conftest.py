"""The image under test: a Docker engine (installed and started when needed), a base, a build.

Where no engine can run, every image test fails with the reason: none is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integration_tests.image.build import build_image
from integration_tests.image.engine import EngineUnavailable, docker_engine, install_missing_packages
from integration_tests.image.stand_in_base import stand_in_base
from integration_tests.image.timings import NOTES, TIMINGS, report, timed


@pytest.fixture(scope="session")
def connector_image() -> Iterator[str]:
    try:
        with timed("apt-get install docker.io debootstrap: nothing missing") as label:
            installed = install_missing_packages()
            if installed:
                label.append(f"apt-get install {' '.join(installed)}")
        with docker_engine() as engine:
            with timed("stand-in base") as label:
                base = stand_in_base()
                label.append(f"stand-in base ({base.made_by})")
            with timed("docker build of the Dockerfile on the stand-in base"):
                image = build_image(base.tag)
            yield image
        if engine.started_here:
            NOTES.append(f"dockerd (pid {engine.pid}) was started for these tests and is stopped")
        else:
            NOTES.append("dockerd was running already and is left running")
    except EngineUnavailable as error:
        pytest.fail(f"The image tests need a Docker engine and could not have one: {error}", pytrace=False)
    except RuntimeError as error:
        pytest.fail(f"The image could not be built: {error}", pytrace=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("connector image: where the time went")
        for line in report():
            terminalreporter.write_line(line)
