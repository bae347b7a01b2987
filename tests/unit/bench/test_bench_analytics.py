"""The benchmark's DuckDB SQL references, used as an independent check of our analytics.

The same queries `make bench` times on a million orders run here on small logs: a generated
one, the bundled sample data, and a hand-made log full of ties. Our RFM values, scores and
segments, cohort matrix and BG/NBD summaries must equal what SQL computes from the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from bench.analytics import (
    LOG_DAYS,
    OrderLog,
    bgnbd_fit_case,
    bgnbd_summary_case,
    cohort_case,
    cohort_mismatches,
    cohort_reference,
    compare_rfm,
    generate_order_log,
    load_case,
    load_into_duckdb,
    order_log_from_purchases,
    query_bgnbd_summary,
    query_cohorts,
    query_rfm,
    rfm_case,
    rfm_reference,
    summary_mismatches,
)
from bench.measure import BenchReport, BenchRun, render_table, timed, write_results
from shared.adapters.sample_source import generate_sample_dataset
from shared.analytics.bgnbd import summarize_purchases
from shared.analytics.cohorts import monthly_cohort_retention
from shared.analytics.insights import rfm_segments
from shared.analytics.transactions import Purchase, purchases_from_dataset

TINY_ORDERS = 2_000


@pytest.fixture(scope="module")
def log() -> OrderLog:
    return generate_order_log(TINY_ORDERS)


@pytest.fixture
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as connection:
        yield connection


def assert_sql_agrees(purchases: list[Purchase], connection: duckdb.DuckDBPyConnection) -> None:
    load_into_duckdb(connection, order_log_from_purchases(purchases))

    rfm = compare_rfm(rfm_segments(purchases), rfm_reference(query_rfm(connection)))
    assert (rfm.missing, rfm.raw_mismatches) == (0, 0)
    assert (rfm.score_agreement, rfm.segment_agreement) == (1.0, 1.0)

    cohorts = cohort_reference(query_cohorts(connection))
    assert cohort_mismatches(monthly_cohort_retention(purchases), cohorts) == []

    end = max(row.purchase_date for row in purchases)
    for unit in ("days", "weeks"):
        ours = summarize_purchases(purchases, end, unit)
        assert summary_mismatches(ours, query_bgnbd_summary(connection, end, unit)) == 0


def test_the_generated_log_is_deterministic_and_shaped_as_described(log: OrderLog) -> None:
    again = generate_order_log(TINY_ORDERS)

    assert again.sha256() == log.sha256()
    assert generate_order_log(TINY_ORDERS, seed=1).sha256() != log.sha256()
    assert len(log) == TINY_ORDERS
    assert len(log.customer_ids) == TINY_ORDERS // 10
    assert set(log.customer_index.tolist()) == set(range(len(log.customer_ids)))
    assert log.day.min() >= 0
    assert log.day.max() < LOG_DAYS
    assert (log.amount_cents >= 0).all()


def test_the_case_functions_agree_with_duckdb_on_a_generated_log(
    log: OrderLog, connection: duckdb.DuckDBPyConnection
) -> None:
    load, purchases = load_case(log, connection)
    summary_result, summary = bgnbd_summary_case(purchases, connection, log.last_day, 1)
    cases = [
        load,
        rfm_case(purchases, connection, 1),
        cohort_case(purchases, connection, 1),
        summary_result,
        bgnbd_fit_case(purchases, log.last_day, summary, 1),
    ]

    assert [case.case for case in cases if not case.agreement_ok] == []
    assert cases[1].details["raw_mismatches"] == 0
    assert cases[1].details["customers"] == TINY_ORDERS // 10
    assert cases[4].details["converged"] is True


def test_the_sql_references_agree_with_our_analytics_on_the_sample_data(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    assert_sql_agrees(purchases_from_dataset(generate_sample_dataset()), connection)


def test_the_sql_references_agree_on_a_log_full_of_ties(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    days = [date(2026, 1, 31), date(2026, 2, 1), date(2026, 3, 15), date(2026, 4, 30)]
    purchases = [
        Purchase(customer_id=f"k{index % 7}", purchase_date=days[index % 4], amount_cents=500)
        for index in range(30)
    ]
    purchases.append(Purchase(customer_id="lonely", purchase_date=days[0], amount_cents=0))

    assert_sql_agrees(purchases, connection)


def test_ntile_scores_differ_from_mid_rank_scores_only_where_values_tie(
    log: OrderLog, connection: duckdb.DuckDBPyConnection
) -> None:
    purchases = log.purchases()
    load_into_duckdb(connection, log)

    agreement = compare_rfm(rfm_segments(purchases), rfm_reference(query_rfm(connection)))

    assert agreement.ok
    # Monetary values (log-normal cents) rarely tie; order counts tie all the time.
    assert agreement.ntile_agreement["monetary"] > 0.99
    assert agreement.ntile_agreement["frequency"] < agreement.ntile_agreement["monetary"]


def test_the_report_is_a_table_and_two_json_files(
    log: OrderLog, connection: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load, _ = load_case(log, connection)
    report = BenchReport(
        suite="analytics",
        started_at=datetime(2026, 11, 16, 8, 0, tzinfo=UTC),
        wall_seconds=1.0,
        quick=True,
        parameters={},
        environment={},
        cases=(load,),
    )
    run = BenchRun(
        started_at=report.started_at,
        wall_seconds=1.0,
        quick=True,
        environment={},
        reports=(report,),
    )

    stamped, latest = write_results(run, tmp_path)
    table = render_table(run.cases).splitlines()

    assert stamped.name == "bench-20261116T080000Z.json"
    assert json.loads(latest.read_text()) == json.loads(stamped.read_text())
    assert json.loads(latest.read_text())["reports"][0]["cases"][0]["case"] == "load"
    assert table[0].split() == [
        "suite", "case", "figure", "ours", "baseline", "ratio", "vs", "check", "notes"
    ]  # fmt: skip
    assert table[2].split()[:3] == ["analytics", "load", "s"]


def test_timed_reports_every_run_and_the_median() -> None:
    calls: list[int] = []

    def call() -> int:
        calls.append(1)
        return len(calls)

    result = timed(call, repeats=3)

    assert result.result == 3
    assert len(result.runs) == 3
    assert result.median == sorted(result.runs)[1]
    with pytest.raises(ValueError, match="repeats"):
        timed(lambda: None, repeats=0)
