"""Conversations on the status page: ordering, the escalation detail, resolving by a person
exactly once, and approving the answer into the knowledge base exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask
import pytest

from shared.adapters.firestore_conversations import FirestoreConversations
from shared.adapters.firestore_kb import FirestoreKnowledgeStore
from shared.core.documents import MessageDoc, TicketDoc
from shared.core.effects import support_run_id
from shared.kb.embeddings import HashingEmbedder
from shared.kb.ingest import ingest_directory
from shared.kb.models import article_id_for
from shared.kb.retrieval import KnowledgeBase
from shared.support.inbound import parse_generic
from tests.conftest import API_TOKEN, Emulators
from tests.helpers.status_client import status_client
from tests.helpers.tickets import open_ticket

pytestmark = pytest.mark.integration

ARTICLES = Path(__file__).resolve().parents[2] / "kb" / "articles"
T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
QUESTION = "Can I pay with a Zorblax gift voucher? <script>alert(1)</script>"
ANSWER = "Yes: Zorblax vouchers are accepted at checkout, up to two per order."


def _customer_message(
    store: FirestoreConversations, conversation: str, message: str, text: str, at: datetime
) -> str:
    [inbound] = parse_generic(
        {
            "message_id": message,
            "conversation_id": conversation,
            "user": {"id": f"user-{conversation}", "name": "Ada"},
            "text": text,
            "sent_at": at.isoformat(),
        }
    )
    return store.record_inbound(inbound, at).record_id


def _agent_reply(store: FirestoreConversations, key: str, message_id: str, at: datetime) -> None:
    store.begin_effect(support_run_id(message_id), "reply", at, {"text": "Here you go."})
    reply = MessageDoc(
        message_id=f"reply-{message_id}", role="agent", text="Here you go.", at=at,
        in_reply_to=message_id,
    )  # fmt: skip
    store.complete_reply(support_run_id(message_id), reply, key, at)


def _escalate(store: FirestoreConversations, key: str, message_id: str, at: datetime) -> None:
    ticket = TicketDoc(
        ticket_id=message_id,
        conversation_key=key,
        message_id=message_id,
        reason="no article covers gift vouchers",
        created_at=at,
        draft_answer="I think <b>vouchers</b> might work?",
        sources=["payments.md", "orders.md"],
    )
    open_ticket(store, ticket, at)


@pytest.fixture
def store(clean_emulators: Emulators) -> FirestoreConversations:
    return FirestoreConversations(clean_emulators.project)


@pytest.fixture
def client(store: FirestoreConversations) -> flask.testing.FlaskClient:
    return status_client()  # reads with the API token; actions send AUTH explicitly


@pytest.fixture
def anonymous(store: FirestoreConversations) -> flask.testing.FlaskClient:
    return status_client(token=None)


@pytest.fixture
def escalated(store: FirestoreConversations) -> Iterator[str]:
    """An escalated site-chat conversation: one customer question, its ticket."""
    message_id = _customer_message(store, "conv-voucher", "m-voucher", QUESTION, T0)
    _escalate(store, "generic:conv-voucher", message_id, T0 + timedelta(seconds=2))
    yield "generic:conv-voucher"


def test_escalated_conversations_come_first_then_by_latest_message(
    store: FirestoreConversations, client: flask.testing.FlaskClient
) -> None:
    for n, conversation in enumerate(["old-open", "escalated-older", "answered", "escalated"]):
        message_id = _customer_message(
            store, conversation, f"m-{conversation}", "Hello?", T0 + timedelta(minutes=n)
        )
        key = f"generic:{conversation}"
        if conversation.startswith("escalated"):
            _escalate(store, key, message_id, T0 + timedelta(minutes=n, seconds=1))
        elif conversation == "answered":
            _agent_reply(store, key, message_id, T0 + timedelta(minutes=n, seconds=1))
    body = client.get("/api/conversations").get_json()
    html = client.get("/conversations").get_data(as_text=True)

    assert [(c["key"], c["status"]) for c in body["conversations"]] == [
        ("generic:escalated", "escalated"),
        ("generic:escalated-older", "escalated"),
        ("generic:answered", "answered"),
        ("generic:old-open", "open"),
    ]
    assert html.index("generic:escalated-older") < html.index("generic:answered")
    assert 'href="/conversations/generic%3Aescalated"' in html


def test_the_detail_shows_the_thread_the_reason_the_draft_and_its_sources(
    client: flask.testing.FlaskClient, escalated: str
) -> None:
    body = client.get(f"/api/conversations/{escalated}").get_json()
    html = client.get(f"/conversations/{escalated}").get_data(as_text=True)

    assert [(m["role"], m["text"]) for m in body["messages"]] == [("customer", QUESTION)]
    assert body["ticket"]["reason"] == "no article covers gift vouchers"
    assert body["ticket"]["sources"] == ["payments.md", "orders.md"]
    assert body["resolution"] is None and body["kb_draft"] is None
    assert "no article covers gift vouchers" in html and "<li>orders.md</li>" in html
    assert "I think &lt;b&gt;vouchers&lt;/b&gt; might work?" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert 'action="/conversations/generic%3Aconv-voucher/resolve"' in html
    assert client.get("/conversations/generic:nobody").status_code == 404


@pytest.mark.parametrize(
    ("headers", "data", "status", "error"),
    [
        ({}, {"answer": ANSWER}, 401, "sign in at /signin, or send 'Authorization: Bearer"),
        ({"Authorization": "Bearer wrong"}, {"answer": ANSWER}, 401, "invalid bearer token"),
        (AUTH, {}, 400, "answer: Field required"),
        (AUTH, {"answer": "   "}, 400, "answer: String should have at least 1 character"),
        (AUTH, {"answer": "x" * 4001}, 400, "answer: String should have at most 4000"),
        (AUTH, {"answer": ANSWER, "cc": "boss"}, 400, "cc: Extra inputs are not permitted"),
    ],
)
def test_a_resolve_without_token_or_answer_is_refused_and_writes_nothing(
    anonymous: flask.testing.FlaskClient,
    store: FirestoreConversations,
    escalated: str,
    headers: dict[str, str],
    data: dict[str, str],
    status: int,
    error: str,
) -> None:
    response = anonymous.post(f"/conversations/{escalated}/resolve", data=data, headers=headers)

    assert response.status_code == status
    assert error in response.get_json()["error"]
    assert [m.role for m in store.list_messages(escalated)] == ["customer"]
    effects = store.client.collection_group("effects").stream()
    assert [e.reference.path for e in effects if e.id == "resolve"] == []
    assert list(store.client.collection("kb_drafts").list_documents()) == []


def test_resolving_sends_one_human_answer_solves_the_ticket_and_drafts_an_article(
    client: flask.testing.FlaskClient, store: FirestoreConversations, escalated: str
) -> None:
    ticket_id = "generic:m-voucher"
    first = client.post(
        f"/conversations/{escalated}/resolve",
        data={"answer": ANSWER, "resolved_by": "Grace"},
        headers=AUTH,
    )
    again = client.post(
        f"/api/conversations/{escalated}/resolve",
        json={"answer": "A different answer", "resolved_by": "Linus"},
        headers=AUTH,
    )

    assert (first.status_code, first.get_json()["already_resolved"]) == (200, False)
    assert (again.status_code, again.get_json()["already_resolved"]) == (200, True)
    thread = store.list_messages(escalated)
    assert [(m.role, m.text, m.in_reply_to) for m in thread] == [
        ("customer", QUESTION, None),
        ("human", ANSWER, ticket_id),
    ]
    effects = store.client.collection_group("effects").stream()
    resolves = [(e.reference.path, e.to_dict()) for e in effects if e.id == "resolve"]
    assert [(path, e["intent"]["text"], e["status"]) for path, e in resolves] == [
        (f"runs/{support_run_id(ticket_id)}/effects/resolve", ANSWER, "done")
    ]
    ticket = store.get_ticket(ticket_id)
    resolution = store.get_resolution(ticket_id)
    conversation = store.client.collection("conversations").document(escalated).get().to_dict()
    assert ticket is not None and ticket.status == "solved"
    assert resolution is not None and resolution.resolved_by == "Grace"
    assert conversation is not None
    assert (conversation["status"], conversation["resolved_by"]) == ("resolved", "Grace")
    assert conversation["resolved_at"] == resolution.resolved_at
    drafts = [d.get().to_dict() for d in store.client.collection("kb_drafts").list_documents()]
    assert [(d["draft_id"], d["question"], d["answer"], d["status"]) for d in drafts] == [
        (ticket_id, QUESTION, ANSWER, "draft")
    ]
    detail = client.get(f"/api/conversations/{escalated}").get_json()
    assert detail["resolution"]["resolved_by"] == "Grace"
    assert detail["kb_draft"]["status"] == "draft"


def test_only_escalated_conversations_can_be_resolved(
    client: flask.testing.FlaskClient, store: FirestoreConversations
) -> None:
    _customer_message(store, "conv-open", "m-open", "Hi", T0)

    open_one = client.post("/conversations/generic:conv-open/resolve", json={"answer": "Hi"},
                           headers=AUTH)  # fmt: skip
    missing = client.post("/conversations/generic:nope/resolve", json={"answer": "Hi"},
                          headers=AUTH)  # fmt: skip
    as_text = client.post("/conversations/generic:conv-open/resolve", data="answer",
                          headers={**AUTH, "Content-Type": "text/plain"})  # fmt: skip

    assert (open_one.status_code, open_one.get_json()["error"]) == (
        409, "conversation 'generic:conv-open' was never escalated; nothing to resolve"
    )  # fmt: skip
    assert missing.status_code == 404 and "no conversation" in missing.get_json()["error"]
    assert as_text.status_code == 415
    assert client.get("/conversations/generic:conv-open/resolve").status_code == 405


def _meta_version(kb_store: FirestoreKnowledgeStore) -> str:
    return kb_store.index_info().version


def test_an_approved_draft_becomes_searchable_once(
    client: flask.testing.FlaskClient,
    anonymous: flask.testing.FlaskClient,
    store: FirestoreConversations,
    escalated: str,
    clean_emulators: Emulators,
) -> None:
    kb_store = FirestoreKnowledgeStore(clean_emulators.project)
    ingest_directory(ARTICLES, kb_store)
    client.post(f"/conversations/{escalated}/resolve", json={"answer": ANSWER}, headers=AUTH)
    draft_id = "generic:m-voucher"
    source = f"kb_drafts/{draft_id}.md"
    before = KnowledgeBase(kb_store).retrieve("zorblax gift voucher")

    refused = anonymous.post(f"/kb/drafts/{draft_id}/approve")
    first = client.post(f"/kb/drafts/{draft_id}/approve", json={"approved_by": "Ada"},
                        headers=AUTH)  # fmt: skip
    version = _meta_version(kb_store)
    again = client.post(f"/api/kb/drafts/{draft_id}/approve", headers=AUTH)

    assert source not in {hit.chunk.source for hit in before.hits}
    assert refused.status_code == 401
    assert (first.status_code, first.get_json()["already_approved"]) == (200, False)
    assert (again.status_code, again.get_json()["already_approved"]) == (200, True)
    assert first.get_json()["article_id"] == article_id_for(source)
    after = KnowledgeBase(kb_store).retrieve("zorblax gift voucher")
    assert after.hits[0].chunk.source == source
    assert after.hits[0].chunk.title.startswith("Can I pay with a Zorblax gift voucher?")
    assert "two per order" in after.hits[0].chunk.text
    assert _meta_version(kb_store) == version  # the second approval wrote nothing
    draft = store.get_kb_draft(draft_id)
    assert draft is not None
    assert (draft.status, draft.approved_by, draft.article_id) == (
        "approved", "Ada", article_id_for(source)
    )  # fmt: skip
    listed = client.get("/api/kb/drafts").get_json()["kb_drafts"]
    assert [(d["draft_id"], d["status"]) for d in listed] == [(draft_id, "approved")]


def test_drafts_are_listed_with_an_approve_form_and_unknown_ones_are_404(
    client: flask.testing.FlaskClient, escalated: str
) -> None:
    client.post(f"/conversations/{escalated}/resolve", json={"answer": ANSWER}, headers=AUTH)

    html = client.get("/kb/drafts").get_data(as_text=True)
    missing = client.post("/kb/drafts/nope/approve", headers=AUTH)

    assert 'action="/kb/drafts/generic%3Am-voucher/approve"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert missing.status_code == 404


def test_a_draft_is_not_approved_into_a_kb_embedded_by_another_model(
    client: flask.testing.FlaskClient, escalated: str, clean_emulators: Emulators
) -> None:
    kb_store = FirestoreKnowledgeStore(clean_emulators.project)
    ingest_directory(ARTICLES, kb_store, HashingEmbedder(32))
    client.post(f"/conversations/{escalated}/resolve", json={"answer": ANSWER}, headers=AUTH)
    version = _meta_version(kb_store)

    response = client.post("/kb/drafts/generic:m-voucher/approve", headers=AUTH)

    assert response.status_code == 409
    assert "embedded with hashing" in response.get_json()["error"]
    assert _meta_version(kb_store) == version
