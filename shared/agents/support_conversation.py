"""The support agent's conversation graph: read → retrieve → classify → check → generate ⇄ validate.

`read` takes the message in its thread: its language, and what to search for. A short
follow-up ("and to Austria?") is searched and classified together with the customer's
previous turn, so it is understood in context; the answer prompt gets the last turns too.

The graph decides; it has no side effects. The use case (shared/app/answer_message.py)
sends the reply through an effect record (shared.core.effects) or escalates, so a redelivery never
acts twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol, TypedDict

import numpy as np
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from shared.core.agent_settings import AgentSettings
from shared.kb.embeddings import WordLlamaEmbedder
from shared.kb.retrieval import Retrieval
from shared.llm.templates import render
from shared.llm.types import LLM, CompletionRequest
from shared.support.classify import classify_message
from shared.support.escalation import EscalationPolicy, escalation_reason
from shared.support.intent_model import IntentModel, load_training
from shared.support.language import detect_language, language_name
from shared.support.validate import validate_answer

PASSAGES = 3
THREAD_TURNS = 6  # the earlier turns the graph reads (and the answer prompt gets)
FOLLOW_UP_WORDS = 6  # a message of at most this many words after a turn is a follow-up
OUT_OF_SCOPE_REPLY = (
    "Thanks for your message! I can help with questions about orders, delivery, returns, "
    "payments and your account. What can I do for you?"
)


class Retriever(Protocol):
    """The knowledge base, as the graph sees it."""

    def retrieve(self, query: str, k: int = 3) -> Retrieval:
        """The best passages for the query, with a confidence in [0, 1]."""
        ...


class SupportState(TypedDict, total=False):
    """What flows through the conversation graph."""

    question: str
    thread: list[dict[str, str]]  # earlier turns, oldest first: {"role", "text"}
    language: str  # ISO 639-1
    query: str  # what retrieval and intent read: the question, in context when a follow-up
    classification: dict[str, Any]
    passages: list[dict[str, Any]]
    confidence: float
    coverage: float  # the share of the question's IDF weight found in the best article
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


_PLEASANTRY = re.compile(
    r"^\W*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|thanks?(?: you)?|thank you"
    r"(?: so much| very much)?|thx|cheers|great|perfect|ok(?:ay)?|bye|goodbye|have a nice day"
    r"|hallo|bonjour|hola|ciao|danke|merci|gracias|grazie|dank je)\b",
    re.IGNORECASE,
)


def _pleasantry(text: str) -> bool:
    """A short greeting or thank-you with no question in it."""
    return bool(_PLEASANTRY.match(text)) and len(re.findall(r"\w+", text)) <= 8 and "?" not in text


def _excerpt(text: str, heading: str | None, sentences: int = 2) -> str:
    body = text.strip()
    if heading and body.startswith(heading):
        body = body[len(heading) :].strip()
    parts = re.split(r"(?<=[.!?])\s+", body)
    return " ".join(parts[:sentences])


@cache
def bundled_intent_model() -> IntentModel:
    """The intent model fitted on the shipped training messages with WordLlama embeddings."""
    embedder = WordLlamaEmbedder()
    messages = load_training()

    def embed(texts: Sequence[str]) -> np.ndarray:
        return np.asarray(embedder.embed_documents(texts), dtype=float)

    return IntentModel.fit(
        [str(m["message"]) for m in messages],
        [str(m["intent"]) for m in messages],
        [bool(m.get("negative")) for m in messages],
        embed,
    )


def read(state: SupportState, runtime: Runtime[SupportContext]) -> dict[str, Any]:
    """The message's language, and the query: with the previous customer turn when the
    message is a short follow-up in a thread."""
    thread = list(state.get("thread") or [])[-THREAD_TURNS:]
    earlier = [t["text"] for t in thread if t.get("role") == "customer" and t.get("text")]
    default = detect_language(earlier[-1]) if earlier else "en"
    question = state["question"]
    language = detect_language(question, default=default)
    words = re.findall(r"\w+", question)
    follow_up = bool(earlier) and len(words) <= FOLLOW_UP_WORDS
    query = f"{earlier[-1]} {question}" if follow_up else question
    return {"thread": thread, "language": language, "query": query}


def classify(state: SupportState, runtime: Runtime[SupportContext]) -> dict[str, Any]:
    """Intent from the intent model (or an intent the shop declared for the best article),
    urgency, sentiment and whether a person is asked for from rules.

    Runs after retrieval. Which intent wins: the intent the support policy declares for the
    best article, when retrieval is confident (an operator's choice for their own help
    centre; none is needed); else the model's, when it is sure enough
    (`intent_min_probability`); else the keyword rules'.
    """
    values = runtime.context.settings.policy.values
    passages = state.get("passages", [])
    article_intent = None
    if passages and state["confidence"] >= float(values.get("article_min_confidence", 0.3)):
        article_intent = values.get("article_intents", {}).get(passages[0]["source"])
    classification = classify_message(state["question"], article_intent)
    if article_intent is None:
        guess = bundled_intent_model().guess(state.get("query") or state["question"])
        if guess.probability >= float(values.get("intent_min_probability", 0.5)):
            classification = classification.model_copy(update={"intent": guess.intent})
    return {"classification": classification.model_dump()}


def retrieve(state: SupportState, runtime: Runtime[SupportContext]) -> dict[str, Any]:
    """The passages of the knowledge base that best match the message."""
    found = runtime.context.kb.retrieve(state.get("query") or state["question"], PASSAGES)
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
    coverage = found.evidence.coverage if found.evidence else found.confidence
    return {
        "passages": passages,
        "confidence": round(found.confidence, 3),
        "coverage": round(coverage, 3),
    }


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
    min_coverage = float(runtime.context.settings.policy.values.get("min_coverage", 0.0))
    if state.get("passages") and state.get("coverage", 1.0) < min_coverage:
        # Until the confidence is calibrated on more than one help centre, the lexical
        # coverage the agent used before still has a veto: it hands off at least as often.
        confidence = min(confidence, float(state.get("coverage", 0.0)))
    reason = escalation_reason(state["question"], classification, confidence, policy)
    low_confidence_only = escalation_reason(state["question"], classification, 1.0, policy) is None
    if reason and low_confidence_only and _pleasantry(state["question"]):
        # A greeting or a thank-you: nothing for a person to do; the agent says what it can
        # help with instead of citing a wrong article.
        values = runtime.context.settings.policy.values
        return {
            "escalation_reason": None,
            "passages": [],
            "answer": str(values.get("out_of_scope_reply", OUT_OF_SCOPE_REPLY)),
        }
    language = state.get("language", "en")
    if reason and language != "en" and reason.startswith("low retrieval confidence"):
        # The help centre is searched in its own language; say which one the customer used.
        reason = f"written in {language_name(language)} ({language}); {reason}"
    return {"escalation_reason": reason}


def generate(state: SupportState, runtime: Runtime[SupportContext]) -> dict[str, Any]:
    """Draft an answer grounded in the passages, citing them as [n]."""
    prompts = runtime.context.settings.prompts
    facts = {
        "question": state["question"],
        "thread": state.get("thread", []),
        "language": state.get("language", "en"),
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
    language = state.get("language", "en")
    if language != "en" and state.get("completion", {}).get("offline"):
        # The offline writer quotes the English help centre; a person answers in kind.
        name = language_name(language)
        update["escalation_reason"] = (
            f"written in {name} ({language}); the offline writer answers in English only"
        )
        return update
    attempts_left = state["attempts"] < int(values.get("max_generation_attempts", 2))
    if problems and not attempts_left:
        update["escalation_reason"] = "no valid answer: " + "; ".join(problems)
    return update


def _after_check(state: SupportState) -> str:
    return END if state.get("escalation_reason") or state.get("answer") else "generate"


def _after_validate(state: SupportState) -> str:
    return "generate" if state.get("problems") and not state.get("escalation_reason") else END


def build_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the conversation graph (once per process, never at import)."""
    graph = StateGraph(SupportState, context_schema=SupportContext)
    for name, node in (
        ("read", read),
        ("retrieve", retrieve),
        ("classify", classify),
        ("check", check),
        ("generate", generate),
        ("validate", validate),
    ):
        graph.add_node(name, node)
    graph.add_edge(START, "read")
    graph.add_edge("read", "retrieve")
    graph.add_edge("retrieve", "classify")
    graph.add_edge("classify", "check")
    graph.add_conditional_edges("check", _after_check, ["generate", END])
    graph.add_edge("generate", "validate")
    graph.add_conditional_edges("validate", _after_validate, ["generate", END])
    return graph.compile(name="support_conversation")
