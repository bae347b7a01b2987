"""Use case: an API caller asks for a workflow run (with an optional idempotency key)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.core.documents import IdempotencyRecord
from shared.core.messages import RunRequest
from shared.core.models import stable_id
from shared.core.ports import Bus, Store
from shared.core.topology import RUN_REQUESTS_TOPIC
from shared.workflows.registry import get_workflow

IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"


class StartRunBody(BaseModel):
    """The JSON body of POST /runs."""

    model_config = ConfigDict(extra="forbid")
    workflow: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, pattern=IDEMPOTENCY_KEY_PATTERN)

    @field_validator("idempotency_key")
    @classmethod
    def _key_can_name_a_document(cls, key: str | None) -> str | None:
        # The key is the id of its idempotency/{key} document, and Firestore refuses these.
        if key is not None and (
            key in (".", "..") or (key.startswith("__") and key.endswith("__"))
        ):
            raise ValueError("must not be '.', '..' or start and end with '__'")
        return key


@dataclass(frozen=True)
class RunAccepted:
    """The run a request started, or the one an earlier request with the same key started."""

    run_id: str
    duplicate: bool


def request_run(
    body: StartRunBody, *, requested_by: str, store: Store, bus: Bus, clock: Callable[[], datetime]
) -> RunAccepted:
    """Validate the workflow and its params, honour the idempotency key, publish the run
    request. An unknown workflow or a refused param raises before anything is written."""
    workflow = get_workflow(body.workflow)
    params = workflow.validate_params(body.params)
    key = body.idempotency_key
    if key is None:
        run_id = f"{workflow.name}-{uuid.uuid4().hex[:12]}"
        duplicate = False
    else:
        run_id = f"{workflow.name}-{stable_id('idempotency', key, length=12)}"
        earlier = store.reserve_idempotency_key(
            IdempotencyRecord(key=key, run_id=run_id, workflow=workflow.name, created_at=clock())
        )
        duplicate = earlier is not None
        if earlier is not None:
            run_id = earlier.run_id
            if store.get_run(run_id) is not None:
                return RunAccepted(run_id, duplicate=True)
            # Reserved but never started (the publish failed): publish again; the supervisor
            # creates a run id only once, so this cannot start a second run.
    request = RunRequest(
        workflow=workflow.name,
        trigger="api",
        params=params,
        run_id=run_id,
        requested_by=requested_by,
    )
    bus.publish(RUN_REQUESTS_TOPIC, request)
    return RunAccepted(run_id, duplicate=duplicate)
