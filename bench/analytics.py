"""Customer analytics at scale: our RFM, cohorts and BG/NBD against DuckDB SQL, and import cost.

The order log is generated (`generate_order_log`): `orders` rows for `orders // 10`
customers over two years. Every customer's first order falls on a uniformly drawn day; the
other orders go to customers in proportion to a gamma-distributed purchase rate, so a few
customers buy far more often than most, on uniform days between their first order and the
end of an exponentially long active life (mean one year). Amounts are log-normal around
EUR 40. numpy's PCG64 seeded with `seed` alone draws everything, so the same arguments give
the same log (its sha256 is in the results).

Cases (each: median of `repeats` runs, ratio = ours / baseline):

- load: building the log's `Purchase` models vs loading the same columns into DuckDB.
- rfm: `rfm_segments` vs one SQL query computing recency, frequency and monetary per customer,
  our mid-rank quintile scores and segments, and NTILE(5) scores. R/F/M values, scores and
  segments must match exactly; NTILE splits ties arbitrarily, so its agreement is a share.
- cohorts: `monthly_cohort_retention` vs SQL; sizes, counts, retention and averages must match.
- bgnbd-summary: `summarize_purchases` vs the SQL summary; (x, t_x, T) must match exactly.
- bgnbd-fit: `summarize_purchases` + `fit_bg_nbd`, against our summary alone as the baseline
  (so the ratio is what the fit adds); no reference, the fitted parameters are reported.
- import cases: a fresh interpreter importing a module (or running a tiny fit) vs one running
  `pass`, and which heavy libraries (scipy, statsmodels, numpy, pandas) each one loaded.

DuckDB is timed on its query alone (tables loaded beforehand), fetching the rows into Python.
It runs on every core; our code on one.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import numpy as np
import numpy.typing as npt

from bench.measure import BenchReport, CaseResult, Timed, peak_rss_mb, ratio, timed
from shared.analytics.bgnbd import (
    DAYS_PER_UNIT,
    CustomerSummary,
    TimeUnit,
    fit_bg_nbd,
    summarize_purchases,
)
from shared.analytics.cohorts import CohortRetention, monthly_cohort_retention
from shared.analytics.insights import NEW_CUSTOMER_DAYS, RfmReport, rfm_segments
from shared.analytics.transactions import Purchase

SUITE = "analytics"
FULL_ORDERS = 1_000_000
QUICK_ORDERS = 20_000
ORDERS_PER_CUSTOMER = 10
LOG_DAYS = 730
LOG_START = date(2024, 1, 1)
SEED = 20240101
TIME_UNIT: TimeUnit = "weeks"
HEAVY_MODULES = ("scipy", "statsmodels", "numpy", "pandas")
WATCHED_MODULES = frozenset({"scipy", "statsmodels"})  # the ones a cold start must earn
REPO_ROOT = Path(__file__).resolve().parent.parent
IMPORT_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class OrderLog:
    """A purchase log as columns: what both our code (as `Purchase` rows) and DuckDB read."""

    start: date
    customer_ids: tuple[str, ...]  # customer_index -> customer_id
    customer_index: npt.NDArray[np.int32]
    day: npt.NDArray[np.int32]  # days since start
    amount_cents: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.day)

    @property
    def last_day(self) -> date:
        """The date of the latest order."""
        return self.start + timedelta(days=int(self.day.max()))

    def purchases(self) -> list[Purchase]:
        """The log as validated `Purchase` rows, sharing id strings and date objects."""
        dates = [self.start + timedelta(days=offset) for offset in range(int(self.day.max()) + 1)]
        ids = self.customer_ids
        return [
            Purchase(customer_id=ids[customer], purchase_date=dates[offset], amount_cents=cents)
            for customer, offset, cents in zip(
                self.customer_index.tolist(),
                self.day.tolist(),
                self.amount_cents.tolist(),
                strict=True,
            )
        ]

    def sha256(self) -> str:
        """A fingerprint of the log, to tell whether two runs measured the same data."""
        digest = hashlib.sha256()
        digest.update("\n".join(self.customer_ids).encode())
        for column in (self.customer_index, self.day, self.amount_cents):
            digest.update(column.tobytes())
        return digest.hexdigest()


def generate_order_log(
    orders: int = FULL_ORDERS, *, seed: int = SEED, days: int = LOG_DAYS, start: date = LOG_START
) -> OrderLog:
    """A deterministic log of `orders` orders by `orders // 10` customers over `days` days."""
    if orders < 1 or days < 1:
        raise ValueError(f"need at least one order and one day, got {orders} and {days}")
    customers = max(1, orders // ORDERS_PER_CUSTOMER)
    repeats = orders - customers
    rng = np.random.default_rng(seed)
    first_day = rng.integers(0, days, size=customers)
    purchase_rate = rng.gamma(shape=1.0, scale=1.0, size=customers)
    repeat_buyer = rng.choice(customers, size=repeats, p=purchase_rate / purchase_rate.sum())
    last_active = np.minimum(first_day + rng.exponential(365.0, size=customers), days - 1)
    span = last_active[repeat_buyer] - first_day[repeat_buyer] + 1
    repeat_day = first_day[repeat_buyer] + np.floor(rng.random(repeats) * span).astype(np.int64)
    amounts = np.rint(rng.lognormal(mean=np.log(4000.0), sigma=0.6, size=orders))

    customer_index = np.concatenate([np.arange(customers), repeat_buyer]).astype(np.int32)
    day = np.minimum(np.concatenate([first_day, repeat_day]), days - 1).astype(np.int32)
    # A shop's export: by day, then customer.
    order = np.lexsort((customer_index, day))
    return OrderLog(
        start=start,
        customer_ids=tuple(f"c{index:07d}" for index in range(customers)),
        customer_index=customer_index[order],
        day=day[order],
        amount_cents=amounts.astype(np.int64)[order],
    )


def order_log_from_purchases(purchases: Sequence[Purchase]) -> OrderLog:
    """Any non-empty purchase log as columns, e.g. to cross-check the bundled sample data."""
    if not purchases:
        raise ValueError("an order log needs at least one purchase")
    ids = sorted({row.customer_id for row in purchases})
    index = {customer_id: position for position, customer_id in enumerate(ids)}
    start = min(row.purchase_date for row in purchases)
    return OrderLog(
        start=start,
        customer_ids=tuple(ids),
        customer_index=np.array([index[row.customer_id] for row in purchases], dtype=np.int32),
        day=np.array([(row.purchase_date - start).days for row in purchases], dtype=np.int32),
        amount_cents=np.array([row.amount_cents for row in purchases], dtype=np.int64),
    )


def load_into_duckdb(connection: duckdb.DuckDBPyConnection, log: OrderLog) -> None:
    """Create table orders(customer_id, purchase_date, amount_cents) holding the log's rows."""
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE customers AS "
        "SELECT unnest($ids) AS customer_id, generate_subscripts($ids, 1) - 1 AS customer_index",
        {"ids": list(log.customer_ids)},
    )
    columns = {
        "customer_index": log.customer_index,
        "day": log.day,
        "amount_cents": log.amount_cents,
    }
    connection.register("order_columns", columns)
    try:
        connection.execute(
            "CREATE OR REPLACE TEMP TABLE orders AS "
            "SELECT c.customer_id, $start::DATE + o.day AS purchase_date, o.amount_cents "
            "FROM order_columns o JOIN customers c USING (customer_index)",
            {"start": log.start},
        )
    finally:
        connection.unregister("order_columns")


