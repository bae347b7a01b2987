"""A customer message through the support agent function: a grounded reply, or a ticket."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.adapters.firestore_conversations import FirestoreConversations
from shared.adapters.firestore_kb import FirestoreKnowledgeStore
from shared.app.answer_message import answer_support_message
from shared.core.messages import SupportMessage
from shared.core.models import utcnow
from shared.kb.ingest import ingest_directory
from shared.support.inbound import parse_generic
from shared.support.outbound import SentReply
from tests.conftest import Emulators
from tests.helpers.functions_app import function_client, pubsub_cloud_event
from tests.helpers.status_client import BROWSER, clear_settings_caches, status_client

pytestmark = pytest.mark.integration

ARTICLES = Path(__file__).resolve().parents[2] / "kb" / "articles"


@pytest.fixture
def conversations(clean_emulators: Emulators) -> FirestoreConversations:
    ingest_directory(ARTICLES, FirestoreKnowledgeStore(clean_emulators.project))
    return FirestoreConversations(clean_emulators.project)


def _deliver(text: str, message_id: str) -> tuple[int, SupportMessage]:
    [inbound] = parse_generic(
        {
            "message_id": message_id,
            "conversation_id": f"conv-{message_id}",
            "user": {"id": "u1"},
            "text": text,
        }
    )
    message = SupportMessage(inbound=inbound)
    client = function_client("agents/support", "on_support_message", "cloudevent")
    headers, body = pubsub_cloud_event(
        message.model_dump_json().encode(), message.attributes(), message_id
    )
    return client.post("/", headers=headers, data=body).status_code, message


def test_a_question_the_kb_answers_gets_one_cited_reply(
    conversations: FirestoreConversations,
) -> None:
    [inbound] = parse_generic(
        {
            "message_id": "q1",
            "conversation_id": "conv-q1",
            "user": {"id": "u1"},
            "text": "How do I reset my password?",
        }
    )
    conversations.record_inbound(inbound, utcnow())

    first, message = _deliver("How do I reset my password?", "q1")
    again, _ = _deliver("How do I reset my password?", "q1")

    assert (first, again) == (200, 200)
    thread = conversations.list_messages(message.inbound.conversation_key)
    replies = [m for m in thread if m.role == "agent"]
    assert len(replies) == 1
    assert replies[0].citations == ["password-reset.txt"]
    assert "[1]" in replies[0].text and replies[0].offline is True
    assert replies[0].text.endswith(
        "\n\nSources:\n[1] Resetting your password and signing in"
    )  # no public URL set
    conversation = conversations.get_conversation(message.inbound.conversation_key)
    assert conversation is not None and conversation.status == "answered"


def test_with_a_public_help_centre_the_reply_links_the_article_it_cites(
    conversations: FirestoreConversations, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTROLROOM_KB_ARTICLES_URL", "https://help.northwind.example/articles")
    clear_settings_caches()
    [inbound] = parse_generic(
        {"message_id": "q9", "conversation_id": "conv-q9", "user": {"id": "u1"},
         "text": "How do I reset my password?"}
    )  # fmt: skip
    conversations.record_inbound(inbound, utcnow())

    status, message = _deliver("How do I reset my password?", "q9")

    assert status == 200
    (reply,) = [
        m
        for m in conversations.list_messages(message.inbound.conversation_key)
        if m.role == "agent"
    ]
    assert reply.text.endswith(
        "Sources:\n[1] Resetting your password and signing in: "
        "https://help.northwind.example/articles/password-reset"
    )


def test_an_urgent_message_becomes_one_ticket_and_one_notification(
    conversations: FirestoreConversations,
) -> None:
    text = "Someone used my card without permission, this is fraud, help immediately"
    [inbound] = parse_generic(
        {"message_id": "q2", "conversation_id": "conv-q2", "user": {"id": "u2"}, "text": text}
    )
    conversations.record_inbound(inbound, utcnow())

    _deliver(text, "q2")
    _deliver(text, "q2")

    conversation = conversations.get_conversation("generic:conv-q2")
    assert conversation is not None and conversation.status == "escalated"
    assert conversation.escalation_reason is not None and conversation.escalation_reason.startswith(
        "urgent"
    )
    tickets = list(conversations.client.collection("tickets").stream())
    notifications = list(conversations.client.collection("notifications").stream())
    assert [t.id for t in tickets] == ["generic:q2"] and len(notifications) == 1
    assert [m.role for m in conversations.list_messages("generic:conv-q2")] == ["customer"]


class RecordingSender:
    """Stands in for a vendor's reply API at the outer edge (what was sent, and how often)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, str]] = []

    def send_reply(
        self, conversation_key: str, in_reply_to: str, text: str, idempotency_key: str
    ) -> SentReply:
        self.sent.append((conversation_key, in_reply_to, text, idempotency_key))
        return SentReply(platform_message_id=f"out-{len(self.sent)}")


class RecordingNotifier:
    def __init__(self) -> None:
        self.notices: list[tuple[str, str]] = []

    def notify(self, key: str, text: str) -> None:
        self.notices.append((key, text))


