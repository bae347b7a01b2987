"""Firestore document shapes of support conversations, and the message that carries one in.

conversations/{key}                      one thread with one customer on one platform
conversations/{key}/messages/{id}        what the customer, the agent or a person wrote
inbound/{platform}:{platform_message_id} idempotency of webhook deliveries
tickets/{id}                             escalations (the local helpdesk)
notifications/{id}                       what would be posted to Slack (the local notifier)
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from shared.models import Document, Message
from shared.support.inbound import InboundMessage

ConversationStatus = Literal["open", "answered", "escalated", "resolved"]


class SupportMessage(Message):
    """An inbound customer message for the support agent (topic agent-support)."""

    kind: ClassVar[str] = "support_message"
    inbound: InboundMessage

    def attributes(self) -> dict[str, str]:
        """Attributes naming the conversation, for logs and routing."""
        return {**super().attributes(), "conversation_key": self.inbound.conversation_key}


class InboundRecord(Document):
    """inbound/{id}: a webhook message seen once; `published` once handed to the agent."""

    record_id: str
    conversation_key: str
    received_at: datetime
    published: bool = False


class ConversationDoc(Document):
    """conversations/{key}."""

    key: str
    platform: str
    platform_user_id: str
    user_name: str | None = None
    status: ConversationStatus = "open"
    escalation_reason: str | None = None
    ticket_id: str | None = None
    last_message_at: datetime
    updated_at: datetime


class MessageDoc(Document):
    """conversations/{key}/messages/{id}."""

    message_id: str
    role: Literal["customer", "agent", "human"]
    text: str
    at: datetime
    in_reply_to: str | None = None
    citations: list[str] = Field(default_factory=list)
    offline: bool = False
    intent: str | None = None
    confidence: float | None = None


class TicketDoc(Document):
    """tickets/{id}: an escalated conversation waiting for a person."""

    model_config = ConfigDict(extra="ignore")
    ticket_id: str
    conversation_key: str
    message_id: str
    reason: str
    status: Literal["open", "solved"] = "open"
    created_at: datetime
    draft_answer: str | None = None
    sources: list[str] = Field(default_factory=list)
