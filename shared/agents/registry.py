"""What runs a task: the step handler listed for its workflow step, else its agent's analysis
graph; and how a graph's outcome is shaped."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from shared.agents import (
    ad_steps,
    finance,
    insights,
    lead_steps,
    marketing,
    support,
    winback_steps,
)
from shared.agents.analysis_graph import AgentContext
from shared.agents.steps import StepHandler
from shared.core.agent_settings import AgentSettings
from shared.core.errors import PermanentError
from shared.core.messages import AgentTask
from shared.core.models import LlmUsage
from shared.core.ports import AgentOutcome, DataSource, StepRecorder
from shared.llm.types import LLM

ANALYSIS_GRAPHS: dict[str, Callable[[], CompiledStateGraph[Any, Any, Any, Any]]] = {
    "marketing": marketing.build_graph,
    "finance": finance.build_graph,
    "insights": insights.build_graph,
    "support": support.build_graph,
}
"""The agents with an analysis graph (analyse with code, then write with the LLM)."""

STEP_HANDLERS: dict[tuple[str, str], StepHandler] = {
    ("winback", "select"): winback_steps.select_customers,
    ("winback", "draft"): winback_steps.draft_email,
    ("winback", "estimate"): winback_steps.estimate_campaign,
    ("winback", "send"): winback_steps.send_email,
    ("growth", "refresh"): lead_steps.refresh_growth_data,
    ("growth", "score"): lead_steps.score_leads,
    ("growth", "draft"): ad_steps.draft_campaigns,
    ("growth", "publish"): ad_steps.publish_campaign,
    ("ad_performance", "pull"): ad_steps.pull_performance,
    ("ad_performance", "review"): ad_steps.review_campaigns,
    ("ad_performance", "apply"): ad_steps.apply_budget_change,
}
"""The handler of each workflow step whose work is not an agent's analysis graph, by
(workflow, step); the other task steps (the weekly analyses, the growth brief) run the graph."""


def step_handler(task: AgentTask) -> StepHandler | None:
    """The handler of the task's workflow step, or None for the agent's analysis graph."""
    return STEP_HANDLERS.get((task.workflow, task.step))


@cache
def agent_graph(agent: str) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled graph of `agent` (built once per process, on first use)."""
    build = ANALYSIS_GRAPHS.get(agent)
    if build is None:
        raise PermanentError(f"agent {agent!r} has no analysis graph")
    return build()


def _describe_step(node: str, update: dict[str, Any]) -> str:
    if node == "analyse":
        return f"computed {len(update.get('facts', {}))} figures with code"
    if node == "draft":
        return f"drafted {', '.join(update.get('drafts', {}))} for the team to review"
    if node == "write":
        completion = update.get("completion", {})
        fallback = "; ".join(completion.get("fallback_reasons") or ())
        return (
            f"wrote {completion.get('tokens_out', 0)} tokens of prose with "
            f"{completion.get('provider')}/{completion.get('model')}"
            + (f" (fallback after {fallback})" if fallback else "")
        )
    return "done"


def run_analysis_agent(
    task: AgentTask,
    *,
    data: DataSource,
    llm: LLM,
    settings: AgentSettings,
    on_step: StepRecorder | None = None,
) -> AgentOutcome:
    """Run the agent's graph for one task, reporting each finished step, and shape its output."""
    context = AgentContext(data=data, llm=llm, settings=settings)
    state: dict[str, Any] = {}
    for chunk in agent_graph(task.agent).stream(
        {"params": task.params}, context=context, stream_mode="updates"
    ):
        for node, update in chunk.items():
            state.update(update or {})
            if on_step is not None:
                on_step(node, _describe_step(node, update or {}))
    completions = [state["completion"]]
    if "drafts_completion" in state:
        completions.append(state["drafts_completion"])
    usage = LlmUsage.total([_usage(c) for c in completions])
    output = {
        "summary": state["summary"],
        "headline": state["headline"],
        "report": state["report"],
        "offline": state["completion"]["offline"],
        "versions": settings.versions(),
    }
    if "drafts" in state:
        output["drafts"] = state["drafts"]
    return AgentOutcome(output=output, usage=usage)


def _usage(completion: dict[str, Any]) -> LlmUsage:
    return LlmUsage(
        provider=completion["provider"],
        model=completion["model"],
        tokens_in=completion["tokens_in"],
        tokens_out=completion["tokens_out"],
        cost_usd=completion["cost_usd"],
        calls=1,
    )
