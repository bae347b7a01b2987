"""The runs list of the status function: filters, cursor paging and its 400s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import flask
import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.core.documents import RunDoc
from shared.core.models import RunStatus
from tests.conftest import Emulators
from tests.helpers.status_client import status_client

pytestmark = pytest.mark.integration

DAY = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
# (run id, workflow, status, created_at); run-c and run-d were created in the same instant.
RUNS = [
    ("run-a", "weekly_gtm", RunStatus.SUCCEEDED, DAY),
    ("run-b", "legacy_report", RunStatus.FAILED, DAY + timedelta(days=1)),
    ("run-c", "weekly_gtm", RunStatus.FAILED, DAY + timedelta(days=2)),
    ("run-d", "weekly_gtm", RunStatus.SUCCEEDED, DAY + timedelta(days=2)),
    ("run-e", "legacy_report", RunStatus.RUNNING, DAY + timedelta(days=3, hours=14)),
    ("run-f", "weekly_gtm", RunStatus.RUNNING, DAY + timedelta(days=4)),
]
NEWEST_FIRST = ["run-f", "run-e", "run-d", "run-c", "run-b", "run-a"]


@pytest.fixture
def client(clean_emulators: Emulators) -> flask.testing.FlaskClient:
    store = FirestoreStore(clean_emulators.project)
    for run_id, workflow, status, created_at in RUNS:
        run = RunDoc(
            run_id=run_id,
            workflow=workflow,
            trigger="schedule",
            task_count=0,
            status=status,
            created_at=created_at,
        )
        assert store.create_run(run, [], [])
    return status_client()  # the API token may read


def _ids(client: flask.testing.FlaskClient, query: str) -> list[str]:
    response = client.get(f"/api/runs?{query}")
    assert response.status_code == 200, response.get_json()
    return [run["run_id"] for run in response.get_json()["runs"]]


def test_runs_are_listed_newest_first_with_ties_broken_by_id(
    client: flask.testing.FlaskClient,
) -> None:
    body = client.get("/api/runs").get_json()

    assert [run["run_id"] for run in body["runs"]] == NEWEST_FIRST
    assert body["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("workflow=weekly_gtm", ["run-f", "run-d", "run-c", "run-a"]),
        ("status=failed", ["run-c", "run-b"]),
        ("workflow=weekly_gtm&status=succeeded", ["run-d", "run-a"]),
        ("since=2026-11-12", ["run-f", "run-e", "run-d", "run-c"]),
        ("until=2026-11-11", ["run-b", "run-a"]),
        ("since=2026-11-12&until=2026-11-13", ["run-e", "run-d", "run-c"]),
        ("workflow=legacy_report&since=2026-11-11&until=2026-11-11", ["run-b"]),
        ("workflow=nothing_like_it", []),
        ("workflow=&status=&since=&until=", NEWEST_FIRST),  # an untouched filter form
    ],
)
def test_runs_are_filtered_by_workflow_status_and_utc_day(
    client: flask.testing.FlaskClient, query: str, expected: list[str]
) -> None:
    assert _ids(client, query) == expected


def test_pages_follow_the_cursor_through_every_run_once(
    client: flask.testing.FlaskClient,
) -> None:
    pages: list[list[str]] = []
    query = "limit=2"
    for _ in range(len(RUNS)):  # bounded: a cursor that never ends fails the test
        body = client.get(f"/api/runs?{query}").get_json()
        pages.append([run["run_id"] for run in body["runs"]])
        if body["next_cursor"] is None:
            break
        query = f"limit=2&cursor={body['next_cursor']}"

    assert pages == [["run-f", "run-e"], ["run-d", "run-c"], ["run-b", "run-a"]]


def test_filtered_pages_keep_their_filters(client: flask.testing.FlaskClient) -> None:
    first = client.get("/api/runs?workflow=weekly_gtm&limit=3").get_json()
    second = client.get(
        f"/api/runs?workflow=weekly_gtm&limit=3&cursor={first['next_cursor']}"
    ).get_json()
    html = client.get("/runs?workflow=weekly_gtm&limit=3").get_data(as_text=True)

    assert [r["run_id"] for r in first["runs"]] == ["run-f", "run-d", "run-c"]
    assert [r["run_id"] for r in second["runs"]] == ["run-a"]
    assert second["next_cursor"] is None
    assert f"/runs?workflow=weekly_gtm&amp;limit=3&amp;cursor={first['next_cursor']}" in html
    assert "<option selected>weekly_gtm</option>" in html


def test_an_empty_filter_result_says_so(client: flask.testing.FlaskClient) -> None:
    html = client.get("/runs?status=failed&since=2026-11-14").get_data(as_text=True)

    assert "No runs match these filters." in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("status=exploded", "status"),
        ("workflow=Weekly%20GTM", "workflow"),
        ("since=2026-13-01", "since"),
        ("until=yesterday", "until"),
        ("since=2026-11-14&until=2026-11-10", "since must not be after until"),
        ("cursor=not-a-cursor", "cursor"),
        ("colour=blue", "colour"),
    ],
)
def test_bad_parameters_are_400_with_a_message(
    client: flask.testing.FlaskClient, query: str, message: str
) -> None:
    for path in ("/api/runs", "/runs"):
        response = client.get(f"{path}?{query}")

        assert response.status_code == 400
        assert message in response.get_json()["error"]
