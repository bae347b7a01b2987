"""`make bench`: run the benchmark suites, print one table, write JSON under bench/results/.

    python -m bench.run                      # every suite at full size (about 10 minutes)
    python -m bench.run --quick              # every suite small, one run each: CI's smoke test
    python -m bench.run --only ingest,retrieval

Suites (`SUITES`, in the order they run):

    analytics    RFM, cohorts, BG/NBD on 1,000,000 orders vs DuckDB SQL; import costs
    retrieval    knowledge-base retrieval on 10,000 chunks vs bm25s: QPS, p95, hit@3
    llm-cost     tokens per weekly run and support reply; projected monthly cost
    ingest       webhook messages/s through the webhooks function vs a bare function
    cold-start   process start to first answer, per function kind, vs a bare function
    end-to-end   weekly run latency in the local cloud vs its floors; memory per function
    fan-out      win-back at 10, 100, 1,000 customers: time and store calls per task
    load         10,000 webhooks answered once each, 100 concurrent weekly runs: throughput,
                 p50/p95/p99, errors
    tracking     events/s accepted by /v1/batch vs a bare function; event-to-profile lag
    send-limits  4 processes replying to TikTok for 60 s: most sends in any minute vs the limit

The suites that need the official emulators (ingest, cold-start, end-to-end, fan-out, load,
tracking, send-limits) start them once and share them. Every CONTROLROOM_*
variable of the caller is dropped first (keeping only price and model tables), so nothing
is sent to an LLM vendor or any other outside service. A suite that raises is reported and
the others still run. Exits 1 when a suite failed or a case's answer disagrees with its
reference, after writing the results; timings never fail the run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    analytics,
    cold_start,
    end_to_end,
    fanout,
    ingest,
    llm_cost,
    load,
    retrieval,
    send_limits,
    tracking,
)
from bench.local import LocalServers, scrub_environment
from bench.measure import BenchReport, BenchRun, SuiteFailure, render_table, write_results

RESULTS_DIR = Path(__file__).resolve().parent / "results"
FULL_REPEATS = 3
QUICK_REPEATS = 1


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    quick: bool
    repeats: int
    orders: int


@dataclass(frozen=True)
class Suite:
    """A named suite and how to run it, or why it is not measured yet."""

    name: str
    run: Callable[[Options, LocalServers], BenchReport] | None
    pending: str = ""


SUITES: tuple[Suite, ...] = (
    Suite("analytics", lambda o, _: analytics.run_suite(o.orders, o.repeats, quick=o.quick)),
    Suite("retrieval", lambda o, _: retrieval.run_suite(quick=o.quick, repeats=o.repeats)),
    Suite("llm-cost", lambda o, _: llm_cost.run_suite(quick=o.quick)),
    Suite("ingest", lambda o, s: ingest.run_suite(s, quick=o.quick, repeats=o.repeats)),
    Suite("cold-start", lambda o, s: cold_start.run_suite(s, quick=o.quick, repeats=o.repeats)),
    Suite("end-to-end", lambda o, s: end_to_end.run_suite(s, quick=o.quick)),
    Suite("fan-out", lambda o, s: fanout.run_suite(s, quick=o.quick)),
    Suite("load", lambda o, s: load.run_suite(s, quick=o.quick)),
    Suite("tracking", lambda o, s: tracking.run_suite(s, quick=o.quick, repeats=o.repeats)),
    Suite("send-limits", lambda o, s: send_limits.run_suite(s, quick=o.quick)),
)


def select_suites(only: Sequence[str] | None, suites: Sequence[Suite] = SUITES) -> list[Suite]:
    """The suites named in `only` (comma-separated names allowed), or all of them."""
    if not only:
        return list(suites)
    wanted = {name.strip() for names in only for name in names.split(",") if name.strip()}
    unknown = wanted - {suite.name for suite in suites}
    if unknown:
        known = ", ".join(suite.name for suite in suites)
        raise SystemExit(f"unknown suite(s): {', '.join(sorted(unknown))}; known: {known}")
    return [suite for suite in suites if suite.name in wanted]


def _environment() -> dict[str, object]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": None if load is None else [round(x, 2) for x in load],
    }


def run_suites(suites: Sequence[Suite], options: Options, workdir: Path) -> BenchRun:
    """Run each suite in turn (sharing one set of emulators); a failure does not stop the rest."""
    started_at = datetime.now(UTC)
    wall_started = time.perf_counter()
    environment = _environment()
    servers = LocalServers(workdir)
    reports: list[BenchReport] = []
    failures: list[SuiteFailure] = []
    pending = {suite.name: suite.pending for suite in suites if suite.run is None}
    try:
        for suite in suites:
            if suite.run is None:
                print(f"{suite.name}: not measured ({suite.pending})", file=sys.stderr)
                continue
            print(f"{suite.name}: running...", file=sys.stderr, flush=True)
            suite_started = time.perf_counter()
            try:
                reports.append(suite.run(options, servers))
            except Exception as exc:  # reported, and the run exits 1 at the end
                failures.append(
                    SuiteFailure(
                        suite=suite.name,
                        error=f"{type(exc).__name__}: {exc}",
                        traceback=traceback.format_exc(),
                    )
                )
                print(traceback.format_exc(), file=sys.stderr)
            print(
                f"{suite.name}: {time.perf_counter() - suite_started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    finally:
        servers.stop()
    return BenchRun(
        started_at=started_at,
        wall_seconds=round(time.perf_counter() - wall_started, 1),
        quick=options.quick,
        environment=environment,
        reports=tuple(reports),
        failures=tuple(failures),
        pending=pending,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected suites and report them; the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small inputs and one run per case")
    parser.add_argument(
        "--only", action="append", metavar="SUITE[,SUITE]", help="run only these suites"
    )
    parser.add_argument("--orders", type=int, help="orders in the analytics suite's log")
    parser.add_argument("--repeats", type=int, help="runs per case; the median is reported")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    suites = select_suites(args.only)
    options = Options(
        quick=args.quick,
        repeats=args.repeats or (QUICK_REPEATS if args.quick else FULL_REPEATS),
        orders=args.orders or (analytics.QUICK_ORDERS if args.quick else analytics.FULL_ORDERS),
    )
    dropped = scrub_environment()
    if dropped:
        print(f"ignoring for the benchmarks: {', '.join(dropped)}", file=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="controlroom-bench-"))
    run = run_suites(suites, options, workdir)

    environment = run.environment
    print(
        f"\n{len(run.reports)} suite(s) in {run.wall_seconds:.0f} s on {environment['cpu_count']} "
        f"CPUs (load {environment['load_average_at_start']}), "
        f"{'quick' if run.quick else 'full'} sizes, median of {options.repeats} where repeated"
    )
    print(render_table(run.cases))
    for name, why in run.pending.items():
        print(f"{name}: not measured: {why}")
    stamped, latest = write_results(run, args.results_dir)
    print(f"results: {stamped} (and {latest.name})")

    failed = [failure.suite for failure in run.failures]
    disagreeing = [f"{case.suite}/{case.case}" for case in run.cases if not case.agreement_ok]
    if failed:
        print(f"failed suites: {', '.join(failed)}; logs in {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if disagreeing:
        print(f"disagreeing cases: {', '.join(disagreeing)}", file=sys.stderr)
    return 1 if failed or disagreeing else 0


if __name__ == "__main__":
    sys.exit(main())
