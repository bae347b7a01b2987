"""The webhooks function through functions-framework: auth, validation, idempotency."""

from __future__ import annotations

import json
from collections.abc import Iterator

import flask
import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.core.messages import RunRequest
from shared.core.topology import RUN_REQUESTS_TOPIC
from tests.conftest import API_TOKEN, PROJECT, Emulators
from tests.helpers.functions_app import function_client
from tests.helpers.pubsub import TopicTap

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
def client(clean_emulators: Emulators) -> flask.testing.FlaskClient:
    return function_client("webhooks", "handle_webhook", "http")


@pytest.fixture
def run_requests(emulators: Emulators) -> Iterator[TopicTap]:
    tap = TopicTap(emulators.project, RUN_REQUESTS_TOPIC)
    yield tap
    tap.close()


def _idempotency_docs(store: FirestoreStore) -> list[str]:
    return [d.id for d in store.client.collection("idempotency").list_documents()]


def test_a_valid_request_publishes_one_run_request(
    client: flask.testing.FlaskClient, run_requests: TopicTap
) -> None:
    response = client.post(
        "/runs", json={"workflow": "weekly_gtm", "params": {"window_days": 14}}, headers=AUTH
    )

    assert response.status_code == 202
    body = response.get_json()
    assert body["run_id"].startswith("weekly_gtm-") and body["duplicate"] is False
    assert body["status_url"] == f"http://status.test/runs/{body['run_id']}"
    [audit] = [d.to_dict() for d in FirestoreStore(PROJECT).client.collection("audit").stream()]
    assert (audit["who"], audit["action"], audit["target"]) == (
        "api",
        "run.request",
        f"runs/{body['run_id']}",
    )
    [message] = run_requests.pull(expected=1)
    request = RunRequest.model_validate_json(message.data)
    assert (request.run_id, request.trigger, request.params) == (
        body["run_id"],
        "api",
        {"window_days": 14},
    )
    assert message.attributes["kind"] == "run_request"


@pytest.mark.parametrize(
    ("headers", "body", "status", "error"),
    [
        ({}, {"workflow": "weekly_gtm"}, 401, "missing 'Authorization: Bearer <token>' header"),
        (
            {"Authorization": "Bearer wrong"},
            {"workflow": "weekly_gtm"},
            401,
            "invalid bearer token",
        ),
        (
            AUTH,
            {"workflow": "nope"},
            400,
            "unknown workflow 'nope'; known workflows: ad_performance, growth, weekly_gtm, winback",
        ),
        (AUTH, {"params": {}}, 400, "workflow: Field required"),
        (
            AUTH,
            {"workflow": "weekly_gtm", "extra": 1},
            400,
            "extra: Extra inputs are not permitted",
        ),
        (
            AUTH,
            {"workflow": "weekly_gtm", "params": []},
            400,
            "params: Input should be a valid dictionary",
        ),
        (
            AUTH,
            {"workflow": "weekly_gtm", "idempotency_key": "has space"},
            400,
            "idempotency_key: String should match",
        ),
        (
            AUTH,
            {"workflow": "weekly_gtm", "params": {"window_days": "seven"}},
            400,
            "params.window_days: Input should be a valid integer",
        ),
        (
            AUTH,
            # A refused param reserves no idempotency key: the caller may fix it and resend.
            {"workflow": "winback", "params": {"max_customer": 3}, "idempotency_key": "wb-1"},
            400,
            "params.max_customer: Extra inputs are not permitted (winback takes: note,",
        ),
        (
            AUTH,
            {"workflow": "ad_performance", "params": {"day": "yesterday"}},
            400,
            "params.day: Input should be a valid date",
        ),
        (AUTH, [1, 2], 400, "body must be a JSON object"),
    ],
)
def test_bad_requests_are_rejected_with_a_reason_and_nothing_happens(
    client: flask.testing.FlaskClient,
    run_requests: TopicTap,
    clean_emulators: Emulators,
    headers: dict[str, str],
    body: object,
    status: int,
    error: str,
) -> None:
    response = client.post(
        "/runs", data=json.dumps(body), content_type="application/json", headers=headers
    )

    assert response.status_code == status
    assert error in response.get_json()["error"]
    assert run_requests.pull_now() == []
    assert _idempotency_docs(FirestoreStore(clean_emulators.project)) == []


