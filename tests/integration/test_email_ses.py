"""The SES sender through real boto3 against moto's SES served on loopback (server mode).

What SES received is read back over moto's own inspection API (`/moto-api/data.json`), and
what boto3 put on the wire is captured with botocore's before-send event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from email import message_from_string, policy
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from emulators.processes import free_port
from shared.email import OutgoingEmail, SentEmail, idempotency_key
from shared.email.ses import SesEmailSender
from shared.http.errors import VendorPermanentError
from shared.wiring.email import build_email_sender
from shared.wiring.settings import Settings

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
SENDER = "Shop <hello@shop.example>"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's server on a free loopback port, with fake AWS credentials in the environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.delenv("AWS_PROFILE", raising=False)
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


@pytest.fixture
def endpoint(moto_endpoint: str) -> str:
    """The moto endpoint, emptied, with the sender's address verified."""
    httpx.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    ses = boto3.client("sesv2", region_name=REGION, endpoint_url=moto_endpoint)
    ses.create_email_identity(EmailIdentity="hello@shop.example")
    return moto_endpoint


def sent_raw_messages(endpoint: str) -> list[dict[str, Any]]:
    data = httpx.get(f"{endpoint}/moto-api/data.json", timeout=10).json()
    return list(data["ses"]["RawMessage"])


def email(customer: str = "cus_0042") -> OutgoingEmail:
    return OutgoingEmail(
        to="Ana Díaz <ana.diaz@example.com>",
        subject="We miss you, Ana",
        text="Come back for 20% off.",
        html="<p>Come back for 20% off.</p>",
        idempotency_key=idempotency_key("run-2026-11-16", customer),
    )


def test_an_email_reaches_ses_as_raw_mime_tagged_with_its_key(endpoint: str) -> None:
    client = boto3.client("sesv2", region_name=REGION, endpoint_url=endpoint)
    bodies: list[dict[str, Any]] = []
    client.meta.events.register(
        "before-send.sesv2.SendEmail",
        lambda request, **_: bodies.append(json.loads(request.body)),
    )
    sender = SesEmailSender(SENDER, region=REGION, client=client)
    outgoing = email()

    sent = sender.send(outgoing)

    (stored,) = sent_raw_messages(endpoint)
    assert sent == SentEmail(provider="ses", provider_message_id=stored["id"])
    mime = message_from_string(stored["raw_data"], policy=policy.default)
    assert mime["Message-ID"] == outgoing.message_id
    assert mime["X-Controlroom-Key"] == outgoing.idempotency_key
    assert mime["To"] == "Ana Díaz <ana.diaz@example.com>"
    html = mime.get_body(preferencelist=("html",))
    assert html is not None and "20% off" in html.get_content()
    (body,) = bodies
    assert body["FromEmailAddress"] == SENDER
    assert body["Destination"] == {"ToAddresses": ["Ana Díaz <ana.diaz@example.com>"]}
    assert body["EmailTags"] == [{"Name": "controlroom_key", "Value": outgoing.idempotency_key}]


def test_the_factory_builds_a_sender_for_the_configured_endpoint(endpoint: str) -> None:
    sender = build_email_sender(
        Settings(
            email_provider="ses",
            email_from=SENDER,
            ses_region=REGION,
            ses_endpoint_url=endpoint,
        )
    )

    sender.send(email("cus_1"))
    sender.send(email("cus_1"))

    assert len(sent_raw_messages(endpoint)) == 2  # SES has no dedupe of its own
    assert sender.find_sent(email("cus_1").idempotency_key) is None


def test_an_unverified_sender_is_refused_for_good(endpoint: str) -> None:
    sender = SesEmailSender("Other <other@elsewhere.example>", region=REGION, endpoint_url=endpoint)

    with pytest.raises(VendorPermanentError, match="MessageRejected") as caught:
        sender.send(email())
    assert caught.value.status == 400
    assert sent_raw_messages(endpoint) == []
