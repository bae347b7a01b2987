"""Constructors for timeline events, with ids that make a redelivery write nothing new."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.core.documents import RunEvent
from shared.core.models import stable_id


def run_event(
    run_id: str,
    type_: str,
    message: str,
    at: datetime,
    *,
    task_id: str | None = None,
    agent: str | None = None,
    attempt: int | None = None,
    discriminator: str = "",
    data: dict[str, Any] | None = None,
) -> RunEvent:
    """An event whose id is derived from what it records, not from when it was written."""
    event_id = stable_id(run_id, type_, task_id or "", str(attempt or ""), discriminator)
    return RunEvent(
        event_id=event_id,
        run_id=run_id,
        type=type_,
        at=at,
        message=message,
        task_id=task_id,
        agent=agent,
        attempt=attempt,
        data=data or {},
    )
