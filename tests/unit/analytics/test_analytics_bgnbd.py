"""BG/NBD churn and lifetime value, checked against the paper's CDNOW estimates and by hand."""

from __future__ import annotations

import csv
import math
import random
import time
from datetime import date
from pathlib import Path

import pytest

from shared.adapters.sample_source import generate_sample_dataset
from shared.analytics.bgnbd import (
    BgNbdModel,
    CustomerSummary,
    _WeightedHistories,
    bg_nbd_log_likelihood,
    churn_forecast,
    fit_bg_nbd,
    score_customers,
    summarize_purchases,
)
from shared.analytics.transactions import Purchase, purchases_from_dataset
from shared.analytics.winback import WinbackAssumptions, winback_offer_roi, winback_targets

CDNOW = Path(__file__).resolve().parents[2] / "data" / "cdnow_customers_summary.csv"
# Fader, Hardie & Lee (2005), the BG/NBD estimates on CDNOW (their Table 1 / section 4).
PAPER = BgNbdModel(r=0.243, alpha=4.414, a=0.793, b=2.426)
PAPER_LOG_LIKELIHOOD = -9582.4


@pytest.fixture(scope="module")
def cdnow() -> list[CustomerSummary]:
    with CDNOW.open(newline="") as handle:
        return [
            CustomerSummary(
                customer_id=row["ID"],
                frequency=int(row["frequency"]),
                recency=float(row["recency"]),
                T=float(row["T"]),
            )
            for row in csv.DictReader(handle)
        ]


@pytest.fixture(scope="module")
def cdnow_fit(cdnow: list[CustomerSummary]) -> BgNbdModel:
    return fit_bg_nbd(cdnow)


def test_the_cdnow_copy_is_whole(cdnow: list[CustomerSummary]) -> None:
    assert len(cdnow) == 2357
    assert sum(customer.frequency for customer in cdnow) == 2457  # repeat purchases, weeks 1-39
    assert sum(1 for customer in cdnow if customer.frequency == 0) == 1411


def test_fit_reproduces_the_papers_cdnow_estimates(cdnow_fit: BgNbdModel) -> None:
    assert cdnow_fit.converged
    assert cdnow_fit.customers == 2357
    assert cdnow_fit.r == pytest.approx(PAPER.r, abs=1e-3)
    assert cdnow_fit.alpha == pytest.approx(PAPER.alpha, abs=1e-3)
    assert cdnow_fit.a == pytest.approx(PAPER.a, abs=1e-3)
    assert cdnow_fit.b == pytest.approx(PAPER.b, abs=1e-3)
    assert cdnow_fit.log_likelihood is not None
    assert round(cdnow_fit.log_likelihood, 1) == PAPER_LOG_LIKELIHOOD


def test_the_cdnow_fit_is_fast(cdnow: list[CustomerSummary]) -> None:
    started = time.perf_counter()
    fit_bg_nbd(cdnow)
    # A few ms here once numpy and scipy are loaded; the bound only catches a fit that has
    # become pathologically slow.
    assert time.perf_counter() - started < 5.0


def test_the_papers_parameters_have_the_papers_likelihood(cdnow: list[CustomerSummary]) -> None:
    assert bg_nbd_log_likelihood(PAPER, cdnow) == pytest.approx(PAPER_LOG_LIKELIHOOD, abs=0.1)


# (ln r, ln alpha, ln a, ln b): the paper's estimates, the optimiser's start, and corners where
# a and b are huge (no drop-out to speak of), b is tiny, or r is tiny.
LOG_PARAMETER_POINTS = [
    (math.log(0.243), math.log(4.414), math.log(0.793), math.log(2.426)),
    (0.0, math.log(30.0), 0.0, 0.0),
    (-1.3, -0.3, 13.0, 15.0),
    (0.5, 2.0, 1.0, -8.0),
    (-9.0, 4.0, -2.0, 3.0),
]


