"""Campaign funnels per channel, which conversion-rate differences are real, and a budget shift.

From campaign rows (impressions, clicks, conversions, spend, revenue), per channel:
CTR = clicks / impressions, CVR = conversions / clicks, CPA = spend / conversions and
ROAS = revenue / spend.

Whether channels really convert differently is tested on CVR, a proportion of clicks:

- across all channels, Pearson's chi-square test of the 2 x k table of converted and
  not-converted clicks (no continuity correction);
- for each pair, the pooled two-proportion z-test (two-sided), with Holm's adjustment for
  testing several pairs at once: a pair "differs at 5 %" when its Holm-adjusted p-value is
  below 0.05, which keeps the chance of any false alarm among all pairs at 5 %.

The tests are the textbook formulas written out (scipy supplies only the chi-square tail), so
that the marketing agent does not import statsmodels' stats package at every cold start; the
unit tests check them against statsmodels' `proportions_ztest` and scipy's
`chi2_contingency`. ROAS differences are not tested: revenue per euro is not a proportion,
and rows rarely carry the per-order revenue a test would need.

The budget proposal moves `fraction` of the worst channel's spend (lowest ROAS) to the best
(highest ROAS), bounded so the best channel grows by at most `max_increase` of its current
spend. Its expected effect assumes constant returns: each euro moved stops earning the worst
channel's average ROAS and starts earning the best channel's. Returns usually fall as a
channel's budget grows, so the real gain is likely smaller; the bound keeps the move small
enough to test before going further.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.analytics._numbers import RATIO_DECIMALS, divide_cents, ratio

DEFAULT_ALPHA = 0.05
DEFAULT_SHIFT_FRACTION = 0.1
DEFAULT_MAX_INCREASE = 0.5


class CampaignRow(BaseModel):
    """One campaign (or one day of one) on one channel."""

    model_config = ConfigDict(frozen=True)
    channel: str
    impressions: int = Field(ge=0)
    clicks: int = Field(ge=0)
    conversions: int = Field(ge=0)
    spend_cents: int = Field(ge=0)
    revenue_cents: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _funnel_narrows(self) -> CampaignRow:
        if self.clicks > self.impressions:
            raise ValueError(f"clicks ({self.clicks}) exceed impressions ({self.impressions})")
        if self.conversions > self.clicks:
            raise ValueError(f"conversions ({self.conversions}) exceed clicks ({self.clicks})")
        return self


class ChannelFunnel(BaseModel):
    """One channel's totals and rates."""

    model_config = ConfigDict(frozen=True)
    channel: str
    impressions: int
    clicks: int
    conversions: int
    spend_cents: int
    revenue_cents: int
    ctr: float | None  # clicks / impressions
    cvr: float | None  # conversions / clicks
    cpa_cents: int | None  # spend / conversions
    roas: float | None  # revenue / spend


class ProportionTest(BaseModel):
    """Two-proportion z-test of two channels' conversion rates."""

    model_config = ConfigDict(frozen=True)
    channel_a: str
    channel_b: str
    cvr_a: float
    cvr_b: float
    difference: float  # cvr_a - cvr_b
    z: float | None  # None when neither channel converted, or every click did
    p_value: float | None  # two-sided
    p_value_holm: float | None  # adjusted for the number of pairs tested
    significant: bool  # Holm-adjusted p below alpha


class ChiSquareTest(BaseModel):
    """Pearson's chi-square test that all channels share one conversion rate."""

    model_config = ConfigDict(frozen=True)
    statistic: float
    degrees_of_freedom: int
    p_value: float
    significant: bool


class ChannelFunnelReport(BaseModel):
    """Per-channel funnels, the significance of CVR differences, and best and worst by ROAS."""

    model_config = ConfigDict(frozen=True)
    alpha: float
    channels: tuple[ChannelFunnel, ...]  # by channel name
    total_spend_cents: int
    total_revenue_cents: int
    blended_roas: float | None
    best_channel: str | None  # highest ROAS; ties go to the earlier name
    worst_channel: str | None  # lowest ROAS
    chi_square: ChiSquareTest | None  # None with fewer than two channels with clicks
    pairs: tuple[ProportionTest, ...]
    significant_pairs: tuple[tuple[str, str], ...]
    statements: tuple[str, ...]  # what the tests say, in words


class BudgetShift(BaseModel):
    """Moving budget from the lowest-ROAS channel to the highest, and what it should do."""

    model_config = ConfigDict(frozen=True)
    from_channel: str
    to_channel: str
    from_roas: float
    to_roas: float
    requested_fraction: float  # of the from-channel's spend
    shift_cents: int
    bounded: bool  # True when max_increase cut the shift
    from_spend_after_cents: int
    to_spend_after_cents: int
    expected_revenue_change_cents: int  # at each channel's current average ROAS
    blended_roas_before: float | None
    blended_roas_after: float | None
    cvr_difference_significant: bool | None  # the pair's z-test; None when untestable
    explanation: str


