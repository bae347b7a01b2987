"""The ad manager's work in the growth and ad-performance workflows (see
shared.workflows.growth and shared.workflows.ad_performance for the order and the approvals).

Budgets and reallocations are computed by code (shared.ads.planning); the model only writes
the ads' words, from segment names, sizes and the marketing brief. Creating a campaign and
changing a budget each go through one effect record per run and campaign, and each is
reached only after a person approved it: these handlers are named only by steps that follow
an approval step.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from shared.ads.models import Audience, BudgetChange, CampaignDraft, Platform, PublishedCampaign
from shared.ads.planning import AdCopy, AdPolicy, draft_campaign, review_budgets, split_budget
from shared.agents.steps import StepContext, drafts_request, usage_of
from shared.core.copy_check import copy_problems
from shared.core.documents import EffectRecord
from shared.core.effects import perform_once
from shared.core.errors import PermanentError
from shared.core.messages import AgentTask
from shared.core.models import LlmUsage
from shared.core.ports import AgentOutcome
from shared.llm.types import Completion

SETTINGS = "ad_manager"


def _policy(task: AgentTask, ctx: StepContext) -> AdPolicy:
    """The policy's values with the run's parameters on top."""
    return AdPolicy.from_values({**ctx.settings(SETTINGS).policy.values, **task.params})


def _platform(ctx: StepContext, name: str) -> Any:
    platforms = ctx.ads().platforms
    if name not in platforms:
        raise PermanentError(f"no ad platform {name!r}; configured: {sorted(platforms)}")
    return platforms[name]


DEFAULT_ANGLE = "finding the right fit"


def draft_campaigns(task: AgentTask, ctx: StepContext) -> AgentOutcome:
    """One platform's campaigns, one per audience with a budget share, each with A/B ads."""
    platform: Platform = task.params["platform"]
    policy = _policy(task, ctx)
    audiences = {a["segment"]: a for a in task.params.get("audiences", [])}
    budgets = split_budget(policy, {name: int(a["size"]) for name, a in audiences.items()})
    settings = ctx.settings(SETTINGS)
    drafts: list[CampaignDraft] = []
    completions: list[Completion] = []
    for (budget_platform, segment), cents in sorted(budgets.items()):
        if budget_platform != platform:
            continue
        audience = audiences[segment]
        # Item ids as words ("pro-plan" -> "pro plan"): the ad names what people looked at.
        top_items = [
            str(item).replace("-", " ").replace("_", " ")
            for item in audience.get("top_items") or []
        ]
        # The words come from what the audience wants and what they look at; how they were
        # selected (the rule, the segment's name) and how many they are stay out of the copy.
        facts = {
            "angle": audience.get("ad_angle") or DEFAULT_ANGLE,
            "top_items": ", ".join(top_items) or "none yet",
            "top_item": top_items[0] if top_items else "",
            "brief": task.params.get("brief") or "none",
        }
        request = drafts_request(settings, facts, agent="ads")
        copy, completion = ctx.llm().structured(request, AdCopy)
        completions.append(completion)
        internal = [
            segment,
            str(audience.get("title") or ""),
            str(audience.get("description") or ""),
        ]
        problems = [
            f"{field}: {problem}"
            for field, text in copy.model_dump().items()
            for problem in copy_problems(str(text), internal)
        ]
        if problems:
            raise PermanentError(
                f"the {platform} ad for {segment} fails the copy check: {'; '.join(problems)}"
            )
        drafts.append(
            draft_campaign(
                run_id=task.run_id,
                platform=platform,
                audience=Audience(
                    segment=segment,
                    description=str(
                        audience.get("description") or audience.get("title") or segment
                    ),
                    size=int(audience["size"]),
                ),
                daily_budget_cents=cents,
                copy=copy,
                policy=policy,
            )
        )
    ctx.ads().store.save_drafts(task.run_id, drafts)
    total = sum(d.daily_budget_cents for d in drafts)
    ctx.on_step(
        "draft",
        f"{platform}: drafted {len(drafts)} campaign(s), {total / 100:.2f} {policy.currency}/day",
    )
    return AgentOutcome(
        output={
            "platform": platform,
            "campaigns": [d.model_dump(mode="json") for d in drafts],
            "versions": settings.versions(),
        },
        usage=usage_of(completions),
    )


