"""Every knob of the sandbox, shared by the CLI and the Python API."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

IGNORE_OFFSET = ("no", "echo", "zero")
PROJECTS_ANSWERS = ("list", "object", "forbidden")
OVER_MAX_LIMIT = ("clamp", "reject")


@dataclass
class SandboxOptions:
    # 0 picks a free port, so parallel test runs never collide.
    port: int = 0
    seed: int = 1
    # The world's "now" as epoch seconds (0: the moment the sandbox starts). A fixed epoch makes every
    # generated date, and so every record, the same in every run: acceptance tests compare records.
    epoch: int = 0
    projects: int = 6
    # None keeps the deliberately uneven default sizes (one empty, one with 1,203 stories...).
    stories: int | None = None
    disabled_projects: int = 1
    latency_ms: float = 0.0
    error_every: int = 0
    rate_limit_every: int = 0
    drop_every: int = 0
    truncate_every: int = 0
    mutate_stories: bool = False
    # The real status of invalid_authentication is unknown: clients name it 403, Pivotal's own
    # Concourse client maps 401 to "invalid token".
    auth_status: int = 403
    # Whether *_after/*_before are strict or inclusive was never documented.
    date_filter: str = "strict"
    # Whether /my/notifications honoured created_after/updated_after is unverified.
    notifications_ignore_filters: bool = False
    # The iterations' maximum page size: only a third-party comment says 50.
    iterations_max_limit: int = 50
    # Releases', activity's and story transitions' maximum page size was never recorded (only the
    # stories' 500 was): clients used 500, which the default assumes.
    listing_max_limit: int = 500
    # A limit above an endpoint's maximum: stories clamp it (recorded); whether every endpoint
    # clamps rather than answering 400 was not.
    over_max_limit: str = "clamp"
    # GET /projects/{id}/story_transitions is believed paged, and to take occurred_after/_before;
    # neither was recorded.
    transitions_unpaged: bool = False
    transitions_ignore_filters: bool = False
    # Hostile servers (hostile.py): what a connector must survive without leaking or hanging.
    retry_after: str = "1"
    stall_every: int = 0
    # Headers at once, then the body at this many bytes per second (0: off); see hostile.trickle.
    trickle_rate: float = 0.0
    trickle_path: str = ""
    redirect_to: str = ""
    ignore_offset: str = "no"
    projects_answer: str = "list"
    mutate_transitions: bool = False
    # Credentials of the sandbox's user instead of generated ones (odd characters, say).
    api_token: str = ""
    password: str = ""

    def __post_init__(self) -> None:
        if self.auth_status not in (401, 403):
            raise ValueError("auth_status must be 401 or 403")
        if self.date_filter not in ("strict", "inclusive"):
            raise ValueError("date_filter must be 'strict' or 'inclusive'")
        if self.iterations_max_limit < 1 or self.listing_max_limit < 1:
            raise ValueError("iterations_max_limit and listing_max_limit must be at least 1")
        if self.projects < 1:
            raise ValueError("projects must be at least 1")
        if self.stories is not None and self.stories < 0:
            raise ValueError("stories must not be negative")
        if not 0 <= self.disabled_projects <= self.projects:
            raise ValueError("disabled_projects must be between 0 and projects")
        if self.ignore_offset not in IGNORE_OFFSET:
            raise ValueError(f"ignore_offset must be one of {', '.join(IGNORE_OFFSET)}")
        if self.over_max_limit not in OVER_MAX_LIMIT:
            raise ValueError(f"over_max_limit must be one of {', '.join(OVER_MAX_LIMIT)}")
        if self.projects_answer not in PROJECTS_ANSWERS:
            raise ValueError(f"projects_answer must be one of {', '.join(PROJECTS_ANSWERS)}")
        if self.trickle_rate < 0:
            raise ValueError("trickle_rate must not be negative")
        for name in ("error_every", "rate_limit_every", "drop_every", "truncate_every", "stall_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


_HELP = {
    "port": "TCP port on 127.0.0.1 (0 = pick a free one)",
    "seed": "seed of the deterministic data generator",
    "epoch": "the world's now as epoch seconds, for the same records in every run (0 = start time)",
    "projects": "number of projects",
    "stories": "give every project exactly this many stories (default: uneven realistic sizes)",
    "disabled_projects": "how many projects (the last ones) have API access disabled",
    "latency_ms": "sleep this long before answering each API request",
    "error_every": "every Nth API request answers 500 api_internal_error / 503 server_under_load",
    "rate_limit_every": "every Nth API request answers 429 with Retry-After: 1",
    "drop_every": "every Nth API request: close the connection without answering",
    "truncate_every": "every Nth API request answers 200 with half of the JSON body",
    "mutate_stories": "delete/move/create stories between the pages of a stories sync",
    "auth_status": "HTTP status of invalid_authentication errors",
    "date_filter": "strict: *_after is > and *_before is <; inclusive: >= and <=",
    "notifications_ignore_filters": "ignore created_after/updated_after on /my/notifications",
    "iterations_max_limit": "maximum page size of GET /projects/{id}/iterations",
    "listing_max_limit": "maximum page size of releases, activity and story transitions",
    "over_max_limit": "a limit above the endpoint's maximum: clamp it, or reject: 400 invalid_parameter",
    "transitions_unpaged": "GET /projects/{id}/story_transitions answers every row, without paging",
    "transitions_ignore_filters": "ignore occurred_after/occurred_before on /projects/{id}/story_transitions",
    "retry_after": "Retry-After header of the rate-limit fault (any text: 999999, inf, nan, -5)",
    "stall_every": "every Nth API request: accept it and never answer (until the sandbox stops)",
    "trickle_rate": "send the headers at once, then the body at this many bytes per second, as a "
    "slow or hostile server does (0.3: a byte every 3 s; 0 = off)",
    "trickle_path": "only API paths that contain this text trickle (default: every API request)",
    "redirect_to": "answer every API request with a 302 to this URL root plus the same path",
    "ignore_offset": "paged listings serve offset 0 whatever is asked; echo: report the asked "
    "offset in the headers; zero: report 0",
    "projects_answer": "GET /projects answers a list, a JSON object, or 403 unauthorized_operation",
    "mutate_transitions": "delete a story before each later page of a project's story transitions",
    "api_token": "the user's API token (default: generated)",
    "password": "the user's password (default: generated)",
}

_CHOICES: dict[str, list[object]] = {
    "auth_status": [401, 403],
    "date_filter": ["strict", "inclusive"],
    "ignore_offset": list(IGNORE_OFFSET),
    "projects_answer": list(PROJECTS_ANSWERS),
    "over_max_limit": list(OVER_MAX_LIMIT),
}


def build_parser() -> argparse.ArgumentParser:
    """Derive the CLI from the dataclass so the two can never drift apart."""
    parser = argparse.ArgumentParser(
        prog="python -m integration_tests.sandbox",
        description="Local emulator of the Pivotal Tracker REST API v5.",
        epilog="With --write-export DIR it writes its world as Tracker export files instead of serving "
        "it (options: --write-export DIR --help).",
    )
    for field in dataclasses.fields(SandboxOptions):
        flag = "--" + field.name.replace("_", "-")
        default = field.default
        if field.type in ("bool", bool):
            parser.add_argument(flag, action="store_true", default=default, help=_HELP[field.name])
            continue
        if field.name == "stories":
            kind: type = int
        elif field.type in ("float", float):
            kind = float
        elif field.type in ("str", str):
            kind = str
        else:
            kind = int
        parser.add_argument(
            flag,
            type=kind,
            default=default,
            choices=_CHOICES.get(field.name),
            help=f"{_HELP[field.name]} (default: {default})",
        )
    return parser


def parse_options(argv: list[str] | None = None) -> SandboxOptions:
    namespace = build_parser().parse_args(argv)
    return SandboxOptions(**vars(namespace))
