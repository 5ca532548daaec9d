"""Tracker's error objects as exceptions; the bodies are tracker_fixtures/errors/*.json.

Reference: https://www.pivotaltracker.com/help/api/rest/v5#Error_Responses
"""

from __future__ import annotations

from typing import Any

from tracker_fixtures import error_body


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body
        self.headers = headers or {}


def invalid_token(status: int) -> ApiError:
    return ApiError(status, error_body("invalid_token"))


def invalid_password(status: int) -> ApiError:
    return ApiError(status, error_body("invalid_password"))


def unauthorized_project() -> ApiError:
    return ApiError(403, error_body("unauthorized_operation"))


def unfound_resource() -> ApiError:
    return ApiError(404, error_body("unfound_resource"))


def route_not_found() -> ApiError:
    return ApiError(404, error_body("route_not_found"))


def invalid_parameter(problem: str) -> ApiError:
    return ApiError(400, {**error_body("invalid_parameter"), "general_problem": problem})


# The three below are injected faults; no real body of these was recorded.
def internal_error() -> ApiError:
    return ApiError(500, error_body("api_internal_error"))


def server_under_load() -> ApiError:
    return ApiError(503, error_body("server_under_load"))


def rate_limited(retry_after: str = "1") -> ApiError:
    return ApiError(429, error_body("rate_limit_exceeded"), {"Retry-After": retry_after})
