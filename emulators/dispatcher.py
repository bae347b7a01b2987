"""Feed Pub/Sub messages to functions exactly as Eventarc does in the cloud.

For each push subscription of the topology, a thread long-polls the emulator (unary pull:
the emulator's streaming pull misbehaves after a subscriber closes) and POSTs each message as
a binary-mode CloudEvent of type google.cloud.pubsub.topic.v1.messagePublished. A 2xx acks
it; anything else nacks it (ack deadline 0), as a push endpoint's error does in the cloud:
the emulator applies the subscription's retry policy (exponential backoff) and, after the
maximum delivery attempts, forwards it to the dead-letter topic. No answer within the ack
deadline leaves it to expire the same way. A function whose process is down (killed, being
restarted) is waited for, up to INSTANCE_START_WAIT_S, as Cloud Run queues a request while it
starts an instance: without that, a restart longer than the retry policy's few seconds would
use up a message's delivery attempts and dead-letter a task that nothing is wrong with.
Unlike the emulator's own push, this carries the delivery attempt, as Pub/Sub does in the
cloud.

Measured on the emulator: pushing the backoff ourselves instead (modify-ack-deadline to the
backoff) stops redelivery altogether after the third attempt when several messages are in
flight, so the dead-letter policy never fires; a nack is redelivered with the retry policy's
backoff and dead-lettered after the fifth attempt.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1
from google.pubsub_v1 import types as pubsub_types

from shared.core.topology import Subscription

logger = logging.getLogger(__name__)

# How long a delivery waits for a function whose process is down (connection refused) before
# it counts as a failed attempt.
INSTANCE_START_WAIT_S = 30.0

PULL_TIMEOUT_S = 5.0
MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"


@dataclass(frozen=True)
class DeliveryRecord:
    """One POST the dispatcher made, for tests and the local cloud's own log."""

    subscription: str
    message_id: str
    attempt: int
    status: int | None
    error: str | None
    seconds: float


def cloud_event_request(
    project: str, sub: Subscription, received: pubsub_types.ReceivedMessage
) -> tuple[dict[str, str], bytes]:
    """Headers and body of the binary-mode CloudEvent Eventarc would POST for a message."""
    message = received.message
    publish_time = message.publish_time.isoformat().replace("+00:00", "Z")
    headers = {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-type": MESSAGE_PUBLISHED,
        "ce-source": f"//pubsub.googleapis.com/projects/{project}/topics/{sub.topic}",
        "ce-id": message.message_id,
        "ce-time": publish_time,
    }
    body = {
        "message": {
            "data": base64.b64encode(message.data).decode(),
            "attributes": dict(message.attributes),
            "messageId": message.message_id,
            "publishTime": publish_time,
        },
        "subscription": f"projects/{project}/subscriptions/{sub.name}",
        "deliveryAttempt": received.delivery_attempt or 1,
    }
    return headers, json.dumps(body).encode()


@dataclass
class SubscriptionPump:
    """Pulls one subscription and delivers each message to one function URL."""

    project: str
    subscription: Subscription
    target_url: Callable[[], str]
    parallelism: int = 4
    records: list[DeliveryRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._subscriber = pubsub_v1.SubscriberClient()
        self._path = self._subscriber.subscription_path(self.project, self.subscription.name)
        self._pool = ThreadPoolExecutor(self.parallelism, thread_name_prefix=self.subscription.name)
        self._slots = threading.Semaphore(self.parallelism)
        self._http = httpx.Client(timeout=self.subscription.ack_deadline_s)
        self._thread = threading.Thread(
            target=self._loop, name=f"pump-{self.subscription.name}", daemon=True
        )

    def start(self) -> None:
        """Begin pulling in the background."""
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the pull loop to end (stop() waits for it)."""
        self._stop.set()

    def stop(self) -> None:
        """Stop pulling and wait for deliveries in flight."""
        self._stop.set()
        self._thread.join(PULL_TIMEOUT_S + 2)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()
        self._subscriber.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            free = self._free_slots()
            received = self._pull(free)
            # Each received message keeps one taken slot until its delivery ends.
            for message in received:
                self._pool.submit(self._deliver, message)
            self._release_slots(free - len(received))

    def _pull(self, max_messages: int) -> list[pubsub_types.ReceivedMessage]:
        try:
            response = self._subscriber.pull(
                request={"subscription": self._path, "max_messages": max_messages},
                timeout=PULL_TIMEOUT_S,
            )
        except (gexc.DeadlineExceeded, gexc.RetryError):
            return []
        except gexc.ServiceUnavailable:
            # The emulator is down (restarting): poll again shortly, not in a tight loop.
            self._stop.wait(0.2)
            return []
        except (gexc.GoogleAPICallError, ValueError) as exc:
            if not self._stop.is_set():
                logger.warning("pull from %s failed: %s", self.subscription.name, exc)
                self._stop.wait(0.5)
            return []
        return list(response.received_messages)

    def _free_slots(self) -> int:
        # Take every free slot (at least one, blocking) so a pull never overcommits.
        self._slots.acquire()
        taken = 1
        while taken < self.parallelism and self._slots.acquire(blocking=False):
            taken += 1
        return taken

    def _release_slots(self, count: int) -> None:
        for _ in range(count):
            self._slots.release()

    def _post(self, headers: dict[str, str], body: bytes) -> httpx.Response:
        """POST the event; while nothing listens (the function's process is being restarted)
        wait for it, as Cloud Run holds a request while a new instance starts instead of
        failing it, up to INSTANCE_START_WAIT_S."""
        deadline = time.monotonic() + INSTANCE_START_WAIT_S
        while True:
            try:
                return self._http.post(self.target_url(), headers=headers, content=body)
            except httpx.ConnectError:
                if time.monotonic() > deadline or self._stop.wait(0.2):
                    raise

    def _deliver(self, received: pubsub_types.ReceivedMessage) -> None:
        attempt = received.delivery_attempt or 1
        headers, body = cloud_event_request(self.project, self.subscription, received)
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            response = self._post(headers, body)
            status = response.status_code
            if not response.is_success:
                error = response.text[:500]
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            self._slots.release()
        record = DeliveryRecord(
            self.subscription.name,
            received.message.message_id,
            attempt,
            status,
            error,
            round(time.monotonic() - started, 4),
        )
        self.records.append(record)
        try:
            if error is None:
                self._subscriber.acknowledge(
                    request={"subscription": self._path, "ack_ids": [received.ack_id]}
                )
            else:
                logger.info(
                    "delivery %s of %s to %s failed (%s); nacked, the retry policy backs off",
                    attempt, received.message.message_id, self.subscription.name, error,
                )  # fmt: skip
                self._subscriber.modify_ack_deadline(
                    request={
                        "subscription": self._path,
                        "ack_ids": [received.ack_id],
                        "ack_deadline_seconds": 0,
                    }
                )
        except gexc.GoogleAPICallError as exc:
            # The ack deadline will expire and the emulator redelivers: nothing is lost.
            logger.warning("ack/nack for %s failed: %s", received.message.message_id, exc)
