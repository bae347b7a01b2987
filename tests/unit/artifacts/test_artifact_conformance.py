"""One conformance suite every ArtifactStore passes, run here against the local folder.

The S3 (moto server) and GCS (recorded JSON API) integration tests import `CONFORMANCE` and
run the same checks against their stores, the way LangGraph checks every checkpointer with
one suite. Each check takes a store and a fresh run id.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.artifacts import ArtifactStore
from shared.artifacts.local import LocalArtifactStore
from shared.core.errors import InvalidRequestError

Check = Callable[[ArtifactStore, str], None]
# UTF-8 text with multi-byte characters, as the weekly report is.
REPORT = "# Weekly GTM — run\n\nRevenue up 4 % (€12,300).\n".encode()
BAD_NAMES = ("", ".", "..", "../report.md", "a/b.md", "a\\b.md", ".hidden", "bad\nname")


def check_put_returns_what_was_stored(store: ArtifactStore, run_id: str) -> None:
    """`put` reports the uri, size, SHA-256 and type; `get` returns the same bytes."""
    stored = store.put(run_id, "report.md", REPORT, "text/markdown; charset=utf-8")

    assert stored.run_id == run_id
    assert stored.name == "report.md"
    assert stored.uri.endswith(f"/runs/{run_id}/report.md")
    assert stored.size == len(REPORT)
    assert stored.sha256 == hashlib.sha256(REPORT).hexdigest()
    assert stored.content_type == "text/markdown; charset=utf-8"
    assert store.get(run_id, "report.md") == REPORT


def check_stat_reads_back_put(store: ArtifactStore, run_id: str) -> None:
    """`stat` reads from the store exactly what `put` returned."""
    stored = store.put(run_id, "numbers.json", b'{"revenue": 12300}', "application/json")

    assert store.stat(run_id, "numbers.json") == stored


def check_missing_is_none(store: ArtifactStore, run_id: str) -> None:
    """An artifact never written is None for `get` and `stat`."""
    store.put(run_id, "report.md", REPORT)

    assert store.get(run_id, "absent.md") is None
    assert store.stat(run_id, "absent.md") is None
    assert store.get(f"{run_id}-other", "report.md") is None


def check_put_replaces(store: ArtifactStore, run_id: str) -> None:
    """A second `put` of a name replaces its bytes and type."""
    store.put(run_id, "report.html", b"<p>first</p>", "text/html")
    second = store.put(run_id, "report.html", b"<p>second, longer</p>", "text/plain")

    assert store.get(run_id, "report.html") == b"<p>second, longer</p>"
    assert store.stat(run_id, "report.html") == second


def check_type_inferred_from_name(store: ArtifactStore, run_id: str) -> None:
    """Without a content type, the report formats get theirs from the name."""
    csv = store.put(run_id, "numbers.csv", b"agent,metric,value\n")
    md = store.put(run_id, "report.md", REPORT)

    assert csv.content_type == "text/csv; charset=utf-8"
    assert md.content_type == "text/markdown; charset=utf-8"
    assert store.stat(run_id, "numbers.csv") == csv


def check_empty_content(store: ArtifactStore, run_id: str) -> None:
    """Zero bytes are an artifact, not an absence."""
    stored = store.put(run_id, "empty.txt", b"")

    assert stored.size == 0
    assert store.get(run_id, "empty.txt") == b""
    assert store.stat(run_id, "empty.txt") == stored


def check_names_needing_escapes(store: ArtifactStore, run_id: str) -> None:
    """Spaces, accents and '+' survive the trip through URLs and keys."""
    for name in ("weekly report.md", "résumé.md", "a+b=c.txt"):
        stored = store.put(run_id, name, REPORT)
        assert store.get(run_id, name) == REPORT
        assert store.stat(run_id, name) == stored


def check_runs_are_separate(store: ArtifactStore, run_id: str) -> None:
    """The same name in two runs is two artifacts."""
    store.put(run_id, "report.md", b"one")
    store.put(f"{run_id}-b", "report.md", b"two")

    assert store.get(run_id, "report.md") == b"one"
    assert store.get(f"{run_id}-b", "report.md") == b"two"


def check_unsafe_names_rejected(store: ArtifactStore, run_id: str) -> None:
    """Every method refuses a name or run id that is not one safe path segment."""
    calls: list[Callable[[str, str], object]] = [
        lambda r, n: store.put(r, n, b"x"),
        store.get,
        store.stat,
        store.url,
    ]
    for call in calls:
        for bad in BAD_NAMES:
            with pytest.raises(InvalidRequestError):
                call(run_id, bad)
            with pytest.raises(InvalidRequestError):
                call(bad, "report.md")


CONFORMANCE: tuple[Check, ...] = (
    check_put_returns_what_was_stored,
    check_stat_reads_back_put,
    check_missing_is_none,
    check_put_replaces,
    check_type_inferred_from_name,
    check_empty_content,
    check_names_needing_escapes,
    check_runs_are_separate,
    check_unsafe_names_rejected,
)


def new_run_id() -> str:
    """A run id no other test uses."""
    return f"run-{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize("check", CONFORMANCE, ids=lambda c: c.__name__)
def test_local_store_conforms(check: Check, tmp_path: Path) -> None:
    check(LocalArtifactStore(tmp_path), new_run_id())