# --- the SQL references ------------------------------------------------------------------

# Mid-rank quintile score, as in shared.analytics.insights: floor(5 * (worse + equal / 2) / n)
# + 1 in integers, where `worse` counts customers ranked below (rank() - 1) and `equal` ties.
RFM_SQL = """
WITH bounds AS (SELECT max(purchase_date) AS as_of FROM orders),
per_customer AS (
    SELECT o.customer_id,
           date_diff('day', max(o.purchase_date), b.as_of) AS recency_days,
           count(*) AS frequency,
           sum(o.amount_cents) AS monetary_cents,
           date_diff('day', min(o.purchase_date), b.as_of) AS days_since_first
    FROM orders o, bounds b
    WHERE o.purchase_date <= b.as_of
    GROUP BY o.customer_id, b.as_of
),
ranked AS (
    SELECT *,
           count(*) OVER () AS n,
           rank() OVER (ORDER BY recency_days DESC) - 1 AS r_worse,
           count(*) OVER (PARTITION BY recency_days) AS r_equal,
           rank() OVER (ORDER BY frequency) - 1 AS f_worse,
           count(*) OVER (PARTITION BY frequency) AS f_equal,
           rank() OVER (ORDER BY monetary_cents) - 1 AS m_worse,
           count(*) OVER (PARTITION BY monetary_cents) AS m_equal,
           ntile(5) OVER (ORDER BY recency_days DESC, customer_id) AS r_ntile,
           ntile(5) OVER (ORDER BY frequency, customer_id) AS f_ntile,
           ntile(5) OVER (ORDER BY monetary_cents, customer_id) AS m_ntile
    FROM per_customer
),
scored AS (
    SELECT *,
           5 * (2 * r_worse + r_equal) // (2 * n) + 1 AS r_score,
           5 * (2 * f_worse + f_equal) // (2 * n) + 1 AS f_score,
           5 * (2 * m_worse + m_equal) // (2 * n) + 1 AS m_score
    FROM ranked
)
SELECT customer_id, recency_days, frequency, monetary_cents,
       r_score, f_score, m_score, r_ntile, f_ntile, m_ntile,
       CASE
           WHEN days_since_first <= $new_customer_days THEN 'new'
           WHEN r_score >= 4 AND f_score >= 4 AND m_score >= 4 THEN 'champions'
           WHEN r_score >= 3 AND f_score >= 3 THEN 'loyal'
           WHEN r_score <= 2 AND f_score >= 3 THEN 'at_risk'
           WHEN r_score <= 2 THEN 'hibernating'
           ELSE 'promising'
       END AS segment
FROM scored
ORDER BY customer_id
"""

