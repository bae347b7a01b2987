"""build_artifact_store: the configured adapter, with nothing connected yet."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.artifacts.gcs import GcsArtifactStore
from shared.artifacts.local import LocalArtifactStore
from shared.artifacts.s3 import S3ArtifactStore
from shared.core.errors import PermanentError
from shared.wiring.artifacts import build_artifact_store
from shared.wiring.settings import Settings


def test_local_is_the_default(tmp_path: Path) -> None:
    store = build_artifact_store(Settings(artifact_dir=str(tmp_path / "artifacts")))

    assert isinstance(store, LocalArtifactStore)
    assert store.root == (tmp_path / "artifacts").resolve()


def test_gcs_store_from_settings_makes_no_client_yet() -> None:
    settings = Settings(
        artifact_store="gcs", artifact_bucket="cr-artifacts", artifact_url_ttl_s=600
    )

    store = build_artifact_store(settings)

    assert isinstance(store, GcsArtifactStore)
    assert store.bucket_name == "cr-artifacts"
    assert store.project == settings.project_id
    assert store.url_ttl_s == 600
    assert store._client is None


def test_s3_store_from_settings_makes_no_client_yet() -> None:
    settings = Settings(
        artifact_store="s3",
        artifact_bucket="cr-artifacts",
        s3_endpoint_url="http://127.0.0.1:9000",
        s3_region="eu-west-3",
    )

    store = build_artifact_store(settings)

    assert isinstance(store, S3ArtifactStore)
    assert (store.bucket, store.endpoint_url, store.region) == (
        "cr-artifacts",
        "http://127.0.0.1:9000",
        "eu-west-3",
    )
    assert store.url_ttl_s == 3600
    assert store._client is None


@pytest.mark.parametrize("kind", ["gcs", "s3"])
def test_a_bucket_store_without_a_bucket_is_a_clear_error(kind: str) -> None:
    with pytest.raises(PermanentError, match="CONTROLROOM_ARTIFACT_BUCKET"):
        build_artifact_store(Settings(artifact_store=kind))  # type: ignore[arg-type]
