"""Config validation with messages that name the field and never echo its value."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

from .secret_forms import basic_auth_forms, secret_forms

HTTPS_RULE = (
    "must be an https:// URL (plain http:// is accepted only for localhost, 127.0.0.0/8 and ::1), "
    "so that credentials never cross a network in clear text"
)


def config_problem(config: Mapping[str, Any], spec: Mapping[str, Any]) -> str | None:
    """The most relevant problem of a config against the spec, as one sentence, or None."""
    if _url_credentials(config.get("api_url")):
        return "The config field 'api_url' must not contain a username or password; use 'credentials'."
    errors = [
        (_error_of_chosen_option(e) or e) if e.validator == "oneOf" else e
        for e in Draft7Validator(spec).iter_errors(config)
    ]
    error = best_match(errors)
    if error is None:
        return _source_problem(config, spec)
    field = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1]
        field = f"{field}.{missing}" if field else missing
        return f"The config field '{field}' is required."
    return f"The config field '{field or '<root>'}' {_rule(error)}."


def _source_problem(config: Mapping[str, Any], spec: Mapping[str, Any]) -> str | None:
    """A config reads the API (credentials) or exports (export_files), never both or neither."""
    if (config.get("credentials") is None) == (config.get("export_files") is None):
        return (
            "Set exactly one of the config fields 'credentials' (to read the Tracker API) "
            "and 'export_files' (to read Tracker export files)."
        )
    if config.get("export_projects") and config.get("export_files") is None:
        return "The config field 'export_projects' applies to export files only: set 'export_files' with it."
    for index, entry in enumerate(config.get("export_files") or ()):
        if URL_SCHEME.match(entry) and not url_follows_https_rule(entry, spec):
            return f"The config field 'export_files.{index}' {HTTPS_RULE}."
    return None


URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def url_follows_https_rule(url: str, spec: Mapping[str, Any]) -> bool:
    """https://, or http:// on loopback only: the api_url rule of the spec, for any URL."""
    return re.search(spec["properties"]["api_url"]["pattern"], url) is not None


# The field that picks a oneOf's option (its `const` in each option), and what its options are.
DISCRIMINATORS = {"auth_type": "authentication methods", "delivery_type": "delivery methods"}


def _discriminator(options: Any) -> str | None:
    first = options[0].get("properties", {}) if isinstance(options, list) and options else {}
    return next((key for key in DISCRIMINATORS if key in first), None)


def _error_of_chosen_option(error: ValidationError) -> ValidationError | None:
    """Of a oneOf failure, the error of the option the config chose with its `auth_type` (or
    `delivery_type`); None when it chose none of them.

    Left to itself, best_match may report that the *other* option wants another auth_type,
    when the user chose an option and left one of its fields out.
    """
    options = error.validator_value if isinstance(error.validator_value, list) else []
    key = _discriminator(options)
    chosen = error.instance.get(key) if key and isinstance(error.instance, Mapping) else None
    for index, option in enumerate(options):
        if key and option.get("properties", {}).get(key, {}).get("const") == chosen:
            errors = [e for e in error.context or [] if e.relative_schema_path[0] == index]
            return best_match(errors)
    return None


def _rule(error: ValidationError) -> str:
    rule, expected = error.validator, error.validator_value
    if rule == "type":
        return f"must be of type {expected}"
    if rule == "minimum":
        return f"must be at least {expected}"
    if rule == "maximum":
        return f"must be at most {expected}"
    if rule == "pattern" and list(error.absolute_path) == ["api_url"]:
        return HTTPS_RULE
    if rule in ("enum", "const"):
        return f"must be one of {list(expected) if isinstance(expected, list) else [expected]}"
    if rule == "uniqueItems":
        return "must not repeat a value"
    if rule == "additionalProperties":
        return f"has a field the spec does not know ({', '.join(map(repr, _unknown(error)))})"
    options = expected if rule == "oneOf" and isinstance(expected, list) else []
    key = _discriminator(options)
    if key:
        names = [option["properties"][key].get("const") for option in options]
        return f"must be one of the {DISCRIMINATORS[key]}: {', or '.join(names)}"
    return "does not match the spec"


def _unknown(error: ValidationError) -> list[str]:
    known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    return [str(name) for name in instance if name not in known]


def derived_secrets(config: Mapping[str, Any]) -> Iterable[str]:
    """Every form of every secret of the config that can reach the output (secret_forms.py).

    The Basic auth header of the /me login carries base64("username:password"); a password
    written into api_url is refused, and masked all the same, as is one in an export URL.
    """
    credentials = config.get("credentials") or {}
    if not isinstance(credentials, Mapping):
        credentials = {}
    secrets = [str(credentials.get(name) or "") for name in ("api_token", "password")]
    export_files = config.get("export_files")
    # The secrets are masked before the config is checked: export_files may be of any type yet.
    for url in (config.get("api_url"), *(export_files if isinstance(export_files, list) else ())):
        secrets += _url_credentials(url)
    for secret in secrets:
        yield from secret_forms(secret)
    if credentials.get("password"):
        yield from basic_auth_forms(str(credentials.get("username", "")), str(credentials["password"]))


def _url_credentials(url: Any) -> list[str]:
    """The password (and user) written into a URL as user:password@host, raw and decoded."""
    if not isinstance(url, str):
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [value for value in (parts.password, parts.username) if value]
    return found + [unquote(value) for value in found if unquote(value) != value]
