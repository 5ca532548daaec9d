"""The connector image from the repository's own Dockerfile, with only its FROM line swapped."""

from __future__ import annotations

import re

from integration_tests.harness import REPO
from integration_tests.image.engine import docker

IMAGE = "airbyte/source-pivotal-tracker:dev-stand-in"


def dockerfile_from(base_image: str) -> str:
    """The Dockerfile's text with its one FROM line naming `base_image`; the file stays as it is."""
    text = (REPO / "Dockerfile").read_text()
    from_lines = re.findall(r"^FROM .*$", text, flags=re.MULTILINE)
    if len(from_lines) != 1:
        raise ValueError(f"the Dockerfile must have one FROM line to swap, it has {len(from_lines)}")
    return text.replace(from_lines[0], f"FROM {base_image}", 1)


def build_image(base_image: str, tag: str = IMAGE) -> str:
    previous = image_id(tag)
    # The Dockerfile comes on stdin, the context is the repository (trimmed by .dockerignore);
    # the build's network is the host's, where pip reaches the package index.
    docker(
        "build", "--network", "host", "--tag", tag, "--file", "-", str(REPO),
        input=dockerfile_from(base_image), timeout=1800,
    )  # fmt: skip
    if previous and previous != image_id(tag):
        # The image the tag named before: nothing refers to it now, and it would pile up.
        docker("image", "rm", previous, check=False)
    return tag


def image_id(tag: str) -> str | None:
    found = docker("image", "inspect", "--format", "{{.Id}}", tag, check=False)
    return found.stdout.strip() if found.returncode == 0 else None
