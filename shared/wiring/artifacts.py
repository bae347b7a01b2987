"""Builds the configured artifact store from settings (no client connects here)."""

from __future__ import annotations

from shared.artifacts.ports import ArtifactStore
from shared.core.errors import PermanentError
from shared.wiring.settings import Settings


def build_artifact_store(settings: Settings) -> ArtifactStore:
    """The local folder, a GCS bucket or an S3 bucket, as `settings.artifact_store` says."""
    if settings.artifact_store == "local":
        from shared.artifacts.local import LocalArtifactStore

        return LocalArtifactStore(settings.artifact_dir)
    if not settings.artifact_bucket:
        raise PermanentError(
            f"CONTROLROOM_ARTIFACT_BUCKET is required for the {settings.artifact_store} "
            "artifact store"
        )
    if settings.artifact_store == "gcs":
        from shared.artifacts.gcs import GcsArtifactStore

        return GcsArtifactStore(
            settings.artifact_bucket,
            project=settings.project_id,
            url_ttl_s=settings.artifact_url_ttl_s,
        )
    from shared.artifacts.s3 import S3ArtifactStore

    return S3ArtifactStore(
        settings.artifact_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        url_ttl_s=settings.artifact_url_ttl_s,
    )
