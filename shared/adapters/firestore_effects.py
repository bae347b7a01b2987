"""The EffectLedger port (shared.core.effects) on Firestore: runs/{run}/effects/{step}.

Shared by the run store and the conversation store, so a support reply and a win-back email
are recorded the same way, in the same place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from shared.core.documents import EffectRecord
from shared.gcp.firestore import FirestoreAdapter


class FirestoreEffects(FirestoreAdapter):
    """Effect records: created as an intent once, marked done once."""

    def effect_ref(self, run_id: str, step: str) -> firestore.DocumentReference:
        """runs/{run}/effects/{step}."""
        return self.client.collection("runs").document(run_id).collection("effects").document(step)

    def begin_effect(
        self, run_id: str, step: str, now: datetime, intent: dict[str, Any] | None = None
    ) -> EffectRecord:
        """Created as an intent once; a later attempt on an unfinished record is counted."""
        ref = self.effect_ref(run_id, step)
        record = EffectRecord(step=step, started_at=now, intent=intent)
        try:
            ref.create(record.model_dump())
        except gexc.AlreadyExists:
            existing = EffectRecord.model_validate(ref.get().to_dict())
            if existing.status == "done":
                return existing
            ref.update({"attempts": firestore.Increment(1)})
            return existing.model_copy(update={"attempts": existing.attempts + 1})
        return record

    def complete_effect(
        self, run_id: str, step: str, now: datetime, result: dict[str, Any] | None = None
    ) -> None:
        """Mark the effect done, with what the outside system answered."""
        self.effect_ref(run_id, step).update(effect_done(now, result))


def effect_done(now: datetime, result: dict[str, Any] | None) -> dict[str, Any]:
    """The fields that mark an effect record done (for a batch that writes more beside it)."""
    return {"status": "done", "done_at": now, "result": result}
