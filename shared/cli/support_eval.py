"""`controlroom support eval`: run messages through the same graph the support function runs.

Each message ({"id", "message", ...} per line) gets one JSON object with id, intent, urgent,
escalate, escalation_reason, confidence, citations and answer. With labels (intent, urgent,
escalate, expected_articles) `score` computes intent accuracy, escalation recall and
precision, urgent recall and retrieval hit@3.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shared.agents.support_conversation import SupportContext, build_graph
from shared.core.agent_settings import resolve_agent_settings
from shared.kb.confidence import expected_calibration_error
from shared.kb.embeddings import WordLlamaEmbedder
from shared.kb.ingest import ingest_directory
from shared.kb.memory import InMemoryKnowledgeStore
from shared.kb.retrieval import KnowledgeBase
from shared.llm.offline import OfflineLLM
from shared.llm.types import LLM


def evaluate_messages(
    messages: Iterable[dict[str, Any]], kb_dir: Path, llm: LLM | None = None
) -> list[dict[str, Any]]:
    """Ingest kb_dir into a fresh in-memory store and run every message through the graph."""
    store = InMemoryKnowledgeStore()
    embedder = WordLlamaEmbedder()
    ingest_directory(kb_dir, store, embedder)
    settings = resolve_agent_settings("support_reply")
    context = SupportContext(
        kb=KnowledgeBase(store, embedder), llm=llm or OfflineLLM(), settings=settings
    )
    graph = build_graph()
    results = []
    for message in messages:
        question = {"question": message["message"], "thread": message.get("thread", [])}
        state = graph.invoke(question, context=context)
        passages = state.get("passages", [])
        answer = state.get("answer") if not state.get("escalation_reason") else None
        cited = sorted({p["source"] for p in passages if answer and f"[{p['n']}]" in answer})
        results.append(
            {
                "id": message["id"],
                "intent": state["classification"]["intent"],
                "urgent": state["classification"]["urgent"],
                "escalate": bool(state.get("escalation_reason")),
                "escalation_reason": state.get("escalation_reason"),
                "confidence": state.get("confidence"),
                "citations": cited,
                "retrieved": [p["source"] for p in passages],
                "answer": answer,
            }
        )
    return results


def score(labelled: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy, recall and precision of the results against the labels.

    `right_article`: of the labelled-answerable messages the agent answered, the share whose
    answer cites an expected article (the article the answer is built on, not a hit@3).
    `calibration_error`: the expected calibration error of `confidence` as the chance that
    the best article is an expected one (every message counts; none answers unanswerable ones).
    """
    by_id = {r["id"]: r for r in results}
    pairs = [(m, by_id[m["id"]]) for m in labelled]
    n = len(pairs)
    escalate_true = [r["escalate"] for m, r in pairs if m["escalate"]]
    escalated = [m["escalate"] for m, r in pairs if r["escalate"]]
    urgent = [r["escalate"] for m, r in pairs if m["urgent"]]
    answerable = [(m, r) for m, r in pairs if m.get("expected_articles")]
    hits = [bool(set(r["retrieved"]) & set(m["expected_articles"])) for m, r in answerable]
    answered = [(m, r) for m, r in answerable if r["answer"]]
    right = [bool(set(r["citations"]) & set(m["expected_articles"])) for m, r in answered]
    best_right = [
        bool(r["retrieved"]) and r["retrieved"][0] in m.get("expected_articles", [])
        for m, r in pairs
    ]
    intents = ("support", "billing", "sales", "general")
    confusion = {
        truth: {
            guess: sum(1 for m, r in pairs if (m["intent"], r["intent"]) == (truth, guess))
            for guess in intents
        }
        for truth in intents
    }
    languages: dict[str, dict[str, Any]] = {}
    for language in sorted({m.get("language", "en") for m, _ in pairs}):
        group = [(m, r) for m, r in pairs if m.get("language", "en") == language]
        languages[language] = {
            "messages": len(group),
            "intent_accuracy": _ratio(
                sum(m["intent"] == r["intent"] for m, r in group), len(group)
            ),
            "escalated": sum(1 for _, r in group if r["escalate"]),
            "labelled_escalate": sum(1 for m, _ in group if m["escalate"]),
        }
    return {
        "messages": n,
        "intent_accuracy": round(sum(m["intent"] == r["intent"] for m, r in pairs) / n, 3),
        "escalation_recall": _ratio(sum(escalate_true), len(escalate_true)),
        "escalation_precision": _ratio(sum(escalated), len(escalated)),
        "urgent_escalated": f"{sum(urgent)}/{len(urgent)}",
        "urgent_recall": _ratio(sum(urgent), len(urgent)),
        "retrieval_hit_at_3": _ratio(sum(hits), len(hits)),
        "right_article": _ratio(sum(right), len(right)),
        "answered_answerable": f"{len(answered)}/{len(answerable)}",
        "calibration_error": expected_calibration_error(
            [float(r["confidence"] or 0.0) for _, r in pairs], best_right
        ),
        "intent_confusion": confusion,
        "by_language": languages,
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def add_support_parser(subparsers: Any) -> None:
    """`support eval MESSAGES.jsonl --kb DIR [--json] [--score]`."""
    support = subparsers.add_parser("support", help="the support agent, offline")
    commands = support.add_subparsers(dest="support_command", required=True)
    evaluate = commands.add_parser("eval", help="run labelled messages through the support graph")
    evaluate.add_argument("messages", type=Path)
    evaluate.add_argument("--kb", type=Path, required=True, help="folder of articles")
    evaluate.add_argument("--json", action="store_true", help="one JSON object per message")
    evaluate.add_argument("--score", action="store_true", help="print metrics against labels")
    compare = commands.add_parser(
        "compare", help="score several labelled sets side by side (MESSAGES.jsonl:KB_DIR ...)"
    )
    compare.add_argument("sets", nargs="+", help="MESSAGES.jsonl:KB_DIR, one per help centre")


SIDE_BY_SIDE = (
    "messages",
    "intent_accuracy",
    "urgent_recall",
    "escalation_recall",
    "escalation_precision",
    "right_article",
    "answered_answerable",
    "retrieval_hit_at_3",
    "calibration_error",
)


def compare_sets(sets: list[str]) -> str:
    """A table of each set's scores, one column per set, then each set's confusion matrix
    and per-language figures."""
    scored = []
    for spec in sets:
        messages_path, _, kb_dir = spec.partition(":")
        if not kb_dir:
            raise SystemExit(f"{spec!r}: expected MESSAGES.jsonl:KB_DIR")
        lines = Path(messages_path).read_text(encoding="utf-8").splitlines()
        messages = [json.loads(line) for line in lines if line.strip()]
        scored.append((messages_path, score(messages, evaluate_messages(messages, Path(kb_dir)))))
    width = max(len(name) for name, _ in scored) + 2
    out = ["metric".ljust(24) + "".join(name.ljust(width) for name, _ in scored)]
    for metric in SIDE_BY_SIDE:
        out.append(metric.ljust(24) + "".join(str(s[metric]).ljust(width) for _, s in scored))
    for name, s in scored:
        out.append(f"\n{name}: intent confusion (rows: labelled, columns: answered)")
        intents = list(s["intent_confusion"])
        out.append(" " * 10 + "".join(i.ljust(9) for i in intents))
        for truth, row in s["intent_confusion"].items():
            out.append(truth.ljust(10) + "".join(str(row[i]).ljust(9) for i in intents))
        for language, figures in s["by_language"].items():
            out.append(f"  {language}: {figures}")
    return "\n".join(out)


def run_support(args: argparse.Namespace) -> int:
    """Run `support eval` or `support compare`."""
    if args.support_command == "compare":
        print(compare_sets(args.sets))
        return 0
    lines = args.messages.read_text(encoding="utf-8").splitlines()
    messages = [json.loads(line) for line in lines if line.strip()]
    results = evaluate_messages(messages, args.kb)
    if args.score:
        print(json.dumps(score(messages, results), indent=2))
        return 0
    for result in results:
        shown = {k: v for k, v in result.items() if k != "retrieved"}
        print(json.dumps(shown, ensure_ascii=False) if args.json else f"{shown['id']}: {shown}")
    sys.stdout.flush()
    return 0
