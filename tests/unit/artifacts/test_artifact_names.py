"""Object keys and content types: what every artifact store relies on."""

from __future__ import annotations

import pytest

from shared.artifacts import check_segment, infer_content_type, object_key
from shared.core.errors import InvalidRequestError, PermanentError


def test_key_is_runs_run_id_name() -> None:
    assert object_key("run-20261116-abc", "report.md") == "runs/run-20261116-abc/report.md"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        ".",
        "..",
        "../etc",
        "a/b",
        "/abs",
        "a\\b",
        ".meta",
        ".tmp-1",
        "a\x00b",
        "a\tb",
        "x" * 256,
    ],
)
def test_unsafe_segments_are_refused(bad: str) -> None:
    with pytest.raises(InvalidRequestError):
        object_key("run-1", bad)
    with pytest.raises(InvalidRequestError):
        object_key(bad, "report.md")


def test_refusal_is_a_permanent_400_naming_the_part() -> None:
    with pytest.raises(InvalidRequestError, match="name") as caught:
        object_key("run-1", "../report.md")

    assert isinstance(caught.value, PermanentError)
    assert caught.value.http_status == 400


@pytest.mark.parametrize(
    "good", ["report.md", "numbers.csv", "weekly report.md", "résumé.md", "a..b", "x" * 255]
)
def test_ordinary_names_pass(good: str) -> None:
    assert check_segment(good, "name") == good


def test_length_limit_counts_utf8_bytes() -> None:
    with pytest.raises(InvalidRequestError):
        check_segment("é" * 128, "name")  # 256 bytes


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("report.md", "text/markdown; charset=utf-8"),
        ("report.html", "text/html; charset=utf-8"),
        ("numbers.json", "application/json"),
        ("numbers.csv", "text/csv; charset=utf-8"),
        ("REPORT.MD", "text/markdown; charset=utf-8"),
        ("chart.png", "image/png"),
        ("no-suffix", "application/octet-stream"),
    ],
)
def test_content_type_inference(name: str, content_type: str) -> None:
    assert infer_content_type(name) == content_type
