"""Every Firestore query that needs a composite index in the cloud, in one place.

The emulator runs any query without indexes (../shared/EMULATORS.md), so a missing index would
only show in production. Each adapter query that filters or orders on more than one field is
listed here with the index it needs; infra/terraform/firestore.tf declares them and a test
(tests/unit/infra/test_terraform.py) fails when one is missing there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Order = Literal["ASCENDING", "DESCENDING"]


@dataclass(frozen=True)
class CompositeIndex:
    """One composite index and the query that needs it."""

    collection: str
    fields: tuple[tuple[str, Order], ...]
    query: str  # where the query is made
    scope: Literal["COLLECTION", "COLLECTION_GROUP"] = "COLLECTION"


ASC: Order = "ASCENDING"
DESC: Order = "DESCENDING"

COMPOSITE_INDEXES: tuple[CompositeIndex, ...] = (
    CompositeIndex(
        "runs", (("status", ASC), ("deadline_at", ASC)), "FirestoreStore.list_overdue_runs"
    ),
    CompositeIndex(
        "runs", (("workflow", ASC), ("created_at", DESC)), "FirestoreStore.find_runs(workflow)"
    ),
    CompositeIndex(
        "runs", (("status", ASC), ("created_at", DESC)), "FirestoreStore.find_runs(status)"
    ),
    CompositeIndex(
        "runs",
        (("workflow", ASC), ("status", ASC), ("created_at", DESC)),
        "FirestoreStore.find_runs(workflow, status)",
    ),
    CompositeIndex(
        "conversations",
        (("status", ASC), ("last_message_at", DESC)),
        "FirestoreConversations.list_conversations",
    ),
    CompositeIndex("tasks", (("step", ASC), ("task_id", ASC)), "FirestoreStore.list_tasks(step)"),
    CompositeIndex(
        "tasks", (("step", ASC), ("status", ASC)), "FirestoreStore.count_terminal_tasks(step)"
    ),
    CompositeIndex(
        "approvals",
        (("status", ASC), ("requested_at", ASC)),
        "FirestoreStore.list_approvals",
        scope="COLLECTION_GROUP",
    ),
    CompositeIndex(
        "approvals",
        (("status", ASC), ("expires_at", ASC)),
        "FirestoreStore.list_expired_approvals",
        scope="COLLECTION_GROUP",
    ),
)
