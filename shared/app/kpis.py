"""Use case: the KPIs page — business outcomes first, then how the machinery performs.

Every figure covers the runs *created* from `since` to `until` (UTC days, inclusive) and the
customer messages sent in those days; each is computed by code from what Firestore holds:

business
    runs by workflow and by day, by status
    campaigns: runs of CAMPAIGN_WORKFLOWS started, and succeeded
    trends: revenue, MRR, NRR, churned customers, ROAS (blended and per channel) and support
        tickets of each succeeded weekly run, week after week (shared/app/trends.py)
    emails sent: done effect records `email-<customer>` (the exactly-once record each sent
        email leaves, runs/{run}/effects); what actually left, not what was drafted
    reports delivered: succeeded runs of REPORT_WORKFLOWS
    support: customer messages, deflected (the agent replied and no ticket was opened),
        escalated (a ticket), pending, the rates, median first response, and the median time
        from an escalated message to a person's answer
    turnaround: per workflow, median and p95 time from request to a succeeded finish
    time saved: an *estimate*, (deflected x minutes per reply + emails x minutes per email +
        reports x minutes per report) / 60, with the minutes as stated, adjustable assumptions
technical
    run duration p50/p95 per workflow and overall (finished runs), by linear interpolation
    error rates: failed / (succeeded + failed) runs, failed / finished tasks; retried tasks
        (more than one attempt)
    agent health: per agent, its last success and failure, error rates over the window and its
        last 7 days, durations, retries, tokens and cost, and a state (shared/app/agent_health.py)
    tokens, calls and cost by agent, provider, model and UTC day (the day a task finished),
        from each task's recorded usage; a task that fell back across providers counts
        under "mixed"

At most MAX_KPI_RUNS runs are read (newest first); `truncated` says when there were more.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from shared.app.agent_health import DEFAULT_ERROR_RATE_ALERT, AgentHealth, agent_health
from shared.app.percentiles import percentile
from shared.app.status_views import (
    MAX_STATS_DAYS,
    Day,
    QueryParams,
    SupportStats,
    midnight,
    stats_window,
    support_stats,
)
from shared.app.trends import Trend, business_trends
from shared.core.documents import MessageDoc, RunDoc, TaskDoc
from shared.core.errors import InvalidRequestError
from shared.core.ports import ConversationStore, Store
from shared.core.topology import ALL_AGENTS

MAX_KPI_RUNS = 1000
DEFAULT_KPI_DAYS = 30
CAMPAIGN_WORKFLOWS = frozenset({"winback", "growth"})
REPORT_WORKFLOWS = frozenset({"weekly_gtm"})
EMAIL_EFFECT_PREFIX = "email-"
ALL = "all"


class EffectCounts(Protocol):
    """Counts of a run's side-effect records."""

    def count_done_effects(self, run_id: str, prefix: str) -> int:
        """How many of the run's effects whose step starts with `prefix` are done."""
        ...


class KpiParams(QueryParams):
    """GET /kpis?since=&until=&tab=&minutes_per_reply=&minutes_per_email=&minutes_per_report="""

    since: Day | None = None
    until: Day | None = None
    tab: Literal["business", "technical"] = "business"
    minutes_per_reply: float = Field(default=5.0, ge=0, le=600)
    minutes_per_email: float = Field(default=3.0, ge=0, le=600)
    minutes_per_report: float = Field(default=120.0, ge=0, le=6000)

    def window(self, today: date) -> tuple[date, date]:
        """The first and last day covered (the 30 days to today by default)."""
        until = self.until or today
        since = self.since or until - timedelta(days=DEFAULT_KPI_DAYS - 1)
        if since > until:
            raise InvalidRequestError("since must not be after until")
        if (until - since).days >= MAX_STATS_DAYS:
            raise InvalidRequestError(f"the window may span at most {MAX_STATS_DAYS} days")
        return since, until


# --- the figures -----------------------------------------------------------------------


