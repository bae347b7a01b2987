"""The Python SDK's queue, batching and retries, with the network swapped at the transport."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from controlroom.sdk import Client

KEY = "unit-key-0123456789abcdef"


class Server:
    """Answers each request with the next planned status (then 200), recording the bodies."""

    def __init__(self, statuses: list[int] | None = None, headers: dict[str, str] | None = None):
        self.statuses = list(statuses or [])
        self.headers = headers or {}
        self.requests: list[httpx.Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            status = self.statuses.pop(0) if self.statuses else 202
        if request.url.path.startswith("/v1/recommendations/") and status < 300:
            return httpx.Response(200, json={"user_id": "u", "strategy": "none", "items": []})
        headers = self.headers if status == 429 else {}
        return httpx.Response(status, json={"accepted": 0}, headers=headers)

    def items(self) -> list[dict[str, object]]:
        return [item for r in self.requests for item in json.loads(r.content)["batch"]]


@pytest.fixture
def make_client() -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(server: Server, **options: object) -> Client:
        waits: list[float] = []
        client = Client(
            KEY,
            "http://tracking.test",
            transport=httpx.MockTransport(server),
            sleep=waits.append,
            flush_interval_s=0.05,
            **options,  # type: ignore[arg-type]
        )
        client.waits = waits  # type: ignore[attr-defined]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.shutdown(timeout_s=5)


def test_items_are_sent_in_batches_with_the_key_and_their_ids(
    make_client: Callable[..., Client],
) -> None:
    server = Server()
    client = make_client(server, batch_size=10)

    ids = [client.track("Viewed", user_id=f"u{i}", properties={"i": i}) for i in range(25)]
    ids.append(client.identify("u1", {"plan": "pro"}))
    flushed = client.flush(timeout_s=5)

    assert flushed
    assert [i["message_id"] for i in server.items()] == ids
    assert all(len(json.loads(r.content)["batch"]) <= 10 for r in server.requests)
    assert {r.headers["Authorization"] for r in server.requests} == {f"Bearer {KEY}"}
    assert server.items()[-1]["type"] == "identify"
    assert client.stats.sent == 26


def test_a_429_waits_the_retry_after_then_resends_the_same_batch(
    make_client: Callable[..., Client],
) -> None:
    server = Server([429, 429], headers={"Retry-After": "7"})
    client = make_client(server)

    client.track("Viewed", user_id="u")
    client.flush(timeout_s=5)

    assert client.waits == [7.0, 7.0]  # type: ignore[attr-defined]
    assert len(server.requests) == 3
    assert len({r.content for r in server.requests}) == 1
    assert client.stats.sent == 1 and client.stats.retries == 2


def test_a_429_for_longer_than_the_limit_drops_the_batch(
    make_client: Callable[..., Client],
) -> None:
    errors: list[Exception] = []
    server = Server([429], headers={"Retry-After": "36000"})
    client = make_client(server, on_error=lambda error, batch: errors.append(error))

    client.track("Viewed", user_id="u")
    client.flush(timeout_s=5)

    assert len(server.requests) == 1
    assert client.stats.dropped_failed == 1 and "quota" in str(errors[0])


def test_server_errors_back_off_exponentially_and_give_up(
    make_client: Callable[..., Client],
) -> None:
    server = Server([500] * 10)
    client = make_client(server, max_attempts=4)

    client.track("Viewed", user_id="u")
    client.flush(timeout_s=5)

    waits = client.waits  # type: ignore[attr-defined]
    assert len(server.requests) == 4 and len(waits) == 3
    assert waits[0] <= 0.1 < waits[2] <= 0.4
    assert client.stats.dropped_failed == 1


def test_a_bad_request_is_dropped_without_a_retry(make_client: Callable[..., Client]) -> None:
    server = Server([400])
    client = make_client(server)

    client.track("Viewed", user_id="u")
    client.flush(timeout_s=5)

    assert len(server.requests) == 1 and client.stats.dropped_failed == 1


def test_the_queue_is_bounded(make_client: Callable[..., Client]) -> None:
    gate = threading.Event()
    server = Server()

    def slow(request: httpx.Request) -> httpx.Response:
        gate.wait(5)
        return server(request)

    client = Client(
        KEY, "http://t", transport=httpx.MockTransport(slow), max_queue_size=5, batch_size=1
    )
    try:
        for i in range(50):
            client.track("Viewed", user_id=f"u{i}")
        dropped = client.stats.dropped_queue_full
        gate.set()
        assert client.flush(timeout_s=5)
    finally:
        client.shutdown(timeout_s=5)

    # Five wait in the queue, and the sender may hold one more, blocked on the network.
    assert dropped in (44, 45)
    assert client.stats.sent + dropped == 50


def test_recommendations_are_fetched_synchronously(make_client: Callable[..., Client]) -> None:
    server = Server([503])
    client = make_client(server)

    answer = client.recommendations("u", limit=3)

    assert answer["strategy"] == "none"
    assert server.requests[-1].url.params["limit"] == "3"
    assert len(server.requests) == 2


def test_a_call_needs_someone_and_fits_the_item_limit(make_client: Callable[..., Client]) -> None:
    client = make_client(Server())

    with pytest.raises(ValueError, match="user_id or anonymous_id"):
        client.track("Viewed")
    with pytest.raises(ValueError, match="bytes"):
        client.track("Viewed", user_id="u", properties={"p": "x" * 40_000})
