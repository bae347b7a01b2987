"""Churn and lifetime value with the BG/NBD model, fitted by maximum likelihood.

Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An Alternative to the
Pareto/NBD Model", Marketing Science 24(2), 275-284. While alive, a customer buys at a
Poisson rate lambda (gamma(r, alpha) across customers); after each purchase they drop out
for good with probability p (beta(a, b) across customers). Three numbers per customer are
sufficient statistics, as in the paper:

- frequency x: repeat purchases, i.e. distinct purchase days after the first one;
- recency t_x: time from the first purchase to the last one (0 without repeats);
- T: time from the first purchase to the end of the calibration period.

Time is measured in a `TimeUnit` (days or weeks, fractional: 10 days are 1.4286 weeks).
Purchases on the same day count once: the model counts purchase occasions. The parameters
are fitted by maximising the paper's log-likelihood (its equation 6) with L-BFGS-B over their
logarithms, which keeps them positive without constraints, and with its exact gradient;
customers with identical (x, t_x, T) are evaluated once and weighted, all at once with numpy
(loaded on the first fit, like scipy, not at import). On the paper's CDNOW sample (2357
customers, weeks) the fit reproduces r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.

Per customer the model gives P(alive) at the end of calibration (Fader, Hardie & Lee 2008,
"Computing P(alive) Using the BG/NBD Model") and the expected purchases in the next t
periods (the paper's conditional expectation). Lifetime value over a horizon is expected
purchases x the customer's own average order value: a plain product; the Gamma-Gamma spend
model, which would shrink few-order averages towards the mean, is not implemented.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.analytics._numbers import RATIO_DECIMALS, divide_cents, ratio
from shared.analytics.transactions import Purchase

if TYPE_CHECKING:  # numpy and scipy load on the first fit, not at import: cold starts stay cheap
    import numpy as np
    from numpy.typing import NDArray

TimeUnit = Literal["days", "weeks"]
DAYS_PER_UNIT: dict[TimeUnit, int] = {"days": 1, "weeks": 7}
DEFAULT_CHURN_THRESHOLD = 0.5
# The optimiser searches log-parameters in [-15, 15]: exp() stays finite, and e^15 (3.3e6)
# is far beyond any sensible shape or scale.
_LOG_PARAMETER_BOUND = 15.0


class CustomerSummary(BaseModel):
    """One customer's purchase history as the BG/NBD sees it: x, t_x and T."""

    model_config = ConfigDict(frozen=True)
    customer_id: str
    frequency: int = Field(ge=0)  # x: repeat purchases
    recency: float = Field(ge=0)  # t_x: first to last purchase, in time units
    T: float = Field(ge=0)  # first purchase to the end of calibration, in time units

    @model_validator(mode="after")
    def _recency_within_the_observed_time(self) -> CustomerSummary:
        if self.recency > self.T:
            raise ValueError(f"recency {self.recency} exceeds T {self.T}")
        if self.frequency == 0 and self.recency != 0:
            raise ValueError("a customer without repeat purchases has recency 0")
        return self


class BgNbdModel(BaseModel):
    """BG/NBD parameters and what they imply for a customer.

    The expectations divide by a - 1, as the paper's closed forms do; a fit landing on
    a = 1 exactly would need the limit instead.
    """

    model_config = ConfigDict(frozen=True)
    r: float = Field(gt=0)  # shape of the gamma distribution of purchase rates
    alpha: float = Field(gt=0)  # its scale, in time units
    a: float = Field(gt=0)  # beta distribution of the drop-out probability after a purchase
    b: float = Field(gt=0)
    log_likelihood: float | None = None  # at the fit; None for parameters set by hand
    customers: int = 0  # customers the parameters were fitted on
    converged: bool = True  # False when the optimiser stopped before converging

    def p_alive(self, frequency: int, recency: float, T: float) -> float:
        """Probability that the customer is still active at the end of calibration."""
        if frequency == 0:
            # The BG/NBD drops customers out only right after a repeat purchase, so one who
            # never came back counts as alive: a known limitation of the model.
            return 1.0
        log_odds_dead = math.log(self.a / (self.b + frequency - 1)) + (self.r + frequency) * (
            math.log(self.alpha + T) - math.log(self.alpha + recency)
        )
        return _logistic(-log_odds_dead)

    def expected_purchases(self, t: float, frequency: int, recency: float, T: float) -> float:
        """Expected purchases in the t time units after calibration, given the history."""
        from scipy.special import hyp2f1

        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x = frequency
        hypergeometric = float(hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t)))
        decay = ((alpha + T) / (alpha + T + t)) ** (r + x)
        return ((a + b + x - 1) / (a - 1) * (1.0 - decay * hypergeometric)) * self.p_alive(
            frequency, recency, T
        )

    def expected_purchases_new_customer(self, t: float) -> float:
        """Expected repeat purchases of a new customer in their first t time units."""
        from scipy.special import hyp2f1

        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        hypergeometric = float(hyp2f1(r, b, a + b - 1, t / (alpha + t)))
        return (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hypergeometric)


