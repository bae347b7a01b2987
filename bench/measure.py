"""Timing, memory and reporting helpers shared by the benchmark suites.

A case times our code and a baseline in the same run, takes the median of each, and reports
ours / baseline with both absolute figures. Peak memory is the growth of the process's
resident-set high-water mark over one run: on Linux the mark is reset before the run
(`/proc/self/clear_refs`), elsewhere it is `getrusage`'s lifetime peak, which only shows
runs that exceed every earlier one.
"""

from __future__ import annotations

import gc
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")

_PROC_STATUS = Path("/proc/self/status")
_PROC_CLEAR_REFS = Path("/proc/self/clear_refs")
_RESET_PEAK_RSS = "5"  # see proc(5), /proc/pid/clear_refs
# getrusage reports ru_maxrss in bytes on macOS and in kilobytes elsewhere.
_MAXRSS_KB = 1 / 1024 if sys.platform == "darwin" else 1


class CaseResult(BaseModel):
    """One benchmark case: our timing against a baseline's, and whether the answers agree."""

    model_config = ConfigDict(frozen=True)
    suite: str
    case: str
    baseline: str  # what the baseline is, e.g. "duckdb sql" or "python -c pass"
    ours_seconds: float  # median of ours_runs
    baseline_seconds: float  # median of baseline_runs
    ratio: float | None  # ours / baseline; None when the baseline took no measurable time
    ours_runs: tuple[float, ...]
    baseline_runs: tuple[float, ...]
    ours_peak_rss_delta_mb: float | None  # None where it could not be measured
    baseline_peak_rss_delta_mb: float | None
    agreement: str  # short verdict for the table
    agreement_ok: bool  # False when our answer and the reference's differ
    notes: str
    details: dict[str, Any]


class BenchReport(BaseModel):
    """One suite's results with the parameters and machine they were measured on."""

    model_config = ConfigDict(frozen=True)
    suite: str
    started_at: datetime
    wall_seconds: float
    quick: bool
    parameters: dict[str, Any]
    environment: dict[str, Any]
    cases: tuple[CaseResult, ...]


@dataclass(frozen=True)
class Timed(Generic[T]):
    """The last result of a timed function, each run's seconds and the first run's memory."""

    result: T
    runs: tuple[float, ...]
    peak_rss_delta_mb: float | None

    @property
    def median(self) -> float:
        """The median run time in seconds."""
        return statistics.median(self.runs)


def timed(function: Callable[[], T], repeats: int) -> Timed[T]:
    """Call function `repeats` times after a garbage collection each; memory of the first run."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    runs = []
    peak_delta = None
    for run in range(repeats):
        gc.collect()
        tracker = PeakRss.start() if run == 0 else None
        started = time.perf_counter()
        result = function()
        runs.append(time.perf_counter() - started)
        if tracker is not None:
            peak_delta = tracker.delta_mb()
    return Timed(result=result, runs=tuple(runs), peak_rss_delta_mb=peak_delta)


class PeakRss:
    """How far the resident set's peak rose above its level when `start` was called."""

    def __init__(self, baseline_kb: float | None, resettable: bool) -> None:
        self._baseline_kb = baseline_kb
        self._resettable = resettable

    @classmethod
    def start(cls) -> PeakRss:
        """Reset the peak where the OS allows it and remember the current level."""
        try:
            _PROC_CLEAR_REFS.write_text(_RESET_PEAK_RSS)
        except OSError:
            return cls(_lifetime_peak_kb(), resettable=False)
        return cls(_proc_status_kb("VmRSS"), resettable=True)

    def delta_mb(self) -> float | None:
        """Megabytes the peak rose since start, or None when it cannot be read."""
        peak = _proc_status_kb("VmHWM") if self._resettable else _lifetime_peak_kb()
        if peak is None or self._baseline_kb is None:
            return None
        return round(max(peak - self._baseline_kb, 0.0) / 1024, 1)


def peak_rss_mb() -> float:
    """The process's lifetime resident-set peak in megabytes, as getrusage reports it."""
    return round(_lifetime_peak_kb() / 1024, 1)


def ratio(ours: float, baseline: float) -> float | None:
    """ours / baseline, or None when the baseline is zero."""
    return None if baseline <= 0 else ours / baseline


def render_table(cases: Sequence[CaseResult]) -> str:
    """The cases as one plain-text table: case, ours s, baseline s, ratio, agreement, notes."""
    header = ("case", "ours s", "baseline s", "ratio", "agreement", "notes")
    rows = [
        (
            case.case,
            f"{case.ours_seconds:.3f}",
            f"{case.baseline_seconds:.3f}",
            "n/a" if case.ratio is None else f"{case.ratio:.1f}x",
            case.agreement if case.agreement_ok else f"MISMATCH: {case.agreement}",
            case.notes,
        )
        for case in cases
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = []
    for row in (header, *rows):
        cells = [
            cell.rjust(width) if 0 < i < 4 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def write_report(report: BenchReport, results_dir: Path) -> tuple[Path, Path]:
    """Write the report as <suite>-<UTC timestamp>.json and latest.json; both paths."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = report.started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = report.model_dump_json(indent=2) + "\n"
    stamped = results_dir / f"{report.suite}-{stamp}.json"
    latest = results_dir / "latest.json"
    stamped.write_text(document, encoding="utf-8")
    latest.write_text(document, encoding="utf-8")
    return stamped, latest


def _proc_status_kb(field: str) -> float | None:
    try:
        lines = _PROC_STATUS.read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name == field:
            return float(value.split()[0])  # "VmHWM:   123456 kB"
    return None


def _lifetime_peak_kb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _MAXRSS_KB