def two_proportion_z_test(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> tuple[float, float] | None:
    """Pooled two-proportion z statistic and two-sided p-value; None when undefined."""
    if trials_a == 0 or trials_b == 0:
        return None
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    variance = pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b)
    if variance == 0:
        return None
    z = (successes_a / trials_a - successes_b / trials_b) / math.sqrt(variance)
    # Two-sided normal tail: 2 * (1 - Phi(|z|)) = erfc(|z| / sqrt(2)).
    return z, math.erfc(abs(z) / math.sqrt(2))


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given."""
    count = len(p_values)
    order = sorted(range(count), key=lambda index: p_values[index])
    adjusted = [0.0] * count
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (count - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def channel_funnels(
    rows: Sequence[CampaignRow], alpha: float = DEFAULT_ALPHA
) -> ChannelFunnelReport:
    """CTR, CVR, CPA and ROAS per channel, and which CVR differences are significant."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    totals: dict[str, list[int]] = {}
    for row in rows:
        sums = totals.setdefault(row.channel, [0, 0, 0, 0, 0])
        for position, value in enumerate(
            (row.impressions, row.clicks, row.conversions, row.spend_cents, row.revenue_cents)
        ):
            sums[position] += value
    channels = tuple(
        ChannelFunnel(
            channel=name,
            impressions=impressions,
            clicks=clicks,
            conversions=conversions,
            spend_cents=spend,
            revenue_cents=revenue,
            ctr=ratio(clicks, impressions),
            cvr=ratio(conversions, clicks),
            cpa_cents=divide_cents(spend, conversions),
            roas=ratio(revenue, spend),
        )
        for name, (impressions, clicks, conversions, spend, revenue) in sorted(totals.items())
    )
    ranked = [channel for channel in channels if channel.roas is not None]
    best = max(ranked, key=lambda channel: channel.roas or 0.0, default=None)
    worst = min(ranked, key=lambda channel: channel.roas or 0.0, default=None)
    testable = [channel for channel in channels if channel.clicks > 0]
    chi_square = _chi_square(testable, alpha)
    pairs = _pairwise_tests(testable, alpha)
    total_spend = sum(channel.spend_cents for channel in channels)
    total_revenue = sum(channel.revenue_cents for channel in channels)
    return ChannelFunnelReport(
        alpha=alpha,
        channels=channels,
        total_spend_cents=total_spend,
        total_revenue_cents=total_revenue,
        blended_roas=ratio(total_revenue, total_spend),
        best_channel=best.channel if best else None,
        worst_channel=worst.channel if worst else None,
        chi_square=chi_square,
        pairs=pairs,
        significant_pairs=tuple((p.channel_a, p.channel_b) for p in pairs if p.significant),
        statements=_statements(chi_square, pairs, alpha),
    )