class CustomerChurnScore(BaseModel):
    """One customer's P(alive), expected purchases and expected value over the horizon."""

    model_config = ConfigDict(frozen=True)
    customer_id: str
    frequency: int
    recency: float
    T: float
    p_alive: float
    expected_purchases: float  # in the next `horizon` time units
    average_order_value_cents: int | None  # None when the input had no amounts
    expected_value_cents: int | None  # expected purchases x average order value


class ChurnForecast(BaseModel):
    """A fitted BG/NBD model and every customer's churn and value outlook."""

    model_config = ConfigDict(frozen=True)
    model: BgNbdModel
    time_unit: TimeUnit
    calibration_end: date | None  # None when the input was already summarised
    horizon: float  # time units the expected purchases cover
    churn_threshold: float  # P(alive) below this counts as likely churned
    customer_count: int
    expected_active_customers: float  # sum of P(alive)
    likely_churned_count: int
    likely_churned_share: float | None
    expected_purchases: float  # all customers, over the horizon
    expected_value_cents: int | None  # all customers with an average order value
    customers: tuple[CustomerChurnScore, ...]  # by customer_id


def summarize_purchases(
    purchases: Iterable[Purchase], calibration_end: date, time_unit: TimeUnit = "weeks"
) -> list[CustomerSummary]:
    """Frequency, recency and T per customer from a purchase log, by customer_id.

    Purchases after calibration_end are ignored, and so are customers whose first purchase
    comes after it.
    """
    days_per_unit = DAYS_PER_UNIT[time_unit]
    purchase_days: dict[str, set[date]] = {}
    for purchase in purchases:
        if purchase.purchase_date <= calibration_end:
            purchase_days.setdefault(purchase.customer_id, set()).add(purchase.purchase_date)
    summaries = []
    for customer_id in sorted(purchase_days):
        days = purchase_days[customer_id]
        first, last = min(days), max(days)
        summaries.append(
            CustomerSummary(
                customer_id=customer_id,
                frequency=len(days) - 1,
                recency=(last - first).days / days_per_unit,
                T=(calibration_end - first).days / days_per_unit,
            )
        )
    return summaries


def fit_bg_nbd(customers: Sequence[CustomerSummary]) -> BgNbdModel:
    """Maximum-likelihood BG/NBD parameters for the customers' (x, t_x, T)."""
    from scipy.optimize import minimize

    if not customers:
        raise ValueError("fitting the BG/NBD needs at least one customer")
    if all(customer.frequency == 0 for customer in customers):
        raise ValueError(
            "fitting the BG/NBD needs at least one customer with a repeat purchase; "
            "with none, drop-out and purchase rates cannot be told apart"
        )
    data = _WeightedHistories(customers)
    mean_age = sum(customer.T for customer in customers) / len(customers)
    # Start at r = a = b = 1 with alpha on the data's time scale, so days and weeks start alike.
    start = [0.0, math.log(max(mean_age, 1.0)), 0.0, 0.0]
    bounds = [(-_LOG_PARAMETER_BOUND, _LOG_PARAMETER_BOUND)] * 4
    result = minimize(
        data.mean_negative_log_likelihood_and_gradient,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-12, "gtol": 1e-8, "maxiter": 1000},
    )
    r, alpha, a, b = (math.exp(float(value)) for value in result.x)
    return BgNbdModel(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=-float(result.fun) * data.customers,
        customers=len(customers),
        converged=bool(result.success),
    )


def bg_nbd_log_likelihood(model: BgNbdModel, customers: Sequence[CustomerSummary]) -> float:
    """The BG/NBD log-likelihood of the customers' histories under the model's parameters."""
    log_parameters = [math.log(value) for value in (model.r, model.alpha, model.a, model.b)]
    return -_WeightedHistories(customers).negative_log_likelihood(log_parameters)


