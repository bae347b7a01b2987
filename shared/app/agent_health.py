"""Agent health: per agent, is it working, and what does it cost (pure).

From the tasks of the runs in the KPI window, for each agent (the function that ran the task:
marketing, finance, insights, support, leads, ads):

    last success / last failure   when its newest succeeded / failed task finished
    tasks, failed, error rate     over the whole window and over its last 7 days
                                  (failed / finished; pending and running do not count)
    duration p50 / p95            of its finished tasks' own durations (delivery excluded)
    retried                       tasks that took more than one attempt
    tokens, cost                  the LLM usage its tasks recorded

and a state a person reads at a glance:

    failing   its newest finished task failed, or its 7-day error rate is above the alert
              rate (CONTROLROOM_AGENT_ERROR_RATE_ALERT, 0.2 by default)
    idle      no finished task in the window
    ok        otherwise
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from shared.app.percentiles import percentile
from shared.core.documents import TaskDoc
from shared.core.models import TaskStatus

RECENT_DAYS = 7
DEFAULT_ERROR_RATE_ALERT = 0.2


class AgentHealth(BaseModel):
    """One agent's health over the window (and its last RECENT_DAYS days)."""

    agent: str
    state: Literal["ok", "failing", "idle"]
    why: str
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None
    tasks: int
    failed: int
    error_rate: float | None
    tasks_recent: int
    failed_recent: int
    error_rate_recent: float | None
    duration_p50_s: float | None
    duration_p95_s: float | None
    retried: int
    tokens_in: int
    tokens_out: int
    cost_usd: float


def agent_health(
    tasks: Sequence[TaskDoc],
    now: datetime,
    *,
    error_rate_alert: float = DEFAULT_ERROR_RATE_ALERT,
    agents: Sequence[str] = (),
) -> list[AgentHealth]:
    """Each agent's health, failing ones first, then by name; `agents` are listed even idle."""
    by_agent: dict[str, list[TaskDoc]] = defaultdict(list)
    for task in tasks:
        by_agent[task.agent].append(task)
    for agent in agents:
        by_agent.setdefault(agent, [])
    recent_from = now - timedelta(days=RECENT_DAYS)
    rows = []
    for agent, own in by_agent.items():
        finished = sorted(
            (t for t in own if t.status.terminal and t.finished_at is not None),
            key=lambda t: t.finished_at or now,
        )
        judged = [t for t in finished if t.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)]
        failed = [t for t in judged if t.status is TaskStatus.FAILED]
        recent = [t for t in judged if (t.finished_at or now) >= recent_from]
        failed_recent = [t for t in recent if t.status is TaskStatus.FAILED]
        successes = [t for t in judged if t.status is TaskStatus.SUCCEEDED]
        durations = [t.duration_s for t in finished if t.duration_s is not None]
        rate_recent = _ratio(len(failed_recent), len(recent))
        state, why = _state(judged, rate_recent, error_rate_alert)
        rows.append(
            AgentHealth(
                agent=agent,
                state=state,
                why=why,
                last_success_at=successes[-1].finished_at if successes else None,
                last_failure_at=failed[-1].finished_at if failed else None,
                last_error=(failed[-1].error or failed[-1].last_error) if failed else None,
                tasks=len(judged),
                failed=len(failed),
                error_rate=_ratio(len(failed), len(judged)),
                tasks_recent=len(recent),
                failed_recent=len(failed_recent),
                error_rate_recent=rate_recent,
                duration_p50_s=_rounded(percentile(durations, 50)),
                duration_p95_s=_rounded(percentile(durations, 95)),
                retried=sum(1 for t in own if t.attempts > 1),
                tokens_in=sum(t.usage.tokens_in for t in own),
                tokens_out=sum(t.usage.tokens_out for t in own),
                cost_usd=round(sum(t.usage.cost_usd for t in own), 6),
            )
        )
    return sorted(rows, key=lambda row: (row.state != "failing", row.agent))


def _state(
    judged: Sequence[TaskDoc], rate_recent: float | None, alert: float
) -> tuple[Literal["ok", "failing", "idle"], str]:
    if not judged:
        return "idle", "no finished task in this window"
    if judged[-1].status is TaskStatus.FAILED:
        return "failing", "its latest task failed"
    if rate_recent is not None and rate_recent > alert:
        return "failing", f"{rate_recent:.0%} of its tasks failed in {RECENT_DAYS} days"
    return "ok", "its latest task succeeded"


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
