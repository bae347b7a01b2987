"""A site-chat conversation through the running local cloud: webhook → support agent → reply."""

from __future__ import annotations

import pytest

from emulators.cloud import LocalCloud
from emulators.demo import seed_knowledge_base, send_chat_message
from shared.adapters.firestore_conversations import FirestoreConversations
from shared.adapters.firestore_store import FirestoreStore
from shared.core.documents import ConversationDoc
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.e2e


def _settled(conversations: FirestoreConversations, key: str) -> ConversationDoc | None:
    conversation = conversations.get_conversation(key)
    return conversation if conversation is not None and conversation.status != "open" else None


def test_a_chat_question_is_answered_once_and_an_urgent_one_escalated(
    cloud: LocalCloud, store: FirestoreStore
) -> None:
    seed_knowledge_base(cloud)
    conversations = FirestoreConversations(cloud.config.project)

    answered_key = send_chat_message(cloud, "e2e-1", "How do I reset my password?")
    send_chat_message(cloud, "e2e-1", "How do I reset my password?")  # the platform retries
    urgent_key = send_chat_message(cloud, "e2e-2", "My account was hacked, help immediately!")
    answered = wait_for(lambda: _settled(conversations, answered_key), 30, "the answer")
    escalated = wait_for(lambda: _settled(conversations, urgent_key), 30, "the escalation")

    assert answered.status == "answered"
    replies = [m for m in conversations.list_messages(answered_key) if m.role == "agent"]
    assert len(replies) == 1 and replies[0].citations == ["password-reset.txt"]
    assert (
        escalated.status == "escalated"
        and escalated.escalation_reason == "urgent: immediately, hacked"
    )
    assert [m.role for m in conversations.list_messages(urgent_key)] == ["customer"]
