"""Seeding support tickets in Firestore the way the support agent writes them."""

from __future__ import annotations

from datetime import datetime

from shared.adapters.firestore_conversations import FirestoreConversations
from shared.core.documents import TicketDoc
from shared.core.effects import support_run_id


def open_ticket(store: FirestoreConversations, ticket: TicketDoc, now: datetime) -> None:
    """Seed an escalation the way the support agent makes one: its effect record, then the
    batch that writes the ticket and marks the record done."""
    run_id = support_run_id(ticket.message_id)
    store.begin_effect(run_id, "ticket", now)
    store.escalate(run_id, ticket, now)
