"""Pure parts of the benchmark cases: the generated retrieval corpus, token counting and the
cost projection, and the end-to-end hop and floor arithmetic."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bench.end_to_end import HOPS, floor_seconds, hop_seconds
from bench.llm_cost import (
    CountingOpenAI,
    RecordingOfflineLLM,
    Spend,
    count_chat_tokens,
    monthly_cost,
)
from bench.retrieval import BRAND, RawBm25, paraphrase, shop_name, vary_chunks
from bench.send_limits import most_in_window
from shared.core.documents import RunDoc, TaskDoc
from shared.core.models import RunStatus, TaskStatus
from shared.kb.evaluation import evaluate_retrieval, load_eval_messages
from shared.kb.ingest import BUNDLED_ARTICLES, chunk_article, load_articles
from shared.kb.models import Chunk
from shared.kb.retrieval import BM25Index
from shared.llm.pipeline import ProviderLLM
from shared.llm.ports import ProviderCall, ProviderReply
from shared.llm.pricing import DEFAULT_PRICES
from shared.llm.types import CompletionRequest
from tests.helpers.fakes.openai_api import CHAT_PATH
from tests.helpers.fakes.recording_server import RecordedRequest

AT = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def real_chunks() -> list[Chunk]:
    return [c for article in load_articles(BUNDLED_ARTICLES) for c in chunk_article(article)]


def words(text: str) -> int:
    return len(text.split())


# --- retrieval ---------------------------------------------------------------------------


def test_the_corpus_is_the_real_chunks_then_paraphrased_copies(real_chunks: list[Chunk]) -> None:
    corpus = vary_chunks(real_chunks, 300)

    assert len(corpus) == 300
    assert corpus[: len(real_chunks)] == real_chunks
    assert len({c.chunk_id for c in corpus}) == 300
    copies = corpus[len(real_chunks) :]
    assert {c.source for c in copies} <= {c.source for c in real_chunks}
    assert all(BRAND not in c.text and BRAND not in c.title for c in copies)
    assert [c.text for c in corpus] == [c.text for c in vary_chunks(real_chunks, 300)]
    assert [c.text for c in corpus] != [c.text for c in vary_chunks(real_chunks, 300, seed=1)]


def test_a_paraphrase_renames_the_shop_and_keeps_the_lines() -> None:
    import random

    text = "Northwind refunds your order. We email you. It takes days.\nSecond line here."

    rewritten = paraphrase(text, random.Random(3), shop_name(12))

    assert "Northwind" not in rewritten and shop_name(12) in rewritten
    assert len(rewritten.split("\n")) == 2
    assert shop_name(0) == BRAND and shop_name(1) != shop_name(2)


def test_both_retrievers_find_the_right_articles_on_the_bundled_chunks(
    real_chunks: list[Chunk],
) -> None:
    messages = load_eval_messages()

    ours = evaluate_retrieval(BM25Index(real_chunks), messages)
    raw = evaluate_retrieval(RawBm25(real_chunks), messages)

    assert ours["n"] == raw["n"] > 50
    assert ours["hit_at_3"] > 0.8 and raw["hit_at_3"] > 0.6
    hits = RawBm25(real_chunks).search("how long do refunds take", 3)
    assert [h.rank for h in hits] == [1, 2, 3]
    assert "refunds.md" in {h.chunk.source for h in hits}


# --- llm cost ----------------------------------------------------------------------------


def test_chat_tokens_follow_openais_recipe_plus_the_schema() -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    schema = {"type": "json_schema", "json_schema": {"name": "Draft"}}

    plain = count_chat_tokens(messages, None, words)
    structured = count_chat_tokens(messages, schema, words)

    assert plain == 3 + (3 + 1 + 2) + (3 + 1 + 1)
    assert structured == plain + words(json.dumps({"name": "Draft"}))


def test_a_month_is_four_weekly_runs_and_a_thousand_conversations() -> None:
    assert monthly_cost(0.01, 0.002) == pytest.approx(4 * 0.01 + 1000 * 0.002)
    assert monthly_cost(0.01, 0.002, weekly_runs=5, conversations=10) == pytest.approx(0.07)


class ServerBackedChat:
    """A ChatProvider whose calls are answered by CountingOpenAI's request handler."""

    name = "openai"

    def __init__(self, server: CountingOpenAI) -> None:
        self.server = server

    def chat(self, call: ProviderCall) -> ProviderReply:
        body = {
            "model": call.model,
            "messages": [
                {"role": "system", "content": call.system},
                {"role": "user", "content": call.prompt},
            ],
        }
        reply = self.server.answer(
            RecordedRequest("POST", CHAT_PATH, {}, json.dumps(body).encode())
        )
        usage = reply.body["usage"]
        return ProviderReply(
            reply.body["choices"][0]["message"]["content"],
            usage["prompt_tokens"],
            usage["completion_tokens"],
        )


