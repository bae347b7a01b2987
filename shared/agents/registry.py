"""Which graph runs for which agent, and how a task's outcome is shaped."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from shared.agents.analysis_graph import AgentContext
from shared.app.run_agent import AgentOutcome, StepRecorder
from shared.core.agent_settings import AgentSettings
from shared.core.errors import PermanentError
from shared.core.messages import AgentTask
from shared.core.models import LlmUsage
from shared.core.ports import DataSource
from shared.core.topology import AGENTS
from shared.llm.types import LLM


@cache
def agent_graph(agent: str) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled graph of `agent` (built once per process, on first use)."""
    if agent not in AGENTS:
        raise PermanentError(f"unknown agent {agent!r}")
    module = importlib.import_module(f"shared.agents.{agent}")
    graph: CompiledStateGraph[Any, Any, Any, Any] = module.build_graph()
    return graph


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
