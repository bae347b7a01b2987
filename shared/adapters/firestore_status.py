"""What the status page keeps or counts in Firestore besides runs and conversations.

    audit/{id}                                  AuditLog (shared/app/audit.py)
    agent_settings/{agent}/versions/{kind}-v{n} SettingsVersions (shared/app/edit_agent_settings.py)
    agent_settings/{agent}                      the override agents read, updated with a version
    runs/{run}/effects/{step}                   EffectCounts (shared/app/kpis.py), read only

Queries and the indexes they need: audit ordered by `at` and a run's effects by document id
both use Firestore's automatic single-field indexes; an agent's versions are ordered by
`created_at` within their own subcollection (also automatic). No composite index is needed.
"""

from __future__ import annotations

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from shared.core.documents import AuditEntry, SettingsVersion
from shared.gcp.firestore import FirestoreAdapter


class FirestoreStatusRecords(FirestoreAdapter):
    """The audit trail, agent settings versions and effect counts on Firestore."""

    # --- audit ---------------------------------------------------------------------------

    def record_audit(self, entry: AuditEntry) -> None:
        """Store one entry; its id is unique, so create() never overwrites another."""
        self.client.collection("audit").document(entry.audit_id).create(entry.model_dump())

    def recent_audit(self, limit: int) -> list[AuditEntry]:
        """The latest entries, newest first."""
        docs = (
            self.client.collection("audit")
            .order_by("at", direction=firestore.Query.DESCENDING)
            .limit(limit)
            .stream()
        )
        return [AuditEntry.model_validate(d.to_dict()) for d in docs]

    # --- agent settings versions ---------------------------------------------------------

    def _agent_ref(self, agent: str) -> firestore.DocumentReference:
        return self.client.collection("agent_settings").document(agent)

    def list_settings_versions(self, agent: str, limit: int) -> list[SettingsVersion]:
        """An agent's saved versions of both kinds, newest first."""
        docs = (
            self._agent_ref(agent)
            .collection("versions")
            .order_by("created_at", direction=firestore.Query.DESCENDING)
            .limit(limit)
            .stream()
        )
        return [SettingsVersion.model_validate(d.to_dict()) for d in docs]

    def save_settings_version(self, version: SettingsVersion) -> bool:
        """Create the version and make it the agent's override in one batch; False (and no
        change) when the version exists already."""
        agent = self._agent_ref(version.agent)
        batch = self.client.batch()
        batch.create(
            agent.collection("versions").document(version.version_id), version.model_dump()
        )
        kind = version.kind
        batch.set(
            agent,
            {
                kind: version.content,
                f"{kind}_saved_by": version.created_by,
                f"{kind}_saved_at": version.created_at,
            },
            merge=[kind, f"{kind}_saved_by", f"{kind}_saved_at"],
        )
        try:
            batch.commit()
        except gexc.AlreadyExists:
            return False
        return True

    # --- effects -------------------------------------------------------------------------

    def count_done_effects(self, run_id: str, prefix: str) -> int:
        """How many of the run's effects whose step starts with `prefix` are done."""
        effects = self.client.collection("runs").document(run_id).collection("effects")
        query = (
            effects.where(filter=FieldFilter("status", "==", "done"))
            .where(filter=FieldFilter(FieldPath.document_id(), ">=", effects.document(prefix)))
            .where(
                filter=FieldFilter(
                    FieldPath.document_id(), "<", effects.document(prefix + "\uf8ff")
                )
            )
        )
        [[result]] = query.count().get()
        return int(result.value)