def _random_histories(count: int, seed: int) -> list[CustomerSummary]:
    """Histories with repeats among them, as real data has, in fractional weeks."""
    rng = random.Random(seed)
    customers = []
    for number in range(count):
        age = round(rng.uniform(0.1, 80.0), 2)
        frequency = min(int(rng.expovariate(0.25)), 60)
        recency = round(rng.uniform(0.0, age), 2) if frequency else 0.0
        if number % 7 == 0 and customers:  # a copy of an earlier history
            earlier = rng.choice(customers)
            age, frequency, recency = earlier.T, earlier.frequency, earlier.recency
        customers.append(
            CustomerSummary(customer_id=str(number), frequency=frequency, recency=recency, T=age)
        )
    return customers


def _reference_log_likelihood(model: BgNbdModel, customers: list[CustomerSummary]) -> float:
    """The paper's equation 6, customer by customer in plain floats, as fit_bg_nbd once did."""

    def betaln(p: float, q: float) -> float:
        return math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)

    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    total = 0.0
    for customer in customers:
        x, t_x, age = customer.frequency, customer.recency, customer.T
        constant = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha) - betaln(a, b)
        alive = betaln(a, b + x) - (r + x) * math.log(alpha + age)
        if x > 0:
            gone = betaln(a + 1, b + x - 1) - (r + x) * math.log(alpha + t_x)
            high = max(alive, gone)
            alive = high + math.log1p(math.exp(min(alive, gone) - high))
        total += constant + alive
    return total


@pytest.mark.parametrize("log_parameters", LOG_PARAMETER_POINTS)
@pytest.mark.parametrize("seed", [1, 2])
def test_the_likelihood_matches_the_plain_formula(
    log_parameters: tuple[float, float, float, float], seed: int
) -> None:
    customers = _random_histories(500, seed)
    r, alpha, a, b = (math.exp(value) for value in log_parameters)
    model = BgNbdModel(r=r, alpha=alpha, a=a, b=b)

    assert bg_nbd_log_likelihood(model, customers) == pytest.approx(
        _reference_log_likelihood(model, customers), rel=1e-9
    )


def test_the_likelihood_matches_the_plain_formula_on_cdnow(cdnow: list[CustomerSummary]) -> None:
    assert bg_nbd_log_likelihood(PAPER, cdnow) == pytest.approx(
        _reference_log_likelihood(PAPER, cdnow), rel=1e-12
    )


@pytest.mark.parametrize("log_parameters", LOG_PARAMETER_POINTS)
def test_the_gradient_matches_finite_differences(
    cdnow: list[CustomerSummary], log_parameters: tuple[float, float, float, float]
) -> None:
    histories = _WeightedHistories(cdnow + _random_histories(300, seed=3))
    step = 1e-5

    value, gradient = histories.mean_negative_log_likelihood_and_gradient(log_parameters)

    assert value == pytest.approx(
        histories.negative_log_likelihood(log_parameters) / histories.customers, rel=1e-12
    )
    for index in range(4):
        up, down = list(log_parameters), list(log_parameters)
        up[index] += step
        down[index] -= step
        central = (
            histories.mean_negative_log_likelihood_and_gradient(up)[0]
            - histories.mean_negative_log_likelihood_and_gradient(down)[0]
        ) / (2 * step)
        assert gradient[index] == pytest.approx(central, rel=1e-5, abs=1e-7)


def test_expectations_match_hardies_spreadsheet(cdnow_fit: BgNbdModel) -> None:
    """Values from Hardie's BG/NBD Excel sheet (unrounded CDNOW estimates), as lifetimes quotes."""
    # A customer with 2 repeat purchases, the last in week 30.43, observed for 38.86 weeks:
    # expected purchases in the next 39 weeks.
    assert cdnow_fit.expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=1e-3)
    # A new customer's expected repeat purchases within t weeks.
    expected = {0.1429: 0.0078, 1.0: 0.0532, 3.0: 0.1506, 31.8571: 1.0405, 78.0: 1.8576}
    for weeks, purchases in expected.items():
        assert cdnow_fit.expected_purchases_new_customer(weeks) == pytest.approx(
            purchases, abs=1e-3
        )


