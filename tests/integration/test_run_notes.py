"""Notes on a run's timeline, through the status function on the emulators: a person's words,
signed with their name, once per note, refused when empty or for a run that does not exist."""

from __future__ import annotations

from datetime import UTC, datetime

import flask
import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.core.documents import RunDoc
from shared.core.models import RunStatus
from tests.conftest import Emulators
from tests.helpers.status_client import BROWSER, status_client

pytestmark = pytest.mark.integration

RUN = "weekly_gtm-notes"


@pytest.fixture
def client(clean_emulators: Emulators) -> flask.testing.FlaskClient:
    run = RunDoc(
        run_id=RUN, workflow="weekly_gtm", trigger="api", status=RunStatus.SUCCEEDED,
        task_count=4, created_at=datetime(2026, 11, 16, 8, 0, tzinfo=UTC),
    )  # fmt: skip
    assert FirestoreStore(clean_emulators.project).create_run(run, [], [])
    return status_client()


def _notes(store: FirestoreStore) -> list[str]:
    return [e.message for e in store.list_events(RUN) if e.type == "note"]


def test_a_note_lands_on_the_timeline_once_signed_by_its_author(
    client: flask.testing.FlaskClient, clean_emulators: Emulators
) -> None:
    note = {"text": "Budget move agreed with Ana: email gets 10% more from December."}
    first = client.post(f"/api/runs/{RUN}/notes", json=note)
    again = client.post(f"/api/runs/{RUN}/notes", json=note)  # a double click

    assert (first.status_code, first.get_json()["added"]) == (202, True)
    assert (again.status_code, again.get_json()["added"]) == (202, False)
    store = FirestoreStore(clean_emulators.project)
    assert _notes(store) == [f"api: {note['text']}"]
    page = client.get(f"/runs/{RUN}", headers=BROWSER).get_data(as_text=True)
    assert note["text"] in page and 'action="/runs/weekly_gtm-notes/notes"' in page


@pytest.mark.parametrize(
    ("run_id", "body", "status", "words"),
    [
        (RUN, {"text": "   "}, 400, "1 to 2000 characters"),
        (RUN, {"text": "x" * 2001}, 400, "1 to 2000 characters"),
        ("weekly_gtm-nope", {"text": "hello"}, 404, "no run"),
    ],
)
def test_an_empty_or_overlong_note_or_an_unknown_run_is_refused_and_nothing_is_written(
    client: flask.testing.FlaskClient,
    clean_emulators: Emulators,
    run_id: str,
    body: dict[str, str],
    status: int,
    words: str,
) -> None:
    answer = client.post(f"/api/runs/{run_id}/notes", json=body)

    assert answer.status_code == status and words in answer.get_json()["error"]
    assert _notes(FirestoreStore(clean_emulators.project)) == []


def test_a_note_needs_the_act_scope(clean_emulators: Emulators) -> None:
    anonymous = status_client(token=None)

    answer = anonymous.post(f"/api/runs/{RUN}/notes", json={"text": "hello"})

    assert answer.status_code in (401, 403)
