"""Fault injection at the data-source port."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from shared.adapters.faults import FaultyDataSource, InjectedOutage, with_faults
from shared.adapters.sample_source import SampleDataSource
from shared.core.dataset import Dataset


class CountingSource:
    """A data source that records how often it was loaded."""

    def __init__(self) -> None:
        self.calls = 0

    def load(self) -> Dataset:
        self.calls += 1
        raise AssertionError("a failing fault must not reach the inner source")


@pytest.mark.parametrize("fault", [None, {}], ids=["none", "empty"])
def test_no_fault_returns_the_same_source(fault: dict[str, object] | None) -> None:
    source = CountingSource()

    wrapped = with_faults(source, fault)

    assert wrapped is source


def test_fail_raises_an_injected_outage_before_loading() -> None:
    source = CountingSource()
    wrapped = with_faults(source, {"fail": True})

    with pytest.raises(InjectedOutage, match="injected data source outage") as caught:
        wrapped.load()

    assert isinstance(caught.value, ConnectionError)
    assert source.calls == 0


def test_delay_only_wraps_without_failing() -> None:
    source = CountingSource()

    wrapped = with_faults(source, {"delay_s": 0.25})

    assert isinstance(wrapped, FaultyDataSource)
    assert (wrapped.inner, wrapped.delay_s, wrapped.fail) == (source, 0.25, False)


def test_bad_data_loads_a_dataset_that_fails_its_schema_every_time() -> None:
    wrapped = with_faults(SampleDataSource(date(2026, 11, 16)), {"bad_data": True})

    for _ in range(2):  # a retry reads the same broken rows
        with pytest.raises(ValidationError, match="as_of"):
            wrapped.load()