class StatusCounts(BaseModel):
    """Runs of one workflow (or on one day) by status."""

    key: str
    total: int
    by_status: dict[str, int]


class Durations(BaseModel):
    """Run durations of one workflow ("all": every workflow), in seconds."""

    workflow: str
    runs: int
    p50_s: float | None
    p95_s: float | None
    mean_s: float | None


class UsageRow(BaseModel):
    """LLM usage of the tasks grouped under `key` (an agent, provider, model or day)."""

    key: str
    tasks: int = 0
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


class SupportDay(BaseModel):
    """Customer messages of one UTC day, every platform."""

    day: date
    messages: int
    deflected: int
    escalated: int
    pending: int


class SupportKpis(BaseModel):
    """Support outcomes over the window, every platform."""

    messages: int
    deflected: int
    escalated: int
    pending: int
    deflection_rate: float | None
    escalation_rate: float | None
    first_response_median_s: float | None
    escalations_answered: int
    escalation_answer_median_s: float | None
    by_day: list[SupportDay]


class TimeSaved(BaseModel):
    """An estimate of people's time saved, from the stated minutes per item."""

    hours: float
    minutes_per_reply: float
    minutes_per_email: float
    minutes_per_report: float
    replies: int
    emails: int
    reports: int


class BusinessKpis(BaseModel):
    """Outcomes a business owner cares about."""

    runs_total: int
    runs_by_workflow: list[StatusCounts]
    runs_by_day: list[StatusCounts]
    campaigns_started: int
    campaigns_succeeded: int
    emails_sent: int
    reports_delivered: int
    support: SupportKpis
    turnaround: list[Durations]
    time_saved: TimeSaved
    trends: list[Trend]


class TechnicalKpis(BaseModel):
    """How the machinery performs and what it costs."""

    runs_finished: int
    runs_failed: int
    run_error_rate: float | None
    tasks_finished: int
    tasks_failed: int
    task_error_rate: float | None
    tasks_retried: int
    durations: list[Durations]
    usage_total: UsageRow
    usage_by_agent: list[UsageRow]
    usage_by_provider: list[UsageRow]
    usage_by_model: list[UsageRow]
    usage_by_day: list[UsageRow]
    agent_health: list[AgentHealth]


class Kpis(BaseModel):
    """GET /api/kpis."""

    since: date
    until: date
    runs_considered: int
    truncated: bool
    business: BusinessKpis
    technical: TechnicalKpis


# --- reading ---------------------------------------------------------------------------


def gather_kpis(
    params: KpiParams,
    *,
    store: Store,
    conversations: ConversationStore,
    effects: EffectCounts,
    today: date,
    error_rate_alert: float = DEFAULT_ERROR_RATE_ALERT,
) -> Kpis:
    """Read what the window's figures need and compute them."""
    since, until = params.window(today)
    found = store.find_runs(
        created_from=midnight(since),
        created_before=midnight(until + timedelta(days=1)),
        limit=MAX_KPI_RUNS + 1,
    )
    runs = found[:MAX_KPI_RUNS]
    tasks = {run.run_id: store.list_tasks(run.run_id) for run in runs}
    emails = {
        run.run_id: effects.count_done_effects(run.run_id, EMAIL_EFFECT_PREFIX) for run in runs
    }
    start, end = stats_window(since, until)
    messages = conversations.messages_since(start, end)
    escalated_ids = conversations.escalated_message_ids(start)
    return compute_kpis(
        params,
        since,
        until,
        runs,
        tasks,
        emails,
        messages,
        escalated_ids,
        truncated=len(found) > MAX_KPI_RUNS,
        error_rate_alert=error_rate_alert,
    )


# --- computing -------------------------------------------------------------------------


