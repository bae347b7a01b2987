"""`make bench`: run the benchmark suites, print one table, write JSON under bench/results/.

    python -m bench.run            # 1,000,000 orders, median of 3 runs per case
    python -m bench.run --quick    # 20,000 orders, 1 run: a smoke test for CI

Exits 1 when any case's answer disagrees with its reference, after writing the results.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import analytics
from bench.measure import render_table, write_report

RESULTS_DIR = Path(__file__).resolve().parent / "results"
FULL_REPEATS = 3
QUICK_REPEATS = 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the analytics suite and report it; the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small inputs and one run per case")
    parser.add_argument("--orders", type=int, help="orders in the generated log")
    parser.add_argument("--repeats", type=int, help="runs per case; the median is reported")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    default_orders = analytics.QUICK_ORDERS if args.quick else analytics.FULL_ORDERS
    default_repeats = QUICK_REPEATS if args.quick else FULL_REPEATS

    report = analytics.run_suite(
        args.orders or default_orders, args.repeats or default_repeats, quick=args.quick
    )
    parameters = report.parameters
    print(
        f"{report.suite}: {parameters['orders']:,} orders, {parameters['customers']:,} customers, "
        f"median of {parameters['repeats']}, {report.environment['cpu_count']} CPUs, "
        f"{report.wall_seconds:.0f} s"
    )
    print(render_table(report.cases))
    stamped, latest = write_report(report, args.results_dir)
    print(f"results: {stamped} (and {latest.name})")
    failed = [case.case for case in report.cases if not case.agreement_ok]
    if failed:
        print(f"disagreeing cases: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
