"""Ad performance, daily: pull each platform's figures, judge the campaigns, move budgets only
if a person approves.

    pull (ads, one task per platform)  yesterday's figures (or `day`), kept per campaign and day
      -> review (ads)                  the channel funnel analysis over the last days; flags
                                       underperformers and proposes budget moves
      -> approve (a person, or it expires; skipped when nothing is proposed)
      -> apply (ads, one task per change)   each budget set once

The approver may leave changes out (`exclude`: campaign keys).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from pydantic import Field

from shared.ads.models import PLATFORMS
from shared.core.documents import Artifact, RunDoc, TaskDoc
from shared.core.models import TaskStatus
from shared.workflows.params import ApprovalParams, Platforms, policy_default
from shared.workflows.spec import RunHistory, RunOutcome, Step, TaskSpec, Workflow

ADS = "ad_manager"


class AdPerformanceParams(ApprovalParams):
    """What an ad-performance run may set: the platforms and day pulled, and the ad
    manager's review rules (shared/policies/ad_manager.yaml)."""

    platforms: Platforms = Field(
        default=list(PLATFORMS), description="Ad platforms whose figures are pulled, one task each"
    )
    day: date | None = Field(
        default=None,
        description="The day whose figures are pulled (ISO date); unset: yesterday (UTC)",
    )
    lookback_days: int = Field(
        default=policy_default(ADS, "lookback_days"),
        ge=1,
        le=90,
        description="Days of figures the review reads, ending on `day`",
    )
    min_spend_cents: int = Field(
        default=policy_default(ADS, "min_spend_cents"),
        ge=0,
        description="A campaign is judged only once it spent this much in the window, in cents",
    )
    roas_floor: float = Field(
        default=policy_default(ADS, "roas_floor"),
        ge=0,
        le=100,
        description="Revenue / spend below this flags an underperformer",
    )
    cut_fraction: float = Field(
        default=policy_default(ADS, "cut_fraction"),
        gt=0,
        le=1,
        description="Share of an underperformer's daily budget proposed to move",
    )
    max_increase: float = Field(
        default=policy_default(ADS, "max_increase"),
        gt=0,
        le=10,
        description="Most the best campaign's daily budget may grow, as a share of it",
    )
    significance_alpha: float = Field(
        default=policy_default(ADS, "significance_alpha"),
        gt=0,
        lt=1,
        description="Level at which the campaigns' conversion rates are compared",
    )


def plan_pulls(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """One ads task per platform."""
    platforms = run.params.get("platforms") or list(PLATFORMS)
    return [
        TaskSpec(task_id=f"pull-{p}", agent="ads", input={**run.params, "platform": p})
        for p in platforms
    ]


def plan_review(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """One ads task that judges every published campaign."""
    return [TaskSpec(task_id="review", agent="ads", input=dict(run.params))]


def review(history: RunHistory) -> dict[str, Any]:
    """The review's output (empty if it failed)."""
    done = [t for t in history.tasks("review") if t.status is TaskStatus.SUCCEEDED]
    return dict(done[0].output or {}) if done else {}


def changes_proposed(run: RunDoc, history: RunHistory) -> bool:
    """Whether the review proposed any budget change."""
    return bool(review(history).get("changes"))


def propose_reallocation(run: RunDoc, history: RunHistory) -> dict[str, Any]:
    """What approving would do: each budget change, and the figures behind it."""
    found = review(history)
    changes = found.get("changes", [])
    return {
        "action": f"Change {len(changes)} daily budgets: {found.get('summary', '')}",
        "changes": changes,
        "underperformers": found.get("underperformers", []),
        "statements": found.get("statements", []),
        "window": found.get("window"),
        "editable": ["exclude"],
    }


def plan_changes(run: RunDoc, history: RunHistory) -> list[TaskSpec]:
    """One task per change the approver kept."""
    decision = history.approval("approve")
    excluded = set((decision.edits if decision else {}).get("exclude", []))
    return [
        TaskSpec(task_id=f"budget-{c['campaign_key']}", agent="ads", input={"change": c})
        for c in review(history).get("changes", [])
        if c["campaign_key"] not in excluded
    ]


def report_performance(run: RunDoc, tasks: list[TaskDoc], now: datetime) -> RunOutcome:
    """Spend and value pulled, campaigns flagged, budgets changed; the figures as CSV."""
    by_step: dict[str, list[TaskDoc]] = {}
    for task in tasks:
        by_step.setdefault(task.step, []).append(task)
    pulled = [
        t.output for t in by_step.get("pull", []) if t.status is TaskStatus.SUCCEEDED and t.output
    ]
    reviewed = (
        next(
            (t.output for t in by_step.get("review", []) if t.status is TaskStatus.SUCCEEDED),
            None,
        )
        or {}
    )
    applied = [t for t in by_step.get("apply", []) if t.status is TaskStatus.SUCCEEDED and t.output]
    spend = sum(int(p.get("spend_cents", 0)) for p in pulled)
    summary = (
        f"Ad performance: {len(pulled)} platform(s) pulled, {spend / 100:.2f} spent; "
        f"{len(reviewed.get('underperformers', []))} underperforming; "
        f"{len(applied)} budget change(s) applied"
    )
    header = ["campaign_key", "spend_cents", "revenue_cents", "roas", "cpa_cents", "ctr", "cvr"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    rows = [[c.get(key, "") for key in header] for c in reviewed.get("campaigns", [])]
    writer.writerows(rows)
    artifact = Artifact(
        name="ad_performance.csv",
        content_type="text/csv",
        content=buffer.getvalue(),
        created_at=now,
    )
    return RunOutcome(
        summary=summary, artifacts=(artifact,), rows=[[run.run_id, *row] for row in rows]
    )


AD_PERFORMANCE = Workflow(
    name="ad_performance",
    title="Ad performance and budget reallocation",
    description=(
        "The ad manager pulls yesterday's figures from each platform, judges the published "
        "campaigns, and proposes moving budget from underperformers; a person approves."
    ),
    steps=(
        Step(
            name="pull",
            title="Pull each platform's figures",
            agents=("ads",),
            plan=plan_pulls,
            allow_failures=True,
        ),
        Step(
            name="review",
            title="Judge the campaigns",
            agents=("ads",),
            plan=plan_review,
        ),
        Step(
            name="approve",
            title="A person approves the budget changes",
            kind="approval",
            propose=propose_reallocation,
            needed=changes_proposed,
        ),
        Step(
            name="apply",
            title="Apply each approved budget once",
            agents=("ads",),
            plan=plan_changes,
        ),
    ),
    report=report_performance,
    params_model=AdPerformanceParams,
    timeout_s=1800,
)