def compute_kpis(
    params: KpiParams,
    since: date,
    until: date,
    runs: Sequence[RunDoc],
    tasks_by_run: dict[str, list[TaskDoc]],
    emails_by_run: dict[str, int],
    messages: Sequence[tuple[str, MessageDoc]],
    escalated_message_ids: set[str],
    truncated: bool = False,
    error_rate_alert: float = DEFAULT_ERROR_RATE_ALERT,
) -> Kpis:
    """Every figure of the page from the runs, their tasks, email counts and messages."""
    tasks = [task for run in runs for task in tasks_by_run.get(run.run_id, [])]
    support = _support(
        support_stats(messages, escalated_message_ids, since, until),
        messages,
        escalated_message_ids,
        since,
        until,
    )
    emails = sum(emails_by_run.get(run.run_id, 0) for run in runs)
    reports = sum(1 for r in runs if r.workflow in REPORT_WORKFLOWS and r.status == "succeeded")
    campaigns = [r for r in runs if r.workflow in CAMPAIGN_WORKFLOWS]
    business = BusinessKpis(
        runs_total=len(runs),
        runs_by_workflow=_status_counts(runs, lambda r: r.workflow),
        runs_by_day=_status_counts(runs, lambda r: _day(r.created_at).isoformat()),
        campaigns_started=len(campaigns),
        campaigns_succeeded=sum(1 for r in campaigns if r.status == "succeeded"),
        emails_sent=emails,
        reports_delivered=reports,
        support=support,
        turnaround=_durations([r for r in runs if r.status == "succeeded"]),
        time_saved=TimeSaved(
            hours=round(
                (
                    support.deflected * params.minutes_per_reply
                    + emails * params.minutes_per_email
                    + reports * params.minutes_per_report
                )
                / 60,
                2,
            ),
            minutes_per_reply=params.minutes_per_reply,
            minutes_per_email=params.minutes_per_email,
            minutes_per_report=params.minutes_per_report,
            replies=support.deflected,
            emails=emails,
            reports=reports,
        ),
        trends=business_trends(runs, tasks_by_run),
    )
    finished = [r for r in runs if r.status in ("succeeded", "failed")]
    failed = sum(1 for r in finished if r.status == "failed")
    finished_tasks = [t for t in tasks if t.status.terminal]
    failed_tasks = sum(1 for t in finished_tasks if t.status == "failed")
    created = {run.run_id: run.created_at for run in runs}
    llm_tasks = [t for t in tasks if t.usage.calls > 0]
    technical = TechnicalKpis(
        runs_finished=len(finished),
        runs_failed=failed,
        run_error_rate=_ratio(failed, len(finished)),
        tasks_finished=len(finished_tasks),
        tasks_failed=failed_tasks,
        task_error_rate=_ratio(failed_tasks, len(finished_tasks)),
        tasks_retried=sum(1 for t in tasks if t.attempts > 1),
        durations=_durations([r for r in runs if r.status.terminal]),
        usage_total=_usage(tasks, lambda t: ALL)[0] if tasks else UsageRow(key=ALL),
        usage_by_agent=_usage(tasks, lambda t: t.agent),
        usage_by_provider=_usage(llm_tasks, lambda t: t.usage.provider),
        usage_by_model=_usage(llm_tasks, lambda t: t.usage.model),
        usage_by_day=sorted(
            _usage(tasks, lambda t: _day(t.finished_at or created[t.run_id]).isoformat()),
            key=lambda row: row.key,
        ),
        agent_health=agent_health(
            tasks,
            midnight(until + timedelta(days=1)),
            error_rate_alert=error_rate_alert,
            agents=ALL_AGENTS,
        ),
    )
    return Kpis(
        since=since,
        until=until,
        runs_considered=len(runs),
        truncated=truncated,
        business=business,
        technical=technical,
    )


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _status_counts(runs: Iterable[RunDoc], key_of: Callable[[RunDoc], str]) -> list[StatusCounts]:
    groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for run in runs:
        groups[key_of(run)][run.status.value] += 1
    return [
        StatusCounts(key=key, total=sum(counts.values()), by_status=dict(sorted(counts.items())))
        for key, counts in sorted(groups.items())
    ]


