"""The site chat served by the status function: the page, posting, polling, and its limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import flask
import pytest
from werkzeug.test import TestResponse

from shared.adapters.firestore_conversations import FirestoreConversations
from shared.core.documents import TicketDoc
from shared.core.messages import SupportMessage
from shared.core.topology import SUPPORT_MESSAGES_TOPIC
from tests.conftest import Emulators
from tests.helpers.functions_app import function_client
from tests.helpers.pubsub import TopicTap
from tests.helpers.tickets import open_ticket

pytestmark = pytest.mark.integration

VISITOR = "visitor0001abcd"
KEY = f"generic:{VISITOR}"


@pytest.fixture
def client(clean_emulators: Emulators) -> flask.testing.FlaskClient:
    return function_client("status", "status_page", "http")


@pytest.fixture
def store(clean_emulators: Emulators) -> FirestoreConversations:
    return FirestoreConversations(clean_emulators.project)


@pytest.fixture
def support_topic(emulators: Emulators) -> Iterator[TopicTap]:
    tap = TopicTap(emulators.project, SUPPORT_MESSAGES_TOPIC)
    yield tap
    tap.close()


def _post(client: flask.testing.FlaskClient, **fields: object) -> TestResponse:
    body = {"conversation_id": VISITOR, **fields}
    return client.post("/chat/messages", json=body)


def test_the_chat_page_is_plain_html_that_posts_and_polls(
    client: flask.testing.FlaskClient,
) -> None:
    response = client.get("/chat")
    html = response.get_data(as_text=True)

    assert response.status_code == 200 and response.mimetype == "text/html"
    assert '"/chat/messages"' in html and '"/chat/conversations/"' in html
    assert "textContent" in html and "innerHTML" not in html


def test_a_chat_message_is_stored_once_and_handed_to_the_support_agent(
    client: flask.testing.FlaskClient, store: FirestoreConversations, support_topic: TopicTap
) -> None:
    first = _post(client, message_id="msg00000001", text="  Where is my order #1042?  ")
    retried = _post(client, message_id="msg00000001", text="Where is my order #1042?")

    assert (first.status_code, first.get_json()) == (202, {"accepted": 1, "duplicates": 0})
    assert (retried.status_code, retried.get_json()) == (200, {"accepted": 0, "duplicates": 1})
    [published] = support_topic.pull(expected=1)
    assert support_topic.pull(expected=1, timeout_s=2) == []
    message = SupportMessage.model_validate_json(published.data)
    assert message.inbound.conversation_key == KEY
    assert message.inbound.platform_message_id == f"{VISITOR}.msg00000001"
    assert message.inbound.text == "Where is my order #1042?"
    assert [(m.role, m.text) for m in store.list_messages(KEY)] == [
        ("customer", "Where is my order #1042?")
    ]
    conversation = store.get_conversation(KEY)
    assert conversation is not None and conversation.platform == "generic"


def test_polling_shows_the_thread_and_when_a_person_takes_over(
    client: flask.testing.FlaskClient, store: FirestoreConversations, support_topic: TopicTap
) -> None:
    empty = client.get(f"/chat/conversations/{VISITOR}.json").get_json()
    _post(client, message_id="msg00000002", text="<img src=x onerror=alert(1)> refund please")
    before = client.get(f"/chat/conversations/{VISITOR}.json")
    open_ticket(
        store,
        TicketDoc(
            ticket_id=f"generic:{VISITOR}.msg00000002",
            conversation_key=KEY,
            message_id=f"generic:{VISITOR}.msg00000002",
            reason="refund request",
            created_at=datetime.now(UTC),
        ),
        datetime.now(UTC),
    )
    after = client.get(f"/chat/conversations/{VISITOR}.json").get_json()

    assert empty == {
        "conversation_id": VISITOR, "status": "open", "human_took_over": False, "messages": []
    }  # fmt: skip
    assert before.headers["Cache-Control"] == "no-store"
    assert [(m["role"], m["text"]) for m in before.get_json()["messages"]] == [
        ("customer", "<img src=x onerror=alert(1)> refund please")
    ]
    assert (after["status"], after["human_took_over"]) == ("escalated", True)
    assert set(after["messages"][0]) == {"role", "text", "at"}  # no intents, reasons or sources


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (json.dumps({"conversation_id": VISITOR, "text": "x" * 9000}), "application/json",
         413, "body larger than 8192 bytes"),
        (json.dumps({"conversation_id": VISITOR, "text": "x" * 2001}), "application/json",
         400, "text: String should have at most 2000 characters"),
        (json.dumps({"conversation_id": VISITOR, "text": " "}), "application/json",
         400, "text: String should have at least 1 character"),
        (json.dumps({"conversation_id": "../etc", "text": "hi"}), "application/json",
         400, "conversation_id: String should match pattern"),
        (json.dumps({"conversation_id": VISITOR, "text": "hi", "admin": True}),
         "application/json", 400, "admin: Extra inputs are not permitted"),
        ("conversation_id=visitor0001abcd&text=hi", "application/x-www-form-urlencoded",
         415, "Content-Type must be application/json"),
        ("[1, 2]", "application/json", 400, "body must be a JSON object"),
    ],
)  # fmt: skip
def test_bad_or_oversized_chat_input_is_rejected_and_stores_nothing(
    client: flask.testing.FlaskClient,
    store: FirestoreConversations,
    body: str,
    content_type: str,
    status: int,
    error: str,
) -> None:
    response = client.post("/chat/messages", data=body, headers={"Content-Type": content_type})

    assert response.status_code == status
    assert error in response.get_json()["error"]
    assert list(store.client.collection("conversations").list_documents()) == []


def test_a_visitor_writing_too_fast_is_asked_to_wait(
    client: flask.testing.FlaskClient, store: FirestoreConversations, support_topic: TopicTap
) -> None:
    accepted = [_post(client, text=f"message {n}").status_code for n in range(5)]
    refused = _post(client, text="one more")

    assert accepted == [202] * 5
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert "at most 5 messages a minute" in refused.get_json()["error"]
    assert len(store.list_messages(KEY)) == 5


def test_a_bad_conversation_id_in_the_poll_url_is_400(
    client: flask.testing.FlaskClient,
) -> None:
    response = client.get("/chat/conversations/short.json")

    assert response.status_code == 400
    assert "conversation id" in response.get_json()["error"]
