"""Lead scores: fit from who someone is, intent from what they did, reasons for every point."""

from __future__ import annotations

from datetime import date

import pytest

from shared.core.agent_settings import bundled_policy
from shared.leads.enrichment import Enrichment
from shared.leads.scoring import LeadPolicy, fit_score, grade, score_lead
from shared.tracking.segments import ProfileFacts

TODAY = date(2026, 11, 20)
POLICY = LeadPolicy.model_validate(bundled_policy("leads").values)


def facts(traits: dict[str, object] | None = None, **daily: dict[str, int]) -> ProfileFacts:
    return ProfileFacts(user_id="u1", traits=traits or {}, daily=daily)


ACME = Enrichment(source="local", company_name="Acme", employees=250, industry="software",
                  country="FR", job_title="Head of Growth", seniority="director")  # fmt: skip


def test_a_mid_market_software_director_in_france_is_a_strong_fit_with_readable_reasons() -> None:
    fit, reasons = fit_score({}, ACME, POLICY.fit)

    assert fit == 100  # 45 + 25 + 20 + 10, capped
    assert reasons == [
        "Company of 250 employees (mid-market, +45)",
        "Works in software (+25)",
        "Head of Growth (director level, +20)",
        "Based in FR (+10)",
    ]


def test_the_profiles_own_traits_win_over_the_enrichment_and_paying_customers_drop() -> None:
    fit, reasons = fit_score({"employees": 5, "plan": "pro"}, ACME, POLICY.fit)

    assert "Company of 5 employees (very small, +10)" in reasons
    assert "Already on the paid pro plan (-40)" in reasons
    assert fit == 10 + 25 + 20 + 10 - 40


def test_intent_counts_events_in_the_window_capped_per_event_plus_segments_and_recency() -> None:
    person = facts(
        **{
            "2026-11-20": {"Viewed Pricing": 2},
            "2026-11-15": {"Viewed Pricing": 3, "Added to Cart": 1},
            "2026-10-01": {"Viewed Pricing": 9},  # outside the 14-day window
        }
    )

    lead = score_lead(person, None, ["pricing-intent"], POLICY, TODAY)

    assert lead.intent == 45 + 8 + 15 + 10  # pricing capped at 45, cart, segment, recent
    assert "Viewed Pricing 5 times in the last 14 days (+45)" in lead.reasons
    assert "Added to Cart once in the last 14 days (+8)" in lead.reasons
    assert "In the pricing-intent segment (+15)" in lead.reasons
    assert "Active in the last 3 days (+10)" in lead.reasons


def test_score_weighs_fit_and_intent_and_grades_by_threshold() -> None:
    hot = score_lead(facts(**{"2026-11-19": {"Viewed Pricing": 3, "Requested Demo": 1}}), ACME,
                     ["pricing-intent"], POLICY, TODAY)  # fmt: skip
    cold = score_lead(facts({"email": "x@gmail.com"}), None, [], POLICY, TODAY)

    assert hot.score == round(100 * 0.4 + 100 * 0.6) and hot.grade == "A"
    assert hot.company == "Acme"
    assert cold.score == 0 and cold.grade == "D"
    assert cold.reasons == ("Nothing known yet",)


@pytest.mark.parametrize(
    ("score", "expected"), [(75, "A"), (74, "B"), (55, "B"), (35, "C"), (34, "D")]
)
def test_grade_thresholds(score: int, expected: str) -> None:
    assert grade(score, POLICY.grades) == expected