def test_the_platform_sender_is_called_once_per_message_and_escalations_notify(
    conversations: FirestoreConversations,
) -> None:
    sender, notifier = RecordingSender(), RecordingNotifier()
    state = {
        "classification": {"intent": "support"},
        "passages": [{"n": 1, "source": "password-reset.txt"}],
        "answer": "Use the reset link [1].",
    }
    [inbound] = parse_generic(
        {"message_id": "q3", "conversation_id": "conv-q3", "user": {"id": "u3"}, "text": "reset?"}
    )
    conversations.record_inbound(inbound, utcnow())
    message = SupportMessage(inbound=inbound)

    for _ in range(2):
        answer_support_message(
            message, conversations=conversations, decide=lambda text, thread: state, clock=utcnow,
            replies=lambda platform: sender, notifier=notifier,
        )  # fmt: skip
    escalate = {**state, "escalation_reason": "customer asked for a human"}
    second = SupportMessage(inbound=inbound.model_copy(update={"platform_message_id": "q4"}))
    for _ in range(2):
        answer_support_message(
            second,
            conversations=conversations, decide=lambda text, thread: escalate, clock=utcnow,
            replies=lambda platform: sender, notifier=notifier,
        )  # fmt: skip

    text = "Use the reset link [1].\n\nSources:\n[1] password-reset"  # the source under it
    assert sender.sent == [("generic:conv-q3", "q3", text, "generic:q3")]
    # The notice's effect record keeps it single on redelivery (Slack's metadata lookup is
    # left for the crash window between the post and the record).
    assert notifier.notices == [
        (
            "ticket-generic:q4",
            "Conversation generic:conv-q3 needs a person: customer asked for a human",
        )
    ]


class CrashAfterSending(RecordingSender):
    """A vendor call that goes out, then the process dies before the effect is recorded."""

    def send_reply(
        self, conversation_key: str, in_reply_to: str, text: str, idempotency_key: str
    ) -> SentReply:
        super().send_reply(conversation_key, in_reply_to, text, idempotency_key)
        raise KeyboardInterrupt("killed between the vendor's answer and the record")


class DedupingSender(RecordingSender):
    """A vendor that can be asked about an idempotency key (Zendesk's audit lookup)."""

    def __init__(self, already: RecordingSender) -> None:
        super().__init__()
        self.sent = already.sent

    def send_reply(
        self, conversation_key: str, in_reply_to: str, text: str, idempotency_key: str
    ) -> SentReply:
        if any(key == idempotency_key for *_, key in self.sent):
            return SentReply(platform_message_id="found")
        return super().send_reply(conversation_key, in_reply_to, text, idempotency_key)


@pytest.mark.parametrize("vendor_dedupes", [True, False], ids=["lookup", "no-lookup"])
def test_a_crash_between_sending_and_recording_repeats_the_first_words_or_nothing(
    conversations: FirestoreConversations, vendor_dedupes: bool
) -> None:
    [inbound] = parse_generic(
        {"message_id": "q5", "conversation_id": "conv-q5", "user": {"id": "u5"}, "text": "hi"}
    )
    conversations.record_inbound(inbound, utcnow())
    message = SupportMessage(inbound=inbound)
    crashing = CrashAfterSending()
    drafts = iter(["First draft [1].", *["A different later draft [1]."] * 2])

    def decide(text: str, thread: object) -> dict[str, object]:
        return {
            "classification": {"intent": "support"},
            "passages": [{"n": 1, "source": "password-reset.txt"}],
            "answer": next(drafts),
        }

    with pytest.raises(KeyboardInterrupt):
        answer_support_message(
            message, conversations=conversations, decide=decide, clock=utcnow,
            replies=lambda platform: crashing,
        )  # fmt: skip
    retry = DedupingSender(crashing) if vendor_dedupes else RecordingSender()
    decision = answer_support_message(
        message, conversations=conversations, decide=decide, clock=utcnow,
        replies=lambda platform: retry,
    )  # fmt: skip
    redelivered = answer_support_message(
        message, conversations=conversations, decide=decide, clock=utcnow,
        replies=lambda platform: retry,
    )  # fmt: skip

    sent_by_vendor = crashing.sent + ([] if vendor_dedupes else retry.sent)
    # One call per key where the vendor can be asked; the documented repeat where it cannot,
    # and then with the words decided first, never a second draft.
    first = "First draft [1].\n\nSources:\n[1] password-reset"  # the words and their source
    assert [text for *_, text, _ in sent_by_vendor] == [first] * (1 if vendor_dedupes else 2)
    assert (decision.action, decision.answer) == ("replied", first)
    assert redelivered.action == "already handled"
    thread = conversations.list_messages("generic:conv-q5")
    assert [(m.role, m.text) for m in thread] == [
        ("customer", "hi"),
        ("agent", first),
    ]
    effect = conversations.effect_ref("support-generic:q5", "reply").get().to_dict()
    assert effect is not None and (effect["status"], effect["attempts"]) == ("done", 2)


