"""Monthly cohort retention and RFM on a purchase log, on logs worked out by hand."""

from __future__ import annotations

from datetime import date

from shared.adapters.sample_source import generate_sample_dataset
from shared.analytics.cohorts import monthly_cohort_retention
from shared.analytics.insights import customer_segments, rfm_segments
from shared.analytics.transactions import Purchase, purchases_from_dataset


def bought(customer_id: str, day: date, cents: int = 1000) -> Purchase:
    return Purchase(customer_id=customer_id, purchase_date=day, amount_cents=cents)


def _log() -> list[Purchase]:
    """Cohorts: January a, b, c; February d, e; March f. April 10 is the last day seen.

    a buys in Jan, Feb, Apr; b in Jan, Mar; c on 31 Jan and 1 Feb; d in Feb and Mar;
    e in Feb and (after as_of) Apr; f in Mar only; g only after as_of.
    """
    return [
        bought("a", date(2026, 1, 5)),
        bought("a", date(2026, 1, 20)),
        bought("a", date(2026, 2, 10)),
        bought("a", date(2026, 4, 1)),
        bought("b", date(2026, 1, 15)),
        bought("b", date(2026, 3, 3)),
        bought("c", date(2026, 1, 31)),
        bought("c", date(2026, 2, 1)),
        bought("d", date(2026, 2, 14)),
        bought("d", date(2026, 2, 20)),
        bought("d", date(2026, 3, 30)),
        bought("e", date(2026, 2, 28)),
        bought("e", date(2026, 4, 15)),  # after as_of
        bought("f", date(2026, 3, 5)),
        bought("g", date(2026, 4, 20)),  # after as_of
    ]


def test_cohort_matrix_by_hand() -> None:
    report = monthly_cohort_retention(_log(), as_of=date(2026, 4, 10))

    assert report.cohorts == ("2026-01", "2026-02", "2026-03")
    assert report.cohort_sizes == (3, 2, 1)
    assert report.active_customers == ((3, 2, 1, 1), (2, 1, 0), (1, 0))
    assert report.retention == (
        (1.0, 0.6667, 0.3333, 0.3333),  # Feb: a, c; Mar: b; Apr: a
        (1.0, 0.5, 0.0),  # Mar: d; e's April purchase is after as_of
        (1.0, 0.0),
    )
    # Weighted by the cohorts observed that far: k=1 (2+1+0)/6, k=2 (1+0)/5, k=3 1/3.
    assert report.average_retention == (1.0, 0.5, 0.2, 0.3333)
    assert not report.last_month_complete


def test_as_of_defaults_to_the_last_purchase() -> None:
    report = monthly_cohort_retention(_log())

    assert report.as_of == date(2026, 4, 20)
    assert report.cohorts == ("2026-01", "2026-02", "2026-03", "2026-04")
    assert report.cohort_sizes == (3, 2, 1, 1)  # g joins in April
    assert report.retention[1] == (1.0, 0.5, 0.5)  # e's April purchase now counts


def test_a_month_end_as_of_is_complete_and_gaps_have_no_cohort() -> None:
    log = [bought("a", date(2026, 1, 10)), bought("b", date(2026, 3, 2))]

    report = monthly_cohort_retention(log, as_of=date(2026, 3, 31))

    assert report.last_month_complete
    assert report.cohorts == ("2026-01", "2026-03")  # nobody started in February
    assert report.retention == ((1.0, 0.0, 0.0), (1.0,))


def test_cohorts_of_an_empty_log() -> None:
    report = monthly_cohort_retention([])

    assert report.as_of is None
    assert report.cohorts == ()
    assert report.retention == ()


def test_rfm_on_a_purchase_log_matches_the_dataset_version() -> None:
    dataset = generate_sample_dataset()

    from_log = rfm_segments(purchases_from_dataset(dataset), as_of=dataset.as_of)
    from_dataset = customer_segments(dataset)

    # Every buyer of the sample signed up before ordering, so both see the same customers.
    assert from_log.customers == from_dataset.customers
    assert from_log.segments == from_dataset.segments


def test_rfm_on_a_purchase_log_by_hand() -> None:
    log = [
        bought("x", date(2026, 5, 1), 5000),
        bought("x", date(2026, 6, 20), 2500),
        bought("y", date(2026, 1, 10), 1000),
        bought("y", date(2026, 7, 5), 99999),  # after as_of
    ]

    report = rfm_segments(log, as_of=date(2026, 6, 30))

    x, y = report.customers
    assert (x.customer_id, x.recency_days, x.frequency, x.monetary_cents) == ("x", 10, 2, 7500)
    assert (y.customer_id, y.recency_days, y.frequency, y.monetary_cents) == ("y", 171, 1, 1000)
    # Two customers: the better one of each pair scores 4, the worse 2 (mid-rank quintiles).
    assert (x.recency_score, x.frequency_score, x.monetary_score) == (4, 4, 4)
    assert (y.recency_score, y.frequency_score, y.monetary_score) == (2, 2, 2)
    assert (x.segment, y.segment) == ("champions", "hibernating")
