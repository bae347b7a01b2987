"""The local-folder artifact store: layout, sidecar, and whole-file replacement."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from shared.artifacts.local import LocalArtifactStore

RUN = "run-local-1"


def test_layout_is_runs_run_name_with_a_file_uri(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)

    stored = store.put(RUN, "report.md", b"# hi\n")

    path = tmp_path.resolve() / "runs" / RUN / "report.md"
    assert path.read_bytes() == b"# hi\n"
    assert stored.uri == path.as_uri()
    assert stored.uri.startswith("file:///")


def test_relative_root_is_resolved_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = LocalArtifactStore(".controlroom/artifacts")
    monkeypatch.chdir("/")

    store.put(RUN, "a.txt", b"a")

    assert (tmp_path / ".controlroom/artifacts/runs" / RUN / "a.txt").read_bytes() == b"a"


def test_url_is_none_so_the_status_page_serves_bytes(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put(RUN, "report.md", b"x")

    assert store.url(RUN, "report.md") is None


def test_content_type_survives_in_the_sidecar(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put(RUN, "figure.bin", b"\x00\x01", "application/vnd.controlroom.figure")

    reopened = LocalArtifactStore(tmp_path)
    stat = reopened.stat(RUN, "figure.bin")

    assert stat is not None
    assert stat.content_type == "application/vnd.controlroom.figure"


def test_missing_sidecar_falls_back_to_the_name(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put(RUN, "numbers.json", b"{}", "application/x-custom")
    (tmp_path / "runs" / RUN / ".meta" / "numbers.json.json").unlink()

    stat = store.stat(RUN, "numbers.json")

    assert stat is not None
    assert stat.content_type == "application/json"


def test_binary_content_round_trips(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    content = bytes(range(256)) * 4

    store.put(RUN, "blob.bin", content)

    assert store.get(RUN, "blob.bin") == content


def test_no_temp_files_are_left_behind(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    for i in range(3):
        store.put(RUN, "report.md", f"version {i}".encode())

    leftovers = [p.name for p in tmp_path.rglob(".tmp-*")]
    assert leftovers == []


def test_readers_never_see_a_half_written_file(tmp_path: Path) -> None:
    """A reader racing a writer that keeps replacing the file sees one version or the other."""
    store = LocalArtifactStore(tmp_path)
    size = 256 * 1024
    versions = (b"a" * size, b"b" * size)
    store.put(RUN, "report.md", versions[0])
    done = threading.Event()
    seen: list[bytes] = []

    def writer() -> None:
        try:
            for i in range(40):
                store.put(RUN, "report.md", versions[i % 2])
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 60
    while not done.is_set() and time.monotonic() < deadline:
        content = store.get(RUN, "report.md")
        assert content is not None
        seen.append(content)
    thread.join(timeout=10)

    assert done.is_set(), "the writer did not finish in time"
    assert seen, "the reader never ran"
    assert all(content in versions for content in seen)