def test_an_offline_answer_waits_as_a_suggested_reply_when_sending_them_is_off(
    conversations: FirestoreConversations,
) -> None:
    sender = RecordingSender()
    state = {
        "classification": {"intent": "support"},
        "passages": [{"n": 1, "source": "password-reset.txt"}],
        "answer": "Use the reset link [1].",
        "completion": {"offline": True},
    }
    [inbound] = parse_generic(
        {"message_id": "q9", "conversation_id": "conv-q9", "user": {"id": "u9"}, "text": "reset?"}
    )
    conversations.record_inbound(inbound, utcnow())

    decision = answer_support_message(
        SupportMessage(inbound=inbound), conversations=conversations,
        decide=lambda text, thread: state, clock=utcnow, replies=lambda platform: sender,
        send_offline=False,
    )  # fmt: skip

    assert sender.sent == []
    assert decision.action == "escalated"
    ticket = conversations.get_ticket("generic:q9")
    assert ticket is not None and ticket.draft_answer == "Use the reset link [1]."
    assert ticket.reason.startswith("suggested reply from the offline writer")
    assert ticket.sources == ["password-reset.txt"]


def test_a_thread_reaches_the_graph_with_the_turns_before_the_message(
    conversations: FirestoreConversations,
) -> None:
    seen: list[list[dict[str, str]]] = []
    state = {"classification": {"intent": "general"}, "escalation_reason": "customer asked"}
    for n, text in enumerate(["How long does delivery take to Germany?", "and to Austria?"]):
        [inbound] = parse_generic(
            {"message_id": f"t{n}", "conversation_id": "conv-t", "user": {"id": "u"}, "text": text}
        )
        conversations.record_inbound(inbound, utcnow())
        answer_support_message(
            SupportMessage(inbound=inbound), conversations=conversations,
            decide=lambda text, thread: seen.append(thread) or state, clock=utcnow,
        )  # fmt: skip

    assert seen[0] == []
    assert seen[1] == [{"role": "customer", "text": "How long does delivery take to Germany?"}]


def test_a_sales_enquiry_marks_a_lead_once_and_its_reply_offers_the_next_step(
    conversations: FirestoreConversations,
) -> None:
    sender = RecordingSender()
    state = {
        "classification": {"intent": "sales"},
        "passages": [{"n": 1, "source": "business-accounts.md", "title": "Business accounts"}],
        "answer": "Business accounts get invoices on 30-day terms [1].",
    }
    [inbound] = parse_generic(
        {"message_id": "s1", "conversation_id": "conv-s1", "user": {"id": "u5"},
         "text": "Can my company order 200 kettles on invoice?"}
    )  # fmt: skip
    conversations.record_inbound(inbound, utcnow())
    next_step = "Write to business@northwindgoods.example for a quote."

    for platform_id in ("s1", "s1", "s2"):  # a redelivery, then a second sales message
        message = SupportMessage(
            inbound=inbound.model_copy(update={"platform_message_id": platform_id})
        )
        answer_support_message(
            message, conversations=conversations, decide=lambda text, thread: state,
            clock=utcnow, replies=lambda platform: sender, sales_next_step=next_step,
        )  # fmt: skip

    first_text = sender.sent[0][2]
    assert first_text.startswith(
        "Business accounts get invoices on 30-day terms [1].\n\n" + next_step
    )
    assert first_text.endswith("Sources:\n[1] Business accounts")
    conversation = conversations.get_conversation("generic:conv-s1")
    assert conversation is not None and conversation.sales_lead_at is not None
    marked = conversation.sales_lead_at
    assert not conversations.mark_sales_lead("generic:conv-s1", utcnow())  # the first one stays
    again = conversations.get_conversation("generic:conv-s1")
    assert again is not None and again.sales_lead_at == marked
    support = {**state, "classification": {"intent": "support"}}
    [other] = parse_generic(
        {"message_id": "t1", "conversation_id": "conv-t1", "user": {"id": "u6"}, "text": "reset?"}
    )
    conversations.record_inbound(other, utcnow())
    answer_support_message(
        SupportMessage(inbound=other), conversations=conversations,
        decide=lambda text, thread: support, clock=utcnow, replies=lambda platform: sender,
        sales_next_step=next_step,
    )  # fmt: skip
    assert next_step not in sender.sent[-1][2]  # only a sales enquiry gets it
    plain = conversations.get_conversation("generic:conv-t1")
    assert plain is not None and plain.sales_lead_at is None


def test_the_conversation_pages_show_a_sales_lead(conversations: FirestoreConversations) -> None:
    [inbound] = parse_generic(
        {"message_id": "s9", "conversation_id": "conv-s9", "user": {"id": "u9"}, "text": "quote?"}
    )
    conversations.record_inbound(inbound, utcnow())
    assert conversations.mark_sales_lead("generic:conv-s9", utcnow())
    client = status_client()

    page = client.get("/conversations/generic:conv-s9", headers=BROWSER).get_data(as_text=True)
    listing = client.get("/conversations", headers=BROWSER).get_data(as_text=True)

    assert "Sales lead since" in page and "sales lead" in listing
