"""Timing, memory and reporting helpers shared by the benchmark suites.

A case measures our code and a baseline in the same run and reports ours / baseline with both
absolute figures. The figure is usually a median time in seconds (lower is better), but a
case may report a rate (messages per second, queries per second: higher is better), a
latency percentile, megabytes or US dollars; `figure` names it. Peak memory is the growth of
the process's resident-set high-water mark over one run: on Linux the mark is reset before
the run (`/proc/self/clear_refs`), elsewhere it is `getrusage`'s lifetime peak, which only
shows runs that exceed every earlier one. Child processes (the functions under test) are
read the same way through /proc/<pid>.
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

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

_PROC_STATUS = Path("/proc/self/status")
_PROC_CLEAR_REFS = Path("/proc/self/clear_refs")
_RESET_PEAK_RSS = "5"  # see proc(5), /proc/pid/clear_refs
# getrusage reports ru_maxrss in bytes on macOS and in kilobytes elsewhere.
_MAXRSS_KB = 1 / 1024 if sys.platform == "darwin" else 1


class CaseResult(BaseModel):
    """One benchmark case: our figure against a baseline's, and whether the answers agree."""

    model_config = ConfigDict(frozen=True)
    suite: str
    case: str
    baseline: str  # what the baseline is, e.g. "duckdb sql" or "python -c pass"
    figure: str = "s"  # what the values measure: "s" (median seconds), "msg/s", "p95 ms", ...
    ours_value: float  # for times, the median of ours_runs
    baseline_value: float | None  # None when nothing comparable can be measured
    ratio: float | None  # ours / baseline; None without a (non-zero) baseline
    higher_is_better: bool = False
    goal: str | None = None  # e.g. "ratio >= 0.5"
    goal_met: bool | None = None
    ours_runs: tuple[float, ...] = ()
    baseline_runs: tuple[float, ...] = ()
    ours_peak_rss_delta_mb: float | None = None  # None where it could not be measured
    baseline_peak_rss_delta_mb: float | None = None
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


class SuiteFailure(BaseModel):
    """A suite that raised instead of reporting: its name and the error, for CI to fail on."""

    model_config = ConfigDict(frozen=True)
    suite: str
    error: str
    traceback: str


class BenchRun(BaseModel):
    """Everything one `make bench` measured: each suite's report, failures and pending suites."""

    model_config = ConfigDict(frozen=True)
    started_at: datetime
    wall_seconds: float
    quick: bool
    environment: dict[str, Any]
    reports: tuple[BenchReport, ...]
    failures: tuple[SuiteFailure, ...] = ()
    pending: dict[str, str] = Field(default_factory=dict)  # suite -> why it is not measured

    @property
    def cases(self) -> tuple[CaseResult, ...]:
        """Every case of every suite, in the order they ran."""
        return tuple(case for report in self.reports for case in report.cases)


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


def ratio(ours: float, baseline: float | None) -> float | None:
    """ours / baseline, or None when there is no baseline or it is zero."""
    return None if baseline is None or baseline <= 0 else ours / baseline


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between ranks, as numpy's default."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within [0, 100], got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def format_value(value: float | None) -> str:
    """A figure with about three significant digits: 1,234 / 12.3 / 1.23 / 0.0123; "-" for None."""
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1 or magnitude == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _check(case: CaseResult) -> str:
    if not case.agreement_ok:
        return f"MISMATCH: {case.agreement}"
    if case.goal is not None and case.goal_met is not None:
        return f"{case.goal}: {'met' if case.goal_met else 'MISSED'}; {case.agreement}"
    return case.agreement


TABLE_HEADER = ("suite", "case", "figure", "ours", "baseline", "ratio", "vs", "check", "notes")
_RIGHT_ALIGNED = {3, 4, 5}


def render_table(cases: Sequence[CaseResult]) -> str:
    """The cases as one plain-text table: what was measured, ours, the baseline, the ratio."""
    rows = [
        (
            case.suite,
            case.case,
            case.figure,
            format_value(case.ours_value),
            format_value(case.baseline_value),
            "n/a" if case.ratio is None else f"{case.ratio:.2f}x",
            case.baseline,
            _check(case),
            case.notes,
        )
        for case in cases
    ]
    last = len(TABLE_HEADER) - 1
    widths = [max(len(row[i]) for row in (TABLE_HEADER, *rows)) for i in range(last)]
    lines = []
    for row in (TABLE_HEADER, *rows):
        cells = [
            cell.rjust(width) if i in _RIGHT_ALIGNED else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append("  ".join([*cells, row[last]]).rstrip())
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def write_results(run: BenchRun, results_dir: Path) -> tuple[Path, Path]:
    """Write the run as bench-<UTC timestamp>.json and latest.json; both paths."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = run.started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = run.model_dump_json(indent=2) + "\n"
    stamped = results_dir / f"bench-{stamp}.json"
    latest = results_dir / "latest.json"
    stamped.write_text(document, encoding="utf-8")
    latest.write_text(document, encoding="utf-8")
    return stamped, latest


# --- child processes (the functions under test) ------------------------------------------


def parse_proc_status(text: str) -> dict[str, float]:
    """The kB fields of a /proc/<pid>/status text (VmRSS, VmHWM, ...) as numbers."""
    fields: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            fields[name] = float(parts[0])
    return fields


def process_group(pgid: int, proc: Path = Path("/proc")) -> list[int]:
    """The pids of the live processes in process group `pgid` (Linux; empty elsewhere)."""
    pids = []
    for entry in proc.glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return sorted(pids)


def child_peak_rss_kb(pid: int) -> float | None:
    """VmHWM of another process, or None when it is gone or unreadable."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return parse_proc_status(text).get("VmHWM")


def reset_child_peak_rss(pid: int) -> bool:
    """Reset another process's VmHWM to its current RSS; False where the OS refuses."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text(_RESET_PEAK_RSS)
    except OSError:
        return False
    return True


def _proc_status_kb(field: str) -> float | None:
    try:
        text = _PROC_STATUS.read_text(encoding="ascii")
    except OSError:
        return None
    return parse_proc_status(text).get(field)


def _lifetime_peak_kb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _MAXRSS_KB