def test_days_and_weeks_give_the_same_model(
    cdnow: list[CustomerSummary], cdnow_fit: BgNbdModel
) -> None:
    in_days = [
        CustomerSummary(
            customer_id=c.customer_id, frequency=c.frequency, recency=7 * c.recency, T=7 * c.T
        )
        for c in cdnow
    ]

    days_fit = fit_bg_nbd(in_days)

    # Only alpha, the scale of the purchase rates, carries the time unit.
    assert days_fit.alpha == pytest.approx(7 * cdnow_fit.alpha, rel=1e-3)
    for name in ("r", "a", "b"):
        assert getattr(days_fit, name) == pytest.approx(getattr(cdnow_fit, name), rel=1e-3)


def test_a_customer_without_repeat_purchases_is_alive() -> None:
    assert PAPER.p_alive(0, 0.0, 38.86) == 1.0
    assert PAPER.p_alive(0, 0.0, 1.0) == 1.0


def test_a_more_recent_last_purchase_means_more_likely_alive() -> None:
    by_recency = [PAPER.p_alive(3, recency, 38.0) for recency in (5.0, 15.0, 25.0, 35.0, 38.0)]

    assert by_recency == sorted(by_recency)
    assert len(set(by_recency)) == len(by_recency)
    assert 0 < by_recency[0] < by_recency[-1] <= 1
    # The same history looks staler the longer nothing has happened since.
    assert PAPER.p_alive(3, 20.0, 40.0) < PAPER.p_alive(3, 20.0, 25.0)


def test_a_customer_who_just_bought_may_have_dropped_out_right_after() -> None:
    # The BG/NBD drops customers out only just after a purchase, with probability p: after x
    # purchases and none since, P(alive) = E[1 - p | x survived drop-outs] = (b+x-1)/(a+b+x-1).
    assert PAPER.p_alive(4, 30.0, 30.0) == pytest.approx((2.426 + 3) / (0.793 + 2.426 + 3))
    # ... which is more than an otherwise equal customer whose last purchase is long ago.
    assert PAPER.p_alive(4, 30.0, 30.0) > PAPER.p_alive(4, 5.0, 30.0)
    assert PAPER.expected_purchases(10, 4, 30.0, 30.0) > PAPER.expected_purchases(10, 4, 5.0, 30.0)


def test_summaries_from_a_purchase_log_by_hand() -> None:
    end = date(2026, 3, 1)
    purchases = [
        Purchase(customer_id="x", purchase_date=date(2026, 1, 1), amount_cents=1000),
        Purchase(customer_id="x", purchase_date=date(2026, 1, 1), amount_cents=500),  # same day
        Purchase(customer_id="x", purchase_date=date(2026, 1, 15), amount_cents=2000),
        Purchase(customer_id="x", purchase_date=date(2026, 2, 12), amount_cents=3000),
        Purchase(customer_id="x", purchase_date=date(2026, 3, 10), amount_cents=9000),  # after
        Purchase(customer_id="y", purchase_date=date(2026, 2, 1), amount_cents=700),
        Purchase(customer_id="z", purchase_date=date(2026, 3, 5), amount_cents=100),  # after
    ]

    in_days = summarize_purchases(purchases, end, "days")
    in_weeks = summarize_purchases(purchases, end, "weeks")

    assert [(s.customer_id, s.frequency, s.recency, s.T) for s in in_days] == [
        ("x", 2, 42.0, 59.0),
        ("y", 0, 0.0, 28.0),
    ]
    x_weeks, y_weeks = in_weeks
    assert (x_weeks.frequency, x_weeks.recency) == (2, 6.0)
    assert pytest.approx(59 / 7) == x_weeks.T
    assert (y_weeks.recency, y_weeks.T) == (0.0, 4.0)


def test_summaries_reject_impossible_histories() -> None:
    with pytest.raises(ValueError, match="exceeds T"):
        CustomerSummary(customer_id="c", frequency=1, recency=5.0, T=4.0)
    with pytest.raises(ValueError, match="recency 0"):
        CustomerSummary(customer_id="c", frequency=0, recency=1.0, T=4.0)


def test_fitting_needs_repeat_purchases() -> None:
    with pytest.raises(ValueError, match="at least one customer"):
        fit_bg_nbd([])
    with pytest.raises(ValueError, match="repeat purchase"):
        fit_bg_nbd([CustomerSummary(customer_id="c", frequency=0, recency=0.0, T=10.0)])


