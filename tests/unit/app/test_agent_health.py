"""Agent health from the tasks of a window: which agent is failing, since when, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.app.agent_health import AgentHealth, agent_health
from shared.core.documents import TaskDoc
from shared.core.models import LlmUsage, TaskStatus

NOW = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


def task(
    agent: str,
    days_ago: float,
    status: TaskStatus = TaskStatus.SUCCEEDED,
    *,
    attempts: int = 1,
    duration_s: float = 1.0,
    error: str | None = None,
    cost: float = 0.0,
) -> TaskDoc:
    finished = NOW - timedelta(days=days_ago)
    return TaskDoc(
        run_id=f"run-{agent}-{days_ago}",
        task_id=agent,
        agent=agent,
        status=status,
        attempts=attempts,
        created_at=finished - timedelta(seconds=duration_s),
        finished_at=finished if status.terminal else None,
        duration_s=duration_s if status.terminal else None,
        error=error,
        usage=LlmUsage(tokens_in=100, tokens_out=20, cost_usd=cost, calls=1),
    )


def by_agent(*tasks: TaskDoc, alert: float = 0.2) -> dict[str, AgentHealth]:
    rows = agent_health(tasks, NOW, error_rate_alert=alert, agents=("marketing", "finance"))
    return {row.agent: row for row in rows}


def test_an_agent_whose_latest_task_failed_is_failing_and_listed_first() -> None:
    rows = agent_health(
        [
            task("finance", 3),
            task("finance", 1, TaskStatus.FAILED, error="statsmodels: singular matrix"),
            task("insights", 1),
        ],
        NOW,
    )

    assert [r.agent for r in rows] == ["finance", "insights"]
    finance = rows[0]
    assert (finance.state, finance.why) == ("failing", "its latest task failed")
    assert finance.last_failure_at == NOW - timedelta(days=1)
    assert finance.last_success_at == NOW - timedelta(days=3)
    assert finance.last_error == "statsmodels: singular matrix"
    assert (finance.tasks, finance.failed, finance.error_rate) == (2, 1, 0.5)


def test_an_error_rate_over_the_alert_in_7_days_fails_an_agent_whose_latest_task_succeeded() -> (
    None
):
    tasks = [task("marketing", 6, TaskStatus.FAILED), task("marketing", 5, TaskStatus.FAILED)]
    tasks += [task("marketing", d) for d in (4, 3, 2, 1)]
    old = [task("marketing", 20, TaskStatus.FAILED) for _ in range(10)]

    recent_only = by_agent(*tasks)["marketing"]
    with_old = by_agent(*tasks, *old, alert=0.5)["marketing"]

    assert recent_only.state == "failing"
    assert recent_only.why == "33% of its tasks failed in 7 days"
    assert recent_only.error_rate_recent == round(2 / 6, 4)
    # Failures older than 7 days count in the window's rate, not in the alert.
    assert with_old.state == "ok"
    assert with_old.error_rate == round(12 / 16, 4)
    assert with_old.tasks_recent == 6


def test_an_agent_with_no_finished_task_is_idle_and_a_running_one_counts_for_nothing() -> None:
    rows = by_agent(task("marketing", 0.1, TaskStatus.RUNNING))

    assert rows["finance"].state == "idle"
    assert rows["marketing"].state == "idle"
    assert rows["marketing"].error_rate is None


def test_durations_retries_tokens_and_cost_are_the_agents_own() -> None:
    rows = by_agent(
        task("finance", 1, duration_s=2.0, attempts=3, cost=0.01),
        task("finance", 2, duration_s=4.0, cost=0.02),
        task("finance", 3, duration_s=10.0, cost=0.0),
        task("marketing", 1, duration_s=99.0),
    )
    finance = rows["finance"]

    assert finance.duration_p50_s == 4.0
    assert finance.duration_p95_s == 9.4
    assert finance.retried == 1
    assert (finance.tokens_in, finance.tokens_out) == (300, 60)
    assert finance.cost_usd == 0.03
    assert finance.state == "ok"
