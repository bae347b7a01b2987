"""`controlroom kb search` on a folder needs no Firestore; without one it says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.cli import main

ARTICLES = Path(__file__).resolve().parents[3] / "kb" / "heldout2" / "articles"


def test_a_folder_is_searched_in_memory(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["kb", "search", "where is my parcel, it hasn't come", "--dir", str(ARTICLES),
                 "-k", "1", "--embedder", "none"])  # fmt: skip

    out = capsys.readouterr().out
    assert code == 0
    assert " where-is-my-parcel.md [" in out.splitlines()[1]


def test_without_firestore_it_says_what_it_needs_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.helpers.status_client import clear_settings_caches

    for name in (
        "FIRESTORE_EMULATOR_HOST",
        "GOOGLE_CLOUD_PROJECT",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no gcloud application-default credentials
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    clear_settings_caches()
    try:
        code = main(["kb", "search", "where is my order", "--embedder", "none"])
    finally:
        clear_settings_caches()

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "--dir DIR" in err and "Traceback" not in err
