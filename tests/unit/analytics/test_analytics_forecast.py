"""ETS forecasts: intervals, the backtest against seasonal naive, and the spacing of dates."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest

from shared.adapters.sample_source import generate_sample_dataset
from shared.analytics._numbers import add_months
from shared.analytics.forecast import (
    IrregularSeriesError,
    forecast_revenue,
    forecast_series,
    forecast_values,
    infer_frequency,
)


def seasonal_series(periods: int, seed: int = 3, slope: float = 8.0) -> list[float]:
    """Monthly values: level 1000, a trend, a yearly swing of +-120 and noise of sd 25."""
    rng = random.Random(seed)
    return [
        1000 + slope * t + 120 * math.sin(2 * math.pi * t / 12) + rng.gauss(0, 25)
        for t in range(periods)
    ]


def test_intervals_contain_most_held_out_values() -> None:
    inside_per_series = []
    for seed in range(5):
        series = seasonal_series(48, seed=seed)
        history, held_out = series[:36], series[36:]

        forecast = forecast_values(history, 12, season_length=12, backtest_periods=0)

        assert forecast.model.endswith("m=12")
        assert forecast.converged
        inside_per_series.append(
            sum(
                1
                for point, value in zip(forecast.points, held_out, strict=True)
                if point.lower <= value <= point.upper
            )
        )
        widths = [point.upper - point.lower for point in forecast.points]
        assert widths == sorted(widths)  # uncertainty grows with the horizon

    # 90 % intervals: most of each year held out, and about 90 % of all 60 values.
    assert min(inside_per_series) >= 9
    assert sum(inside_per_series) >= 0.8 * 60


def test_ets_beats_seasonal_naive_on_a_trending_series() -> None:
    forecast = forecast_values(seasonal_series(48), 12, season_length=12)

    backtest = forecast.backtest
    assert backtest is not None
    assert backtest.holdout_periods == 12
    assert backtest.baseline == "seasonal naive (m=12)"
    # Seasonal naive repeats last year, so it misses a year of trend (8 x 12 = 96) every month.
    assert backtest.beats_baseline
    assert backtest.mae < 0.5 * backtest.baseline_mae
    assert backtest.mape is not None and backtest.baseline_mape is not None
    assert backtest.mape < backtest.baseline_mape
    assert backtest.interval_coverage >= 0.75


def test_intervals_match_statsmodels_own() -> None:
    """statsmodels computes exact ETS intervals only for pandas input; ours must agree."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    history = seasonal_series(36)
    forecast = forecast_values(history, 6, season_length=12, level=0.8)
    assert forecast.model == "ETS(A,A,A) m=12"

    index = pd.date_range("2023-01-01", periods=36, freq="MS")
    fitted = ETSModel(
        pd.Series(history, index=index),
        error="add",
        trend="add",
        seasonal="add",
        seasonal_periods=12,
        initialization_method="heuristic",
    ).fit(disp=False)
    frame = fitted.get_prediction(start=36, end=41).summary_frame(alpha=0.2)
    # statsmodels divides the squared errors by n; we by n minus the 4 fitted parameters.
    widen = math.sqrt(36 / (36 - 4))
    for point, mean, lower in zip(forecast.points, frame["mean"], frame["pi_lower"], strict=True):
        assert point.mean == pytest.approx(mean, abs=0.01)
        assert point.mean - point.lower == pytest.approx((mean - lower) * widen, abs=0.01)


def test_a_higher_level_gives_wider_intervals() -> None:
    history = seasonal_series(30)

    narrow = forecast_values(history, 3, season_length=12, level=0.8, backtest_periods=0)
    wide = forecast_values(history, 3, season_length=12, level=0.95, backtest_periods=0)

    for low, high in zip(narrow.points, wide.points, strict=True):
        assert low.mean == high.mean
        assert high.lower < low.lower < low.upper < high.upper


def test_seasonality_needs_two_full_seasons() -> None:
    forecast = forecast_values(seasonal_series(23), 3, season_length=12)

    assert forecast.seasonal_periods is None
    assert "m=" not in forecast.model


def test_a_constant_series_forecasts_itself() -> None:
    forecast = forecast_values([42.0] * 12, 3, season_length=4)

    assert forecast.model == "constant"
    assert [(p.mean, p.lower, p.upper) for p in forecast.points] == [(42.0, 42.0, 42.0)] * 3


def test_forecast_input_is_checked() -> None:
    with pytest.raises(ValueError, match="at least 5 values"):
        forecast_values([1.0, 2.0, 3.0, 4.0], 2)
    with pytest.raises(ValueError, match="horizon"):
        forecast_values([1.0] * 10, 0)
    with pytest.raises(ValueError, match="level"):
        forecast_values([1.0] * 10, 1, level=90)
    with pytest.raises(ValueError, match="finite"):
        forecast_values([1.0, 2.0, math.nan, 4.0, 5.0], 1)


def test_dated_series_are_labelled_by_their_period() -> None:
    start = date(2023, 1, 1)
    dates = [add_months(start, month) for month in range(36)]

    forecast = forecast_series(dates, seasonal_series(36), 3)

    assert [point.period for point in forecast.points] == ["2026-01", "2026-02", "2026-03"]
    assert forecast.seasonal_periods == 12  # monthly data: a yearly season by default


def test_frequencies_are_read_from_the_dates() -> None:
    assert infer_frequency([date(2026, 1, d) for d in (1, 2, 3)]) == "daily"
    assert infer_frequency([date(2026, 1, d) for d in (5, 12, 19)]) == "weekly"
    month_ends = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    assert infer_frequency(month_ends) == "monthly"
    assert infer_frequency([date(2025, m, 1) for m in (1, 4, 7, 10)]) == "quarterly"
    assert infer_frequency([date(y, 6, 30) for y in (2023, 2024, 2025)]) == "yearly"


def test_irregular_dates_name_the_first_date_at_fault() -> None:
    dates = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 5, 1)]

    with pytest.raises(IrregularSeriesError, match="2026-05-01 is 2 months after") as caught:
        infer_frequency(dates)

    assert caught.value.position == 3
    with pytest.raises(IrregularSeriesError, match="2026-01-02 appears twice") as repeated:
        infer_frequency([date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 2)])
    assert repeated.value.position == 2
    with pytest.raises(IrregularSeriesError, match="increasing") as backwards:
        infer_frequency([date(2026, 1, 2), date(2026, 1, 1)])
    assert backwards.value.position == 1


def test_revenue_forecast_on_the_sample_data() -> None:
    forecast = forecast_revenue(generate_sample_dataset(), horizon=3)

    # Twelve complete months: too short for a yearly season, long enough for a backtest.
    assert forecast.history_periods == 12
    assert forecast.seasonal_periods is None
    assert [point.period for point in forecast.points] == ["2026-11", "2026-12", "2027-01"]
    assert all(point.lower < point.mean < point.upper for point in forecast.points)
    assert forecast.backtest is not None
    assert forecast.backtest.baseline == "naive (last value)"
