"""Growth: from what the host app's users do to ad campaigns waiting for a person.

    refresh (leads)   re-evaluate every user's segments, refresh recommendations
      -> score (leads)     fit/intent scores with reasons for the members of the target segments
      -> brief (marketing) the marketing agent's weekly analysis and its campaign brief
      -> draft (ads, one task per platform)   a campaign per audience with A/B ads and a budget
      -> approve (a person, or it expires)    nothing is published without it
      -> publish (ads, one task per campaign) each created once, looked up by key on a retry

The approver may leave campaigns out (`exclude`: campaign keys) or change a campaign's daily
budget (`budgets`: {campaign key: cents}). No draft, no approval: the run ends after drafting.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from shared.ads.models import PLATFORMS, Platform
from shared.core.documents import Artifact, RunDoc, TaskDoc
from shared.core.models import TaskStatus
from shared.tracking.segments import bundled_segments
from shared.workflows.params import (
    ApprovalParams,
    MarketingPolicyParams,
    Platforms,
    SegmentNames,
    policy_default,
)
from shared.workflows.spec import RunHistory, RunOutcome, Step, TaskSpec, Workflow

PREVIEW_LEADS = 5
ADS = "ad_manager"


class GrowthParams(MarketingPolicyParams, ApprovalParams):
    """What a growth run may set: the target segments (the leads and ad manager policies),
    the ad manager's budget rules, and the marketing brief's thresholds."""

    segments: SegmentNames = Field(
        default=policy_default("leads", "segments"),
        description="Segments whose members are scored and which campaigns target, "
        "in order of priority",
    )
    platforms: Platforms = Field(
        default=policy_default(ADS, "platforms"),
        description="Ad platforms campaigns are drafted for, one task each",
    )
    platform_share: dict[Platform, Annotated[float, Field(ge=0, le=1)]] = Field(
        default=policy_default(ADS, "platform_share"),
        description="Share of the daily budget each platform gets",
    )
    daily_budget_cents: int = Field(
        default=policy_default(ADS, "daily_budget_cents"),
        gt=0,
        le=100_000_000,
        description="Daily budget of all the run's new campaigns together, in cents",
    )
    min_campaign_budget_cents: int = Field(
        default=policy_default(ADS, "min_campaign_budget_cents"),
        gt=0,
        le=100_000_000,
        description="A campaign whose share is below this is not drafted, in cents",
    )
    objective: Literal["traffic", "leads", "conversions"] = Field(
        default=policy_default(ADS, "objective"), description="What the campaigns optimise for"
    )
    currency: str = Field(
        default=policy_default(ADS, "currency"),
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 currency of the budgets",
    )
    landing_url: str = Field(
        default=policy_default(ADS, "landing_url"),
        pattern=r"^https?://[^\s]+$",
        max_length=2048,
        description="Where the ads send people",
    )


def _output(history: RunHistory, step: str) -> dict[str, Any]:
    """The output of a one-task step (empty if it failed)."""
    done = [t for t in history.tasks(step) if t.status is TaskStatus.SUCCEEDED]
    return dict(done[0].output or {}) if done else {}


def plan_refresh(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """One leads task that re-evaluates segments and recommendations."""
    return [TaskSpec(task_id="refresh", agent="leads", input=dict(run.params))]


def plan_scores(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """One leads task that scores the target segments' members."""
    return [TaskSpec(task_id="score", agent="leads", input=dict(run.params))]