def _durations(runs: Sequence[RunDoc]) -> list[Durations]:
    groups: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        if run.duration_s is not None:
            groups[run.workflow].append(run.duration_s)
    every = [d for values in groups.values() for d in values]
    rows = [(ALL, every), *sorted(groups.items())] if every else []
    return [
        Durations(
            workflow=workflow,
            runs=len(values),
            p50_s=_rounded(percentile(values, 50)),
            p95_s=_rounded(percentile(values, 95)),
            mean_s=_rounded(statistics.fmean(values)),
        )
        for workflow, values in rows
    ]


@dataclass
class _UsageTally:
    tasks: int = 0
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0

    def add(self, task: TaskDoc) -> None:
        self.tasks += 1
        self.calls += task.usage.calls
        self.tokens_in += task.usage.tokens_in
        self.tokens_out += task.usage.tokens_out
        self.cost_usd += task.usage.cost_usd


def _usage(tasks: Iterable[TaskDoc], key_of: Callable[[TaskDoc], str]) -> list[UsageRow]:
    """Rows by `key_of`, the costliest first (then by name)."""
    tallies: dict[str, _UsageTally] = defaultdict(_UsageTally)
    for task in tasks:
        tallies[key_of(task)].add(task)
    rows = [
        UsageRow(
            key=key,
            tasks=t.tasks,
            calls=t.calls,
            tokens_in=t.tokens_in,
            tokens_out=t.tokens_out,
            cost_usd=round(t.cost_usd, 6),
        )
        for key, t in tallies.items()
    ]
    return sorted(rows, key=lambda row: (-row.cost_usd, -row.tokens_in - row.tokens_out, row.key))


@dataclass
class _DayTally:
    messages: int = 0
    deflected: int = 0
    escalated: int = 0


def _support(
    stats: SupportStats,
    messages: Sequence[tuple[str, MessageDoc]],
    escalated_ids: set[str],
    since: date,
    until: date,
) -> SupportKpis:
    totals = stats.totals
    count = sum(t.messages for t in totals)
    deflected = sum(t.deflected for t in totals)
    escalated = sum(t.escalated for t in totals)
    by_day: dict[date, _DayTally] = defaultdict(_DayTally)
    for day_stats in stats.days:
        assert day_stats.day is not None
        tally = by_day[day_stats.day]
        tally.messages += day_stats.messages
        tally.deflected += day_stats.deflected
        tally.escalated += day_stats.escalated
    # First response over every platform: the median of the per-message times, which the
    # per-platform medians cannot give, so it is computed from the messages again.
    first_reply: dict[tuple[str, str], datetime] = {}
    human_reply: dict[tuple[str, str], datetime] = {}
    for key, message in messages:
        if message.role == "customer" or message.in_reply_to is None:
            continue
        slot = (key, message.in_reply_to)
        if slot not in first_reply or message.at < first_reply[slot]:
            first_reply[slot] = message.at
        if message.role == "human" and (slot not in human_reply or message.at < human_reply[slot]):
            human_reply[slot] = message.at
    response_s, answer_s = [], []
    for key, message in messages:
        if message.role != "customer" or not since <= _day(message.at) <= until:
            continue
        slot = (key, message.message_id)
        if slot in first_reply:
            response_s.append((first_reply[slot] - message.at).total_seconds())
        if message.message_id in escalated_ids and slot in human_reply:
            answer_s.append((human_reply[slot] - message.at).total_seconds())
    return SupportKpis(
        messages=count,
        deflected=deflected,
        escalated=escalated,
        pending=count - deflected - escalated,
        deflection_rate=_ratio(deflected, count),
        escalation_rate=_ratio(escalated, count),
        first_response_median_s=_rounded(statistics.median(response_s)) if response_s else None,
        escalations_answered=len(answer_s),
        escalation_answer_median_s=_rounded(statistics.median(answer_s)) if answer_s else None,
        by_day=[
            SupportDay(
                day=day,
                messages=t.messages,
                deflected=t.deflected,
                escalated=t.escalated,
                pending=t.messages - t.deflected - t.escalated,
            )
            for day, t in sorted(by_day.items())
        ],
    )
