"""The error a broken seam raises: which seam, what is missing, and which airbyte-cdk is supported."""

from __future__ import annotations

from .cdk_range import CDK_REQUIREMENT, installed_cdk


def supported_cdk() -> str:
    """The airbyte-cdk range this connector supports, for messages (one definition: cdk_range.py)."""
    return CDK_REQUIREMENT


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
