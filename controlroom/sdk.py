"""The Python SDK of controlroom's tracking API.

    from controlroom.sdk import Client

    client = Client("<tracking key>", base_url="https://<webhooks function URL>")
    client.identify("user-42", {"plan": "free", "email": "ada@example.com"})
    client.track("Viewed Pricing", user_id="user-42", properties={"item_id": "pro"})
    client.recommendations("user-42")      # {"strategy": ..., "items": [...]} (synchronous)
    client.content("the pro plan", "teams comparing plans", "email", variants=2)
                                            # {"variants": [...], "sources": [...], "usage": ...}
    client.flush()                          # also runs at interpreter exit

`track` and `identify` only enqueue (never block, never raise on network trouble): a
background thread sends the queue to POST /v1/batch in batches of up to `batch_size` items
(and under the server's 512 KiB), every `flush_interval_s` at the latest. Each item gets a
UUID `message_id`, so a batch sent twice (a retry after a lost answer) is counted once.

Failures, per batch:
- 429: waits the server's Retry-After, then retries; a wait longer than `max_retry_wait_s`
  (the daily quota is spent until midnight UTC) drops the batch instead of stalling the queue.
- 5xx, timeouts, connection errors: retried with exponential backoff and jitter, up to
  `max_attempts` sends; then dropped.
- other 4xx (a bad item, a wrong key): dropped at once, since resending cannot help.
The queue is bounded (`max_queue_size`): when full, new items are dropped, not buffered
without limit. `stats` counts what was sent and dropped; `on_error(error, batch)` is told.
The only dependency is httpx; pass `transport=` to swap the network out in tests.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

logger = logging.getLogger("controlroom.sdk")

MAX_ITEM_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024  # under the server's 512 KiB, leaving room for the envelope
LIBRARY = {"name": "controlroom-sdk", "version": "0.1"}


class DeliveryError(Exception):
    """A batch that could not be delivered (the reason is the message)."""


class _RetryableDelivery(DeliveryError):
    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class Stats:
    """What this client did with the items it was given."""

    enqueued: int = 0
    sent: int = 0
    batches: int = 0  # requests that were accepted
    dropped_queue_full: int = 0
    dropped_failed: int = 0
    retries: int = 0


class Client:
    """A tracking API client with a bounded background queue (see the module docstring)."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        batch_size: int = 100,
        flush_interval_s: float = 0.5,
        max_queue_size: int = 10_000,
        max_attempts: int = 8,
        max_backoff_s: float = 30.0,
        max_retry_wait_s: float = 60.0,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        on_error: Callable[[Exception, list[dict[str, Any]]], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required")
        if not 1 <= batch_size <= 500:
            raise ValueError("batch_size must be from 1 to 500 (the server's batch limit)")
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_attempts = max_attempts
        self.max_backoff_s = max_backoff_s
        self.max_retry_wait_s = max_retry_wait_s
        self.stats = Stats()
        self._on_error = on_error
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "controlroom-sdk/0.1"},
            timeout=timeout_s,
            transport=transport,
        )
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(max_queue_size)
        self._stopping = threading.Event()
        self._carry: dict[str, Any] | None = None
        self._thread = threading.Thread(target=self._run, name="controlroom-sdk", daemon=True)
        self._thread.start()
        atexit.register(self.shutdown)

    # --- the calls ------------------------------------------------------------------------

    def track(
        self,
        event: str,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        properties: dict[str, Any] | None = None,
        timestamp: datetime | None = None,
        message_id: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> str:
        """Enqueue an event a user did; returns its message id."""
        if user_id is None and anonymous_id is None:
            raise ValueError("user_id or anonymous_id is required")
        item = {"type": "track", "event": event, "properties": properties or {}}
        return self._enqueue(item, user_id, anonymous_id, timestamp, message_id, context)

    def identify(
        self,
        user_id: str,
        traits: dict[str, Any] | None = None,
        *,
        anonymous_id: str | None = None,
        timestamp: datetime | None = None,
        message_id: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> str:
        """Enqueue who a user is (traits merge into the profile); returns its message id."""
        item = {"type": "identify", "traits": traits or {}}
        return self._enqueue(item, user_id, anonymous_id, timestamp, message_id, context)

    def recommendations(self, user_id: str, limit: int = 10) -> dict[str, Any]:
        """What to show the user now (synchronous; retried like a batch, then raises)."""
        response = self._with_retries(
            lambda: self._http.get(f"/v1/recommendations/{user_id}", params={"limit": limit})
        )
        answer: dict[str, Any] = response.json()
        return answer

    def content(
        self,
        product: str,
        audience: str,
        channel: str,
        *,
        tone: str = "friendly",
        variants: int = 2,
    ) -> dict[str, Any]:
        """Copy variants from a brief, grounded in the help centre (synchronous; retried like a
        batch, then raises). `channel`: email, social, search, landing_page or sms."""
        brief = {
            "product": product,
            "audience": audience,
            "channel": channel,
            "tone": tone,
            "variants": variants,
        }
        response = self._with_retries(lambda: self._http.post("/v1/content", json=brief))
        answer: dict[str, Any] = response.json()
        return answer

    def flush(self, timeout_s: float | None = None) -> bool:
        """Block until every enqueued item was sent or dropped; False if `timeout_s` ran out."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def shutdown(self, timeout_s: float | None = 30.0) -> None:
        """Flush, stop the background thread and close the connection (runs at exit)."""
        atexit.unregister(self.shutdown)
        if self._stopping.is_set():
            return
        self.flush(timeout_s)
        self._stopping.set()
        self._thread.join(timeout_s)
        self._http.close()

    # --- the queue ------------------------------------------------------------------------

    def _enqueue(
        self,
        item: dict[str, Any],
        user_id: str | None,
        anonymous_id: str | None,
        timestamp: datetime | None,
        message_id: str | None,
        context: dict[str, Any] | None,
    ) -> str:
        if self._stopping.is_set():
            raise RuntimeError("this client was shut down")
        item["message_id"] = message_id or str(uuid.uuid4())
        item["timestamp"] = (timestamp or datetime.now(UTC)).isoformat()
        item["context"] = {"library": LIBRARY, **(context or {})}
        if user_id is not None:
            item["user_id"] = user_id
        if anonymous_id is not None:
            item["anonymous_id"] = anonymous_id
        if len(json.dumps(item, default=str)) > MAX_ITEM_BYTES:
            raise ValueError(f"an item must encode to at most {MAX_ITEM_BYTES} bytes")
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.stats.dropped_queue_full += 1
            logger.warning("controlroom queue full; dropped %s", item["message_id"])
        else:
            self.stats.enqueued += 1
        return str(item["message_id"])

    def _run(self) -> None:
        while not self._stopping.is_set():
            batch = self._next_batch()
            if not batch:
                continue
            try:
                self._send(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _next_batch(self) -> list[dict[str, Any]]:
        """Items for one request: up to batch_size, under the byte limit, within the interval."""
        first = self._carry
        self._carry = None
        if first is None:
            try:
                first = self._queue.get(timeout=0.1)
            except queue.Empty:
                return []
        batch, size = [first], len(json.dumps(first, default=str))
        deadline = time.monotonic() + self.flush_interval_s
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=max(remaining, 0)) if remaining > 0 else None
            except queue.Empty:
                item = None
            if item is None:
                break
            item_size = len(json.dumps(item, default=str)) + 1
            if size + item_size > MAX_BATCH_BYTES:
                self._carry = item  # it opens the next batch
                break
            batch.append(item)
            size += item_size
        return batch

    def _send(self, batch: list[dict[str, Any]]) -> None:
        body = {"batch": batch}
        try:
            self._with_retries(lambda: self._http.post("/v1/batch", json=body))
        except DeliveryError as exc:
            self.stats.dropped_failed += len(batch)
            logger.error("controlroom dropped %d item(s): %s", len(batch), exc)
            if self._on_error is not None:
                self._on_error(exc, batch)
            return
        self.stats.sent += len(batch)
        self.stats.batches += 1

    # --- retries --------------------------------------------------------------------------

    def _with_retries(self, call: Callable[[], httpx.Response]) -> httpx.Response:
        retrying = Retrying(
            retry=retry_if_exception_type(_RetryableDelivery),
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, call)
        except _RetryableDelivery as exc:
            raise DeliveryError(f"gave up after {self.max_attempts} attempts: {exc}") from exc

    def _attempt(self, call: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            response = call()
        except httpx.TransportError as exc:
            raise _RetryableDelivery(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 429:
            wait = _retry_after_s(response.headers.get("Retry-After"))
            if wait is not None and wait > self.max_retry_wait_s:
                raise DeliveryError(f"429 for {wait:.0f} s more (quota spent): {response.text}")
            raise _RetryableDelivery(f"429: {response.text}", wait)
        if response.status_code >= 500:
            raise _RetryableDelivery(f"{response.status_code}: {response.text[:200]}")
        if response.status_code >= 400:
            raise DeliveryError(f"{response.status_code}: {response.text[:500]}")
        return response

    def _wait(self, state: RetryCallState) -> float:
        """The server's Retry-After when it gave one, else exponential backoff with jitter."""
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, _RetryableDelivery) and error.retry_after_s is not None:
            return error.retry_after_s
        ceiling = min(self.max_backoff_s, 0.1 * 2 ** (state.attempt_number - 1))
        return random.uniform(ceiling / 2, ceiling)

    def _count_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1


def _retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (the form the API sends)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
