"""The error a broken seam raises: which seam, what is missing, and which airbyte-cdk is supported."""

from __future__ import annotations

from importlib import metadata


def supported_cdk() -> str:
    """The airbyte-cdk range this connector declares (its package's requirement), for messages."""
    try:
        requirements = metadata.requires("source-pivotal-tracker") or []
    except metadata.PackageNotFoundError:
        requirements = []
    for requirement in requirements:
        if requirement.replace("_", "-").startswith("airbyte-cdk"):
            return requirement.split(";")[0].strip()
    return "airbyte-cdk (see setup.py)"


def installed_cdk() -> str:
    try:
        return metadata.version("airbyte-cdk")
    except metadata.PackageNotFoundError:
        return "unknown"


class SeamBroken(RuntimeError):
    """The installed airbyte-cdk (or serpyco_rs) lacks what one of the connector's seams relies on."""

    def __init__(self, seam: str, problem: str) -> None:
        self.seam = seam
        self.problem = problem
        super().__init__(
            f"The connector cannot run on the installed airbyte-cdk {installed_cdk()}: its CDK seam "
            f"'{seam}' needs {problem}. Supported: {supported_cdk()}; install a CDK in that range "
            "(README, CDK seams)."
        )


def require(seam: str, condition: bool, problem: str) -> None:
    if not condition:
        raise SeamBroken(seam, problem)


def code_names(function: object) -> tuple[str, ...]:
    """The attribute and global names a function's code uses: a cheap look at what it touches."""
    code = getattr(function, "__code__", None)
    return tuple(code.co_names) if code is not None else ()
