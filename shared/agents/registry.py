"""Which graph runs for which agent, and how a task's outcome is shaped."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from shared.agents.analysis_graph import AgentContext
from shared.app.run_agent import AgentOutcome
from shared.errors import PermanentError
from shared.llm.types import LLM
from shared.models import AgentTask, LlmUsage
from shared.ports import DataSource
from shared.topology import AGENTS


@cache
def agent_graph(agent: str) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled graph of `agent` (built once per process, on first use)."""
    if agent not in AGENTS:
        raise PermanentError(f"unknown agent {agent!r}")
    module = importlib.import_module(f"shared.agents.{agent}")
    graph: CompiledStateGraph[Any, Any, Any, Any] = module.build_graph()
    return graph


def run_analysis_agent(task: AgentTask, *, data: DataSource, llm: LLM) -> AgentOutcome:
    """Invoke the agent's graph for one task and shape its output document."""
    state = agent_graph(task.agent).invoke(
        {"params": task.params}, context=AgentContext(data=data, llm=llm)
    )
    completion = state["completion"]
    usage = LlmUsage(
        provider=completion["provider"],
        model=completion["model"],
        tokens_in=completion["tokens_in"],
        tokens_out=completion["tokens_out"],
        cost_usd=completion["cost_usd"],
        calls=1,
    )
    output = {
        "summary": state["summary"],
        "headline": state["headline"],
        "report": state["report"],
        "offline": completion["offline"],
    }
    return AgentOutcome(output=output, usage=usage)
