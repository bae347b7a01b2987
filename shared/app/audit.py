"""The audit trail: every action a person or program takes through the status page.

    audit/{id}   AuditEntry: who (the token's name), how they proved it (bearer, session),
                 action ("conversation.resolve", "kb_draft.approve", "agent_settings.prompts",
                 "session.signin", ...), target (what it acted on), outcome ("done",
                 "unchanged" for a repeat that changed nothing, "denied" for a 403), when, and
                 details.

An entry is written after the action succeeded (or was refused). A crash between the two
loses that one entry; every action here is idempotent, so the client's retry both repeats
the action harmlessly and writes the entry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from shared.core.documents import AuditEntry


def new_audit_id(at: datetime, suffix: str) -> str:
    """An id that sorts by time (UTC, microseconds) and is unique by its random suffix."""
    return f"{at.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{suffix}"


class AuditLog(Protocol):
    """Where audit entries are kept."""

    def record_audit(self, entry: AuditEntry) -> None:
        """Store one entry (never overwrites another)."""
        ...

    def recent_audit(self, limit: int) -> list[AuditEntry]:
        """The latest entries, newest first."""
        ...
