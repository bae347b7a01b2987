"""Fault injection at the data-source port, for the local cloud's failure tests and demos.

Configured per agent through settings (CONTROLROOM_FAULTS), e.g.
{"finance": {"delay_s": 3}} slows every load, {"finance": {"fail": true}} makes every load
fail with a transient error, {"finance": {"bad_data": true}} makes every load return data
that fails the dataset's schema (a pydantic ValidationError, as a source with a broken row
gives: no retry reads anything else). Nothing here is active unless configured.
"""

from __future__ import annotations

import time
from typing import Any

from shared.core.dataset import Dataset
from shared.core.ports import DataSource


class InjectedOutage(ConnectionError):
    """A transient failure injected on purpose."""


class FaultyDataSource:
    """Wraps a data source with a configured delay and/or failure."""

    def __init__(
        self, inner: DataSource, delay_s: float = 0.0, fail: bool = False, bad_data: bool = False
    ) -> None:
        self.inner = inner
        self.delay_s = delay_s
        self.fail = fail
        self.bad_data = bad_data

    def load(self) -> Dataset:
        """Wait, fail, corrupt, or pass through, as configured."""
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.fail:
            raise InjectedOutage("injected data source outage")
        dataset = self.inner.load()
        if self.bad_data:
            # Read back with one field broken, as a source with a bad row would fill it.
            return Dataset.model_validate({**dataset.model_dump(), "as_of": "not a date"})
        return dataset


def with_faults(source: DataSource, fault: dict[str, Any] | None) -> DataSource:
    """The source itself when no fault is configured for it, else a faulty wrapper."""
    if not fault:
        return source
    return FaultyDataSource(
        source,
        float(fault.get("delay_s", 0)),
        fail=fault.get("fail") is True,
        bad_data=fault.get("bad_data") is True,
    )
