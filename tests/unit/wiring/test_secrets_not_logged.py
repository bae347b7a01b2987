"""Secrets never show: not in repr(settings), not in a settings error, not in a JSON log line."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from shared.core.log import CloudLoggingFormatter
from shared.wiring.settings import Settings

# Settings that hold a secret without being typed SecretStr at the top level.
TOKEN_SETTINGS = {"api_token", "status_tokens", "tracking_keys"}


def _secret(name: str) -> str:
    return f"sekrit-{name.replace('_', '-')}-{uuid.uuid4().hex}"


def _secret_fields() -> set[str]:
    return {
        name
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation) or name in TOKEN_SETTINGS
    }


def _configure_every_secret(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Set every secret setting through the environment; returns name -> the raw secret."""
    secrets: dict[str, str] = {}
    env: dict[str, str] = {}
    for name in sorted(_secret_fields()):
        value = secrets[name] = _secret(name)
        if name == "webhook_secrets":
            platforms = ("tiktok", "linkedin", "zendesk", "stripe", "generic")
            for platform in platforms:
                secrets[f"{name}.{platform}"] = _secret(platform)
            env[name] = json.dumps({p: secrets[f"{name}.{p}"] for p in platforms})
            del secrets[name]
        elif name == "status_tokens":
            env[name] = json.dumps({"alice": f"act:{value}", "dash": f"read:{value}-ro"})
        elif name == "tracking_keys":
            env[name] = json.dumps({"web": {"key": value, "tier": "free"}})
        else:
            env[name] = value
    for name, value in env.items():
        monkeypatch.setenv(f"CONTROLROOM_{name.upper()}", value)
    return secrets


def _leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value in text]


def test_every_secret_setting_is_configured_by_this_test() -> None:
    # A new secret setting must be added here (and kept out of logs) before this passes.
    assert _secret_fields() == {
        "api_token",
        "status_tokens",
        "status_session_secret",
        "stripe_api_key",
        "webhook_secrets",
        "tracking_keys",
        "tiktok_access_token",
        "linkedin_access_token",
        "zendesk_api_token",
        "slack_bot_token",
        "smtp_password",
        "sendgrid_api_key",
        "mailgun_api_key",
        "email_link_secret",
        "llm_openai_api_key",
        "langsmith_api_key",
        "peopledatalabs_api_key",
        "google_ads_developer_token",
        "meta_access_token",
        "linkedin_ads_access_token",
    }


def test_the_settings_print_and_dump_without_their_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = _configure_every_secret(monkeypatch)

    settings = Settings()

    assert settings.api_token == secrets["api_token"]  # they did load
    assert settings.llm_openai_api_key is not None
    assert settings.llm_openai_api_key.get_secret_value() == secrets["llm_openai_api_key"]
    for shown in (repr(settings), str(settings), settings.model_dump_json(), f"{settings!r}"):
        assert _leaks(shown, secrets) == []
    assert _leaks(str(settings.model_dump()), secrets) == []


@pytest.mark.parametrize(
    ("broken", "value"),
    [
        ("smtp_port", "not-a-port"),
        # A malformed secret is named in the error, never echoed.
        ("status_tokens", '{"alice": "no-scope-SECRET"}'),
        ("status_tokens", '{"alice": "act:SECRET", "bob": "act:SECRET"}'),
        ("tracking_keys", '{"web": {"key": "has space SECRET"}}'),
        ("tracking_keys", '{"web": {"key": "SECRET", "tier": "free", "extra": "SECRET"}}'),
        ("webhook_secrets", '{"generic": "SECRET"'),
        ("status_tokens", '{"api": "act:SECRET"}'),
    ],
)
def test_a_settings_error_names_the_setting_but_shows_no_secret(
    monkeypatch: pytest.MonkeyPatch, broken: str, value: str
) -> None:
    secrets = _configure_every_secret(monkeypatch)
    bad_secret = _secret("broken")
    secrets["broken"] = bad_secret
    monkeypatch.setenv(f"CONTROLROOM_{broken.upper()}", value.replace("SECRET", bad_secret))

    with pytest.raises((ValidationError, ValueError)) as caught:
        Settings()

    message = f"{caught.value}\n{caught.value!r}"
    if isinstance(caught.value, ValidationError):
        message += json.dumps(caught.value.errors(include_input=False), default=str)
    assert broken in message
    assert _leaks(message, secrets) == []


def _formatted(message: str, *args: object, fields: dict[str, Any] | None = None) -> str:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, message, args, None)
    if fields is not None:
        record.fields = fields
    return CloudLoggingFormatter("test-service", project="test-project").format(record)


def test_a_json_log_line_about_the_settings_shows_no_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets = _configure_every_secret(monkeypatch)
    settings = Settings()
    try:
        Settings(smtp_port="x")  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc
    try:
        raise RuntimeError("settings rejected") from error
    except RuntimeError:
        exc_info = sys.exc_info()

    lines = [
        _formatted("starting with %s", settings),
        _formatted("starting with %r", settings),
        _formatted("settings", fields={"settings": settings}),
        _formatted("settings", fields={"settings": settings.model_dump()}),
        _formatted("credentials %s", settings.webhook_secrets),
        _formatted("tokens %s %s", settings.status_tokens, settings.tracking_keys),
    ]
    record = logging.LogRecord("test", logging.ERROR, __file__, 1, "bad: %s", (error,), exc_info)
    lines.append(CloudLoggingFormatter("test-service").format(record))

    assert all(json.loads(line)["service"] == "test-service" for line in lines)
    assert [_leaks(line, secrets) for line in lines] == [[]] * len(lines)
