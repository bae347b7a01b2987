"""The support agent's conversation graph: retrieve → classify → check → generate ⇄ validate.

The graph decides; it has no side effects. The use case (shared/app/answer_message.py)
sends the reply through an effect record (shared.core.effects) or escalates, so a redelivery never
acts twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from shared.core.agent_settings import AgentSettings
from shared.kb.retrieval import Retrieval
from shared.llm.templates import render
from shared.llm.types import LLM, CompletionRequest
from shared.support.classify import classify_message
from shared.support.escalation import EscalationPolicy, escalation_reason
from shared.support.validate import validate_answer

PASSAGES = 3


class Retriever(Protocol):
    """The knowledge base, as the graph sees it."""

    def retrieve(self, query: str, k: int = 3) -> Retrieval:
        """The best passages for the query, with a confidence in [0, 1]."""
        ...


class SupportState(TypedDict, total=False):
    """What flows through the conversation graph."""

    question: str
    classification: dict[str, Any]
    passages: list[dict[str, Any]]
    confidence: float
    escalation_reason: str | None
    answer: str
    problems: list[str]
    attempts: int
    completion: dict[str, Any]


@dataclass(frozen=True)
class SupportContext:
    """Dependencies of the graph."""

    kb: Retriever
    llm: LLM
    settings: AgentSettings


def _excerpt(text: str, heading: str | None, sentences: int = 2) -> str:
    body = text.strip()
    if heading and body.startswith(heading):
        body = body[len(heading) :].strip()
    parts = re.split(r"(?<=[.!?])\s+", body)
    return " ".join(parts[:sentences])


def classify(state: SupportState, runtime: Runtime[SupportContext]) -> dict[str, Any]:
    """Intent, urgency, sentiment and whether a human is asked for (rules, deterministic).

    Runs after retrieval: the best article's declared intent is the strongest signal.
    """
    values = runtime.context.settings.policy.values
    passages = state.get("passages", [])
    article_intent = None
    if passages and state["confidence"] >= float(values.get("article_min_confidence", 0.15)):
        article_intent = values.get("article_intents", {}).get(passages[0]["source"])
    return {"classification": classify_message(state["question"], article_intent).model_dump()}


def retrieve(state: SupportState, runtime: Runtime[SupportContext]) -> dict[str, Any]:
    """The passages of the knowledge base that best match the message."""
    found = runtime.context.kb.retrieve(state["question"], PASSAGES)
    passages = [
        {
            "n": hit.rank,
            "source": hit.chunk.source,
            "title": hit.chunk.title,
            "text": hit.chunk.text,
            "excerpt": _excerpt(hit.chunk.text, hit.chunk.heading),
        }
        for hit in found.hits
    ]
    return {"passages": passages, "confidence": round(found.confidence, 3)}


def check(state: SupportState, runtime: Runtime[SupportContext]) -> dict[str, Any]:
    """Whether a person must answer, and why."""
    from shared.support.classify import Classification

    policy = EscalationPolicy.model_validate(
        {
            k: v
            for k, v in runtime.context.settings.policy.values.items()
            if k in EscalationPolicy.model_fields
        }
    )
    classification = Classification.model_validate(state["classification"])
    confidence = state["confidence"] if state.get("passages") else 0.0
    reason = escalation_reason(state["question"], classification, confidence, policy)
    return {"escalation_reason": reason}


def generate(state: SupportState, runtime: Runtime[SupportContext]) -> dict[str, Any]:
    """Draft an answer grounded in the passages, citing them as [n]."""
    prompts = runtime.context.settings.prompts
    facts = {
        "question": state["question"],
        "passages": state["passages"],
        "intent": state["classification"]["intent"],
        "problems": state.get("problems", []),
    }
    request = CompletionRequest(
        system=prompts.system,
        prompt=render(prompts.prompt, facts),
        facts=facts,
        tier=prompts.tier,
        agent="support",
        offline_template=prompts.offline,
    )
    completion = runtime.context.llm.complete(request)
    return {
        "answer": completion.text,
        "attempts": state.get("attempts", 0) + 1,
        "completion": completion.model_dump(exclude={"text"}),
    }


def validate(state: SupportState, runtime: Runtime[SupportContext]) -> dict[str, Any]:
    """Every citation exists, no figure/URL/promise beyond the passages, length and tone."""
    values = runtime.context.settings.policy.values
    problems = validate_answer(
        state["answer"],
        [p["text"] for p in state["passages"]],
        int(values.get("max_answer_chars", 900)),
    )
    update: dict[str, Any] = {"problems": problems}
    attempts_left = state["attempts"] < int(values.get("max_generation_attempts", 2))
    if problems and not attempts_left:
        update["escalation_reason"] = "no valid answer: " + "; ".join(problems)
    return update


def _after_check(state: SupportState) -> str:
    return END if state.get("escalation_reason") else "generate"


def _after_validate(state: SupportState) -> str:
    return "generate" if state.get("problems") and not state.get("escalation_reason") else END


def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the conversation graph (once per process, never at import)."""
    graph = StateGraph(SupportState, context_schema=SupportContext)
    for name, node in (
        ("retrieve", retrieve),
        ("classify", classify),
        ("check", check),
        ("generate", generate),
        ("validate", validate),
    ):
        graph.add_node(name, node)
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "classify")
    graph.add_edge("classify", "check")
    graph.add_conditional_edges("check", _after_check, ["generate", END])
    graph.add_edge("generate", "validate")
    graph.add_conditional_edges("validate", _after_validate, ["generate", END])
    return graph.compile(name="support_conversation")
