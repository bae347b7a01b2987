"""Forecasts with prediction intervals from exponential smoothing (ETS), and a backtest.

The model is chosen by AICc among additive-error ETS models (Hyndman, Koehler, Ord & Snyder,
"Forecasting with Exponential Smoothing", 2008): no trend, additive trend or damped additive
trend, each without seasonality and, when the history holds at least two full seasons, with
additive seasonality. statsmodels' `ETSModel` fits each by maximum likelihood. From ten
values on, the initial level, trend and seasonal states come from the book's heuristic
(section 2.6) instead of being estimated alongside the smoothing parameters: with 12 monthly
seasonal states and a few years of data, estimating them all overfits, and AICc then
penalises seasonal models so hard that clearly seasonal revenue gets a flat forecast. (The
heuristic needs 10 + 2 * (m // 2) values for a seasonal model, so that is the minimum too.)

Additive-error models have exact prediction intervals (the book's Table 6.1, class 1):

    var(h) = sigma^2 * (1 + sum over j = 1..h-1 of c_j^2),
    c_j = alpha + beta * phi_j + gamma * [j is a multiple of m],

with phi_j = phi + ... + phi^j for a damped trend, j for an undamped one, and no beta or
gamma term without a trend or season. statsmodels computes the same intervals but only for
pandas input, which the analytics do not use. sigma^2 is the residual sum of squares over
n - k, k counting the fitted parameters and sigma^2 itself (as R's forecast::ets does); the
maximum-likelihood SSE / n would make the intervals too narrow on short histories.

The backtest holds out the last `backtest_periods` values (default: the horizon, at most a
third of the history), repeats the model choice and fit on the rest, and scores its forecast
of the held-out values against a seasonal-naive baseline (the value one season earlier; the
last value without seasonality): MAE, MAPE (as a fraction; None when an actual is 0), and the
share of held-out values inside the prediction intervals.

A convergence failure of the optimiser is not an error: the result says `converged=False`,
and the model choice prefers candidates that converged.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from statistics import NormalDist
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.analytics._numbers import RATIO_DECIMALS, add_months, growth, month_start
from shared.analytics.finance import revenue_by_month
from shared.core.dataset import Dataset

Frequency = Literal["daily", "weekly", "monthly", "quarterly", "yearly"]
SEASON_LENGTHS: dict[Frequency, int | None] = {
    "daily": 7,
    "weekly": 52,
    "monthly": 12,
    "quarterly": 4,
    "yearly": None,
}
MIN_HISTORY = 5
# statsmodels' heuristic initial states need this many values (seasonal models need more).
HEURISTIC_MIN_HISTORY = 10
DEFAULT_LEVEL = 0.9
VALUE_DECIMALS = 2


class IrregularSeriesError(ValueError):
    """The dates are not one evenly spaced series; `position` is the first date at fault."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


class ForecastPoint(BaseModel):
    """One forecast period: the point forecast and its prediction interval."""

    model_config = ConfigDict(frozen=True)
    period: str
    step: int  # 1 = the first period after the history
    mean: float
    lower: float
    upper: float


class Backtest(BaseModel):
    """How the model forecast the held-out end of the history, against seasonal naive."""

    model_config = ConfigDict(frozen=True)
    holdout_periods: int
    model: str  # the model chosen on the shortened history
    mae: float
    mape: float | None  # a fraction; None when a held-out value is 0
    baseline: str
    baseline_mae: float
    baseline_mape: float | None
    interval_coverage: float  # share of held-out values inside the prediction intervals
    beats_baseline: bool  # model MAE below the baseline's
    mae_improvement: float | None  # 1 - MAE / baseline MAE; None when the baseline is exact


class SeriesForecast(BaseModel):
    """The chosen ETS model, its forecast with intervals, and its backtest."""

    model_config = ConfigDict(frozen=True)
    model: str  # e.g. "ETS(A,Ad,A) m=12"; "constant" when the history never varies
    seasonal_periods: int | None  # None: no seasonal component
    history_periods: int
    horizon: int
    interval_level: float
    aicc: float | None  # None for a constant history
    converged: bool
    points: tuple[ForecastPoint, ...]
    backtest: Backtest | None  # None when the history is too short to hold some back
    growth_vs_last_period: float | None  # first forecast vs the last observed value


