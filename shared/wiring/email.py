"""The EmailSender that the settings choose (CONTROLROOM_EMAIL_PROVIDER), checked up front.

    provider   needs (CONTROLROOM_...)                        optional
    smtp       SMTP_HOST, SMTP_PORT (defaults: the local sink)  SMTP_USERNAME + SMTP_PASSWORD
                                                              (both or neither), SMTP_STARTTLS
    sendgrid   SENDGRID_API_KEY                                SENDGRID_BASE_URL
    mailgun    MAILGUN_API_KEY, MAILGUN_DOMAIN                 MAILGUN_BASE_URL
    ses        SES_REGION (default us-east-1), AWS credentials  SES_ENDPOINT_URL
               from boto3's chain

EMAIL_FROM must be one address ("Name <addr@domain>" or "addr@domain"). A missing or wrong
setting raises EmailConfigError naming the variable: never a silent fallback to another
provider.
"""

from __future__ import annotations

import hashlib

from pydantic import SecretStr

from shared.email.errors import EmailConfigError
from shared.email.message import parse_mailbox
from shared.email.ports import EmailSender
from shared.email.unsubscribe import Mailing
from shared.wiring.services import services
from shared.wiring.settings import Settings


def build_email_sender(settings: Settings) -> EmailSender:
    """The configured provider's sender; EmailConfigError when a setting it needs is missing."""
    try:
        parse_mailbox(settings.email_from)
    except ValueError as error:
        raise EmailConfigError(f"CONTROLROOM_EMAIL_FROM is not one address: {error}") from error
    provider = settings.email_provider
    if provider == "sendgrid":
        from shared.email.sendgrid import SendGridEmailSender

        return SendGridEmailSender(
            _required(settings.sendgrid_api_key, "SENDGRID_API_KEY", provider),
            settings.email_from,
            base_url=settings.sendgrid_base_url,
        )
    if provider == "mailgun":
        from shared.email.mailgun import MailgunEmailSender

        return MailgunEmailSender(
            _required(settings.mailgun_api_key, "MAILGUN_API_KEY", provider),
            _required(settings.mailgun_domain, "MAILGUN_DOMAIN", provider),
            settings.email_from,
            base_url=settings.mailgun_base_url,
        )
    if provider == "ses":
        from shared.email.ses import SesEmailSender

        return SesEmailSender(
            settings.email_from,
            region=_required(settings.ses_region, "SES_REGION", provider),
            endpoint_url=settings.ses_endpoint_url or None,
        )
    from shared.email.smtp import SmtpEmailSender

    username = settings.smtp_username or None
    password = _secret(settings.smtp_password)
    if (username is None) != (password is None):
        raise EmailConfigError(
            "SMTP login is set in part: set both CONTROLROOM_SMTP_USERNAME and "
            "CONTROLROOM_SMTP_PASSWORD, or neither"
        )
    return SmtpEmailSender(
        settings.email_from,
        host=_required(settings.smtp_host, "SMTP_HOST", provider),
        port=settings.smtp_port,
        username=username,
        password=password,
        starttls=settings.smtp_starttls,
        received_dir=settings.smtp_received_dir,
    )


def _secret(value: SecretStr | str | None) -> str | None:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value or None


def _required(value: SecretStr | str | None, name: str, provider: str) -> str:
    found = _secret(value)
    if found is None or not found.strip():
        raise EmailConfigError(
            f"CONTROLROOM_EMAIL_PROVIDER={provider} needs CONTROLROOM_{name} to be set"
        )
    return found


def email_link_secret(settings: Settings) -> bytes:
    """The key that signs unsubscribe links and offer codes: CONTROLROOM_EMAIL_LINK_SECRET, or
    one derived from the API token when unset (set it in the cloud: links in emails already
    sent stop working when the key changes)."""
    configured = _secret(settings.email_link_secret)
    if configured is not None:
        return configured.encode()
    return hashlib.sha256(b"controlroom email links\0" + settings.api_token.encode()).digest()


def shop_name(settings: Settings) -> str:
    """Who the emails are from, as people call it: EMAIL_FROM's name, else its domain."""
    sender = parse_mailbox(settings.email_from)
    return sender.display_name or sender.domain


def mailing() -> Mailing:
    """The suppression list (Firestore, sharing the store's client) and the link maker
    (cheap: nothing connects here)."""
    from shared.email.firestore import FirestoreSuppressions

    svc = services()
    return Mailing(
        suppressions=FirestoreSuppressions(svc.settings.project_id, client=svc.store.client),
        secret=email_link_secret(svc.settings),
        base_url=svc.settings.status_url,
        shop=shop_name(svc.settings),
    )
