"""The four analysis agents run end to end on the sample data with the offline provider."""

from __future__ import annotations

import time
from datetime import date

import pytest

from shared.adapters.sample_source import SampleDataSource
from shared.agents.registry import agent_graph, run_analysis_agent
from shared.core.agent_settings import resolve_agent_settings
from shared.core.dataset import Dataset
from shared.core.errors import PermanentError
from shared.core.messages import AgentTask
from shared.core.ports import AgentOutcome, DataSource
from shared.core.topology import AGENTS
from shared.llm.offline import OfflineLLM

SAMPLE = SampleDataSource(date(2026, 11, 16))


def run_agent(task: AgentTask, data: DataSource) -> AgentOutcome:
    """Run an agent the way the function does: offline provider, bundled prompts and policy."""
    settings = resolve_agent_settings(task.agent)
    return run_analysis_agent(task, data=data, llm=OfflineLLM(), settings=settings)


def task_for(agent: str) -> AgentTask:
    return AgentTask(run_id="run-unit", task_id=f"task-{agent}", agent=agent, workflow="weekly_gtm")


class FlakySource:
    """A data source whose every load fails with a transient error, counting the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def load(self) -> Dataset:
        self.calls += 1
        raise ConnectionError("warehouse unreachable")


@pytest.mark.parametrize("agent", AGENTS)
def test_agent_output_has_prose_report_and_offline_mark(agent: str) -> None:
    outcome = run_agent(task_for(agent), data=SAMPLE)

    drafts = {"drafts"} if agent == "marketing" else set()
    assert set(outcome.output) == {"summary", "headline", "report", "offline", "versions", *drafts}
    version = 2 if agent in ("finance", "insights", "marketing") else 1
    # v3: finance says its period; marketing's budget move is a suggestion, not a proposal.
    prompts = 3 if agent in ("finance", "marketing") else version
    assert outcome.output["versions"] == {
        "prompts": f"{agent}/v{prompts} (bundled)",
        "policy": f"{agent}/v{version} (bundled)",
    }
    assert outcome.output["summary"].strip() != ""
    assert outcome.output["headline"].strip() != ""
    report = outcome.output["report"]
    # Finance and insights nest several analyses; each one is dated like the data set.
    dated = report.get("revenue") or report.get("segments") or report.get("acquisition") or report
    assert dated["as_of"] == "2026-11-16"
    assert outcome.output["offline"] is True
    assert (outcome.usage.provider, outcome.usage.model) == ("offline", "offline-template")
    assert outcome.usage.calls == (2 if agent == "marketing" else 1)
    assert outcome.usage.cost_usd == 0.0
    assert outcome.usage.tokens_in > 0
    assert outcome.usage.tokens_out > 0


def test_finance_summary_quotes_the_computed_figures() -> None:
    outcome = run_agent(task_for("finance"), data=SAMPLE)

    summary = outcome.output["summary"]
    # The period said plainly: the data's last day and the last complete month, by name.
    assert summary.startswith("The data runs to 16 November 2026, so October 2026 is the last")
    assert "did not beat the naive (last value) baseline" in summary  # named as computed
    assert "€14,994.85" in summary
    assert "+24.3%" in summary
    assert outcome.output["headline"] == "revenue €14,994.85 (+24.3% MoM)"
    assert outcome.output["report"]["revenue"]["latest_complete_month"]["revenue_cents"] == 1499485
    assert outcome.output["report"]["kpis"]["mrr_cents"] == 1186287
    assert "MRR stands at €11,862.87" in outcome.output["summary"]


def test_marketing_headline_names_the_best_channel() -> None:
    outcome = run_agent(task_for("marketing"), data=SAMPLE)

    assert outcome.output["headline"].startswith("best channel email ")
    assert outcome.output["report"]["acquisition"]["best_channel"] == "email"
    assert outcome.output["report"]["budget_shift"]["to_channel"] == "email"
    assert "move €876.17 from social to email" in outcome.output["summary"]
    assert "proposal" not in outcome.output["summary"].lower()  # nothing here approves it
    assert "This report changes no budget" in outcome.output["summary"]
    assert "move budget towards email" in outcome.output["summary"]


def test_insights_summary_counts_the_churned_customers() -> None:
    outcome = run_agent(task_for("insights"), data=SAMPLE)

    assert "111" in outcome.output["summary"]
    assert outcome.output["headline"].startswith("111 churned customers")
    assert outcome.output["report"]["segments"]["churned_count"] == 111
    assert outcome.output["report"]["bg_nbd"]["likely_churned_count"] == 36
    assert "36 customers are more likely gone than not" in outcome.output["summary"]


def test_support_summary_reports_the_billing_incident() -> None:
    outcome = run_agent(task_for("support"), data=SAMPLE)

    assert outcome.output["headline"] == "24 tickets, top category billing"
    assert "Support handled 24 tickets in the last 7 days" in outcome.output["summary"]


def test_task_params_reach_the_analysis() -> None:
    task = task_for("insights").model_copy(update={"params": {"churn_after_days": 30}})

    outcome = run_agent(task, data=SAMPLE)

    assert outcome.output["report"]["churn_after_days"] == 30
    assert "in 30 days" in outcome.output["summary"]


def test_same_task_gives_the_same_output() -> None:
    first = run_agent(task_for("finance"), data=SAMPLE)

    second = run_agent(task_for("finance"), data=SAMPLE)

    assert first == second


def test_transient_source_failure_is_retried_once_then_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # LangGraph waits 0.2 s plus up to 1 s of jitter between attempts; recording the wait
    # instead of sleeping keeps the unit tier fast and shows the backoff was applied.
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    source = FlakySource()

    with pytest.raises(ConnectionError, match="warehouse unreachable"):
        run_agent(task_for("finance"), data=source)

    assert source.calls == 2
    assert len(waits) == 1
    assert 0.2 <= waits[0] <= 1.2


def test_unknown_agent_is_a_permanent_error() -> None:
    settings = resolve_agent_settings("finance")

    with pytest.raises(PermanentError, match="agent 'legal' has no analysis graph"):
        run_analysis_agent(task_for("legal"), data=SAMPLE, llm=OfflineLLM(), settings=settings)


def test_an_agent_without_a_prompts_file_is_a_permanent_error() -> None:
    with pytest.raises(PermanentError, match="no prompts file for agent 'legal'"):
        resolve_agent_settings("legal")


def test_graph_is_built_once_per_agent() -> None:
    first = agent_graph("support")

    second = agent_graph("support")

    assert first is second


def test_marketing_drafts_a_brief_and_two_subject_lines_from_the_figures() -> None:
    outcome = run_agent(task_for("marketing"), data=SAMPLE)

    drafts = outcome.output["drafts"]
    assert set(drafts) == {"brief", "subject_a", "subject_b", "email_body"}
    assert drafts["subject_a"] != drafts["subject_b"]
    assert "ROAS 5.05\u00d7" in drafts["brief"] and "€876.17" in drafts["brief"]
    assert outcome.usage.calls == 2
