"""The lead-scoring agent's work in the growth workflow (shared.workflows.growth).

`refresh_growth_data` runs the two tracking jobs (segments, recommendations) so the run
works on fresh memberships; `score_leads` scores the members of the target segments. Scores
and reasons are computed by code (shared.leads.scoring); the model only writes a hand-off
note around them. Each person is enriched at most once per `enrich_max_age_days`, their
answer (or "no match") cached, so reruns and redeliveries do not pay the provider again.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from typing import Any

from shared.agents.steps import StepContext, usage_of
from shared.core.errors import PermanentError
from shared.core.messages import AgentTask
from shared.core.models import LlmUsage
from shared.core.ports import AgentOutcome
from shared.leads.enrichment import Enrichment, email_domain
from shared.leads.ports import LeadPorts
from shared.leads.scoring import LeadPolicy, LeadScore, score_lead
from shared.llm.templates import render
from shared.llm.types import CompletionRequest
from shared.tracking.segments import ProfileFacts, bundled_segments

logger = logging.getLogger(__name__)

SETTINGS = "leads"
TOP = 20


def refresh_growth_data(task: AgentTask, ctx: StepContext) -> AgentOutcome:
    """Re-evaluate every user's segments and recompute recommendations; report the sizes."""
    ports: LeadPorts = ctx.leads()
    update = ports.refresh_segments()
    recommendations = ports.refresh_recommendations()
    sizes = {name: len(ports.segments.members(name)) for name in bundled_segments().names}
    ctx.on_step(
        "refresh",
        f"segments: {update.summary()}; recommendations: {recommendations.summary()}",
    )
    return AgentOutcome(
        output={
            "segments": sizes,
            "entered": len(update.entered),
            "left": len(update.left),
            "recommendations": {
                "users": recommendations.users,
                "items": recommendations.items,
                "co_occurrence_users": recommendations.co_occurrence_users,
            },
        },
        usage=LlmUsage(),
    )


def _enrich(
    facts: ProfileFacts, ports: LeadPorts, policy: LeadPolicy, ctx: StepContext
) -> tuple[Enrichment | None, bool]:
    """The person's enrichment, from the cache when young enough; and whether it was fetched."""
    email = facts.traits.get("email")
    if not isinstance(email, str) or "@" not in email:
        return None, False
    now = ctx.clock()
    cached = ports.leads.cached_enrichment(email)
    if cached is not None and now - cached[1] <= timedelta(days=policy.enrich_max_age_days):
        return cached[0], False
    domain = facts.traits.get("company_domain")
    try:
        found = ports.enricher.enrich(
            email, domain if isinstance(domain, str) else email_domain(email)
        )
    except PermanentError as refusal:
        # A refusal (bad key, no credits) must not stop scoring: score on the traits alone,
        # say so, and ask again next run (nothing cached).
        logger.warning("enrichment refused for %s: %s", facts.user_id, refusal)
        return None, False
    if found is not None:
        found = found.model_copy(update={"fetched_at": now})
    ports.leads.cache_enrichment(email, found, now)
    return found, True


def score_leads(task: AgentTask, ctx: StepContext) -> AgentOutcome:
    """Score the identified members of the target segments; keep each person's latest score."""
    settings = ctx.settings(SETTINGS)
    policy = LeadPolicy.model_validate({**settings.policy.values, **task.params})
    ports: LeadPorts = ctx.leads()
    in_segments: dict[str, list[str]] = {}
    sizes = {}
    for segment in policy.segments:
        members = ports.segments.members(segment)
        sizes[segment] = len(members)
        for user_id in members:
            in_segments.setdefault(user_id, []).append(segment)
    facts = ports.segments.facts(sorted(in_segments))
    today = ctx.clock().date()
    scores: list[LeadScore] = []
    enrichments: dict[str, Enrichment | None] = {}
    fetched = 0
    for user_id, user_facts in sorted(facts.items()):
        enrichment, asked = _enrich(user_facts, ports, policy, ctx)
        fetched += asked
        enrichments[user_id] = enrichment
        scores.append(score_lead(user_facts, enrichment, in_segments[user_id], policy, today))
    ports.leads.save_scores(task.run_id, scores, enrichments, ctx.clock())
    ranked = sorted(scores, key=lambda s: (-s.score, s.user_id))
    by_grade = dict(sorted(Counter(s.grade for s in scores).items()))
    note, usage = _hand_off_note(ranked, by_grade, settings, ctx)
    ctx.on_step(
        "score",
        f"scored {len(scores)} leads ({', '.join(f'{g}: {n}' for g, n in by_grade.items())}); "
        f"{fetched} enrichment(s) fetched, the rest cached",
    )
    return AgentOutcome(
        output={
            "scored": len(scores),
            "by_grade": by_grade,
            "enriched": fetched,
            "segments": sizes,
            "top": [s.model_dump(mode="json") for s in ranked[:TOP]],
            "note": note,
            "versions": settings.versions(),
        },
        usage=usage,
    )


def _hand_off_note(
    ranked: list[LeadScore], by_grade: dict[str, int], settings: Any, ctx: StepContext
) -> tuple[str, LlmUsage]:
    if not ranked:
        return "No leads to score.", LlmUsage()
    best = ranked[0]
    facts = {
        "scored": len(ranked),
        "grades": ", ".join(f"{g}: {n}" for g, n in by_grade.items()),
        "best": f"{best.user_id} ({best.company or 'company unknown'}, score {best.score}, "
        f"grade {best.grade}: {'; '.join(best.reasons[:3])})",
    }
    request = CompletionRequest(
        system=settings.prompts.system,
        prompt=render(settings.prompts.prompt, facts),
        facts=facts,
        tier=settings.prompts.tier,
        agent="leads",
        offline_template=settings.prompts.offline,
    )
    completion = ctx.llm().complete(request)
    usage = usage_of([completion])
    return completion.text, usage