def score_customers(
    model: BgNbdModel,
    customers: Sequence[CustomerSummary],
    horizon: float,
    *,
    time_unit: TimeUnit,
    average_order_values: Mapping[str, int] | None = None,
    churn_threshold: float = DEFAULT_CHURN_THRESHOLD,
    calibration_end: date | None = None,
) -> ChurnForecast:
    """P(alive), expected purchases and expected value over the horizon for each customer."""
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0, got {horizon}")
    values = average_order_values or {}
    scores = []
    for customer in sorted(customers, key=lambda row: row.customer_id):
        args = (customer.frequency, customer.recency, customer.T)
        expected = model.expected_purchases(horizon, *args)
        order_value = values.get(customer.customer_id)
        scores.append(
            CustomerChurnScore(
                customer_id=customer.customer_id,
                frequency=customer.frequency,
                recency=customer.recency,
                T=customer.T,
                p_alive=round(model.p_alive(*args), RATIO_DECIMALS),
                expected_purchases=round(expected, RATIO_DECIMALS),
                average_order_value_cents=order_value,
                expected_value_cents=None if order_value is None else round(expected * order_value),
            )
        )
    likely_churned = sum(1 for score in scores if score.p_alive < churn_threshold)
    valued = [
        score.expected_value_cents for score in scores if score.expected_value_cents is not None
    ]
    return ChurnForecast(
        model=model,
        time_unit=time_unit,
        calibration_end=calibration_end,
        horizon=horizon,
        churn_threshold=churn_threshold,
        customer_count=len(scores),
        expected_active_customers=round(sum(s.p_alive for s in scores), RATIO_DECIMALS),
        likely_churned_count=likely_churned,
        likely_churned_share=ratio(likely_churned, len(scores)),
        expected_purchases=round(sum(s.expected_purchases for s in scores), RATIO_DECIMALS),
        expected_value_cents=sum(valued) if valued else None,
        customers=tuple(scores),
    )


def churn_forecast(
    purchases: Sequence[Purchase],
    calibration_end: date,
    *,
    time_unit: TimeUnit = "weeks",
    horizon: float = 12.0,
    churn_threshold: float = DEFAULT_CHURN_THRESHOLD,
) -> ChurnForecast:
    """Fit the BG/NBD on a purchase log and score every customer (horizon in time units)."""
    summaries = summarize_purchases(purchases, calibration_end, time_unit)
    model = fit_bg_nbd(summaries)
    return score_customers(
        model,
        summaries,
        horizon,
        time_unit=time_unit,
        average_order_values=average_order_values(purchases, calibration_end),
        churn_threshold=churn_threshold,
        calibration_end=calibration_end,
    )


def average_order_values(purchases: Iterable[Purchase], as_of: date) -> dict[str, int]:
    """Each customer's mean purchase amount in cents over purchases up to as_of."""
    totals: dict[str, int] = {}
    counts: dict[str, int] = {}
    for purchase in purchases:
        if purchase.purchase_date <= as_of:
            customer_id = purchase.customer_id
            totals[customer_id] = totals.get(customer_id, 0) + purchase.amount_cents
            counts[customer_id] = counts.get(customer_id, 0) + 1
    return {cid: divide_cents(totals[cid], counts[cid]) or 0 for cid in totals}