def test_params_are_published_as_the_workflow_reads_them_and_a_fixed_retry_is_new(
    client: flask.testing.FlaskClient, run_requests: TopicTap
) -> None:
    headers = {**AUTH, "Idempotency-Key": "weekly-fixed"}
    refused = client.post(
        "/runs",
        json={"workflow": "weekly_gtm", "params": {"window_days": "a week"}},
        headers=headers,
    )
    fixed = client.post(
        "/runs", json={"workflow": "weekly_gtm", "params": {"window_days": "14"}}, headers=headers
    )

    assert refused.status_code == 400
    assert (fixed.status_code, fixed.get_json()["duplicate"]) == (202, False)
    [message] = run_requests.pull(expected=1)
    assert RunRequest.model_validate_json(message.data).params == {"window_days": 14}


def test_wrong_content_type_is_415_and_malformed_json_400(
    client: flask.testing.FlaskClient, run_requests: TopicTap
) -> None:
    as_text = client.post(
        "/runs", data="workflow=weekly_gtm", content_type="text/plain", headers=AUTH
    )
    broken = client.post("/runs", data="{not json", content_type="application/json", headers=AUTH)

    assert (as_text.status_code, as_text.get_json()["error"]) == (
        415,
        "Content-Type must be application/json",
    )
    assert broken.status_code == 400
    assert broken.get_json()["error"].startswith("malformed JSON: Expecting property name")
    assert run_requests.pull_now() == []


def test_the_same_idempotency_key_never_starts_two_runs(
    client: flask.testing.FlaskClient, run_requests: TopicTap, clean_emulators: Emulators
) -> None:
    headers = {**AUTH, "Idempotency-Key": "weekly-2026-47"}
    first = client.post("/runs", json={"workflow": "weekly_gtm"}, headers=headers)
    [published] = run_requests.pull(expected=1)
    # The supervisor has created the run by the time a retry comes in.
    run_id = first.get_json()["run_id"]
    from shared.adapters.pubsub_bus import PubSubBus
    from shared.app.orchestrate import start_run
    from shared.core.models import utcnow

    store = FirestoreStore(clean_emulators.project)
    start_run(RunRequest.model_validate_json(published.data), published.message_id,
              store=store, bus=PubSubBus(clean_emulators.project), clock=utcnow)  # fmt: skip

    second = client.post("/runs", json={"workflow": "weekly_gtm"}, headers=headers)

    assert first.status_code == 202 and second.status_code == 200
    assert second.get_json() == {**first.get_json(), "duplicate": True}
    assert store.get_run(run_id) is not None
    assert run_requests.pull(expected=1, timeout_s=2) == []


def test_a_key_reserved_by_a_request_whose_publish_was_lost_is_published_again(
    client: flask.testing.FlaskClient, run_requests: TopicTap, clean_emulators: Emulators
) -> None:
    headers = {**AUTH, "Idempotency-Key": "retry-after-crash"}
    first = client.post("/runs", json={"workflow": "weekly_gtm"}, headers=headers)
    run_requests.pull(expected=1)

    # No run exists yet (as if the first publish never reached the supervisor): publish again,
    # with the same run id, which the supervisor creates at most once.
    second = client.post("/runs", json={"workflow": "weekly_gtm"}, headers=headers)

    [again] = run_requests.pull(expected=1)
    assert second.get_json()["run_id"] == first.get_json()["run_id"]
    assert RunRequest.model_validate_json(again.data).run_id == first.get_json()["run_id"]


def test_unknown_route_is_404(client: flask.testing.FlaskClient) -> None:
    response = client.get("/nowhere")

    assert response.status_code == 404
    assert response.get_json() == {"error": "no route for GET /nowhere"}