def forecast_values(
    values: Sequence[float],
    horizon: int,
    *,
    season_length: int | None = None,
    level: float = DEFAULT_LEVEL,
    period_labels: Sequence[str] | None = None,
    backtest_periods: int | None = None,
) -> SeriesForecast:
    """ETS forecast of an evenly spaced series, with intervals and a backtest."""
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if len(values) < MIN_HISTORY:
        raise ValueError(f"forecasting needs at least {MIN_HISTORY} values, got {len(values)}")
    if not all(math.isfinite(value) for value in values):
        raise ValueError("values must be finite numbers")
    if backtest_periods is not None and backtest_periods < 0:
        raise ValueError(f"backtest_periods must be >= 0, got {backtest_periods}")
    labels = (
        list(period_labels)
        if period_labels is not None
        else [f"t+{s}" for s in range(1, horizon + 1)]
    )
    if len(labels) != horizon:
        raise ValueError(f"{len(labels)} period labels for a horizon of {horizon}")
    history = [float(value) for value in values]
    fit = _choose_and_fit(history, season_length)
    means, lowers, uppers = fit.forecast(horizon, level)
    points = tuple(
        ForecastPoint(
            period=label,
            step=step,
            mean=round(mean, VALUE_DECIMALS),
            lower=round(lower, VALUE_DECIMALS),
            upper=round(upper, VALUE_DECIMALS),
        )
        for step, (label, mean, lower, upper) in enumerate(
            zip(labels, means, lowers, uppers, strict=True), start=1
        )
    )
    holdout = min(horizon, len(history) // 3) if backtest_periods is None else backtest_periods
    backtest = None
    if holdout >= 1 and len(history) - holdout >= MIN_HISTORY:
        backtest = _backtest(history, holdout, season_length, level)
    return SeriesForecast(
        model=fit.name,
        seasonal_periods=fit.spec.season_length,
        history_periods=len(history),
        horizon=horizon,
        interval_level=level,
        aicc=round(fit.aicc, VALUE_DECIMALS) if math.isfinite(fit.aicc) else None,
        converged=fit.converged,
        points=points,
        backtest=backtest,
        growth_vs_last_period=growth(means[0], history[-1]),
    )


def forecast_series(
    dates: Sequence[date],
    values: Sequence[float],
    horizon: int,
    *,
    level: float = DEFAULT_LEVEL,
    season_length: int | None = None,
    backtest_periods: int | None = None,
) -> SeriesForecast:
    """Forecast a dated series; its spacing sets the period and, by default, the season.

    Dates must be increasing and evenly spaced by a day, a week, a month, a quarter or a
    year; the season is 7 days, 52 weeks, 12 months or 4 quarters unless season_length says
    otherwise (0 for none).
    """
    if len(dates) != len(values):
        raise ValueError(f"{len(dates)} dates but {len(values)} values")
    frequency = infer_frequency(dates)
    if season_length is None:
        season_length = SEASON_LENGTHS[frequency]
    labels = [_label(day, frequency) for day in next_periods(dates[-1], frequency, horizon)]
    return forecast_values(
        values,
        horizon,
        season_length=season_length or None,
        level=level,
        period_labels=labels,
        backtest_periods=backtest_periods,
    )


def forecast_revenue(
    dataset: Dataset, horizon: int = 3, level: float = DEFAULT_LEVEL
) -> SeriesForecast:
    """Forecast revenue in cents for the months after the latest complete one."""
    complete = [month for month in revenue_by_month(dataset).months if month.complete]
    if not complete:
        raise ValueError("no complete month of revenue to forecast from")
    last = date(int(complete[-1].month[:4]), int(complete[-1].month[5:7]), 1)
    labels = [_label(add_months(last, step), "monthly") for step in range(1, horizon + 1)]
    return forecast_values(
        [float(month.revenue_cents) for month in complete],
        horizon,
        season_length=12,
        level=level,
        period_labels=labels,
    )


def infer_frequency(dates: Sequence[date]) -> Frequency:
    """The spacing of increasing, evenly spaced dates; IrregularSeriesError otherwise.

    Days and weeks are told apart by the days between dates; months, quarters and years by
    calendar months, so month-end dates (31 Jan, 28 Feb, 31 Mar) are monthly too.
    """
    if len(dates) < 2:
        raise IrregularSeriesError("a series needs at least two dates", len(dates))
    for position, (earlier, later) in enumerate(pairwise(dates), start=1):
        if later == earlier:
            raise IrregularSeriesError(f"{later} appears twice", position)
        if later < earlier:
            raise IrregularSeriesError(
                f"dates must be increasing: {later} comes after {earlier}", position
            )
    day_gaps = [(later - earlier).days for earlier, later in pairwise(dates)]
    month_gaps = [_month_index(later) - _month_index(earlier) for earlier, later in pairwise(dates)]
    spacings: tuple[tuple[Frequency, list[int], int, str], ...] = (
        ("daily", day_gaps, 1, "days"),
        ("weekly", day_gaps, 7, "days"),
        ("monthly", month_gaps, 1, "months"),
        ("quarterly", month_gaps, 3, "months"),
        ("yearly", month_gaps, 12, "months"),
    )
    for frequency, gaps, step, unit in spacings:
        if gaps[0] != step:
            continue
        for position, gap in enumerate(gaps, start=1):
            if gap != step:
                raise IrregularSeriesError(
                    f"dates are not evenly spaced: {dates[position]} is {gap} {unit} after "
                    f"{dates[position - 1]}, but the series starts {frequency} ({step} {unit})",
                    position,
                )
        return frequency
    raise IrregularSeriesError(
        f"cannot tell the period from {dates[0]} and {dates[1]}: expected one day, week, "
        "month, quarter or year apart",
        1,
    )


def next_periods(last: date, frequency: Frequency, count: int) -> list[date]:
    """The `count` dates after `last` at the series' frequency."""
    if frequency == "daily":
        return [last + timedelta(days=step) for step in range(1, count + 1)]
    if frequency == "weekly":
        return [last + timedelta(weeks=step) for step in range(1, count + 1)]
    months = {"monthly": 1, "quarterly": 3, "yearly": 12}[frequency]
    return [add_months(month_start(last), months * step) for step in range(1, count + 1)]


@dataclass(frozen=True)
class _Spec:
    trend: bool
    damped: bool
    season_length: int | None
    initialization: Literal["heuristic", "estimated"]

    @property
    def name(self) -> str:
        trend = "Ad" if self.damped else "A" if self.trend else "N"
        season = f"A) m={self.season_length}" if self.season_length else "N)"
        return f"ETS(A,{trend},{season}"

    @property
    def parameter_count(self) -> int:
        """Fitted parameters: smoothing, damping, estimated initial states and sigma^2."""
        count = 2 + int(self.trend) + int(self.damped) + int(bool(self.season_length))
        if self.initialization == "estimated":
            # The initial level and trend, and m - 1 free initial seasonal states.
            count += 1 + int(self.trend) + (self.season_length or 1) - 1
        return count


@dataclass(frozen=True)
class _Fit:
    spec: _Spec
    results: Any  # statsmodels ETSResults; None for a constant history
    aicc: float
    converged: bool
    constant: float = 0.0  # the value of a constant history

    @property
    def name(self) -> str:
        return "constant" if self.results is None else self.spec.name

    def forecast(self, horizon: int, level: float) -> tuple[list[float], list[float], list[float]]:
        """Point forecasts and the lower and upper bounds of the prediction intervals."""
        if self.results is None:
            flat = [self.constant] * horizon
            return flat, flat, flat
        means = [float(value) for value in self.results.forecast(horizon)]
        z = NormalDist().inv_cdf(0.5 + level / 2)
        observations = int(self.results.nobs)
        sigma2 = float(self.results.sse) / (observations - self.spec.parameter_count)
        alpha = float(self.results.smoothing_level)
        beta = float(self.results.smoothing_trend) if self.spec.trend else 0.0
        phi = float(self.results.damping_trend) if self.spec.damped else 1.0
        gamma = float(self.results.smoothing_seasonal) if self.spec.season_length else 0.0
        m = self.spec.season_length or 0
        lowers, uppers = [], []
        accumulated = 1.0  # 1 + sum of c_j^2 for j < h
        trend_multiplier = 0.0  # phi_j
        for step, mean in enumerate(means, start=1):
            half_width = z * math.sqrt(sigma2 * accumulated)
            lowers.append(mean - half_width)
            uppers.append(mean + half_width)
            trend_multiplier += phi**step
            seasonal = gamma if m and step % m == 0 else 0.0
            accumulated += (alpha + beta * trend_multiplier + seasonal) ** 2
        return means, lowers, uppers


def _choose_and_fit(history: list[float], season_length: int | None) -> _Fit:
    initialization: Literal["heuristic", "estimated"] = (
        "heuristic" if len(history) >= HEURISTIC_MIN_HISTORY else "estimated"
    )
    if min(history) == max(history):
        # Nothing varies, so there is no error variance to fit (the likelihood is undefined).
        spec = _Spec(False, False, None, initialization)
        return _Fit(spec, None, math.nan, converged=True, constant=history[-1])
    seasons: list[int | None] = [None]
    if _seasonal_allowed(len(history), season_length):
        seasons.append(season_length)
    specs = [
        _Spec(trend, damped, season, initialization)
        for season in seasons
        for trend, damped in ((False, False), (True, False), (True, True))
        # AICc and the interval variance need more observations than parameters plus one.
        if len(history) > _Spec(trend, damped, season, initialization).parameter_count + 1
    ]
    if not specs:
        specs = [_Spec(False, False, None, initialization)]
    fits = [_fit(history, spec) for spec in specs]
    usable = [fit for fit in fits if math.isfinite(fit.aicc)] or fits
    return min(usable, key=lambda fit: (not fit.converged, fit.aicc))


def _seasonal_allowed(observations: int, season_length: int | None) -> bool:
    """Two full seasons, and what the heuristic initial seasonal states need."""
    if not season_length or season_length < 2:
        return False
    needed = max(2 * season_length, HEURISTIC_MIN_HISTORY + 2 * (season_length // 2))
    return observations >= needed


def _fit(history: list[float], spec: _Spec) -> _Fit:
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    model = ETSModel(
        history,
        error="add",
        trend="add" if spec.trend else None,
        damped_trend=spec.damped,
        seasonal="add" if spec.season_length else None,
        seasonal_periods=spec.season_length,
        initialization_method=spec.initialization,
    )
    with warnings.catch_warnings():
        # The same news is in mle_retvals["converged"], which the forecast reports.
        warnings.simplefilter("ignore", ConvergenceWarning)
        results = model.fit(disp=False)
    converged = bool(results.mle_retvals.get("converged", True))
    return _Fit(spec=spec, results=results, aicc=float(results.aicc), converged=converged)


def _backtest(
    history: list[float], holdout: int, season_length: int | None, level: float
) -> Backtest:
    train, actual = history[:-holdout], history[-holdout:]
    fit = _choose_and_fit(train, season_length)
    means, lowers, uppers = fit.forecast(holdout, level)
    if season_length and season_length > 1 and len(train) >= season_length:
        baseline_name = f"seasonal naive (m={season_length})"
        start = len(train) - season_length
        baseline = [train[start + (step % season_length)] for step in range(holdout)]
    else:
        baseline_name = "naive (last value)"
        baseline = [train[-1]] * holdout
    mae = _mae(actual, means)
    baseline_mae = _mae(actual, baseline)
    inside = sum(
        1 for value, low, high in zip(actual, lowers, uppers, strict=True) if low <= value <= high
    )
    return Backtest(
        holdout_periods=holdout,
        model=fit.name,
        mae=round(mae, VALUE_DECIMALS),
        mape=_mape(actual, means),
        baseline=baseline_name,
        baseline_mae=round(baseline_mae, VALUE_DECIMALS),
        baseline_mape=_mape(actual, baseline),
        interval_coverage=round(inside / holdout, RATIO_DECIMALS),
        beats_baseline=mae < baseline_mae,
        mae_improvement=round(1 - mae / baseline_mae, RATIO_DECIMALS) if baseline_mae else None,
    )


def _mae(actual: Sequence[float], predicted: Sequence[float]) -> float:
    return sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / len(actual)


def _mape(actual: Sequence[float], predicted: Sequence[float]) -> float | None:
    if any(value == 0 for value in actual):
        return None
    errors = [abs(a - p) / abs(a) for a, p in zip(actual, predicted, strict=True)]
    return round(sum(errors) / len(errors), RATIO_DECIMALS)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _label(day: date, frequency: Frequency) -> str:
    if frequency == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    if frequency == "quarterly":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if frequency == "yearly":
        return f"{day.year:04d}"
    return day.isoformat()