def publish_campaign(task: AgentTask, ctx: StepContext) -> AgentOutcome:
    """Create one approved campaign on its platform, once (looked up by key on a retry)."""
    draft = CampaignDraft.model_validate(task.params["campaign"])
    platform = _platform(ctx, draft.platform)
    store = ctx.ads().store

    def create(record: EffectRecord) -> dict[str, Any]:
        published: PublishedCampaign = platform.create_campaign(draft)
        return published.model_dump(mode="json")

    def find(record: EffectRecord) -> dict[str, Any] | None:
        found = platform.find_campaign(draft.campaign_key)
        return found.model_dump(mode="json") if found else None

    outcome = perform_once(
        ctx.store,
        task.run_id,
        f"publish-{draft.campaign_key}",
        create,
        clock=ctx.clock,
        find=find,
        intent={"campaign": draft.model_dump(mode="json")},
    )
    published = PublishedCampaign.model_validate(outcome.result)
    store.mark_published(published, run_id=task.run_id, at=ctx.clock())
    how = "found already created" if outcome.found else "published"
    if not outcome.performed and not outcome.found:
        how = "already published"
    ctx.on_step(
        "publish",
        f"{how} {draft.campaign_key} on {draft.platform} as {published.external_id} "
        f"({published.daily_budget_cents / 100:.2f}/day)",
    )
    return AgentOutcome(output={"published": published.model_dump(mode="json")}, usage=LlmUsage())


def report_day(task: AgentTask, ctx: StepContext) -> date:
    """The day a performance run reads: `day` from the params, else yesterday (UTC)."""
    if task.params.get("day"):
        return date.fromisoformat(str(task.params["day"]))
    return ctx.clock().date() - timedelta(days=1)


def pull_performance(task: AgentTask, ctx: StepContext) -> AgentOutcome:
    """Read one platform's figures for the day and keep them (a re-read overwrites them)."""
    platform_name: Platform = task.params["platform"]
    day = report_day(task, ctx)
    rows = _platform(ctx, platform_name).daily_performance(day)
    ctx.ads().store.save_performance(rows)
    spend = sum(r.spend_cents for r in rows)
    ctx.on_step("pull", f"{platform_name} {day}: {len(rows)} campaign(s), {spend / 100:.2f} spent")
    return AgentOutcome(
        output={
            "platform": platform_name,
            "day": day.isoformat(),
            "campaigns": len(rows),
            "spend_cents": spend,
            "conversion_value_cents": sum(r.conversion_value_cents for r in rows),
        },
        usage=LlmUsage(),
    )


def review_campaigns(task: AgentTask, ctx: StepContext) -> AgentOutcome:
    """Judge the published campaigns on the last days' figures; propose budget moves."""
    policy = _policy(task, ctx)
    end = report_day(task, ctx)
    start = end - timedelta(days=policy.lookback_days - 1)
    store = ctx.ads().store
    published = store.published_campaigns()
    performance = store.performance_between(start, end)
    review = review_budgets(published, performance, policy)
    ctx.on_step("review", review.summary)
    return AgentOutcome(
        output={
            "window": {"start": start.isoformat(), "end": end.isoformat()},
            "summary": review.summary,
            "statements": list(review.funnels.statements) if review.funnels else [],
            "campaigns": [
                {
                    "campaign_key": f.channel,
                    "spend_cents": f.spend_cents,
                    "revenue_cents": f.revenue_cents,
                    "roas": f.roas,
                    "cpa_cents": f.cpa_cents,
                    "ctr": f.ctr,
                    "cvr": f.cvr,
                }
                for f in (review.funnels.channels if review.funnels else ())
            ],
            "underperformers": [u.model_dump(mode="json") for u in review.underperformers],
            "changes": [c.model_dump(mode="json") for c in review.changes],
            "versions": ctx.settings(SETTINGS).versions(),
        },
        usage=LlmUsage(),
    )


def apply_budget_change(task: AgentTask, ctx: StepContext) -> AgentOutcome:
    """Set one approved daily budget, once (a retry sees the platform already has it)."""
    change = BudgetChange.model_validate(task.params["change"])
    platform = _platform(ctx, change.platform)

    def apply(record: EffectRecord) -> dict[str, Any]:
        updated: PublishedCampaign = platform.set_daily_budget(change.external_id, change.to_cents)
        return updated.model_dump(mode="json")

    def find(record: EffectRecord) -> dict[str, Any] | None:
        found = platform.find_campaign(change.campaign_key)
        if found is not None and found.daily_budget_cents == change.to_cents:
            return found.model_dump(mode="json")
        return None

    outcome = perform_once(
        ctx.store,
        task.run_id,
        f"budget-{change.campaign_key}",
        apply,
        clock=ctx.clock,
        find=find,
        intent={"change": change.model_dump(mode="json")},
    )
    updated = PublishedCampaign.model_validate(outcome.result)
    ctx.ads().store.record_budget(change, run_id=task.run_id, at=ctx.clock())
    ctx.on_step(
        "apply",
        f"{change.campaign_key} on {change.platform}: {change.from_cents / 100:.2f} -> "
        f"{updated.daily_budget_cents / 100:.2f}/day",
    )
    return AgentOutcome(output={"applied": change.model_dump(mode="json")}, usage=LlmUsage())
