"""The LangGraph graph every analysis agent runs: analyse with code, then write prose.

Numbers come from the agent's pure analytics function; the LLM only writes around the facts
it is handed, and the offline provider renders them through a template. The words and the
thresholds come from the agent's versioned prompts and policy (shared/core/agent_settings.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import RetryPolicy
from pydantic import BaseModel

from shared.core.agent_settings import AgentSettings
from shared.core.dataset import Dataset
from shared.core.errors import PermanentError
from shared.core.ports import DataSource
from shared.llm.templates import render
from shared.llm.types import LLM, CompletionRequest


class AgentState(TypedDict, total=False):
    """What flows through an analysis agent's graph."""

    params: dict[str, Any]
    report: dict[str, Any]
    facts: dict[str, Any]
    summary: str
    headline: str
    completion: dict[str, Any]
    drafts: dict[str, Any]
    drafts_completion: dict[str, Any]


@dataclass(frozen=True)
class AgentContext:
    """Dependencies injected into every node at invocation."""

    data: DataSource
    llm: LLM
    settings: AgentSettings


@dataclass(frozen=True)
class AnalysisAgentSpec:
    """What makes one analysis agent: its analytics and the facts it may talk about."""

    name: str
    analyse: Callable[[Dataset, dict[str, Any]], BaseModel]
    facts: Callable[[Any], dict[str, Any]]
    # When set, a third step asks the LLM for a structured draft of this shape.
    drafts_schema: type[BaseModel] | None = None


def build_analysis_graph(spec: AnalysisAgentSpec) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile analyse → write for one agent (called per process, never at import)."""

    def analyse(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        dataset = runtime.context.data.load()
        # The policy's thresholds, unless this run's params say otherwise.
        params = {**runtime.context.settings.policy.values, **state.get("params", {})}
        report = spec.analyse(dataset, params)
        labelled = report.model_dump(mode="json")
        if dataset.cached_from is not None:
            labelled["data_cached_from"] = dataset.cached_from.isoformat()
            labelled["data_cached_because"] = dataset.cached_because
        return {"report": labelled, "facts": spec.facts(report)}

    def write(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        facts = state["facts"]
        prompts = runtime.context.settings.prompts
        request = CompletionRequest(
            system=prompts.system,
            prompt=render(prompts.prompt, facts),
            facts=facts,
            tier=prompts.tier,
            agent=spec.name,
            offline_template=prompts.offline,
        )
        completion = runtime.context.llm.complete(request)
        return {
            "summary": completion.text,
            "headline": render(prompts.headline, facts),
            "completion": completion.model_dump(exclude={"text"}),
        }

    def draft(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        assert spec.drafts_schema is not None
        prompts = runtime.context.settings.prompts.drafts
        if prompts is None:
            raise PermanentError(f"the {spec.name} prompts have no 'drafts' section")
        facts = state["facts"]
        request = CompletionRequest(
            system=prompts.system,
            prompt=render(prompts.prompt, facts),
            facts=facts,
            tier="smart",
            agent=spec.name,
            offline_answer={key: render(tpl, facts) for key, tpl in prompts.offline.items()},
        )
        drafts, completion = runtime.context.llm.structured(request, spec.drafts_schema)
        return {
            "drafts": drafts.model_dump(mode="json"),
            "drafts_completion": completion.model_dump(exclude={"text"}),
        }

    graph = StateGraph(AgentState, context_schema=AgentContext)
    # Loading data may hit a transient outage; the prose step retries inside the LLM layer.
    graph.add_node(
        "analyse", analyse, retry_policy=RetryPolicy(max_attempts=2, initial_interval=0.2)
    )
    graph.add_node("write", write)
    graph.add_edge(START, "analyse")
    graph.add_edge("analyse", "write")
    if spec.drafts_schema is None:
        graph.add_edge("write", END)
    else:
        graph.add_node("draft", draft)
        graph.add_edge("write", "draft")
        graph.add_edge("draft", END)
    return graph.compile(name=spec.name)
