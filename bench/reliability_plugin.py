"""A pytest plugin for `make reliability`: counts the test outcomes and every input Hypothesis
(and schemathesis, built on it) tried, and writes them as JSON to --reliability-dir.

Loaded with `-p bench.reliability_plugin`; without --reliability-dir it does nothing.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest


class InputCounter:
    """Counts Hypothesis test cases, from every thread."""

    def __init__(self) -> None:
        self.inputs = 0
        self._lock = threading.Lock()

    def observe(self, observation: Any, thread_id: int | None = None) -> None:
        """One Hypothesis observation; a test case that ran counts as one input tried."""
        if getattr(observation, "type", None) == "test_case" and observation.status != "gave_up":
            with self._lock:
                self.inputs += 1


def pytest_addoption(parser: pytest.Parser) -> None:
    """--reliability-dir: where the counts go."""
    parser.addoption("--reliability-dir", default=None, help="write input counts here (JSON)")


def pytest_configure(config: pytest.Config) -> None:
    """Start counting when a directory is given."""
    if not config.getoption("--reliability-dir"):
        return
    from hypothesis.internal.observability import add_observability_callback

    counter = InputCounter()
    add_observability_callback(counter.observe, all_threads=True)
    config.stash[_COUNTER] = counter


_COUNTER = pytest.StashKey[InputCounter]()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count each test's outcome once (its call phase, or a failed/skipped setup)."""
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _outcomes.update([report.outcome])


_outcomes: Counter[str] = Counter()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the counts."""
    directory = session.config.getoption("--reliability-dir")
    counter = session.config.stash.get(_COUNTER, None)
    if not directory or counter is None:
        return
    record = {"kind": "inputs", "inputs": counter.inputs, "outcomes": dict(_outcomes)}
    (Path(directory) / f"inputs-{uuid.uuid4().hex[:8]}.json").write_text(json.dumps(record))
