"""Amazon SES through the SESv2 API (boto3): the email as a raw MIME message, keyed by a tag.

    sesv2.send_email(FromEmailAddress=..., Destination={"ToAddresses": [to]},
                     Content={"Raw": {"Data": <MIME bytes>}},
                     EmailTags=[{"Name": "controlroom_key", "Value": <key>}])
    -> {"MessageId": "0100018f...-000000"}

Raw content carries the same MIME as SMTP (text plus HTML alternative, X-Controlroom-Key);
SES overrides the Message-ID header with its own, so the key reaches SES's event publishing
(CloudWatch, SNS, Firehose) through the tag and the X-Controlroom-Key header instead. The
sender (or its domain) must be a verified identity, and in the SES sandbox so must the
recipient. Credentials come from boto3's usual chain (environment, profile, instance role).

`find_sent` always returns None: SES has no API to look a sent message up by tag or header.
The guarantee across a crash between the send and its record is at-least-once.

botocore's own retries are off (one attempt per call); failures map to:

    TooManyRequestsException, LimitExceededException, HTTP 429,
    a connection refused or timed out before sending           EmailNotAcceptedError
    HTTP 5xx, a read timeout, a connection lost                VendorRetryableError
    MessageRejected, MailFromDomainNotVerifiedException,
    AccountSuspendedException, SendingPausedException,
    NotFoundException, BadRequestException, no credentials    VendorPermanentError
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
)

from shared.email._retry import retry_not_accepted
from shared.email.errors import EmailNotAcceptedError
from shared.email.message import OutgoingEmail, SentEmail, parse_mailbox, to_mime
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError, VendorRetryableError

VENDOR = "ses"
TAG_NAME = "controlroom_key"
NOT_ACCEPTED_CODES = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
)


class SesEmailSender:
    """The EmailSender port on Amazon SES (SESv2)."""

    provider = VENDOR

    def __init__(
        self,
        sender: str,
        *,
        region: str,
        endpoint_url: str | None = None,
        client: Any = None,
        policy: HttpPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parse_mailbox(sender)
        self.sender = sender
        self.policy = policy or HttpPolicy()
        self._sleep = sleep
        self._client = client or boto3.client(
            "sesv2",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(
                retries={"total_max_attempts": 1},
                connect_timeout=self.policy.connect_timeout_s,
                read_timeout=self.policy.timeout_s,
            ),
        )

    def send(self, email: OutgoingEmail) -> SentEmail:
        """Send the raw MIME message; retried only while SES throttles or cannot be reached."""
        raw = to_mime(email, self.sender).as_bytes()

        def attempt() -> dict[str, Any]:
            try:
                answer: dict[str, Any] = self._client.send_email(
                    FromEmailAddress=self.sender,
                    Destination={"ToAddresses": [email.to]},
                    Content={"Raw": {"Data": raw}},
                    EmailTags=[{"Name": TAG_NAME, "Value": email.idempotency_key}],
                )
            except (ClientError, BotoCoreError) as error:
                raise ses_error(error) from error
            return answer

        answer = retry_not_accepted(attempt, self.policy, self._sleep)
        return SentEmail(provider=VENDOR, provider_message_id=str(answer.get("MessageId", "")))

    def find_sent(self, idempotency_key: str) -> SentEmail | None:
        """Always None: SES cannot be asked for a message by its tag."""
        return None


def ses_error(error: ClientError | BotoCoreError) -> Exception:
    """The controlroom error for a boto3 failure of SendEmail."""
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        message = str(error.response.get("Error", {}).get("Message", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        text = f"{code}: {message}" if message else code
        if code in NOT_ACCEPTED_CODES or status == 429:
            return EmailNotAcceptedError(VENDOR, text, status=status)
        if isinstance(status, int) and status >= 500:
            return VendorRetryableError(VENDOR, text, status=status)
        return VendorPermanentError(VENDOR, text, status=status)
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        return EmailNotAcceptedError(VENDOR, f"could not connect: {error}")
    if isinstance(error, NoCredentialsError | NoRegionError | ParamValidationError):
        return VendorPermanentError(VENDOR, str(error))
    return VendorRetryableError(VENDOR, f"may have been sent: {error}")
