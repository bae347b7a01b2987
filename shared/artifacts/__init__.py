"""Artifact stores: where reports and generated content go (a folder, GCS or S3).

    from shared.wiring.artifacts import build_artifact_store
    store = build_artifact_store(settings)
    stored = store.put(run_id, "report.md", content.encode(), "text/markdown; charset=utf-8")
    store.get(run_id, "report.md")      # bytes, or None
    store.stat(run_id, "report.md")     # StoredArtifact, or None
    store.url(run_id, "report.md")      # a signed GET URL, or None: serve the bytes yourself

The adapters live in `local`, `gcs` and `s3`; only the one configured is imported, so the
other clouds' SDKs are never loaded.
"""

from shared.artifacts.errors import ArtifactBucketMissingError, ArtifactStoreUnavailableError
from shared.artifacts.ports import (
    ArtifactStore,
    StoredArtifact,
    check_segment,
    infer_content_type,
    object_key,
)

__all__ = [
    "ArtifactBucketMissingError",
    "ArtifactStore",
    "ArtifactStoreUnavailableError",
    "StoredArtifact",
    "check_segment",
    "infer_content_type",
    "object_key",
]
