"""The sweep's schedule at a local pace: the sweep-overdue-runs job's message every few seconds.

In the cloud the sweep runs on its Cloud Scheduler job (`sweep-overdue-runs`, every 5
minutes; Cloud Scheduler's finest period is one minute). Locally a lost message should be
recovered within a minute, so the local cloud publishes the very message that job publishes
(its payload and attributes from the topology) every `period_s` seconds.
"""

from __future__ import annotations

import json
import logging
import threading

from google.cloud.pubsub_v1 import PublisherClient

from shared.core.topology import Topology

logger = logging.getLogger(__name__)

SWEEP_JOB = "sweep-overdue-runs"


class SweepTicker:
    """Publishes the sweep job's message every `period_s` seconds until stopped."""

    def __init__(self, project: str, topology: Topology, period_s: float) -> None:
        job = next(s for s in topology.schedules if s.name == SWEEP_JOB)
        self._topic = f"projects/{project}/topics/{job.topic}"
        self._data = json.dumps(job.payload).encode()
        self._attributes = dict(job.attributes)
        self._period_s = period_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweep-ticker", daemon=True)
        self._client: PublisherClient | None = None

    def start(self) -> SweepTicker:
        """Start ticking (the first tick after one period)."""
        self._client = PublisherClient()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop ticking; returns once the thread has ended."""
        self._stopping.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        assert self._client is not None
        while not self._stopping.wait(self._period_s):
            try:
                self._client.publish(self._topic, self._data, **self._attributes).result(10)
            except Exception as exc:  # a missed tick is the next tick's work
                logger.warning("sweep tick not published: %s", exc)