class _WeightedHistories:
    """Distinct (x, t_x, T) triples with how many customers share each, as numpy columns.

    The likelihood and its gradient are evaluated over the distinct triples at once; what
    depends on x alone is computed once per frequency and looked up.
    """

    def __init__(self, customers: Sequence[CustomerSummary]) -> None:
        import numpy as np

        weights = Counter(
            (customer.frequency, customer.recency, customer.T) for customer in customers
        )
        rows = sorted(weights.items())
        self.customers = len(customers)
        self.max_frequency = max(customer.frequency for customer in customers)
        self.frequency = np.array([x for (x, _, _), _ in rows], dtype=np.int64)
        self.recency = np.array([t_x for (_, t_x, _), _ in rows], dtype=np.float64)
        self.age = np.array([age for (_, _, age), _ in rows], dtype=np.float64)
        self.weight = np.array([weight for _, weight in rows], dtype=np.float64)
        self.repeated = self.frequency > 0

    def negative_log_likelihood(self, log_parameters: Sequence[float]) -> float:
        """Minus the paper's equation 6 summed over customers, at exp(log_parameters)."""
        return self.negative_log_likelihood_and_gradient(log_parameters)[0]

    def mean_negative_log_likelihood_and_gradient(
        self, log_parameters: Sequence[float]
    ) -> tuple[float, NDArray[np.float64]]:
        """Minus the log-likelihood per customer and its gradient in log-parameters.

        Per customer, so that the optimiser's tolerances mean the same for 2,000 customers
        as for 2 million.
        """
        value, gradient = self.negative_log_likelihood_and_gradient(log_parameters)
        return value / self.customers, gradient / self.customers

    def negative_log_likelihood_and_gradient(
        self, log_parameters: Sequence[float]
    ) -> tuple[float, NDArray[np.float64]]:
        """Minus the log-likelihood summed over customers and its exact gradient.

        Per customer, ln L = ln A + ln(e^survived + e^dropped) (the paper's equation 6), its
        ratios of gamma and beta functions written as the finite products they are, summed
        as logs over j < x: exact, and free of the cancellation between large ln-gamma
        values once a and b grow large.

        - ln A = ln G(r+x) - ln G(r) + r ln alpha = sum ln(r+j) + r ln alpha;
        - survived = ln B(a, b+x) - ln B(a, b) - (r+x) ln(alpha+T)
          = sum ln((b+j) / (a+b+j)) - (r+x) ln(alpha+T): no drop-out after any purchase;
        - dropped, only for x > 0 = ln B(a+1, b+x-1) - ln B(a, b) - (r+x) ln(alpha+t_x)
          = sum over j < x-1 of ln((b+j) / (a+b+j)) + ln(a / (a+b+x-1)) - (r+x) ln(alpha+t_x):
          drop-out right after the last purchase.
        """
        import numpy as np

        r, alpha, a, b = (math.exp(float(value)) for value in log_parameters)
        x = self.frequency
        repeated = self.repeated
        before_last = np.maximum(x - 1, 0)  # x - 1 where it is used: rows with x > 0
        j = np.arange(self.max_frequency, dtype=np.float64)
        # Per frequency 0..max_frequency: the sums over j < x.
        log_rate = _prefix_sums(np.log(r + j))
        # ln((b+j) / (a+b+j)), by log1p while the ratio is near 1 and by logs when b is tiny.
        log_survival = _prefix_sums(
            np.where(a < b + j, np.log1p(-a / (a + b + j)), np.log(b + j) - np.log(a + b + j))
        )
        log_alpha = math.log(alpha)
        log_age = np.log(alpha + self.age)
        log_recency = np.log(alpha + self.recency)
        shape = r + x
        last_stop = a + b + before_last  # a + b + x - 1
        survived = log_survival[x] - shape * log_age
        dropped = np.where(
            repeated,
            log_survival[before_last] + np.log(a / last_stop) - shape * log_recency,
            -np.inf,
        )
        # ln(e^survived + e^dropped) without overflow; faster than np.logaddexp.
        mixture = np.maximum(survived, dropped) + np.log1p(np.exp(-np.abs(survived - dropped)))
        per_history = log_rate[x] + r * log_alpha + mixture
        log_likelihood = float(np.dot(self.weight, per_history))

        # Shares of the two terms in the mixture: the derivative of ln(e^u + e^v).
        survived_share = np.exp(survived - mixture)
        dropped_share = np.exp(dropped - mixture)  # 0 where x = 0
        d_r = (
            _prefix_sums(1.0 / (r + j))[x]
            + log_alpha
            - survived_share * log_age
            - dropped_share * log_recency
        )
        d_alpha = r / alpha - shape * (
            survived_share / (alpha + self.age) + dropped_share / (alpha + self.recency)
        )
        # d/da and d/db of sum ln((b+j) / (a+b+j)) over j < x.
        survival_a = _prefix_sums(-1.0 / (a + b + j))
        survival_b = _prefix_sums(a / ((b + j) * (a + b + j)))
        d_a = survived_share * survival_a[x] + dropped_share * (
            survival_a[before_last] + 1.0 / a - 1.0 / last_stop
        )
        d_b = survived_share * survival_b[x] + dropped_share * (
            survival_b[before_last] - 1.0 / last_stop
        )
        # d/d ln(theta) = theta d/d theta
        gradient = np.array(
            [
                r * float(np.dot(self.weight, d_r)),
                alpha * float(np.dot(self.weight, d_alpha)),
                a * float(np.dot(self.weight, d_a)),
                b * float(np.dot(self.weight, d_b)),
            ]
        )
        return -log_likelihood, -gradient


def _prefix_sums(terms: NDArray[np.float64]) -> NDArray[np.float64]:
    """0 followed by the running sums of terms: entry x is the sum of the first x terms."""
    import numpy as np

    return np.concatenate(([0.0], np.cumsum(terms)))


def _logistic(value: float) -> float:
    """1 / (1 + e^-value) without overflow."""
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp_value = math.exp(value)
    return exp_value / (1.0 + exp_value)
