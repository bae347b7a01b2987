"""Channel funnels, the significance tests, and the budget shift."""

from __future__ import annotations

import math

import pytest

from shared.analytics.campaigns import (
    CampaignRow,
    channel_funnels,
    holm_adjust,
    propose_budget_shift,
    two_proportion_z_test,
)


def row(
    channel: str,
    impressions: int,
    clicks: int,
    conversions: int,
    spend_cents: int,
    revenue_cents: int,
) -> CampaignRow:
    return CampaignRow(
        channel=channel,
        impressions=impressions,
        clicks=clicks,
        conversions=conversions,
        spend_cents=spend_cents,
        revenue_cents=revenue_cents,
    )


def test_z_test_on_a_textbook_example() -> None:
    """Walpole, Myers, Myers & Ye, Probability & Statistics for Engineers & Scientists
    (9th ed.), Example 10.11: 120 of 200 town voters and 240 of 500 county voters favour a
    chemical plant. The book finds z = 2.9 and, one-sided, P = P(Z > 2.9) = 0.0019; it rounds
    z before looking P up, so the unrounded z = 2.87 gives P = 0.0021."""
    result = two_proportion_z_test(120, 200, 240, 500)

    assert result is not None
    z, p_two_sided = result
    assert round(z, 1) == 2.9
    assert z == pytest.approx(2.8697, abs=1e-4)
    assert p_two_sided / 2 == pytest.approx(0.0021, abs=1e-4)
    assert p_two_sided / 2 == pytest.approx(0.5 * math.erfc(2.9 / math.sqrt(2)), abs=2e-4)


def test_z_test_agrees_with_statsmodels() -> None:
    from statsmodels.stats.proportion import proportions_ztest

    for counts in ((50, 500, 12, 400), (140, 200, 150, 200), (3, 1000, 9, 1200)):
        ours = two_proportion_z_test(*counts)
        z, p_value = proportions_ztest([counts[0], counts[2]], [counts[1], counts[3]])

        assert ours == pytest.approx((float(z), float(p_value)), rel=1e-9)


def test_z_test_is_undefined_without_variation() -> None:
    assert two_proportion_z_test(0, 100, 0, 50) is None
    assert two_proportion_z_test(100, 100, 50, 50) is None
    assert two_proportion_z_test(1, 0, 1, 10) is None


def test_holm_adjustment_by_hand() -> None:
    # Sorted 0.01, 0.03, 0.04 -> 3 x 0.01, 2 x 0.03, max(0.06, 1 x 0.04); back in input order.
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([0.5, 0.9]) == [1.0, 1.0]
    assert holm_adjust([]) == []


def _rows() -> list[CampaignRow]:
    return [
        row("search", 6000, 300, 30, 60_000, 240_000),
        row("search", 4000, 200, 20, 40_000, 160_000),
        row("social", 20_000, 400, 12, 80_000, 96_000),
        row("email", 2000, 200, 18, 10_000, 60_000),
    ]


def test_channel_funnels_by_hand() -> None:
    report = channel_funnels(_rows())

    email, search, social = report.channels
    assert [c.channel for c in report.channels] == ["email", "search", "social"]
    assert (search.impressions, search.clicks, search.conversions) == (10_000, 500, 50)
    assert (search.ctr, search.cvr, search.cpa_cents, search.roas) == (0.05, 0.1, 2000, 4.0)
    assert (social.ctr, social.cvr, social.cpa_cents, social.roas) == (0.02, 0.03, 6667, 1.2)
    assert (email.ctr, email.cvr, email.cpa_cents, email.roas) == (0.1, 0.09, 556, 6.0)
    assert (report.total_spend_cents, report.total_revenue_cents) == (190_000, 556_000)
    assert report.blended_roas == 2.9263
    assert (report.best_channel, report.worst_channel) == ("email", "social")