def plan_brief(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """The marketing agent's analysis, whose drafts carry the campaign brief."""
    return [TaskSpec(task_id="brief", agent="marketing", input=dict(run.params))]


def audiences(history: RunHistory) -> list[dict[str, Any]]:
    """Every segment with members, its title and size (from the refresh, else the scores)."""
    sizes = _output(history, "refresh").get("segments") or _output(history, "score").get(
        "segments", {}
    )
    catalog = bundled_segments()
    found = []
    for name, size in sorted(dict(sizes).items()):
        definition = catalog.get(name)
        if int(size) <= 0:
            continue
        found.append(
            {
                "segment": name,
                "title": definition.title if definition else name,
                "description": definition.description if definition else "",
                "ad_angle": definition.ad_angle if definition else "",
                "size": int(size),
            }
        )
    return found


def plan_drafts(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """One ads task per platform, with the audiences and the marketing brief."""
    found = audiences(history)
    if not found:
        return []
    brief = (_output(history, "brief").get("drafts") or {}).get("brief", "")
    platforms = run.params.get("platforms") or list(PLATFORMS)
    return [
        TaskSpec(
            task_id=f"draft-{platform}",
            agent="ads",
            input={**run.params, "platform": platform, "audiences": found, "brief": brief},
        )
        for platform in platforms
    ]


def drafted_campaigns(history: RunHistory) -> list[dict[str, Any]]:
    """Every campaign drafted, platform by platform."""
    return [
        campaign
        for t in history.tasks("draft")
        if t.status is TaskStatus.SUCCEEDED and t.output
        for campaign in t.output.get("campaigns", [])
    ]


def campaigns_drafted(run: RunDoc, history: RunHistory) -> bool:
    """Whether there is anything to approve."""
    return bool(drafted_campaigns(history))


def propose_campaigns(run: RunDoc, history: RunHistory) -> dict[str, Any]:
    """What approving would do: which campaigns go live with which budgets, and why."""
    campaigns = drafted_campaigns(history)
    total = sum(int(c["daily_budget_cents"]) for c in campaigns)
    scores = _output(history, "score")
    currency = campaigns[0]["currency"] if campaigns else "EUR"
    return {
        "action": f"Publish {len(campaigns)} ad campaigns, {total / 100:.2f} {currency}/day in all",
        "campaigns": campaigns,
        "daily_budget_cents": total,
        "currency": currency,
        "leads": {
            "scored": scores.get("scored", 0),
            "by_grade": scores.get("by_grade", {}),
            "top": list(scores.get("top", []))[:PREVIEW_LEADS],
        },
        "brief": (_output(history, "brief").get("drafts") or {}).get("brief", ""),
        "editable": ["exclude", "budgets"],
    }


def plan_publishing(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """One publish task per campaign the approver kept, with the approver's budget if set."""
    decision = history.approval("approve")
    edits = decision.edits if decision else {}
    excluded = set(edits.get("exclude", []))
    budgets = {str(k): int(v) for k, v in dict(edits.get("budgets") or {}).items()}
    return [
        TaskSpec(
            task_id=f"publish-{c['campaign_key']}",
            agent="ads",
            input={
                "campaign": {
                    **c,
                    "daily_budget_cents": budgets.get(c["campaign_key"], c["daily_budget_cents"]),
                }
            },
        )
        for c in drafted_campaigns(history)
        if c["campaign_key"] not in excluded
    ]


def report_growth(run: RunDoc, tasks: list[TaskDoc], now: datetime) -> RunOutcome:
    """Segments, leads, campaigns drafted and published; the campaigns as CSV."""
    by_step: dict[str, list[TaskDoc]] = {}
    for task in tasks:
        by_step.setdefault(task.step, []).append(task)

    def output(step: str) -> dict[str, Any]:
        done = [t for t in by_step.get(step, []) if t.status is TaskStatus.SUCCEEDED]
        return dict(done[0].output or {}) if done else {}

    segments = output("refresh").get("segments", {})
    scored = output("score").get("scored", 0)
    drafted = sum(
        len((t.output or {}).get("campaigns", []))
        for t in by_step.get("draft", [])
        if t.status is TaskStatus.SUCCEEDED
    )
    published = [
        t.output["published"]
        for t in by_step.get("publish", [])
        if t.status is TaskStatus.SUCCEEDED and t.output and "published" in t.output
    ]
    summary = (
        f"Growth: {len(segments)} segments refreshed, {scored} leads scored, "
        f"{drafted} campaigns drafted, {len(published)} published"
    )
    header = ["campaign_key", "platform", "external_id", "status", "daily_budget_cents"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    rows = [[p.get(key, "") for key in header] for p in published]
    writer.writerows(rows)
    artifact = Artifact(
        name="campaigns.csv", content_type="text/csv", content=buffer.getvalue(), created_at=now
    )
    return RunOutcome(
        summary=summary, artifacts=(artifact,), rows=[[run.run_id, *row] for row in rows]
    )


GROWTH = Workflow(
    name="growth",
    title="Growth: segments, leads and ad campaigns",
    description=(
        "Segments and recommendations are refreshed, leads scored, the marketing agent writes "
        "its brief, the ad manager drafts campaigns per platform, a person approves, each "
        "campaign is published once."
    ),
    steps=(
        Step(
            name="refresh",
            title="Refresh segments and recommendations",
            agents=("leads",),
            plan=plan_refresh,
        ),
        Step(
            name="score",
            title="Score leads",
            agents=("leads",),
            plan=plan_scores,
        ),
        Step(name="brief", title="Marketing brief", agents=("marketing",), plan=plan_brief),
        Step(
            name="draft",
            title="Draft campaigns per platform",
            agents=("ads",),
            plan=plan_drafts,
        ),
        Step(
            name="approve",
            title="A person approves the campaigns",
            kind="approval",
            propose=propose_campaigns,
            needed=campaigns_drafted,
        ),
        Step(
            name="publish",
            title="Publish each approved campaign once",
            agents=("ads",),
            plan=plan_publishing,
        ),
    ),
    report=report_growth,
    params_model=GrowthParams,
    timeout_s=1800,
)
