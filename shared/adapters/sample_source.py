"""The DataSource port on the bundled, deterministically generated sample data set."""

from __future__ import annotations

from datetime import date
from functools import cached_property

from shared.sample_data import SampleDataset, generate_sample_dataset


class SampleDataSource:
    """Generates the sample business once per process and hands it out."""

    def __init__(self, as_of: date, seed: int = 7, customers: int = 400) -> None:
        self.as_of = as_of
        self.seed = seed
        self.customers = customers

    @cached_property
    def _dataset(self) -> SampleDataset:
        return generate_sample_dataset(as_of=self.as_of, seed=self.seed, customers=self.customers)

    def load(self) -> SampleDataset:
        """The sample data set as of the configured date."""
        return self._dataset
