"""Use case: answer one inbound customer message, or hand it to a person — exactly once.

Side effects and their guarantees:
- reply: the outbox entry outbox/{platform}:{message id} is created before sending and
  marked sent after. Locally the platform adapter is the conversation thread itself, written
  in the same batch as the "sent" mark, so the reply is exactly-once. A vendor API without
  idempotency keys would leave a crash window between its call and the mark: there we
  choose at-least-once (a redelivery re-sends a reply whose mark is missing), because a
  customer left without an answer is worse than a repeated one.
- escalation: the ticket id is the message id, created with create(), so a redelivery
  creates no second ticket; the notification id is the ticket id, likewise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.adapters.firestore_conversations import inbound_id
from shared.ports import ConversationStore
from shared.support.records import MessageDoc, OutboxRecord, SupportMessage, TicketDoc

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SupportDecision:
    """What the graph decided for one message."""

    action: str  # "replied" | "escalated" | "already handled"
    intent: str | None = None
    confidence: float | None = None
    reason: str | None = None
    answer: str | None = None
    citations: tuple[str, ...] = ()


def answer_support_message(
    message: SupportMessage,
    *,
    conversations: ConversationStore,
    decide: Callable[[str], dict[str, Any]],
    clock: Callable[[], datetime],
) -> SupportDecision:
    """Run the conversation graph on the message and reply or escalate, once."""
    inbound = message.inbound
    message_id = inbound_id(inbound)
    state = decide(inbound.text)
    intent = state["classification"]["intent"]
    confidence = state.get("confidence")
    passages = state.get("passages", [])
    reason = state.get("escalation_reason")
    if reason:
        ticket = TicketDoc(
            ticket_id=message_id,
            conversation_key=inbound.conversation_key,
            message_id=message_id,
            reason=reason,
            created_at=clock(),
            draft_answer=state.get("answer"),
            sources=[p["source"] for p in passages],
        )
        created = conversations.escalate(ticket, clock())
        conversations.notify(
            f"ticket-{message_id}",
            f"Conversation {inbound.conversation_key} needs a person: {reason}",
            clock(),
        )
        action = "escalated" if created else "already handled"
        return SupportDecision(action, intent, confidence, reason)
    answer = state["answer"]
    cited = sorted({p["source"] for p in passages if f"[{p['n']}]" in answer})
    outbox = conversations.claim_outbox(
        OutboxRecord(
            outbox_id=message_id,
            conversation_key=inbound.conversation_key,
            text=answer,
            created_at=clock(),
        )
    )
    if outbox.sent_at is not None:
        return SupportDecision("already handled", intent, confidence, None, outbox.text)
    completion = state.get("completion", {})
    reply = MessageDoc(
        message_id=f"reply-{message_id}",
        role="agent",
        text=outbox.text,
        at=clock(),
        in_reply_to=message_id,
        citations=cited,
        offline=bool(completion.get("offline")),
        intent=intent,
        confidence=confidence,
    )
    conversations.complete_reply(outbox, reply, clock())
    logger.info("replied to %s citing %s", message_id, cited)
    return SupportDecision("replied", intent, confidence, None, outbox.text, tuple(cited))
