"""Username/password sign-in: one GET /me per sync, whose API token every stream then uses.

The manifest cannot say this: the CDK gives every stream, and every parent stream, an
authenticator of its own, and each would log in on its first request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from ..checks.secret_forms import secret_forms
from ..components import CREDENTIALS_REJECTED
from ..runtime.limits import timeouts
from .check_deadline import refuse_wait_past_check
from .http_safety import forbid_redirects, redirect_refused, redirect_response, wait_seconds
from .response_deadline import TrackerTimeout, watch_deadlines

logger = logging.getLogger("airbyte")

ATTEMPTS = 6
RETRYABLE = {408, 429, 500, 502, 503, 504}


def signed_in(config: Mapping[str, Any], session: requests.Session | None = None) -> Mapping[str, Any]:
    """The config with username/password exchanged for the user's API token (a copy)."""
    credentials = config.get("credentials") or {}
    if credentials.get("auth_type") != "username_password":
        return config
    token = fetch_api_token(config["api_url"], credentials["username"], credentials["password"], session)
    return {**config, "credentials": {"auth_type": "api_token", "api_token": token}}


def fetch_api_token(
    api_url: str, username: str, password: str, session: requests.Session | None = None
) -> str:
    session = watch_deadlines(forbid_redirects(session or requests.Session()))
    problem = ""
    for attempt in range(1, ATTEMPTS + 1):
        response: requests.Response | None = None
        answer: requests.Response | BaseException
        try:
            answer = response = session.get(f"{api_url}/me", auth=(username, password), timeout=timeouts())
        except requests.RequestException as error:
            answer = error
            _refuse_redirect(error)
            problem = str(error) if isinstance(error, TrackerTimeout) else type(error).__name__
        else:
            _refuse_redirect(response)
            if response.status_code in (401, 403):
                raise AirbyteTracedException(
                    message=CREDENTIALS_REJECTED,
                    internal_message=f"GET /me answered {response.status_code}",
                    failure_type=FailureType.config_error,
                )
            if response.ok:
                token = _api_token(response)
                if token:
                    for form in secret_forms(token):
                        add_to_secrets(form)
                    return token
                problem = "an answer without an api_token"
            else:
                problem = f"HTTP {response.status_code}"
                if response.status_code not in RETRYABLE:
                    raise AirbyteTracedException(
                        message=f"Could not sign in to Pivotal Tracker at {api_url}/me ({problem}): "
                        "check the API URL.",
                        failure_type=FailureType.config_error,
                    )
        if attempt < ATTEMPTS:
            wait = wait_seconds(response, attempt)
            refuse_wait_past_check(answer, wait)
            logger.info(f"Signing in to Pivotal Tracker failed ({problem}); retrying in {wait} s.")
            time.sleep(wait)
    raise AirbyteTracedException(
        message=f"Could not sign in to Pivotal Tracker with the username and password ({problem}).",
        failure_type=FailureType.transient_error,
    )


def _api_token(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    token = body.get("api_token") if isinstance(body, dict) else None
    return str(token) if token else None


def _refuse_redirect(answer: requests.Response | BaseException) -> None:
    """The password goes to api_url only: a redirect ends the sign-in, as a config error."""
    redirect = redirect_response(answer)
    if redirect is not None:
        raise AirbyteTracedException(
            message=redirect_refused(redirect), failure_type=FailureType.config_error
        )