def propose_budget_shift(
    report: ChannelFunnelReport,
    fraction: float = DEFAULT_SHIFT_FRACTION,
    max_increase: float = DEFAULT_MAX_INCREASE,
) -> BudgetShift | None:
    """Shift part of the worst channel's budget to the best; None when there is no gap."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if max_increase <= 0:
        raise ValueError(f"max_increase must be > 0, got {max_increase}")
    by_name = {channel.channel: channel for channel in report.channels}
    if report.best_channel is None or report.worst_channel is None:
        return None
    best, worst = by_name[report.best_channel], by_name[report.worst_channel]
    if best.roas is None or worst.roas is None or best.roas <= worst.roas:
        return None
    wanted = round(fraction * worst.spend_cents)
    cap = round(max_increase * best.spend_cents)
    shift = min(wanted, cap)
    # Exact ROAS, not the rounded figures, so the change adds up to the cent.
    change = round(
        shift * (best.revenue_cents / best.spend_cents - worst.revenue_cents / worst.spend_cents)
    )
    pair = next(
        (
            test
            for test in report.pairs
            if {test.channel_a, test.channel_b} == {best.channel, worst.channel}
        ),
        None,
    )
    significant = None if pair is None or pair.p_value is None else pair.significant
    after = ratio(report.total_revenue_cents + change, report.total_spend_cents)
    return BudgetShift(
        from_channel=worst.channel,
        to_channel=best.channel,
        from_roas=worst.roas,
        to_roas=best.roas,
        requested_fraction=fraction,
        shift_cents=shift,
        bounded=shift < wanted,
        from_spend_after_cents=worst.spend_cents - shift,
        to_spend_after_cents=best.spend_cents + shift,
        expected_revenue_change_cents=change,
        blended_roas_before=report.blended_roas,
        blended_roas_after=after,
        cvr_difference_significant=significant,
        explanation=_explain_shift(
            best, worst, fraction, shift, wanted, max_increase, change, significant
        ),
    )


def _chi_square(channels: Sequence[ChannelFunnel], alpha: float) -> ChiSquareTest | None:
    from scipy.special import chdtrc

    clicks = sum(channel.clicks for channel in channels)
    conversions = sum(channel.conversions for channel in channels)
    if len(channels) < 2 or conversions in (0, clicks):
        return None  # a column of the table is empty: no test
    rate = conversions / clicks
    statistic = 0.0
    for channel in channels:
        for observed, expected in (
            (channel.conversions, channel.clicks * rate),
            (channel.clicks - channel.conversions, channel.clicks * (1 - rate)),
        ):
            statistic += (observed - expected) ** 2 / expected
    dof = len(channels) - 1
    p_value = float(chdtrc(dof, statistic))
    return ChiSquareTest(
        statistic=round(statistic, RATIO_DECIMALS),
        degrees_of_freedom=dof,
        p_value=p_value,
        significant=p_value < alpha,
    )


def _pairwise_tests(channels: Sequence[ChannelFunnel], alpha: float) -> tuple[ProportionTest, ...]:
    raw = []
    for a, b in combinations(channels, 2):
        result = two_proportion_z_test(a.conversions, a.clicks, b.conversions, b.clicks)
        raw.append((a, b, result))
    tested = [result[1] for _, _, result in raw if result is not None]
    adjusted = iter(holm_adjust(tested))
    tests = []
    for a, b, result in raw:
        holm = next(adjusted) if result is not None else None
        cvr_a, cvr_b = a.conversions / a.clicks, b.conversions / b.clicks
        tests.append(
            ProportionTest(
                channel_a=a.channel,
                channel_b=b.channel,
                cvr_a=round(cvr_a, RATIO_DECIMALS),
                cvr_b=round(cvr_b, RATIO_DECIMALS),
                difference=round(cvr_a - cvr_b, RATIO_DECIMALS),
                z=None if result is None else round(result[0], RATIO_DECIMALS),
                p_value=None if result is None else result[1],
                p_value_holm=holm,
                significant=holm is not None and holm < alpha,
            )
        )
    return tuple(tests)


def _statements(
    chi_square: ChiSquareTest | None, pairs: Sequence[ProportionTest], alpha: float
) -> tuple[str, ...]:
    level = f"{alpha:.0%}"
    lines = []
    if chi_square is None:
        lines.append(
            "Conversion rates cannot be compared: fewer than two channels with clicks, "
            "or no conversions (or nothing but conversions) at all."
        )
    else:
        verdict = "differ" if chi_square.significant else "show no significant difference"
        lines.append(
            f"Across channels, conversion rates {verdict} at {level} "
            f"(chi-square {chi_square.statistic:.2f}, {chi_square.degrees_of_freedom} df, "
            f"{_p(chi_square.p_value)})."
        )
    for test in pairs:
        if test.p_value is None or test.p_value_holm is None or test.z is None:
            continue
        rates = f"{test.channel_a} {test.cvr_a:.2%} vs {test.channel_b} {test.cvr_b:.2%}"
        if test.significant:
            lines.append(
                f"Conversion rates {rates}: significant at {level} (z = {test.z:.2f}, "
                f"{_p(test.p_value)}, Holm-adjusted {_p(test.p_value_holm)})."
            )
        else:
            lines.append(
                f"Conversion rates {rates}: not significant at {level} "
                f"(Holm-adjusted {_p(test.p_value_holm)})."
            )
    return tuple(lines)


def _explain_shift(
    best: ChannelFunnel,
    worst: ChannelFunnel,
    fraction: float,
    shift: int,
    wanted: int,
    max_increase: float,
    change: int,
    significant: bool | None,
) -> str:
    parts = [
        f"Move EUR {shift / 100:,.2f} from {worst.channel} (ROAS {worst.roas:.2f}) to "
        f"{best.channel} (ROAS {best.roas:.2f})"
    ]
    if shift < wanted:
        parts.append(
            f", capped at {max_increase:.0%} of {best.channel}'s EUR "
            f"{best.spend_cents / 100:,.2f} spend instead of {fraction:.0%} of {worst.channel}'s"
        )
    else:
        parts.append(f", {fraction:.0%} of {worst.channel}'s spend")
    parts.append(
        f". If every euro earns its channel's current average, revenue changes by "
        f"EUR {change / 100:+,.2f}. Returns usually fall as a channel's budget grows, so the "
        f"gain on {best.channel} is likely smaller; test before moving more."
    )
    if significant is True:
        parts.append(" The two channels' conversion rates differ significantly.")
    elif significant is False:
        parts.append(
            " Their conversion rates do not differ significantly, so part of the ROAS gap may "
            "be noise or order value."
        )
    return "".join(parts)


def _p(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"