def test_which_conversion_rates_differ() -> None:
    from scipy.stats import chi2_contingency
    from statsmodels.stats.multitest import multipletests

    report = channel_funnels(_rows())

    table = [[18, 50, 12], [182, 450, 388]]  # converted / not, for email, search, social
    chi2, p_value, dof, _ = chi2_contingency(table, correction=False)
    assert report.chi_square is not None
    assert report.chi_square.statistic == pytest.approx(float(chi2), abs=1e-4)
    assert report.chi_square.p_value == pytest.approx(float(p_value), rel=1e-9)
    assert report.chi_square.degrees_of_freedom == dof == 2
    assert report.chi_square.significant

    pairs = {(p.channel_a, p.channel_b): p for p in report.pairs}
    assert list(pairs) == [("email", "search"), ("email", "social"), ("search", "social")]
    raw = [p.p_value for p in report.pairs]
    assert all(value is not None for value in raw)
    expected_holm = multipletests([float(v or 0) for v in raw], method="holm")[1]
    assert [p.p_value_holm for p in report.pairs] == pytest.approx(list(expected_holm))
    # 9 % vs 10 % on a few hundred clicks is noise; 3 % vs 9-10 % is not.
    assert not pairs["email", "search"].significant
    assert pairs["email", "social"].significant
    assert pairs["search", "social"].significant
    assert report.significant_pairs == (("email", "social"), ("search", "social"))
    assert pairs["email", "social"].difference == 0.06
    statements = "\n".join(report.statements)
    assert "conversion rates differ at 5%" in statements
    assert "email 9.00% vs search 10.00%: not significant at 5%" in statements
    assert "search 10.00% vs social 3.00%: significant at 5%" in statements


def test_budget_shift_by_hand() -> None:
    report = channel_funnels(_rows())

    shift = propose_budget_shift(report, fraction=0.1, max_increase=0.5)

    assert shift is not None
    assert (shift.from_channel, shift.to_channel) == ("social", "email")
    # 10 % of social's 80 000 would be 8000, but email may grow by at most half its 10 000.
    assert (shift.shift_cents, shift.bounded) == (5000, True)
    assert (shift.from_spend_after_cents, shift.to_spend_after_cents) == (75_000, 15_000)
    assert shift.expected_revenue_change_cents == 24_000  # 5000 x (6.0 - 1.2)
    assert (shift.blended_roas_before, shift.blended_roas_after) == (2.9263, 3.0526)
    assert shift.cvr_difference_significant is True
    assert "EUR 50.00 from social (ROAS 1.20) to email (ROAS 6.00)" in shift.explanation
    assert "EUR +240.00" in shift.explanation
    assert "likely smaller" in shift.explanation


def test_an_unbounded_shift_takes_the_requested_fraction() -> None:
    shift = propose_budget_shift(channel_funnels(_rows()), fraction=0.05, max_increase=1.0)

    assert shift is not None
    assert (shift.shift_cents, shift.bounded) == (4000, False)
    assert shift.expected_revenue_change_cents == 19_200


def test_no_shift_without_a_roas_gap() -> None:
    same = [row("a", 100, 10, 1, 1000, 2000), row("b", 100, 10, 2, 500, 1000)]

    assert propose_budget_shift(channel_funnels(same)) is None
    assert propose_budget_shift(channel_funnels(same[:1])) is None


def test_a_funnel_cannot_widen() -> None:
    with pytest.raises(ValueError, match="clicks"):
        row("a", 10, 11, 0, 0, 0)
    with pytest.raises(ValueError, match="conversions"):
        row("a", 10, 5, 6, 0, 0)


def test_no_tests_without_conversions() -> None:
    report = channel_funnels([row("a", 100, 10, 0, 100, 0), row("b", 100, 20, 0, 100, 0)])

    assert report.chi_square is None
    assert all(p.z is None and not p.significant for p in report.pairs)
    assert report.statements[0].startswith("Conversion rates cannot be compared")