COHORT_SQL = """
WITH bounds AS (
    SELECT max(purchase_date) AS as_of,
           year(max(purchase_date)) * 12 + month(max(purchase_date)) - 1 AS last_month
    FROM orders
),
bought AS (
    SELECT DISTINCT o.customer_id,
           year(o.purchase_date) * 12 + month(o.purchase_date) - 1 AS month_index
    FROM orders o, bounds b
    WHERE o.purchase_date <= b.as_of
),
members AS (SELECT customer_id, min(month_index) AS cohort FROM bought GROUP BY customer_id),
sizes AS (SELECT cohort, count(*) AS size FROM members GROUP BY cohort),
active AS (
    SELECT m.cohort, b.month_index - m.cohort AS k, count(*) AS active
    FROM bought b JOIN members m USING (customer_id)
    GROUP BY m.cohort, k
),
cells AS (
    SELECT s.cohort, s.size, unnest(range(0, b.last_month - s.cohort + 1)) AS k
    FROM sizes s, bounds b
),
matrix AS (
    SELECT c.cohort, c.size, c.k, coalesce(a.active, 0) AS active
    FROM cells c LEFT JOIN active a USING (cohort, k)
)
SELECT strftime(make_date(cohort // 12, cohort % 12 + 1, 1), '%Y-%m') AS cohort_label,
       size, k, active,
       round(active::DOUBLE / size, 4) AS retention,
       round(sum(active) OVER (PARTITION BY k)::DOUBLE / sum(size) OVER (PARTITION BY k), 4)
           AS average_retention
FROM matrix
ORDER BY cohort, k
"""

