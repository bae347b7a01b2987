"""Use case: answer one inbound customer message, or hand it to a person — exactly once.

Every side effect goes through shared.core.effects, keyed by the message's run
(`support_run_id`: "support-platform:message") and a step:

| step | effect | guarantee |
| --- | --- | --- |
| reply | site chat: the thread, in the batch that marks it done | exactly once |
| reply | TikTok / LinkedIn: no vendor dedupe | at-least-once in the crash window |
| reply | Zendesk comment: audit metadata looked up first | once, unless deliveries race |
| ticket | the local ticket, in the batch that marks it done | exactly once |
| helpdesk | Zendesk: external_id looked up, Idempotency-Key | one ticket |
| notify | notifications/ (create once), Slack (metadata looked up) | once, unless deliveries race |

The reply's text is decided once: it is the effect's intent, so a redelivery after a crash
re-sends the same words, never a new draft. We choose at-least-once where the vendor gives no
dedupe: a customer left without an answer is worse than a repeated one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.core.documents import EffectRecord, MessageDoc, TicketDoc
from shared.core.effects import perform_once, support_run_id
from shared.core.messages import SupportMessage, inbound_id
from shared.core.ports import ConversationStore
from shared.support.outbound import (
    EscalationTickets,
    LocalReplySender,
    Notifier,
    OpenedTicket,
    ReplySender,
)
from shared.support.sources import with_sources

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
    decide: Callable[[str, list[dict[str, str]]], dict[str, Any]],
    clock: Callable[[], datetime],
    replies: Callable[[str], ReplySender] = lambda platform: LocalReplySender(),
    notifier: Notifier | None = None,
    tickets: EscalationTickets | None = None,
    send_offline: bool = True,
    articles_url: str | None = None,
    sales_next_step: str | None = None,
) -> SupportDecision:
    """Run the conversation graph on the message in its thread and reply or escalate, once.

    `decide(text, thread)` gets the earlier turns of the stored conversation, oldest first.
    Without `send_offline`, an answer the offline writer drafted is not sent: it waits on
    the ticket as a suggested reply for a person to send or edit. The reply ends with the
    articles it cites, linked under `articles_url` when the help centre is public. A sales
    enquiry marks its conversation a sales lead, and its reply offers `sales_next_step`.
    """
    inbound = message.inbound
    message_id = inbound_id(inbound)
    state = decide(
        inbound.text, _thread_before(conversations, inbound.conversation_key, message_id)
    )
    intent = state["classification"]["intent"]
    confidence = state.get("confidence")
    passages = state.get("passages", [])
    reason = state.get("escalation_reason")
    run_id = support_run_id(message_id)
    if intent == "sales":
        conversations.mark_sales_lead(inbound.conversation_key, clock())
    if not reason and not send_offline and state.get("completion", {}).get("offline"):
        reason = "suggested reply from the offline writer: a person sends or edits it"
    if reason:
        return _escalate(message, state, reason, run_id, conversations, clock, notifier, tickets)
    cited = sorted({p["source"] for p in passages if f"[{p['n']}]" in state["answer"]})
    answer = state["answer"]
    if intent == "sales" and sales_next_step:
        answer = f"{answer.rstrip()}\n\n{sales_next_step.strip()}"
    answer = with_sources(answer, passages, articles_url)
    completion = state.get("completion", {})

    def send(record: EffectRecord) -> dict[str, Any] | None:
        text = str((record.intent or {}).get("text", answer))
        replies(inbound.platform).send_reply(
            inbound.conversation_key, inbound.platform_message_id, text, message_id
        )
        return {"message": f"reply-{message_id}"}

    def record_reply(record: EffectRecord, result: dict[str, Any] | None) -> None:
        text = str((record.intent or {}).get("text", answer))
        reply = MessageDoc(
            message_id=f"reply-{message_id}",
            role="agent",
            text=text,
            at=clock(),
            in_reply_to=message_id,
            citations=cited,
            offline=bool(completion.get("offline")),
            intent=intent,
            confidence=confidence,
        )
        conversations.complete_reply(run_id, reply, inbound.conversation_key, clock())

    outcome = perform_once(
        conversations,
        run_id,
        "reply",
        send,
        clock=clock,
        intent={"text": answer},
        complete=record_reply,
    )
    text = str((outcome.record.intent or {}).get("text", answer))
    if not outcome.performed:
        return SupportDecision("already handled", intent, confidence, None, text)
    logger.info("replied to %s citing %s", message_id, cited)
    return SupportDecision("replied", intent, confidence, None, text, tuple(cited))


def _thread_before(
    conversations: ConversationStore, key: str, message_id: str, turns: int = 6
) -> list[dict[str, str]]:
    """The conversation's last turns before this message, oldest first."""
    earlier = []
    for stored in conversations.list_messages(key):
        if stored.message_id == message_id:
            break
        earlier.append({"role": stored.role, "text": stored.text})
    return earlier[-turns:]


def _escalate(
    message: SupportMessage,
    state: dict[str, Any],
    reason: str,
    run_id: str,
    conversations: ConversationStore,
    clock: Callable[[], datetime],
    notifier: Notifier | None,
    tickets: EscalationTickets | None,
) -> SupportDecision:
    """The local ticket, the helpdesk ticket and the notice, each once."""
    inbound = message.inbound
    message_id = inbound_id(inbound)
    intent = state["classification"]["intent"]
    confidence = state.get("confidence")
    ticket = TicketDoc(
        ticket_id=message_id,
        conversation_key=inbound.conversation_key,
        message_id=message_id,
        reason=reason,
        created_at=clock(),
        draft_answer=state.get("answer"),
        sources=[p["source"] for p in state.get("passages", [])],
    )
    created = perform_once(
        conversations,
        run_id,
        "ticket",
        lambda record: {"ticket": ticket.ticket_id},
        clock=clock,
        complete=lambda record, result: conversations.escalate(run_id, ticket, clock()),
    )
    if tickets is not None:
        helpdesk = tickets
        perform_once(
            conversations,
            run_id,
            "helpdesk",
            lambda record: _opened(
                helpdesk.open_ticket(
                    f"controlroom:{message_id}", f"Escalated: {reason}"[:150], inbound.text
                )
            ),
            clock=clock,
        )
    notice = f"Conversation {inbound.conversation_key} needs a person: {reason}"

    def tell_people(record: EffectRecord) -> dict[str, Any] | None:
        conversations.notify(f"ticket-{message_id}", notice, clock())
        if notifier is not None:
            notifier.notify(f"ticket-{message_id}", notice)
        return {"notice": f"ticket-{message_id}"}

    perform_once(conversations, run_id, "notify", tell_people, clock=clock)
    action = "escalated" if created.performed else "already handled"
    return SupportDecision(action, intent, confidence, reason)


def _opened(ticket: OpenedTicket) -> dict[str, Any]:
    return {"helpdesk_ticket": ticket.ticket_id, "created": ticket.created}
