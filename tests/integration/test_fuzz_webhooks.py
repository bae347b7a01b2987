"""Fuzzing the webhooks function (shared/web/openapi/webhooks.yaml) on the official emulators.

Every documented operation gets generated requests twice: once as a stranger sends them (no
token, signatures as generated, i.e. wrong), once as the vendors and API clients do (the API
token, every body signed with the platform's secret, so hostile JSON reaches the parsers).
Each answer must be documented (status, content type, body schema) and never a 5xx; after
every rejection Firestore holds exactly what it held before; and what reaches Pub/Sub is
exactly what the answers say was accepted.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.core.topology import BILLING_EVENTS_TOPIC, RUN_REQUESTS_TOPIC, SUPPORT_MESSAGES_TOPIC
from shared.workflows.registry import WORKFLOWS
from tests.conftest import API_TOKEN, WEBHOOK_SECRETS, Emulators
from tests.helpers.functions_app import function_client
from tests.helpers.fuzz_http import DocumentCounter, Fuzzer, load_schema, operations
from tests.helpers.fuzzing import fuzz_settings, json_documents, mutated, webhook_fixture
from tests.helpers.pubsub import TopicTap
from tests.unit.security.test_properties_signatures import SIGNERS
from tests.unit.support.test_properties_inbound import PLATFORM_FIXTURES, STRIPE_FIXTURES

pytestmark = pytest.mark.integration

EXAMPLES = 25  # per operation and run
SUPPORT_TOPIC = SUPPORT_MESSAGES_TOPIC
TOPIC_OF_PATH = {"/runs": RUN_REQUESTS_TOPIC, "/v1/runs": RUN_REQUESTS_TOPIC}
TOPIC_OF_PATH |= {f"/webhooks/{p}": SUPPORT_TOPIC for p in ("tiktok", "linkedin", "zendesk")}
TOPIC_OF_PATH |= {"/webhooks/generic": SUPPORT_TOPIC, "/webhooks/stripe": BILLING_EVENTS_TOPIC}


@dataclass
class Webhooks:
    fuzzer: Fuzzer
    schema: Any
    taps: dict[str, TopicTap]
    claimed: Counter[str]  # messages the answers say were published, by topic


@pytest.fixture(scope="module")
def webhooks(emulators: Emulators) -> Iterator[Webhooks]:
    emulators.reset()
    app = function_client("webhooks", "handle_webhook", "http").application
    client = app.test_client(use_cookies=False)
    schema = load_schema("webhooks.yaml", app)
    topics = (RUN_REQUESTS_TOPIC, BILLING_EVENTS_TOPIC, SUPPORT_TOPIC)
    taps = {topic: TopicTap(emulators.project, topic) for topic in topics}
    counter = DocumentCounter(emulators.firestore.host, emulators.project)
    yield Webhooks(Fuzzer(client, counter), schema, taps, Counter())
    counter.close()
    for tap in taps.values():
        tap.close()


def sign_as_the_sender(method: str, path: str, body: bytes) -> dict[str, str]:
    """What a genuine caller adds: the bearer token, or the platform's signature of the body.
    Other operations (e.g. the tracking API, whose keys these tests do not configure) go as
    generated."""
    if path in ("/runs", "/v1/runs"):
        return {"Authorization": f"Bearer {API_TOKEN}"}
    platform = path.removeprefix("/webhooks/")
    if method != "POST" or platform not in SIGNERS:
        return {}
    return SIGNERS[platform](body, WEBHOOK_SECRETS[platform], str(int(time.time())))


VENDOR_FIXTURES = {**PLATFORM_FIXTURES, "stripe": STRIPE_FIXTURES}


def like_real_callers(case: Any, draw: Callable[[st.SearchStrategy[Any]], Any]) -> None:
    """Half the time, a body closer to what real callers send: a declared workflow, or a
    vendor's documented payload with a few fields mutated (the OpenAPI file only sketches
    vendor payloads, so generated ones rarely get past the first field the parser reads)."""
    if case.method != "POST" or not isinstance(case.body, dict) or not draw(st.booleans()):
        return
    path = case.operation.path
    if path in ("/runs", "/v1/runs"):
        body = {"workflow": draw(st.sampled_from(sorted(WORKFLOWS)))}
        body["params"] = draw(st.sampled_from([{}, case.body.get("params", {})]))
        if "idempotency_key" in case.body:
            body["idempotency_key"] = case.body["idempotency_key"]
        case.body = body
    elif (platform := path.removeprefix("/webhooks/")) in VENDOR_FIXTURES:
        fixture = webhook_fixture(draw(st.sampled_from(VENDOR_FIXTURES[platform])))
        case.body = draw(st.just(fixture) | mutated(fixture))


def test_a_stranger_is_turned_away_and_nothing_is_stored_or_published(
    webhooks: Webhooks,
) -> None:
    def expect(case: Any, status: int, body: Any) -> None:
        path = case.operation.path
        secured = any(case.operation.definition.raw.get("security", [{}]))
        if path in ("/runs", "/v1/runs"):
            assert status == 401, (status, body)
        elif secured or (case.method == "POST" and path.startswith("/webhooks/")):
            # Size and type may be checked first; nothing gets past the credential check.
            assert status in (401, 413, 415), (case.operation.label, status, body)

    for operation in operations(webhooks.schema):
        webhooks.fuzzer.run(operation, EXAMPLES, expect=expect)

    # Publishing waits for the emulator's acknowledgement, so whatever a request published is
    # there to pull by now.
    for tap in webhooks.taps.values():
        assert tap.pull(expected=1, timeout_s=0.5) == []
    print(f"\nwebhooks, no credentials: {webhooks.fuzzer.report.summary()}")


def test_signed_hostile_bodies_are_stored_once_or_refused_with_a_400(
    webhooks: Webhooks,
) -> None:
    claimed = webhooks.claimed  # messages the answers say were published, by topic
    runs: dict[int, set[str]] = {200: set(), 202: set()}  # run ids answered, new or repeated

    def expect(case: Any, status: int, body: Any) -> None:
        if case.method == "POST" and case.operation.path in TOPIC_OF_PATH:  # signed by us
            assert status != 401, f"a correctly signed request was refused: {body}"

    def after(case: Any, status: int, body: Any) -> None:
        path = case.operation.path
        if path in ("/runs", "/v1/runs") and status in runs:
            runs[status].add(body["run_id"])
        elif path.startswith("/webhooks/") and case.method == "POST" and status == 200:
            claimed[TOPIC_OF_PATH[path]] += body["accepted"]

    # Operations whose credentials these tests do not configure (the tracking API's keys)
    # were fuzzed as a stranger sends them, above.
    signable = [
        op
        for op in operations(webhooks.schema)
        if op.path in TOPIC_OF_PATH or not any(op.definition.raw.get("security", [{}]))
    ]
    for operation in signable:
        webhooks.fuzzer.run(
            operation,
            EXAMPLES,
            sign=sign_as_the_sender,
            tweak=like_real_callers,
            expect=expect,
            after=after,
        )

    for topic in (BILLING_EVENTS_TOPIC, SUPPORT_TOPIC):
        tap = webhooks.taps[topic]
        published = tap.pull(expected=claimed[topic], timeout_s=10)
        assert len(published) == claimed[topic], (topic, len(published), claimed[topic])
        assert tap.pull(expected=1, timeout_s=0.5) == [], f"{topic}: more than was accepted"
    # A repeated idempotency key whose run the supervisor has not created yet (none runs
    # here) publishes its request again, for the same run id; nothing else publishes.
    tap = webhooks.taps[RUN_REQUESTS_TOPIC]
    requests = tap.pull(expected=len(runs[202]), timeout_s=10)
    requests += tap.pull(expected=len(runs[200]), timeout_s=0.5)
    published_runs = {json.loads(message.data)["run_id"] for message in requests}
    assert published_runs == runs[202] | runs[200]
    claimed[RUN_REQUESTS_TOPIC] = len(requests)
    report = webhooks.fuzzer.report
    print(f"\nwebhooks, both runs: {report.summary()}; published {dict(claimed)}")
    print(report.by_operation())


@pytest.mark.parametrize("key", [".", "..", "__reserved__", "a" * 128])
def test_idempotency_keys_firestore_reserves_are_accepted_or_refused_not_a_500(
    webhooks: Webhooks, key: str
) -> None:
    """Firestore refuses the document ids ".", ".." and __*__, and the key names a document."""
    response = webhooks.fuzzer.client.post(
        "/runs",
        json={"workflow": "weekly_gtm"},
        headers={"Authorization": f"Bearer {API_TOKEN}", "Idempotency-Key": key},
    )

    assert response.status_code in (202, 400), response.get_json()


@fuzz_settings(60)
@given(
    path=st.sampled_from(["/runs", *(f"/webhooks/{platform}" for platform in SIGNERS)]),
    body=json_documents,
)
def test_any_bytes_signed_as_a_json_body_are_answered_without_a_5xx(
    webhooks: Webhooks, path: str, body: bytes
) -> None:
    """Past the signature, the body is parsed: JSON nested deeper than Python's recursion limit
    or with integers longer than it converts must be a 400 like any other malformed body."""
    headers = {"Content-Type": "application/json", **sign_as_the_sender("POST", path, body)}
    before = webhooks.fuzzer.count_documents()

    response = webhooks.fuzzer.client.post(path, data=body, headers=headers)

    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert response.get_json()["error"]
        assert webhooks.fuzzer.count_documents() == before