def test_the_server_answers_the_pipelines_masked_request_with_the_offline_text() -> None:
    request = CompletionRequest(
        system="You write short notes.",
        prompt="Thank ana@example.com for order 42.",
        facts={"who": "ana@example.com"},
        offline_template="Thanks, {{ who }}, for your order.",
    )
    recorder = RecordingOfflineLLM(mask_pii=True)
    offline = recorder.complete(request)
    server = CountingOpenAI(recorder.answers, words)
    llm = ProviderLLM(
        ServerBackedChat(server),
        {"smart": "gpt-4o", "fast": "gpt-4o-mini"},
        prices=DEFAULT_PRICES,
        timeout_s=5,
        mask_pii=True,
    )

    completion = llm.complete(request)

    [call] = server.calls
    assert call.matched and call.model == "gpt-4o"
    assert completion.text == offline.text == "Thanks, ana@example.com, for your order."
    assert (completion.tokens_in, completion.tokens_out) == (call.tokens_in, call.tokens_out)
    spend = Spend.of(server.calls, DEFAULT_PRICES)
    assert spend.usd == completion.cost_usd and spend.unmatched == 0


def test_an_unknown_prompt_is_answered_but_counted_as_unmatched() -> None:
    server = CountingOpenAI({}, words)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "new"}]}

    reply = server.answer(RecordedRequest("POST", CHAT_PATH, {}, json.dumps(body).encode()))

    assert reply.status == 200
    assert Spend.of(server.calls, DEFAULT_PRICES).unmatched == 1
    assert server.answer(RecordedRequest("GET", "/v1/models", {}, b"")).status == 404


# --- end to end --------------------------------------------------------------------------


def test_a_runs_time_is_split_into_hops_from_its_documents() -> None:
    run = RunDoc(
        run_id="weekly_gtm-1",
        workflow="weekly_gtm",
        trigger="schedule",
        status=RunStatus.SUCCEEDED,
        task_count=2,
        created_at=AT + timedelta(seconds=0.1),
        finished_at=AT + timedelta(seconds=2.0),
    )
    tasks = [
        TaskDoc(
            run_id=run.run_id,
            task_id=name,
            agent=name,
            status=TaskStatus.SUCCEEDED,
            created_at=run.created_at,
            started_at=AT + timedelta(seconds=start),
            finished_at=AT + timedelta(seconds=end),
        )
        for name, start, end in (("finance", 0.2, 1.0), ("insights", 0.3, 1.7))
    ]

    hops = hop_seconds(AT, run, tasks)

    assert hops == pytest.approx(
        {
            "total": 2.0,
            "schedule_to_run_created": 0.1,
            "run_created_to_last_agent_start": 0.2,
            "slowest_agent_work": 1.4,
            "last_agent_done_to_run_done": 0.3,
        }
    )
    with pytest.raises(ValueError, match="not finished"):
        hop_seconds(AT, run.model_copy(update={"finished_at": None}), tasks)


def test_the_floor_is_one_delivery_commit_and_graph_per_hop() -> None:
    assert HOPS == 3
    assert floor_seconds(0.05, 0.004, 0.001) == pytest.approx(3 * 0.055)
    assert floor_seconds(0.05, 0.004, 0.001, hops=1) == pytest.approx(0.055)


def test_the_most_sends_in_any_window_slides_over_every_start() -> None:
    sends = [0.0, 0.5, 1.0, 30.0, 59.9, 60.0, 61.0, 119.0]

    assert most_in_window(sends, 60.0) == 5  # 0.0 .. 59.9; 60.0 starts the next window
    assert most_in_window(sends, 1.0) == 2  # 0.0 and 0.5, or 59.9 and 60.0
    assert most_in_window(list(reversed(sends)), 60.0) == 5  # the order they came in
    assert most_in_window([], 60.0) == 0
