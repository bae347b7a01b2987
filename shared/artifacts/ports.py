"""The artifact store port: where reports and generated content go, and how names become keys.

Every store keeps a run's artifacts under the object key `runs/{run_id}/{name}`. Run ids and
names are single path segments, checked here before any store sees them, so no caller can
write outside its run's folder (no `..`, no `/`).
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from typing import Protocol

from shared.core.errors import InvalidRequestError

MAX_SEGMENT_BYTES = 255
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# mimetypes reads the machine's /etc/mime.types; the formats we write must not depend on it.
KNOWN_CONTENT_TYPES = {
    ".md": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class StoredArtifact:
    """One stored artifact: where it lives (`gs://`, `s3://` or `file://`) and what it holds."""

    run_id: str
    name: str
    uri: str
    size: int
    sha256: str
    content_type: str


class ArtifactStore(Protocol):
    """Bytes kept per run and name; a second `put` of the same name replaces the first."""

    def put(
        self, run_id: str, name: str, content: bytes, content_type: str | None = None
    ) -> StoredArtifact:
        """Store `content` whole, never half-written; None infers the type from the name."""
        ...

    def get(self, run_id: str, name: str) -> bytes | None:
        """The artifact's bytes, or None if it does not exist."""
        ...

    def stat(self, run_id: str, name: str) -> StoredArtifact | None:
        """What `put` returned for the artifact, read back from the store; None if absent."""
        ...

    def url(self, run_id: str, name: str) -> str | None:
        """A time-limited signed GET URL, or None where the store cannot sign (serve the bytes).

        The URL is computed locally and does not prove the artifact exists.
        """
        ...


def check_segment(value: str, what: str) -> str:
    """`value` if it is a safe single path segment, else InvalidRequestError naming `what`."""
    if not value or value in {".", ".."}:
        raise InvalidRequestError(f"artifact {what} must not be empty, '.' or '..': {value!r}")
    if "/" in value or "\\" in value:
        raise InvalidRequestError(f"artifact {what} must not contain '/' or '\\': {value!r}")
    if value.startswith("."):
        # Leading dots are kept for the local store's own temp files and sidecars.
        raise InvalidRequestError(f"artifact {what} must not start with '.': {value!r}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidRequestError(f"artifact {what} must not contain control characters")
    if len(value.encode("utf-8")) > MAX_SEGMENT_BYTES:
        raise InvalidRequestError(f"artifact {what} is longer than {MAX_SEGMENT_BYTES} bytes")
    return value


def object_key(run_id: str, name: str) -> str:
    """`runs/{run_id}/{name}` after checking both segments."""
    return f"runs/{check_segment(run_id, 'run id')}/{check_segment(name, 'name')}"


def infer_content_type(name: str) -> str:
    """The content type for a file name: our report formats first, then `mimetypes`."""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix in KNOWN_CONTENT_TYPES:
        return KNOWN_CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or DEFAULT_CONTENT_TYPE


def sha256_hex(content: bytes) -> str:
    """Hex SHA-256 of `content`."""
    return hashlib.sha256(content).hexdigest()
