"""The last good read of the business's data, served while its source is unavailable.

Agents read the whole data set for each task. When the source fails with a retryable error
(Stripe down, its circuit open, a timeout), a report on data a few hours old is more useful
than no report, and reading is safe to answer from memory: nothing is changed. So the last
data set read successfully in this process is served instead, if it is younger than
`max_age`, and labelled: `cached_from` (when it was read) and `cached_because` (the error),
which the agents put in their report and timeline. Older than that, or never read, the error
propagates and the task is retried as before. Writes are never served from a cache.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from shared.core.dataset import Dataset
from shared.core.errors import RetryableError
from shared.core.ports import DataSource

logger = logging.getLogger(__name__)


class LastGoodDataSource:
    """A data source that falls back to its last successful read, labelled as such."""

    def __init__(
        self, inner: DataSource, *, max_age: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self.inner = inner
        self.max_age = max_age
        self.clock = clock
        self._last: tuple[Dataset, datetime] | None = None
        self._lock = threading.Lock()

    def load(self) -> Dataset:
        """A fresh read, or the last good one (labelled) while the source is unavailable."""
        try:
            dataset = self.inner.load()
        except RetryableError as error:
            with self._lock:
                last = self._last
            if last is None or self.clock() - last[1] > self.max_age:
                raise
            dataset, read_at = last
            logger.warning("data source unavailable (%s); serving the read of %s", error, read_at)
            return dataset.model_copy(update={"cached_from": read_at, "cached_because": str(error)})
        with self._lock:
            self._last = (dataset, self.clock())
        return dataset
