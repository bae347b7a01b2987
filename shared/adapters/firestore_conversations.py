"""The ConversationStore port on Firestore."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.firestore_effects import FirestoreEffects, effect_done
from shared.core.documents import (
    ConversationDoc,
    InboundRecord,
    KbDraftDoc,
    MessageDoc,
    Resolution,
    TicketDoc,
)
from shared.core.messages import InboundMessage, inbound_id

logger = logging.getLogger(__name__)


class FirestoreConversations(FirestoreEffects):
    """Conversations, messages, tickets and the effect records of their replies in Firestore."""

    def _conversation(self, key: str) -> firestore.DocumentReference:
        return self.client.collection("conversations").document(key)

    def record_inbound(self, message: InboundMessage, now: datetime) -> InboundRecord:
        """Store the message, its conversation and user in one batch, once per message id."""
        record = InboundRecord(
            record_id=inbound_id(message),
            conversation_key=message.conversation_key,
            received_at=now,
        )
        ref = self.client.collection("inbound").document(record.record_id)
        conversation = self._conversation(message.conversation_key)
        batch = self.client.batch()
        batch.create(ref, record.model_dump())
        batch.set(
            conversation,
            {
                "key": message.conversation_key,
                "platform": message.platform,
                "platform_user_id": message.user.platform_user_id,
                "user_name": message.user.display_name,
                "status": "open",
                "escalation_reason": None,
                "last_message_at": message.sent_at or now,
                "updated_at": now,
                "schema_version": 1,
            },
            merge=True,
        )
        customer = MessageDoc(
            message_id=record.record_id,
            role="customer",
            text=message.text,
            at=message.sent_at or now,
        )
        batch.set(
            conversation.collection("messages").document(record.record_id), customer.model_dump()
        )
        user = self.client.collection("users").document(
            f"{message.platform}:{message.user.platform_user_id}"
        )
        batch.set(
            user,
            {**message.user.model_dump(), "platform": message.platform, "last_seen": now},
            merge=True,
        )
        try:
            batch.commit()
        except gexc.AlreadyExists:
            return InboundRecord.model_validate(ref.get().to_dict())
        return record

    def mark_inbound_published(self, record_id: str) -> None:
        """Note that the message was handed to the support agent."""
        self.client.collection("inbound").document(record_id).update({"published": True})

    def get_conversation(self, key: str) -> ConversationDoc | None:
        """One conversation, or None."""
        snap = self._conversation(key).get()
        return ConversationDoc.model_validate(snap.to_dict()) if snap.exists else None

    def mark_sales_lead(self, key: str, now: datetime) -> bool:
        """Set sales_lead_at once: a redelivery or a later sales message leaves the first."""
        ref = self._conversation(key)
        snap = ref.get()
        if not snap.exists or (snap.to_dict() or {}).get("sales_lead_at") is not None:
            return False
        ref.update({"sales_lead_at": now})
        return True

    def list_messages(self, key: str) -> list[MessageDoc]:
        """A conversation's messages, oldest first."""
        docs = self._conversation(key).collection("messages").order_by("at").stream()
        return [MessageDoc.model_validate(d.to_dict()) for d in docs]

    def complete_reply(self, run_id: str, reply: MessageDoc, key: str, now: datetime) -> None:
        """In one batch: the reply effect done, the reply in the thread, the thread answered."""
        conversation = self._conversation(key)
        batch = self.client.batch()
        batch.update(
            self.effect_ref(run_id, "reply"), effect_done(now, {"message": reply.message_id})
        )
        batch.set(
            conversation.collection("messages").document(reply.message_id), reply.model_dump()
        )
        batch.update(conversation, {"status": "answered", "updated_at": now})
        batch.commit()

    def escalate(self, run_id: str, ticket: TicketDoc, now: datetime) -> None:
        """In one batch: the ticket effect done, the ticket, the conversation escalated."""
        batch = self.client.batch()
        batch.update(
            self.effect_ref(run_id, "ticket"), effect_done(now, {"ticket": ticket.ticket_id})
        )
        batch.set(self.client.collection("tickets").document(ticket.ticket_id), ticket.model_dump())
        batch.update(
            self._conversation(ticket.conversation_key),
            {
                "status": "escalated",
                "escalation_reason": ticket.reason,
                "ticket_id": ticket.ticket_id,
                "updated_at": now,
            },
        )
        batch.commit()

    def notify(self, notification_id: str, text: str, now: datetime) -> bool:
        """Record a notification for people once (the local stand-in for Slack)."""
        try:
            self.client.collection("notifications").document(notification_id).create(
                {"text": text, "created_at": now, "channel": "#support-escalations"}
            )
        except gexc.AlreadyExists:
            return False
        return True

    # --- the status page: listings, resolutions, knowledge-base drafts, statistics --------
    #
    # Indexes these queries need in the cloud (the emulator runs them without any):
    #   conversations (status ASC, last_message_at DESC)        list_conversations
    #   messages, collection-group scope, at ASC (single field)  messages_since
    # tickets.created_at and kb_drafts.created_at use the automatic single-field indexes.

    def list_conversations(self, statuses: Sequence[str], limit: int) -> list[ConversationDoc]:
        """Conversations in one of `statuses`, the latest customer message first."""
        query = (
            self.client.collection("conversations")
            .where(filter=FieldFilter("status", "in", list(statuses)))
            .order_by("last_message_at", direction=firestore.Query.DESCENDING)
            .limit(limit)
        )
        return [ConversationDoc.model_validate(s.to_dict()) for s in query.stream()]

    def get_ticket(self, ticket_id: str) -> TicketDoc | None:
        """One ticket, or None."""
        snap = self.client.collection("tickets").document(ticket_id).get()
        return TicketDoc.model_validate(snap.to_dict()) if snap.exists else None

    def get_resolution(self, ticket_id: str) -> Resolution | None:
        """Who resolved the ticket and when, or None while it is open."""
        snap = self.client.collection("tickets").document(ticket_id).get()
        resolution = (snap.to_dict() or {}).get("resolution") if snap.exists else None
        return Resolution.model_validate(resolution) if resolution else None

    def complete_resolution(
        self,
        run_id: str,
        reply: MessageDoc,
        resolution: Resolution,
        draft: KbDraftDoc,
        key: str,
        now: datetime,
    ) -> None:
        """In one batch: the resolve effect done, the person's reply, the ticket solved, the
        conversation resolved and the KB draft created (a racing resolve's batch fails whole:
        the reply and the draft are created, not overwritten)."""
        conversation = self._conversation(key)
        batch = self.client.batch()
        batch.update(
            self.effect_ref(run_id, "resolve"), effect_done(now, {"message": reply.message_id})
        )
        batch.create(
            conversation.collection("messages").document(reply.message_id), reply.model_dump()
        )
        batch.update(
            self.client.collection("tickets").document(resolution.ticket_id),
            {"status": "solved", "resolution": resolution.model_dump()},
        )
        batch.update(
            conversation,
            {
                "status": "resolved",
                "resolved_by": resolution.resolved_by,
                "resolved_at": resolution.resolved_at,
                "updated_at": now,
            },
        )
        batch.create(
            self.client.collection("kb_drafts").document(draft.draft_id), draft.model_dump()
        )
        try:
            batch.commit()
        except gexc.AlreadyExists:
            logger.info("conversation %s was resolved by a racing request", key)

    def get_kb_draft(self, draft_id: str) -> KbDraftDoc | None:
        """One knowledge-base draft, or None."""
        snap = self.client.collection("kb_drafts").document(draft_id).get()
        return KbDraftDoc.model_validate(snap.to_dict()) if snap.exists else None

    def list_kb_drafts(self, limit: int) -> list[KbDraftDoc]:
        """Knowledge-base drafts, newest first, approved or not."""
        query = (
            self.client.collection("kb_drafts")
            .order_by("created_at", direction=firestore.Query.DESCENDING)
            .limit(limit)
        )
        return [KbDraftDoc.model_validate(s.to_dict()) for s in query.stream()]

    def mark_kb_draft_approved(
        self, draft_id: str, approved_by: str, article_id: str, now: datetime
    ) -> bool:
        """Mark the draft approved unless it is already; False (and no change) if it was."""
        ref = self.client.collection("kb_drafts").document(draft_id)

        @firestore.transactional
        def approve(transaction: firestore.Transaction) -> bool:
            snap = ref.get(transaction=transaction)
            if not snap.exists or snap.get("status") == "approved":
                return False
            transaction.update(
                ref,
                {
                    "status": "approved",
                    "approved_by": approved_by,
                    "approved_at": now,
                    "article_id": article_id,
                },
            )
            return True

        changed: bool = approve(self.client.transaction())
        return changed

    def messages_since(self, start: datetime, end: datetime) -> list[tuple[str, MessageDoc]]:
        """Every conversation message with start <= at < end, with its conversation's key."""
        query = (
            self.client.collection_group("messages")
            .where(filter=FieldFilter("at", ">=", start))
            .where(filter=FieldFilter("at", "<", end))
        )
        found = []
        for snap in query.stream():
            conversation = snap.reference.parent.parent
            if conversation is not None and conversation.parent.id == "conversations":
                found.append((conversation.id, MessageDoc.model_validate(snap.to_dict())))
        return found

    def escalated_message_ids(self, since: datetime) -> set[str]:
        """The ids of the messages tickets were opened for at or after `since`."""
        query = (
            self.client.collection("tickets")
            .where(filter=FieldFilter("created_at", ">=", since))
            .select(["message_id"])
        )
        return {str(s.get("message_id")) for s in query.stream()}
