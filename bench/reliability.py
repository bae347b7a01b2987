"""`make reliability`: the fault suite at full size, the hostile-input suites and the load
test, summed up in one table.

    python -m bench.reliability                  # 40 runs under kills (about 10 minutes)
    python -m bench.reliability --fault-runs 5   # the size `make test` uses

One pytest session runs tests/faults (CONTROLROOM_FAULT_RUNS sets its size) and the
hostile-input suites (tests/integration/test_fuzz_*.py, tests/unit/**/test_properties_*.py,
tests/e2e/test_pii.py). The fault cases write their figures as JSON into a temporary folder
(CONTROLROOM_RELIABILITY_DIR); bench/reliability_plugin.py counts the inputs Hypothesis and
schemathesis tried. The load row comes from bench/load.py's `run_load` when that module
exists, else it reads "not measured". Exits 1 when a test failed, a message was lost or an
effect happened twice.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FAULT_SUITE = "tests/faults"
HOSTILE_SUITES = (
    "tests/integration/test_fuzz_*.py",
    "tests/unit/**/test_properties_*.py",
    "tests/e2e/test_pii.py",
)
DEFAULT_FAULT_RUNS = 40
LOAD_KEYS = ("webhooks_sent", "webhooks_stored", "answered_or_escalated", "duplicates")


@dataclass
class Totals:
    """The figures of every fault case and the hostile-input suites, added up."""

    cases: int = 0
    cases_passed: int = 0
    runs: int = 0
    runs_failed: int = 0
    effect_retries: int = 0
    kills: int = 0
    restarts: int = 0
    faults: int = 0
    survived: int = 0
    inputs: int = 0
    lost: int = 0
    duplicates: int = 0
    failed_cases: list[str] = field(default_factory=list)


def collect(directory: Path) -> Totals:
    """Add up the JSON files the fault cases and the plugin wrote."""
    totals = Totals()
    for path in sorted(directory.glob("*.json")):
        record = json.loads(path.read_text())
        if record.get("kind") == "inputs":
            totals.inputs += int(record["inputs"])
            outcomes = record["outcomes"]
            totals.cases += sum(outcomes.values())
            totals.cases_passed += int(outcomes.get("passed", 0))
            continue
        totals.runs += record["runs"]
        totals.runs_failed += record["runs_failed"]
        totals.effect_retries += record["effect_retries"]
        totals.kills += record["kills"]
        totals.restarts += record["restarts"]
        totals.faults += record["faults"]
        totals.survived += record["survived"]
        totals.lost += record["messages_lost"]
        totals.duplicates += record["duplicate_effects"]
        if not record["passed"]:
            totals.failed_cases.append(record["case"])
    return totals


def run_suites(directory: Path, fault_runs: int) -> int:
    """One pytest session over the fault and hostile-input suites; its exit code."""
    hostile = sorted(
        str(p.relative_to(ROOT)) for pattern in HOSTILE_SUITES for p in ROOT.glob(pattern)
    )
    paths = [FAULT_SUITE, *hostile]
    env = {
        **os.environ,
        "CONTROLROOM_FAULT_RUNS": str(fault_runs),
        "CONTROLROOM_RELIABILITY_DIR": str(directory),
        # Count Hypothesis's inputs without tracing coverage of each (much slower).
        "HYPOTHESIS_EXPERIMENTAL_OBSERVABILITY_NOCOVER": "1",
    }
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "bench.reliability_plugin"]
    argv += ["--reliability-dir", str(directory), *paths]
    return subprocess.run(argv, cwd=ROOT, env=env, check=False).returncode


def measure_load() -> dict[str, Any] | None:
    """bench.load.run_load(quick=False) when another suite provides it, else None."""
    if importlib.util.find_spec("bench.load") is None:
        return None
    module = importlib.import_module("bench.load")
    result: dict[str, Any] = module.run_load(quick=False)
    return result


def load_row(load: dict[str, Any] | None) -> tuple[str, str]:
    """The "load held" cell and its detail."""
    if load is None:
        return "not measured", "bench/load.py is not there yet"
    held = (
        load["webhooks_stored"] == load["webhooks_sent"]
        and load["answered_or_escalated"] == load["webhooks_stored"]
        and load["duplicates"] == 0
        and load["runs_finished"] == load["runs_started"]
        and not load["errors"]
    )
    detail = (
        f"{load['webhooks_stored']}/{load['webhooks_sent']} webhooks stored, "
        f"{load['answered_or_escalated']} answered or escalated, "
        f"{load['runs_finished']}/{load['runs_started']} runs; "
        f"p50/p95/p99 {load['p50_ms']}/{load['p95_ms']}/{load['p99_ms']} ms; "
        f"{load['errors']} errors"
    )
    return ("yes" if held else "NO"), detail


def load_lost_and_duplicates(load: dict[str, Any] | None) -> tuple[int, int]:
    """Messages the load test lost and effects it repeated."""
    if load is None:
        return 0, 0
    lost = max(0, load["webhooks_sent"] - load["webhooks_stored"])
    lost += max(0, load["runs_started"] - load["runs_finished"])
    return lost, int(load["duplicates"])


def render(totals: Totals, load: dict[str, Any] | None) -> str:
    """The table `make reliability` prints."""
    held, load_detail = load_row(load)
    load_lost, load_duplicates = load_lost_and_duplicates(load)
    rows = [
        ("cases", f"{totals.cases_passed}/{totals.cases}", "tests passed"),
        ("load held", held, load_detail),
        (
            "faults survived",
            f"{totals.survived}/{totals.faults}",
            f"{totals.runs} runs ({totals.runs_failed} failed with a reason), "
            f"{totals.kills} kills, {totals.restarts} restarts",
        ),
        ("bad inputs tried", str(totals.inputs), "Hypothesis and schemathesis examples"),
        ("messages lost", str(totals.lost + load_lost), "must be 0"),
        (
            "duplicate effects",
            str(totals.duplicates + load_duplicates),
            f"must be 0 ({totals.effect_retries} idempotent effect calls repeated after a crash)",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    lines = ["reliability", "-" * 11]
    lines += [f"{name:<{width}}  {value:>{value_width}}  {detail}" for name, value, detail in rows]
    if totals.failed_cases:
        lines.append("failed fault cases: " + ", ".join(totals.failed_cases))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run everything, print the table, and fail on a failed test, a loss or a repeat."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--fault-runs", type=int, default=DEFAULT_FAULT_RUNS)
    parser.add_argument("--no-load", action="store_true", help="skip the load test")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="controlroom-reliability-") as folder:
        directory = Path(folder)
        code = run_suites(directory, options.fault_runs)
        totals = collect(directory)
    load = None if options.no_load else measure_load()
    print(render(totals, load))
    load_lost, load_duplicates = load_lost_and_duplicates(load)
    bad = totals.lost + totals.duplicates + load_lost + load_duplicates
    return 1 if code != 0 or bad else 0


if __name__ == "__main__":
    sys.exit(main())