BGNBD_SUMMARY_SQL = """
WITH days AS (
    SELECT DISTINCT customer_id, purchase_date FROM orders WHERE purchase_date <= $calibration_end
)
SELECT customer_id,
       count(*) - 1 AS frequency,
       date_diff('day', min(purchase_date), max(purchase_date))::DOUBLE / $days_per_unit
           AS recency,
       date_diff('day', min(purchase_date), $calibration_end::DATE)::DOUBLE / $days_per_unit AS T
FROM days
GROUP BY customer_id
ORDER BY customer_id
"""


class RfmReference(NamedTuple):
    """One customer's RFM row as the SQL reference computes it."""

    customer_id: str
    recency_days: int
    frequency: int
    monetary_cents: int
    recency_score: int
    frequency_score: int
    monetary_score: int
    recency_ntile: int
    frequency_ntile: int
    monetary_ntile: int
    segment: str


class CohortReference(NamedTuple):
    """The retention matrix as the SQL reference computes it."""

    cohorts: tuple[str, ...]
    cohort_sizes: tuple[int, ...]
    active_customers: tuple[tuple[int, ...], ...]
    retention: tuple[tuple[float, ...], ...]
    average_retention: tuple[float, ...]


def query_rfm(connection: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """Run the RFM reference query on table orders."""
    return connection.execute(RFM_SQL, {"new_customer_days": NEW_CUSTOMER_DAYS}).fetchall()


def rfm_reference(rows: Sequence[tuple[Any, ...]]) -> dict[str, RfmReference]:
    """The RFM query's rows by customer_id."""
    return {row[0]: RfmReference(*row) for row in rows}


def query_cohorts(connection: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """Run the cohort retention reference query on table orders."""
    return connection.execute(COHORT_SQL).fetchall()


def cohort_reference(rows: Sequence[tuple[Any, ...]]) -> CohortReference:
    """The cohort query's cells (cohort, size, k, active, retention, average) as a matrix."""
    labels: list[str] = []
    sizes: list[int] = []
    active: list[list[int]] = []
    retention: list[list[float]] = []
    average: dict[int, float] = {}
    for label, size, k, count, share, average_share in rows:
        if not labels or labels[-1] != label:
            labels.append(label)
            sizes.append(size)
            active.append([])
            retention.append([])
        active[-1].append(count)
        retention[-1].append(share)
        average[k] = average_share
    return CohortReference(
        cohorts=tuple(labels),
        cohort_sizes=tuple(sizes),
        active_customers=tuple(tuple(row) for row in active),
        retention=tuple(tuple(row) for row in retention),
        average_retention=tuple(average[k] for k in sorted(average)),
    )


def query_bgnbd_summary(
    connection: duckdb.DuckDBPyConnection, calibration_end: date, time_unit: TimeUnit
) -> list[tuple[Any, ...]]:
    """Run the BG/NBD summary reference query: (customer_id, x, t_x, T) by customer_id."""
    parameters = {"calibration_end": calibration_end, "days_per_unit": DAYS_PER_UNIT[time_unit]}
    return connection.execute(BGNBD_SUMMARY_SQL, parameters).fetchall()


# --- agreement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RfmAgreement:
    """How our RFM report compares with the SQL reference, customer by customer."""

    customers: int
    reference_customers: int
    missing: int  # customers in one result but not the other
    raw_mismatches: int  # customers whose recency, frequency or monetary value differs
    score_agreement: float  # share with the same three mid-rank scores
    segment_agreement: float
    ntile_agreement: dict[str, float]  # our score == NTILE(5), per dimension and for all three

    @property
    def ok(self) -> bool:
        """Same customers, same values, same scores and segments."""
        return (
            self.missing == 0
            and self.raw_mismatches == 0
            and self.score_agreement == 1.0
            and self.segment_agreement == 1.0
        )


def compare_rfm(ours: RfmReport, reference: dict[str, RfmReference]) -> RfmAgreement:
    """Compare per-customer R/F/M values, mid-rank scores, segments, and scores vs NTILE(5)."""
    matched = [
        (row, reference[row.customer_id]) for row in ours.customers if row.customer_id in reference
    ]
    missing = len(ours.customers) + len(reference) - 2 * len(matched)
    count = max(len(matched), 1)

    def share(same: Callable[[Any, RfmReference], bool]) -> float:
        return sum(1 for mine, theirs in matched if same(mine, theirs)) / count

    return RfmAgreement(
        customers=len(ours.customers),
        reference_customers=len(reference),
        missing=missing,
        raw_mismatches=sum(
            1
            for mine, theirs in matched
            if (mine.recency_days, mine.frequency, mine.monetary_cents)
            != (theirs.recency_days, theirs.frequency, theirs.monetary_cents)
        ),
        score_agreement=share(
            lambda mine, theirs: (
                (mine.recency_score, mine.frequency_score, mine.monetary_score)
                == (theirs.recency_score, theirs.frequency_score, theirs.monetary_score)
            )
        ),
        segment_agreement=share(lambda mine, theirs: mine.segment == theirs.segment),
        ntile_agreement={
            "recency": share(lambda mine, theirs: mine.recency_score == theirs.recency_ntile),
            "frequency": share(lambda mine, theirs: mine.frequency_score == theirs.frequency_ntile),
            "monetary": share(lambda mine, theirs: mine.monetary_score == theirs.monetary_ntile),
            "all": share(
                lambda mine, theirs: (
                    (mine.recency_score, mine.frequency_score, mine.monetary_score)
                    == (theirs.recency_ntile, theirs.frequency_ntile, theirs.monetary_ntile)
                )
            ),
        },
    )


def cohort_mismatches(ours: CohortRetention, reference: CohortReference) -> list[str]:
    """The fields of the retention matrix that differ from the reference (empty: all agree)."""
    return [
        field
        for field in CohortReference._fields
        if getattr(ours, field) != getattr(reference, field)
    ]


def summary_mismatches(
    ours: Sequence[CustomerSummary], reference: Sequence[tuple[Any, ...]]
) -> int:
    """Customers whose (x, t_x, T) differ from the reference, or who are in only one of them."""
    mine = {row.customer_id: (row.frequency, row.recency, row.T) for row in ours}
    theirs = {row[0]: tuple(row[1:]) for row in reference}
    return sum(
        1
        for customer_id in mine.keys() | theirs.keys()
        if mine.get(customer_id) != theirs.get(customer_id)
    )


# --- cases -------------------------------------------------------------------------------


def load_case(
    log: OrderLog, connection: duckdb.DuckDBPyConnection
) -> tuple[CaseResult, list[Purchase]]:
    """Build the `Purchase` rows (once) vs load the columns into DuckDB (once); both results."""
    ours = timed(log.purchases, repeats=1)
    reference = timed(lambda: load_into_duckdb(connection, log), repeats=1)
    purchases = ours.result
    count, customers, total = connection.execute(
        "SELECT count(*), count(DISTINCT customer_id), sum(amount_cents) FROM orders"
    ).fetchone() or (0, 0, 0)
    mine = (
        len(purchases),
        len({row.customer_id for row in purchases}),
        sum(row.amount_cents for row in purchases),
    )
    agrees = mine == (count, customers, total)
    return (
        _case(
            "load",
            "duckdb load",
            ours,
            reference,
            agreement="same rows"
            if agrees
            else f"ours {mine} vs duckdb {(count, customers, total)}",
            agreement_ok=agrees,
            notes=f"vs duckdb load of numpy columns; {len(purchases):,} Purchase models; 1 run",
            details={"orders": len(purchases), "customers": customers, "amount_cents": total},
        ),
        purchases,
    )


def rfm_case(
    purchases: Sequence[Purchase], connection: duckdb.DuckDBPyConnection, repeats: int
) -> CaseResult:
    """`rfm_segments` vs the RFM SQL on the same rows."""
    ours = timed(lambda: rfm_segments(purchases), repeats)
    reference = timed(lambda: query_rfm(connection), repeats)
    agreement = compare_rfm(ours.result, rfm_reference(reference.result))
    ntile = agreement.ntile_agreement
    return _case(
        "rfm",
        "duckdb sql",
        ours,
        reference,
        agreement=(
            "R/F/M, scores, segments exact"
            if agreement.ok
            else f"{agreement.raw_mismatches} R/F/M, {agreement.missing} missing, "
            f"scores {agreement.score_agreement:.2%}, segments {agreement.segment_agreement:.2%}"
        ),
        agreement_ok=agreement.ok,
        notes=(
            f"vs duckdb sql; {agreement.customers:,} customers; NTILE(5) agrees "
            f"R {ntile['recency']:.1%} F {ntile['frequency']:.1%} M {ntile['monetary']:.1%} "
            f"all {ntile['all']:.1%}"
        ),
        details={
            "customers": agreement.customers,
            "reference_customers": agreement.reference_customers,
            "missing": agreement.missing,
            "raw_mismatches": agreement.raw_mismatches,
            "score_agreement": agreement.score_agreement,
            "segment_agreement": agreement.segment_agreement,
            "ntile_agreement": agreement.ntile_agreement,
        },
    )


def cohort_case(
    purchases: Sequence[Purchase], connection: duckdb.DuckDBPyConnection, repeats: int
) -> CaseResult:
    """`monthly_cohort_retention` vs the cohort SQL on the same rows."""
    ours = timed(lambda: monthly_cohort_retention(purchases), repeats)
    reference = timed(lambda: query_cohorts(connection), repeats)
    mismatched = cohort_mismatches(ours.result, cohort_reference(reference.result))
    cohorts = len(ours.result.cohorts)
    return _case(
        "cohorts",
        "duckdb sql",
        ours,
        reference,
        agreement="matrix exact" if not mismatched else "differs: " + ", ".join(mismatched),
        agreement_ok=not mismatched,
        notes=f"vs duckdb sql; {cohorts} monthly cohorts; sizes, counts, shares, averages",
        details={"cohorts": cohorts, "mismatched_fields": mismatched},
    )


def bgnbd_summary_case(
    purchases: Sequence[Purchase],
    connection: duckdb.DuckDBPyConnection,
    calibration_end: date,
    repeats: int,
) -> tuple[CaseResult, Timed[list[CustomerSummary]]]:
    """`summarize_purchases` vs the summary SQL; the case and our timing (the fit's baseline)."""
    ours = timed(lambda: summarize_purchases(purchases, calibration_end, TIME_UNIT), repeats)
    reference = timed(lambda: query_bgnbd_summary(connection, calibration_end, TIME_UNIT), repeats)
    mismatches = summary_mismatches(ours.result, reference.result)
    case = _case(
        "bgnbd-summary",
        "duckdb sql",
        ours,
        reference,
        agreement="x, t_x, T exact" if mismatches == 0 else f"{mismatches} customers differ",
        agreement_ok=mismatches == 0,
        notes=f"vs duckdb sql; {len(ours.result):,} customers, {TIME_UNIT}",
        details={"customers": len(ours.result), "mismatches": mismatches, "time_unit": TIME_UNIT},
    )
    return case, ours


def bgnbd_fit_case(
    purchases: Sequence[Purchase],
    calibration_end: date,
    summary: Timed[list[CustomerSummary]],
    repeats: int,
) -> CaseResult:
    """`summarize_purchases` + `fit_bg_nbd`, against the summary alone as the baseline."""
    ours = timed(
        lambda: fit_bg_nbd(summarize_purchases(purchases, calibration_end, TIME_UNIT)), repeats
    )
    model = ours.result
    return _case(
        "bgnbd-fit",
        "our summarize_purchases",
        ours,
        summary,
        agreement="ours only",
        agreement_ok=True,
        notes=(
            f"vs our summary alone; r={model.r:.4g} alpha={model.alpha:.4g} a={model.a:.4g} "
            f"b={model.b:.4g} LL={model.log_likelihood:.1f} converged={model.converged}"
        ),
        details=model.model_dump(),
    )


class ColdStart(NamedTuple):
    """A statement run in a fresh interpreter, and the watched modules it should load."""

    case: str
    statement: str
    expected: frozenset[str]  # of WATCHED_MODULES
    directory: Path = REPO_ROOT


_TINY_FIT = (
    "from shared.analytics.bgnbd import CustomerSummary as S, fit_bg_nbd; "
    "fit_bg_nbd([S(customer_id='a', frequency=2, recency=3.0, T=8.0), "
    "S(customer_id='b', frequency=0, recency=0.0, T=5.0), "
    "S(customer_id='c', frequency=1, recency=1.0, T=9.0)])"
)
COLD_STARTS = (
    ColdStart("import insights", "import shared.analytics.insights", frozenset()),
    ColdStart("import cohorts", "import shared.analytics.cohorts", frozenset()),
    ColdStart("import bgnbd", "import shared.analytics.bgnbd", frozenset()),
    ColdStart("import bgnbd + fit", _TINY_FIT, frozenset({"scipy"})),
    ColdStart("import forecast", "import shared.analytics.forecast", frozenset()),
    ColdStart(
        "insights function",
        "import main",
        frozenset(),
        REPO_ROOT / "functions" / "agents" / "insights",
    ),
)
# Printed by every interpreter, the baseline included, so all pay the same for it. The peak is
# VmHWM, not getrusage: on Linux a child's ru_maxrss starts from its parent's peak at exec.
_PROBE = f"""
import sys
try:
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = "-1"
print(peak, ",".join(m for m in {HEAVY_MODULES!r} if m in sys.modules))
"""


@dataclass(frozen=True)
class _Interpreter:
    seconds: float
    modules: frozenset[str]
    peak_rss_kb: int | None  # None where the OS does not report it


def _run_interpreter(statement: str, directory: Path) -> _Interpreter:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", f"{statement}\n{_PROBE}"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
        timeout=IMPORT_TIMEOUT_SECONDS,
    )
    seconds = time.perf_counter() - started
    peak, _, modules = completed.stdout.splitlines()[-1].partition(" ")
    return _Interpreter(
        seconds=seconds,
        modules=frozenset(filter(None, modules.split(","))),
        peak_rss_kb=None if peak == "-1" else int(peak),
    )


def cold_start_cases(repeats: int) -> list[CaseResult]:
    """Each statement in a fresh interpreter vs `python -c pass`, interleaved run by run."""
    statements = [("pass", REPO_ROOT), *((cold.statement, cold.directory) for cold in COLD_STARTS)]
    for statement, directory in statements:  # warm the bytecode caches; not measured
        _run_interpreter(statement, directory)
    runs: list[list[_Interpreter]] = [[] for _ in statements]
    for _ in range(repeats):
        for position, (statement, directory) in enumerate(statements):
            runs[position].append(_run_interpreter(statement, directory))
    baseline = Timed(
        result=None,
        runs=tuple(run.seconds for run in runs[0]),
        peak_rss_delta_mb=None,
    )
    baseline_rss = runs[0][0].peak_rss_kb
    cases = []
    for cold, measured in zip(COLD_STARTS, runs[1:], strict=True):
        loaded = measured[0].modules
        watched = loaded & WATCHED_MODULES
        ours = Timed(
            result=None,
            runs=tuple(run.seconds for run in measured),
            peak_rss_delta_mb=_kb_delta_mb(measured[0].peak_rss_kb, baseline_rss),
        )
        extra_ms = (ours.median - baseline.median) * 1000
        cases.append(
            _case(
                cold.case,
                "python -c pass",
                ours,
                baseline,
                agreement=(
                    f"loads {_names(watched)} as expected"
                    if watched == cold.expected
                    else f"loads {_names(watched)}, expected {_names(cold.expected)}"
                ),
                agreement_ok=watched == cold.expected,
                notes=(
                    f"vs python -c pass; +{extra_ms:.0f} ms, +{ours.peak_rss_delta_mb} MB peak; "
                    f"heavy modules: {_names(loaded)}"
                ),
                details={
                    "statement": cold.statement,
                    "directory": str(cold.directory.relative_to(REPO_ROOT)) or ".",
                    "heavy_modules_loaded": sorted(loaded),
                    "expected_watched_modules": sorted(cold.expected),
                },
            )
        )
    return cases


# --- the suite ---------------------------------------------------------------------------


def run_suite(orders: int, repeats: int, *, quick: bool) -> BenchReport:
    """Generate the log, run every case and collect the results with their context."""
    started_at = datetime.now(UTC)
    wall_started = time.perf_counter()
    generation = timed(lambda: generate_order_log(orders), repeats=1)
    log = generation.result
    calibration_end = log.last_day
    connection = duckdb.connect()
    try:
        load, purchases = load_case(log, connection)
        cases = [
            load,
            rfm_case(purchases, connection, repeats),
            cohort_case(purchases, connection, repeats),
        ]
        summary_case, summary = bgnbd_summary_case(purchases, connection, calibration_end, repeats)
        cases += [summary_case, bgnbd_fit_case(purchases, calibration_end, summary, repeats)]
        threads = connection.execute("SELECT current_setting('threads')").fetchone()
    finally:
        connection.close()
    del purchases
    cases += cold_start_cases(repeats)
    return BenchReport(
        suite=SUITE,
        started_at=started_at,
        wall_seconds=round(time.perf_counter() - wall_started, 1),
        quick=quick,
        parameters={
            "orders": len(log),
            "customers": len(log.customer_ids),
            "days": LOG_DAYS,
            "first_day": log.start.isoformat(),
            "last_day": calibration_end.isoformat(),
            "seed": SEED,
            "log_sha256": log.sha256(),
            "generation_seconds": round(generation.median, 3),
            "repeats": repeats,
        },
        environment={
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "duckdb": duckdb.__version__,
            "duckdb_threads": None if threads is None else threads[0],
            "numpy": np.__version__,
            "peak_rss_mb": peak_rss_mb(),
        },
        cases=tuple(cases),
    )


def _case(
    name: str,
    baseline_name: str,
    ours: Timed[Any],
    baseline: Timed[Any],
    *,
    agreement: str,
    agreement_ok: bool,
    notes: str,
    details: dict[str, Any],
) -> CaseResult:
    return CaseResult(
        suite=SUITE,
        case=name,
        baseline=baseline_name,
        figure="s",
        ours_value=round(ours.median, 4),
        baseline_value=round(baseline.median, 4),
        ratio=_rounded(ratio(ours.median, baseline.median)),
        ours_runs=tuple(round(run, 4) for run in ours.runs),
        baseline_runs=tuple(round(run, 4) for run in baseline.runs),
        ours_peak_rss_delta_mb=ours.peak_rss_delta_mb,
        baseline_peak_rss_delta_mb=baseline.peak_rss_delta_mb,
        agreement=agreement,
        agreement_ok=agreement_ok,
        notes=notes,
        details=details,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _kb_delta_mb(peak_kb: int | None, baseline_kb: int | None) -> float | None:
    if peak_kb is None or baseline_kb is None:
        return None
    return round((peak_kb - baseline_kb) / 1024, 1)


def _names(modules: frozenset[str]) -> str:
    return "+".join(sorted(modules)) or "none"
