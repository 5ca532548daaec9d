"""Tracker's error objects (doc §4.6): key order code, kind, error, then the details."""

from __future__ import annotations

from typing import Any

_PROJECT_FIX = (
    "Your project permissions are determined on the Project Membership page. If you are "
    "receiving this error you may be trying to access the wrong project, or the project API "
    "access is disabled, or someone listed as the project's Owner needs to change your "
    "membership type."
)


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body
        self.headers = headers or {}


def _error(code: str, error: str, **details: str) -> dict[str, Any]:
    return {"code": code, "kind": "error", "error": error, **details}


def invalid_token(status: int) -> ApiError:
    return ApiError(
        status,
        _error(
            "invalid_authentication",
            "Invalid authentication credentials were presented.",
            possible_fix="Verify that your token value matches what's shown on your Profile page in Tracker.",
        ),
    )


def invalid_password(status: int) -> ApiError:
    return ApiError(
        status,
        _error(
            "invalid_authentication",
            "Invalid authentication credentials were presented.",
            possible_fix="Recheck your name (email address or Tracker username) and password.",
        ),
    )


def unauthorized_project() -> ApiError:
    return ApiError(
        403,
        _error(
            "unauthorized_operation",
            "Authorization failure.",
            general_problem="You aren't authorized to access the requested resource.",
            possible_fix=_PROJECT_FIX,
        ),
    )


def unfound_resource() -> ApiError:
    # Two spaces after the first sentence, exactly as the real body has them.
    return ApiError(
        404,
        _error(
            "unfound_resource",
            "The object you tried to access could not be found.  It may have been removed by "
            "another user, you may be using the ID of another object type, or you may be trying "
            "to access a sub-resource at the wrong point in a tree.",
        ),
    )


def route_not_found() -> ApiError:
    return ApiError(404, _error("route_not_found", "The path you requested has no valid endpoint."))


def invalid_parameter(problem: str) -> ApiError:
    return ApiError(
        400,
        _error(
            "invalid_parameter",
            "One or more request parameters was missing or invalid.",
            general_problem=problem,
        ),
    )


# The three below are injected faults. The codes are the ones recalled from the former docs
# (doc §4.6, UNCERTAIN); the wording is the sandbox's own.
def internal_error() -> ApiError:
    return ApiError(
        500,
        _error(
            "api_internal_error",
            "An unexpected error occurred while processing your request.",
            possible_fix="Try again later. If the problem persists, contact Tracker support.",
        ),
    )


def server_under_load() -> ApiError:
    return ApiError(
        503,
        _error(
            "server_under_load",
            "The server is under heavy load and can't process your request right now.",
            possible_fix="Wait a little and retry the request.",
        ),
    )


def rate_limited(retry_after: str = "1") -> ApiError:
    return ApiError(
        429,
        _error(
            "rate_limit_exceeded",
            "Too many requests in a short period of time.",
            possible_fix="Wait for the number of seconds in the Retry-After header, then retry.",
        ),
        {"Retry-After": retry_after},
    )
