"""While the business's data source is down, agents report on the last good read, labelled,
for as long as it is fresh enough; never silently and never forever."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.adapters.faults import FaultyDataSource, InjectedOutage
from shared.adapters.last_good import LastGoodDataSource
from shared.adapters.sample_source import SampleDataSource
from shared.agents.registry import run_analysis_agent
from shared.core.agent_settings import resolve_agent_settings
from shared.core.dataset import Dataset
from shared.core.messages import AgentTask
from shared.http.breaker import VendorUnavailableError
from shared.llm.offline import OfflineLLM

T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class DownStripe:
    """A source that answered once, then reports its circuit open."""

    def __init__(self) -> None:
        self.sample = SampleDataSource(date(2026, 11, 16), customers=60)
        self.down = False

    def load(self) -> Dataset:
        if self.down:
            raise VendorUnavailableError("stripe", "circuit open after 5 failures in a row")
        return self.sample.load()


def test_the_last_good_read_is_served_labelled_until_it_is_too_old() -> None:
    clock, stripe = Clock(), DownStripe()
    source = LastGoodDataSource(stripe, max_age=timedelta(hours=24), clock=clock)
    fresh = source.load()
    stripe.down = True
    clock.now = T0 + timedelta(hours=3)

    served = source.load()
    clock.now = T0 + timedelta(hours=25)

    assert fresh.cached_from is None
    assert served.customers == fresh.customers and served.cached_from == T0
    assert served.cached_because == "stripe: circuit open after 5 failures in a row"
    with pytest.raises(VendorUnavailableError):
        source.load()


def test_without_an_earlier_read_the_outage_propagates() -> None:
    inner = SampleDataSource(date(2026, 11, 16), customers=60)
    source = LastGoodDataSource(
        FaultyDataSource(inner, fail=True), max_age=timedelta(hours=24), clock=Clock()
    )

    with pytest.raises(InjectedOutage):
        source.load()


def test_an_agent_report_on_cached_data_says_so() -> None:
    clock, stripe = Clock(), DownStripe()
    source = LastGoodDataSource(stripe, max_age=timedelta(hours=24), clock=clock)
    task = AgentTask(run_id="run-1", task_id="finance", agent="finance", workflow="weekly_gtm")
    settings = resolve_agent_settings("finance")
    live = run_analysis_agent(task, data=source, llm=OfflineLLM(), settings=settings)
    stripe.down = True

    cached = run_analysis_agent(task, data=source, llm=OfflineLLM(), settings=settings)

    assert "data_cached_from" not in live.output["report"]
    assert cached.output["report"]["data_cached_from"] == T0.isoformat()
    assert "circuit open" in cached.output["report"]["data_cached_because"]
