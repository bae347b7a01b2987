"""Use case: answer one inbound customer message, or hand it to a person — exactly once.

Side effects and their guarantees (the outbox entry is created before sending, marked sent
after; a redelivery finding it marked sends nothing):

| effect | mechanism | guarantee |
| --- | --- | --- |
| reply, local (site chat) | the Firestore thread, written with the "sent" mark | exactly-once |
| reply, TikTok / LinkedIn | no vendor dedupe | at-least-once (a crash after the call re-sends) |
| reply, Zendesk comment | audit metadata lookup before the PUT | once, unless two deliveries race |
| escalation ticket | create() + Zendesk external_id lookup, Idempotency-Key | one ticket |
| Slack notice | metadata lookup in recent messages | once, unless two deliveries race |

We choose at-least-once where the vendor gives no dedupe: a customer left without an answer
is worse than a repeated one. External escalation effects run on every delivery (each
dedupes itself), so a crash between them heals on redelivery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.adapters.firestore_conversations import inbound_id
from shared.ports import ConversationStore
from shared.support.outbound import EscalationTickets, LocalReplySender, Notifier, ReplySender
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
    replies: Callable[[str], ReplySender] = lambda platform: LocalReplySender(),
    notifier: Notifier | None = None,
    tickets: EscalationTickets | None = None,
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
        notice = f"Conversation {inbound.conversation_key} needs a person: {reason}"
        conversations.notify(f"ticket-{message_id}", notice, clock())
        if tickets is not None:
            tickets.open_ticket(
                f"controlroom:{message_id}", f"Escalated: {reason}"[:150], inbound.text
            )
        if notifier is not None:
            notifier.notify(f"ticket-{message_id}", notice)
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
    replies(inbound.platform).send_reply(
        inbound.conversation_key, inbound.platform_message_id, outbox.text, outbox.outbox_id
    )
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
