"""A workflow declaration as a LangGraph graph, for drawing it with each step's status.

The supervisor moves runs with its own durable engine (shared.app.orchestrate); this graph
is the same declaration in LangGraph's shape: one node per step, an approval node that ends
the run when rejected or expired, and the graph's own node and edge lists (and Mermaid text)
for pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypedDict

from shared.workflows.registry import get_workflow
from shared.workflows.spec import Step, Workflow

if TYPE_CHECKING:
    from langgraph.graph.state import CompiledStateGraph


class _State(TypedDict, total=False):
    decision: str


def _node(step: Step) -> Any:
    def node(state: _State) -> _State:
        return {}

    node.__name__ = step.name
    return node


def _decided(state: _State) -> str:
    return "approved" if state.get("decision") == "approved" else "stopped"


def build_workflow_graph(workflow: Workflow) -> CompiledStateGraph[Any, Any, Any, Any]:
    """One node per step in order; an approval step branches to the next step or the end."""
    # LangGraph costs 0.6 s to import: only a page that draws a run's graph pays for it.
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(_State)
    for step in workflow.steps:
        graph.add_node(step.name, _node(step))
    graph.add_edge(START, workflow.steps[0].name)
    for step in workflow.steps:
        following = workflow.after(step.name)
        target = following.name if following else END
        if step.kind == "approval":
            graph.add_conditional_edges(step.name, _decided, {"approved": target, "stopped": END})
        else:
            graph.add_edge(step.name, target)
    compiled: CompiledStateGraph[Any, Any, Any, Any] = graph.compile()
    return compiled


@dataclass(frozen=True)
class GraphEdge:
    """An arrow of the drawn graph; `label` names a branch (e.g. "approved")."""

    source: str
    target: str
    label: str | None


@dataclass(frozen=True)
class GraphOutline:
    """The nodes and edges LangGraph reports for a workflow, and its Mermaid text."""

    nodes: tuple[str, ...]
    edges: tuple[GraphEdge, ...]
    mermaid: str


@cache
def workflow_outline(name: str) -> GraphOutline:
    """The drawn graph of the workflow called `name` (computed once per process)."""
    drawable = build_workflow_graph(get_workflow(name)).get_graph()
    edges = tuple(
        GraphEdge(edge.source, edge.target, str(edge.data) if edge.conditional else None)
        for edge in drawable.edges
    )
    return GraphOutline(nodes=tuple(drawable.nodes), edges=edges, mermaid=drawable.draw_mermaid())
