"""The outgoing email, its key and MIME form, and choosing a provider from settings."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from pydantic import SecretStr, ValidationError

from shared.email import EmailConfigError, OutgoingEmail, idempotency_key
from shared.email.mailgun import MailgunEmailSender
from shared.email.message import to_mime
from shared.email.sendgrid import SendGridEmailSender
from shared.email.ses import SesEmailSender
from shared.email.smtp import SmtpEmailSender
from shared.wiring.email import build_email_sender
from shared.wiring.settings import Settings

KEY = "winback-run_2026_11_16-cus_0042-5f1c2a9e8b7d6c4f"


def email(**changes: object) -> OutgoingEmail:
    fields: dict[str, object] = {
        "to": "Ana Díaz <ana.diaz@example.com>",
        "subject": "We miss you, Ana",
        "text": "Come back for 20% off your next order.",
        "html": "<p>Come back for <b>20% off</b> your next order.</p>",
        "idempotency_key": KEY,
    }
    fields.update(changes)
    return OutgoingEmail.model_validate(fields)


def test_the_key_is_deterministic_readable_and_safe_for_every_provider() -> None:
    key = idempotency_key("run 2026/11/16", "cus:0042")

    assert key == idempotency_key("run 2026/11/16", "cus:0042")
    assert key.startswith("run_2026_11_16-cus_0042-")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,200}", key)
    # Parts that look alike once made safe still get different keys.
    assert idempotency_key("run 1", "a") != idempotency_key("run_1", "a")
    assert idempotency_key("a-b", "c") != idempotency_key("a", "b-c")


def test_a_long_key_stays_within_the_limit() -> None:
    key = idempotency_key("r" * 500, "c" * 500)

    assert len(key) <= 200
    assert OutgoingEmail.model_validate(
        {"to": "a@b.example", "subject": "s", "text": "t", "idempotency_key": key}
    )


def test_the_message_id_carries_the_key() -> None:
    assert email().message_id == f"<{KEY}@controlroom>"


@pytest.mark.parametrize(
    "changes",
    [
        {"idempotency_key": "has:colon"},
        {"idempotency_key": "has space"},
        {"idempotency_key": ""},
        {"idempotency_key": "k" * 201},
        {"to": "not an address"},
        {"to": "a@b.example, c@d.example"},
        {"subject": "two\nlines"},
        {"subject": ""},
        {"unknown": "field"},
        {"headers": {"From": "someone@else.example"}},
        {"headers": {"X-Controlroom-Key": "other"}},
        {"headers": {"List-Unsubscribe": "<https://a.example>\r\nBcc: b@c.example"}},
        {"headers": {"Bad Name": "x"}},
    ],
)
def test_an_invalid_email_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        email(**changes)


def test_the_mime_form_has_text_html_and_the_key_headers() -> None:
    raw = to_mime(email(), "Shop <hello@shop.example>").as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)

    assert parsed["Message-ID"] == f"<{KEY}@controlroom>"
    assert parsed["X-Controlroom-Key"] == KEY
    assert parsed["From"] == "Shop <hello@shop.example>"
    assert parsed["To"] == "Ana Díaz <ana.diaz@example.com>"
    assert parsed["Subject"] == "We miss you, Ana"
    assert parsed["Date"]
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert plain is not None and "20% off" in plain.get_content()
    assert html is not None and "<b>20% off</b>" in html.get_content()


def test_more_headers_travel_in_the_mime_form() -> None:
    unsubscribe = {"List-Unsubscribe": "<https://s.example/u?a=1>"}
    unsubscribe["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    raw = to_mime(email(headers=unsubscribe), "hello@shop.example").as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)

    assert parsed["List-Unsubscribe"] == "<https://s.example/u?a=1>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_text_only_email_is_a_single_part() -> None:
    parsed = message_from_bytes(to_mime(email(html=None), "hello@shop.example").as_bytes())

    assert parsed.get_content_type() == "text/plain"


def settings(**values: object) -> Settings:
    return Settings.model_validate(values)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, SmtpEmailSender),
        ({"email_provider": "sendgrid", "sendgrid_api_key": "SG.k"}, SendGridEmailSender),
        (
            {"email_provider": "mailgun", "mailgun_api_key": "k", "mailgun_domain": "mg.x.io"},
            MailgunEmailSender,
        ),
        (
            {"email_provider": "ses", "ses_endpoint_url": "http://127.0.0.1:1"},
            SesEmailSender,
        ),
    ],
)
def test_the_factory_builds_the_chosen_provider(
    values: dict[str, object], expected: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    sender = build_email_sender(settings(**values))

    assert isinstance(sender, expected)
    assert sender.provider == expected.provider  # type: ignore[attr-defined]


def test_smtp_settings_reach_the_sender() -> None:
    sender = build_email_sender(
        settings(
            smtp_host="mail.example",
            smtp_port=587,
            smtp_username="u",
            smtp_password=SecretStr("p"),
            smtp_starttls=True,
        )
    )

    assert isinstance(sender, SmtpEmailSender)
    assert (sender.host, sender.port, sender.username, sender.starttls) == (
        "mail.example",
        587,
        "u",
        True,
    )


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ({"email_provider": "sendgrid"}, "CONTROLROOM_SENDGRID_API_KEY"),
        ({"email_provider": "sendgrid", "sendgrid_api_key": ""}, "CONTROLROOM_SENDGRID_API_KEY"),
        ({"email_provider": "mailgun", "mailgun_domain": "mg.x.io"}, "CONTROLROOM_MAILGUN_API_KEY"),
        ({"email_provider": "mailgun", "mailgun_api_key": "k"}, "CONTROLROOM_MAILGUN_DOMAIN"),
        ({"email_provider": "ses", "ses_region": ""}, "CONTROLROOM_SES_REGION"),
        ({"smtp_username": "u"}, "CONTROLROOM_SMTP_PASSWORD"),
        ({"smtp_password": "p"}, "CONTROLROOM_SMTP_USERNAME"),
        ({"email_from": "nobody"}, "CONTROLROOM_EMAIL_FROM"),
    ],
)
def test_missing_settings_are_named(values: dict[str, object], names: str) -> None:
    with pytest.raises(EmailConfigError, match=names):
        build_email_sender(settings(**values))