def test_scores_add_up_and_value_uses_the_order_value() -> None:
    customers = [
        CustomerSummary(customer_id="b", frequency=0, recency=0.0, T=20.0),
        CustomerSummary(customer_id="a", frequency=5, recency=2.0, T=38.0),
        CustomerSummary(customer_id="c", frequency=5, recency=37.0, T=38.0),
    ]

    forecast = score_customers(
        PAPER, customers, 13.0, time_unit="weeks", average_order_values={"a": 2000, "c": 5000}
    )

    a, b, c = forecast.customers
    assert [s.customer_id for s in forecast.customers] == ["a", "b", "c"]
    assert a.p_alive < forecast.churn_threshold < c.p_alive
    assert b.p_alive == 1.0
    assert forecast.likely_churned_count == 1
    assert forecast.likely_churned_share == pytest.approx(1 / 3, abs=1e-4)
    assert forecast.expected_active_customers == pytest.approx(a.p_alive + 1 + c.p_alive, abs=1e-3)
    assert c.expected_value_cents == round(PAPER.expected_purchases(13.0, 5, 37.0, 38.0) * 5000)
    assert b.expected_value_cents is None
    assert forecast.expected_value_cents == (a.expected_value_cents or 0) + (
        c.expected_value_cents or 0
    )


def test_churn_forecast_on_the_sample_data() -> None:
    dataset = generate_sample_dataset()
    purchases = purchases_from_dataset(dataset)

    forecast = churn_forecast(purchases, dataset.as_of, horizon=12)

    buyers = {purchase.customer_id for purchase in purchases}
    assert forecast.model.converged
    assert forecast.customer_count == len(buyers)
    assert all(0 <= s.p_alive <= 1 and s.expected_purchases >= 0 for s in forecast.customers)
    assert all(s.average_order_value_cents for s in forecast.customers)
    # About a third of the sample's customers churn; the model should see a real share of it.
    assert 0.05 < (forecast.likely_churned_share or 0) < 0.6


def test_winback_offer_roi_by_hand() -> None:
    assumptions = WinbackAssumptions(
        value_per_purchase_cents=4000,
        uplift=0.1,
        offer_cost_cents=500,
        send_cost_cents=50,
        baseline_purchase_rate=0.2,
    )

    estimate = winback_offer_roi([0.5, 0.3, 0.2], assumptions)

    assert estimate.customers_targeted == 3
    assert estimate.expected_alive_customers == 1.0
    assert estimate.incremental_purchases == 0.1  # 1.0 alive x 0.1 uplift
    assert estimate.expected_redemptions == 0.3  # 1.0 x (0.2 + 0.1)
    assert estimate.incremental_value_cents == 400
    assert estimate.offer_cost_cents == 150
    assert estimate.send_cost_cents == 150
    assert estimate.net_value_cents == 100
    assert estimate.roi == 0.3333
    # (1.0 x 0.2 x 500 + 150) / (1.0 x (4000 - 500)) = 250 / 3500
    assert estimate.break_even_uplift == 0.0714
    assert estimate.worth_sending


def test_winback_below_break_even_loses_money() -> None:
    assumptions = WinbackAssumptions(
        value_per_purchase_cents=2000, uplift=0.01, offer_cost_cents=500, send_cost_cents=30
    )

    estimate = winback_offer_roi([0.4] * 100, assumptions)

    assert estimate.break_even_uplift is not None
    assert assumptions.uplift < estimate.break_even_uplift
    assert estimate.net_value_cents < 0
    assert not estimate.worth_sending


def test_winback_targets_are_repeat_buyers_below_the_threshold() -> None:
    customers = [
        CustomerSummary(customer_id="stale", frequency=5, recency=2.0, T=38.0),
        CustomerSummary(customer_id="fresh", frequency=5, recency=37.0, T=38.0),
        CustomerSummary(customer_id="one-off", frequency=0, recency=0.0, T=38.0),
    ]
    forecast = score_customers(PAPER, customers, 13.0, time_unit="weeks")

    targets = winback_targets(forecast)

    assert [customer.customer_id for customer in targets] == ["stale"]
