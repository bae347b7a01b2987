"""Platform webhooks through the webhooks function: verified, stored once, handed to support."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import flask
import pytest
from google.api_core.exceptions import ServiceUnavailable

from shared.adapters.firestore_conversations import FirestoreConversations
from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.pubsub_bus import PubSubBus
from shared.app.ingest_webhook import WebhookOutcome, ingest_stripe_webhook
from shared.core.messages import BillingEvent, SupportMessage
from shared.core.models import Message, utcnow
from shared.core.topology import BILLING_EVENTS_TOPIC, SUPPORT_MESSAGES_TOPIC
from shared.security.signatures import sign_generic
from tests.conftest import WEBHOOK_SECRETS, Emulators
from tests.helpers.functions_app import function_client
from tests.helpers.pubsub import TopicTap

pytestmark = pytest.mark.integration

PAYLOADS = Path(__file__).resolve().parents[1] / "unit" / "payloads" / "webhooks"
GENERIC = (PAYLOADS / "generic_message.json").read_bytes()
NUL_IN_ID = json.dumps({**json.loads(GENERIC), "conversation_id": "conv\u00001"}).encode()


@pytest.fixture
def client(clean_emulators: Emulators) -> flask.testing.FlaskClient:
    return function_client("webhooks", "handle_webhook", "http")


@pytest.fixture
def support_topic(emulators: Emulators) -> Iterator[TopicTap]:
    tap = TopicTap(emulators.project, SUPPORT_MESSAGES_TOPIC)
    yield tap
    tap.close()


def _signed(
    body: bytes, secret: str = WEBHOOK_SECRETS["generic"], at: int | None = None
) -> dict[str, str]:
    return {
        **sign_generic(body, secret, at or int(time.time())),
        "Content-Type": "application/json",
    }


def _stored(emulators: Emulators) -> tuple[list[str], list[str]]:
    store = FirestoreConversations(emulators.project)
    conversations = [d.id for d in store.client.collection("conversations").list_documents()]
    inbound = [d.id for d in store.client.collection("inbound").list_documents()]
    return conversations, inbound


def test_a_signed_message_is_stored_once_and_handed_to_the_support_agent(
    client: flask.testing.FlaskClient, support_topic: TopicTap, clean_emulators: Emulators
) -> None:
    first = client.post("/webhooks/generic", data=GENERIC, headers=_signed(GENERIC))
    again = client.post("/webhooks/generic", data=GENERIC, headers=_signed(GENERIC))

    assert (first.status_code, first.get_json()) == (200, {"accepted": 1, "duplicates": 0})
    assert (again.status_code, again.get_json()) == (200, {"accepted": 0, "duplicates": 1})
    [published] = support_topic.pull(expected=1)
    assert support_topic.pull(expected=1, timeout_s=2) == []
    message = SupportMessage.model_validate_json(published.data)
    assert message.inbound.platform_message_id == "msg_01JBDX7K9Q4W2C8YV3N5T6R0ZA"
    assert published.attributes["kind"] == "support_message"
    store = FirestoreConversations(clean_emulators.project)
    conversation = store.get_conversation(message.inbound.conversation_key)
    assert conversation is not None and conversation.status == "open"
    assert [
        (m.role, m.text[:4]) for m in store.list_messages(message.inbound.conversation_key)
    ] == [("customer", "Hola")]


# Headers are signed when the test runs, not when it is collected: a long session would
# otherwise push every signature out of the replay window.
@pytest.mark.parametrize(
    ("headers", "body", "status", "error"),
    [
        (lambda: {"Content-Type": "application/json"}, GENERIC, 401, "missing"),
        (lambda: _signed(GENERIC, secret="wrong"), GENERIC, 401, "signature"),
        (lambda: _signed(GENERIC, at=int(time.time()) - 3600), GENERIC, 401, "timestamp"),
        (lambda: {**_signed(GENERIC), "Content-Type": "text/plain"}, GENERIC, 415, "Content-Type"),
        (lambda: _signed(b"x" * 70_000), b"x" * 70_000, 413, "larger than"),
        (lambda: _signed(b'{"message_id": "m1"}'), b'{"message_id": "m1"}', 400, "conversation_id"),
        (lambda: _signed(b"[1, 2]"), b"[1, 2]", 400, "JSON object"),
        (lambda: _signed(NUL_IN_ID), NUL_IN_ID, 400, "conversation_id: Value error, must not"),
    ],
    ids=[
        "unsigned",
        "wrong-secret",
        "stale",
        "text-plain",
        "too-large",
        "no-conversation",
        "array",
        "nul-in-id",
    ],
)
def test_a_rejected_webhook_says_why_and_stores_nothing(
    client: flask.testing.FlaskClient,
    support_topic: TopicTap,
    clean_emulators: Emulators,
    headers: Callable[[], dict[str, str]],
    body: bytes,
    status: int,
    error: str,
) -> None:
    response = client.post("/webhooks/generic", data=body, headers=headers())

    assert response.status_code == status
    assert error.lower() in response.get_json()["error"].lower()
    assert _stored(clean_emulators) == ([], [])
    assert support_topic.pull_now() == []


def test_unknown_platform_is_404(client: flask.testing.FlaskClient) -> None:
    response = client.post("/webhooks/myspace", data=b"{}", headers=_signed(b"{}"))

    assert response.status_code == 404


def test_linkedin_challenge_handshake(client: flask.testing.FlaskClient) -> None:
    response = client.get("/webhooks/linkedin?challengeCode=890e4665-4dfe-4ab1-b689-ed553bceeed3")

    body = response.get_json()
    assert response.status_code == 200
    assert body["challengeCode"] == "890e4665-4dfe-4ab1-b689-ed553bceeed3"
    assert len(body["challengeResponse"]) == 64


def test_a_stripe_cancellation_is_stored_once_and_published_for_the_workflows(
    client: flask.testing.FlaskClient, emulators: Emulators
) -> None:
    tap = TopicTap(emulators.project, BILLING_EVENTS_TOPIC)
    body = (PAYLOADS / "stripe_customer_subscription_deleted.json").read_bytes()

    try:
        stamp = str(int(time.time()))
        digest = hmac.new(
            WEBHOOK_SECRETS["stripe"].encode(), f"{stamp}.".encode() + body, hashlib.sha256
        )
        headers = {
            "Stripe-Signature": f"t={stamp},v1={digest.hexdigest()}",
            "Content-Type": "application/json",
        }
        first = client.post("/webhooks/stripe", data=body, headers=headers)
        again = client.post("/webhooks/stripe", data=body, headers=headers)
        [published] = tap.pull(expected=1)
    finally:
        tap.close()

    assert first.get_json() == {"accepted": 1, "duplicates": 0}
    assert again.get_json() == {"accepted": 0, "duplicates": 1}
    event = json.loads(published.data)["event"]
    assert event["type"] == "customer.subscription.deleted" and event["is_churn_signal"] is True


class _PublishFailsOnce:
    """The real bus, except that its first publish fails as a broker outage would."""

    def __init__(self, bus: PubSubBus) -> None:
        self.bus = bus
        self.failed = False

    def publish(self, topic: str, message: Message, **attributes: str) -> str:
        if not self.failed:
            self.failed = True
            raise ServiceUnavailable("the broker is unreachable")
        return self.bus.publish(topic, message, **attributes)


def test_a_stripe_event_whose_publish_failed_is_published_when_stripe_redelivers_it(
    clean_emulators: Emulators,
) -> None:
    """Stored but not published: Stripe's retry must publish it, not be told 'duplicate'."""
    payload = json.loads((PAYLOADS / "stripe_customer_subscription_deleted.json").read_bytes())
    store = FirestoreStore(clean_emulators.project)
    bus = _PublishFailsOnce(PubSubBus(clean_emulators.project))
    tap = TopicTap(clean_emulators.project, BILLING_EVENTS_TOPIC)
    try:
        with pytest.raises(ServiceUnavailable):
            ingest_stripe_webhook(payload, store=store, bus=bus, clock=utcnow)
        redelivered = ingest_stripe_webhook(payload, store=store, bus=bus, clock=utcnow)
        again = ingest_stripe_webhook(payload, store=store, bus=bus, clock=utcnow)
        published = tap.pull(expected=2, timeout_s=5)
    finally:
        tap.close()

    assert redelivered == WebhookOutcome(accepted=1, duplicates=0)
    assert again == WebhookOutcome(accepted=0, duplicates=1)
    # One publish, so one win-back run: the run id derives from the event id.
    assert [BillingEvent.model_validate_json(m.data).event.id for m in published] == [payload["id"]]
