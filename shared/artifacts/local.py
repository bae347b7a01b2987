"""The artifact store in a local folder: the default of the local cloud and of tests."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from shared.artifacts.ports import StoredArtifact, infer_content_type, object_key, sha256_hex

META_DIR = ".meta"


class LocalArtifactStore:
    """`{root}/runs/{run_id}/{name}`, with the content type in `.meta/{name}.json` beside it.

    Each file is written to a temp file in the same folder, flushed to disk and renamed over
    the target (`os.replace`), so a reader sees the old bytes or the new, never a part. The
    sidecar is written after the content; if a crash falls between the two, the type is
    inferred from the name. `url` returns None: the status page serves the bytes itself.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def put(
        self, run_id: str, name: str, content: bytes, content_type: str | None = None
    ) -> StoredArtifact:
        """Write the artifact atomically, then its sidecar."""
        path = self._path(run_id, name)
        kind = content_type or infer_content_type(name)
        _write_atomically(path, content)
        _write_atomically(self._meta_path(path), json.dumps({"content_type": kind}).encode())
        return self._stored(run_id, name, path, content, kind)

    def get(self, run_id: str, name: str) -> bytes | None:
        """The file's bytes, or None."""
        try:
            return self._path(run_id, name).read_bytes()
        except FileNotFoundError:
            return None

    def stat(self, run_id: str, name: str) -> StoredArtifact | None:
        """Size and hash from the file itself, the type from the sidecar (else inferred)."""
        path = self._path(run_id, name)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            kind = json.loads(self._meta_path(path).read_bytes())["content_type"]
        except (FileNotFoundError, ValueError, KeyError):
            kind = infer_content_type(name)
        return self._stored(run_id, name, path, content, str(kind))

    def url(self, run_id: str, name: str) -> str | None:
        """None: a folder cannot sign URLs."""
        object_key(run_id, name)  # the same validation as every other call
        return None

    def _path(self, run_id: str, name: str) -> Path:
        return self.root / object_key(run_id, name)

    @staticmethod
    def _meta_path(path: Path) -> Path:
        return path.parent / META_DIR / f"{path.name}.json"

    @staticmethod
    def _stored(
        run_id: str, name: str, path: Path, content: bytes, content_type: str
    ) -> StoredArtifact:
        return StoredArtifact(
            run_id=run_id,
            name=name,
            uri=path.as_uri(),
            size=len(content),
            sha256=sha256_hex(content),
            content_type=content_type,
        )


def _write_atomically(path: Path, content: bytes) -> None:
    """Temp file in the target's folder, fsync, rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(content)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
