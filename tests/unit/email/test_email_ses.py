"""How SES failures map to retry or not, with botocore's own exception types.

The sends themselves run against moto's SES in tests/integration/test_email_ses.py; moto
cannot throttle, so throttling is replayed here by a client that raises SES's documented
error shapes before answering.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from shared.email import EmailNotAcceptedError, OutgoingEmail
from shared.email.ses import SesEmailSender, ses_error
from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError, VendorRetryableError

EMAIL = OutgoingEmail(
    to="ana.diaz@example.com", subject="We miss you", text="Hi", idempotency_key="k-1"
)


def client_error(code: str, status: int, message: str = "") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "SendEmail",
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("TooManyRequestsException", 429, "Too many requests"), EmailNotAcceptedError),
        (
            client_error("LimitExceededException", 400, "Daily quota exceeded"),
            EmailNotAcceptedError,
        ),
        (client_error("Throttling", 400, "Maximum sending rate exceeded."), EmailNotAcceptedError),
        (
            EndpointConnectionError(endpoint_url="https://email.eu-west-1.amazonaws.com"),
            EmailNotAcceptedError,
        ),
        (
            ConnectTimeoutError(endpoint_url="https://email.eu-west-1.amazonaws.com"),
            EmailNotAcceptedError,
        ),
        (client_error("InternalFailure", 500), VendorRetryableError),
        (
            ReadTimeoutError(endpoint_url="https://email.eu-west-1.amazonaws.com"),
            VendorRetryableError,
        ),
        (
            client_error("MessageRejected", 400, "Email address is not verified."),
            VendorPermanentError,
        ),
        (client_error("AccountSuspendedException", 400), VendorPermanentError),
        (client_error("SendingPausedException", 400), VendorPermanentError),
        (client_error("MailFromDomainNotVerifiedException", 400), VendorPermanentError),
        (NoCredentialsError(), VendorPermanentError),
    ],
)
def test_each_failure_maps_to_its_kind(error: Exception, expected: type[Exception]) -> None:
    mapped = ses_error(error)  # type: ignore[arg-type]

    assert type(mapped) is expected


class ThrottlingThenAccepting:
    """A SESv2 client that throttles `throttles` times, then accepts."""

    def __init__(self, throttles: int) -> None:
        self.throttles = throttles
        self.calls: list[dict[str, Any]] = []

    def send_email(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if len(self.calls) <= self.throttles:
            raise client_error("TooManyRequestsException", 429, "Too many requests")
        return {"MessageId": "0102018f2d5e8a3b-4c1d9e7f-2a6b-4c8d-9e0f-1a2b3c4d5e6f-000000"}


def test_a_throttled_send_is_retried_with_backoff() -> None:
    client = ThrottlingThenAccepting(throttles=2)
    waits: list[float] = []
    sender = SesEmailSender(
        "hello@shop.example", region="eu-west-1", client=client, sleep=waits.append
    )

    sent = sender.send(EMAIL)

    assert sent.provider_message_id.startswith("0102018f2d5e8a3b")
    assert len(client.calls) == 3
    assert waits == [0.5, 1.0]


def test_a_throttle_that_persists_propagates() -> None:
    client = ThrottlingThenAccepting(throttles=5)
    sender = SesEmailSender(
        "hello@shop.example",
        region="eu-west-1",
        client=client,
        policy=HttpPolicy(max_attempts=2, backoff_s=0),
        sleep=lambda _: None,
    )

    with pytest.raises(EmailNotAcceptedError, match="TooManyRequestsException"):
        sender.send(EMAIL)
    assert len(client.calls) == 2
