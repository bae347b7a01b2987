"""Fit and intent scores of one person, with the reasons behind every point (pure).

Fit reads who they are: company size, industry, seniority, country (profile traits, with an
enrichment's firmographics where the traits say nothing), and whether they already pay.
Intent reads what they did: each scored event within the last `window_days` UTC days (the
profile's per-day counts), the segments they are in, and whether they were active lately.
Both are 0-100; the score weighs them by the policy's `fit_weight`; grades are thresholds.
Every point comes with a sentence, so a salesperson sees why, not just a number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.leads.enrichment import Enrichment
from shared.tracking.segments import ProfileFacts


class SizeBand(BaseModel):
    """Points for a company of at least this many employees."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    at_least: int = Field(ge=1)
    points: int
    label: str


class FitRules(BaseModel):
    """Points for who the person is."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    employees: tuple[SizeBand, ...] = ()
    industries: dict[str, int] = Field(default_factory=dict)
    seniority: dict[str, int] = Field(default_factory=dict)
    countries: dict[str, int] = Field(default_factory=dict)
    paid_plan: int = 0
    paid_plans: tuple[str, ...] = ()


class EventPoints(BaseModel):
    """Points per occurrence of one event, up to `max`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    points: int = Field(ge=0)
    max: int = Field(ge=0)


class IntentRules(BaseModel):
    """Points for what the person did."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    window_days: int = Field(default=14, ge=1, le=90)
    events: dict[str, EventPoints] = Field(default_factory=dict)
    segment_points: dict[str, int] = Field(default_factory=dict)
    recent_days: int = Field(default=3, ge=1)
    recent_points: int = 0


class LeadPolicy(BaseModel):
    """The leads policy's values (shared/policies/leads.yaml)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    segments: tuple[str, ...] = Field(min_length=1)
    fit_weight: float = Field(ge=0, le=1)
    grades: dict[str, int]
    enrich_max_age_days: int = Field(default=30, ge=0)
    fit: FitRules
    intent: IntentRules


class LeadScore(BaseModel):
    """One person's scores, grade and reasons."""

    model_config = ConfigDict(frozen=True)
    user_id: str
    fit: int = Field(ge=0, le=100)
    intent: int = Field(ge=0, le=100)
    score: int = Field(ge=0, le=100)
    grade: str
    reasons: tuple[str, ...]
    company: str | None = None
    segments: tuple[str, ...] = ()


def _trait(traits: Mapping[str, Any], enrichment: Enrichment | None, *names: str) -> Any:
    """The first trait present among `names`, else the enrichment's field of the first name."""
    for name in names:
        value = traits.get(name)
        if value not in (None, ""):
            return value
    return getattr(enrichment, names[0], None) if enrichment else None


def _employees(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def fit_score(
    traits: Mapping[str, Any], enrichment: Enrichment | None, rules: FitRules
) -> tuple[int, list[str]]:
    """0-100 and the reasons, from who the person is."""
    points, reasons = 0, []
    employees = _employees(_trait(traits, enrichment, "employees", "company_size"))
    if employees is not None:
        band = next((b for b in rules.employees if employees >= b.at_least), None)
        if band is not None:
            points += band.points
            reasons.append(f"Company of {employees:,} employees ({band.label}, +{band.points})")
    industry = _trait(traits, enrichment, "industry")
    if isinstance(industry, str) and industry.lower() in rules.industries:
        gained = rules.industries[industry.lower()]
        points += gained
        reasons.append(f"Works in {industry.lower()} (+{gained})")
    seniority = _trait(traits, enrichment, "seniority")
    title = _trait(traits, enrichment, "job_title", "title")
    if isinstance(seniority, str) and seniority.lower() in rules.seniority:
        gained = rules.seniority[seniority.lower()]
        points += gained
        role = f"{title} " if title else ""
        reasons.append(f"{role}({seniority.lower().replace('_', '-')} level, +{gained})".strip())
    country = _trait(traits, enrichment, "country")
    if isinstance(country, str) and country.upper() in rules.countries:
        gained = rules.countries[country.upper()]
        points += gained
        reasons.append(f"Based in {country.upper()} (+{gained})")
    plan = traits.get("plan")
    if isinstance(plan, str) and plan in rules.paid_plans:
        points += rules.paid_plan
        reasons.append(f"Already on the paid {plan} plan ({rules.paid_plan})")
    return max(0, min(100, points)), reasons


def _count_within(facts: ProfileFacts, event: str, days: int, today: date) -> int:
    first = (today - timedelta(days=days - 1)).isoformat()
    return sum(int(n.get(event, 0)) for day, n in facts.daily.items() if day >= first)


def intent_score(
    facts: ProfileFacts, segments: Sequence[str], rules: IntentRules, today: date
) -> tuple[int, list[str]]:
    """0-100 and the reasons, from what the person did lately."""
    points, reasons = 0, []
    for event, scoring in rules.events.items():
        count = _count_within(facts, event, rules.window_days, today)
        if count:
            gained = min(scoring.max, count * scoring.points)
            points += gained
            times = "once" if count == 1 else f"{count} times"
            reasons.append(f"{event} {times} in the last {rules.window_days} days (+{gained})")
    for segment in segments:
        gained = rules.segment_points.get(segment, 0)
        if gained:
            points += gained
            reasons.append(f"In the {segment} segment (+{gained})")
    first_recent = (today - timedelta(days=rules.recent_days - 1)).isoformat()
    if rules.recent_points and any(
        day >= first_recent and sum(n.values()) for day, n in facts.daily.items()
    ):
        points += rules.recent_points
        reasons.append(f"Active in the last {rules.recent_days} days (+{rules.recent_points})")
    return max(0, min(100, points)), reasons


def grade(score: int, thresholds: Mapping[str, int]) -> str:
    """The first grade whose threshold the score reaches, highest first; else D."""
    for name, floor in sorted(thresholds.items(), key=lambda item: -item[1]):
        if score >= floor:
            return name
    return "D"


def score_lead(
    facts: ProfileFacts,
    enrichment: Enrichment | None,
    segments: Sequence[str],
    policy: LeadPolicy,
    today: date,
) -> LeadScore:
    """Fit, intent, the weighted score and its grade, with every reason."""
    fit, fit_reasons = fit_score(facts.traits, enrichment, policy.fit)
    intent, intent_reasons = intent_score(facts, segments, policy.intent, today)
    score = round(fit * policy.fit_weight + intent * (1 - policy.fit_weight))
    company = _trait(facts.traits, enrichment, "company_name", "company")
    return LeadScore(
        user_id=facts.user_id,
        fit=fit,
        intent=intent,
        score=score,
        grade=grade(score, policy.grades),
        reasons=tuple(fit_reasons + intent_reasons) or ("Nothing known yet",),
        company=str(company) if company else None,
        segments=tuple(segments),
    )
