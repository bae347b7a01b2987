"""Embedders: the offline hashing embedder, and the SDK-backed ones against fake clients."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import httpx2
import numpy as np
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from pydantic import SecretStr

from shared.cli.kb import add_kb_parser
from shared.kb.embeddings import (
    HashingEmbedder,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    VertexEmbedder,
    WordLlamaEmbedder,
)
from shared.llm.errors import LlmRequestError, LlmTransientError
from shared.wiring.kb import build_embedder
from shared.wiring.settings import Settings


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    text = "Refunds are issued within 3 business days"

    first = HashingEmbedder().embed_query(text)
    second = HashingEmbedder().embed_documents(["other", text])[1]

    assert first == second
    assert len(first) == 256
    assert math.fsum(x * x for x in first) == pytest.approx(1.0)
    assert HashingEmbedder().name == "hashing-bow-256"


def test_hashing_embedder_is_lexical() -> None:
    embedder = HashingEmbedder()
    refund, refunded, weather = embedder.embed_documents(
        ["when do I get my refund", "my order was refunded", "sunny weather in Dublin"]
    )

    assert _cosine(refund, refunded) > 0.3 > _cosine(refund, weather)
    assert embedder.embed_query("") == [0.0] * 256  # no words, no direction


def test_dimensions_must_fit_firestore() -> None:
    with pytest.raises(ValueError):
        HashingEmbedder(4096)
    with pytest.raises(ValueError):  # 3072 dimensions unless shortened
        OpenAIEmbedder(cast(openai.OpenAI, object()), "text-embedding-3-large")


@dataclass
class FakeOpenAIEmbeddings:
    """`client.embeddings` of the openai SDK: records requests, answers in reverse order."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    error: Exception | None = None

    def create(self, **request: Any) -> Any:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        data = [
            SimpleNamespace(index=i, embedding=[float(len(text)), float(i)])
            for i, text in enumerate(request["input"])
        ]
        return SimpleNamespace(data=list(reversed(data)))


def _openai(fake: FakeOpenAIEmbeddings) -> openai.OpenAI:
    return cast(openai.OpenAI, SimpleNamespace(embeddings=fake))


def test_openai_embedder_batches_and_keeps_input_order() -> None:
    fake = FakeOpenAIEmbeddings()
    embedder = OpenAIEmbedder(_openai(fake), "text-embedding-3-small", dimensions=2, batch_size=2)

    vectors = embedder.embed_documents(["a", "bb", "ccc"])

    assert vectors == [[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]]
    assert [r["input"] for r in fake.requests] == [["a", "bb"], ["ccc"]]
    assert {r["dimensions"] for r in fake.requests} == {2}
    assert embedder.name == "openai:text-embedding-3-small@2"


def test_openai_embedder_at_native_size_sends_no_dimensions() -> None:
    fake = FakeOpenAIEmbeddings()
    embedder = OpenAIEmbedder(_openai(fake))

    embedder.embed_query("hello")

    assert "dimensions" not in fake.requests[0]
    assert embedder.dimensions == 1536


def _openai_error(status: int) -> openai.APIStatusError:
    request = httpx2.Request("POST", "https://api.openai.com/v1/embeddings")
    response = httpx2.Response(status, request=request)
    return openai.APIStatusError(f"HTTP {status}", response=response, body=None)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_openai_error(429), LlmTransientError),
        (_openai_error(503), LlmTransientError),
        (_openai_error(401), LlmRequestError),
        (openai.APIConnectionError(request=httpx2.Request("POST", "https://x")), LlmTransientError),
    ],
)
def test_openai_errors_become_llm_errors(error: Exception, expected: type[Exception]) -> None:
    embedder = OpenAIEmbedder(_openai(FakeOpenAIEmbeddings(error=error)))

    with pytest.raises(expected):
        embedder.embed_query("hello")


@dataclass
class FakeVertexModels:
    """`client.models` of google-genai: answers each text with [len(text), ...]."""

    dimensions: int
    requests: list[tuple[str, list[str], Any]] = field(default_factory=list)
    drop_one: bool = False
    error: Exception | None = None

    def embed_content(self, *, model: str, contents: list[str], config: Any) -> Any:
        self.requests.append((model, contents, config))
        if self.error is not None:
            raise self.error
        texts = contents[:-1] if self.drop_one else contents
        values = [[float(len(t))] * self.dimensions for t in texts]
        return SimpleNamespace(embeddings=[SimpleNamespace(values=v) for v in values])


def _vertex(fake: FakeVertexModels) -> genai.Client:
    return cast(genai.Client, SimpleNamespace(models=fake))


def test_vertex_embedder_uses_task_types_and_batches() -> None:
    fake = FakeVertexModels(dimensions=4)
    embedder = VertexEmbedder(_vertex(fake), "text-embedding-005", dimensions=4, batch_size=2)

    documents = embedder.embed_documents(["a", "bb", "ccc"])
    query = embedder.embed_query("dddd")

    assert documents == [[1.0] * 4, [2.0] * 4, [3.0] * 4] and query == [4.0] * 4
    assert [(m, c) for m, c, _ in fake.requests] == [
        ("text-embedding-005", ["a", "bb"]),
        ("text-embedding-005", ["ccc"]),
        ("text-embedding-005", ["dddd"]),
    ]
    configs = [config for _, _, config in fake.requests]
    assert [c.task_type for c in configs] == ["RETRIEVAL_DOCUMENT"] * 2 + ["RETRIEVAL_QUERY"]
    assert {c.output_dimensionality for c in configs} == {4}


def test_vertex_gemini_embedding_sends_one_text_per_request() -> None:
    fake = FakeVertexModels(dimensions=8)

    VertexEmbedder(_vertex(fake), "gemini-embedding-001", 8).embed_documents(["a", "b"])

    assert [c for _, c, _ in fake.requests] == [["a"], ["b"]]


def test_vertex_answers_of_the_wrong_shape_or_errors_are_refused() -> None:
    short = VertexEmbedder(_vertex(FakeVertexModels(4, drop_one=True)), dimensions=4)
    busy = genai_errors.APIError(503, {"error": {"code": 503, "message": "busy"}})
    unavailable = VertexEmbedder(_vertex(FakeVertexModels(4, error=busy)), dimensions=4)
    bad = genai_errors.APIError(400, {"error": {"code": 400, "message": "bad model"}})
    refused = VertexEmbedder(_vertex(FakeVertexModels(4, error=bad)), dimensions=4)

    with pytest.raises(LlmRequestError):
        short.embed_documents(["a", "b"])
    with pytest.raises(LlmTransientError):
        unavailable.embed_query("a")
    with pytest.raises(LlmRequestError):
        refused.embed_query("a")


class FakeSentenceModel:
    """The two methods of a sentence_transformers.SentenceTransformer that are used."""

    def get_sentence_embedding_dimension(self) -> int:
        return 2

    def encode(self, texts: list[str], normalize_embeddings: bool) -> list[list[float]]:
        assert normalize_embeddings
        return [[0.6, 0.8] for _ in texts]


def test_sentence_transformer_embedder_with_an_injected_model() -> None:
    embedder = SentenceTransformerEmbedder("tiny-model", model=FakeSentenceModel())

    assert embedder.embed_query("x") == [0.6, 0.8]
    assert (embedder.name, embedder.dimensions) == ("local:tiny-model", 2)


def test_build_embedder_follows_the_settings() -> None:
    nothing = Settings(llm_openai_api_key=None, llm_vertex_location=None)
    with_key = Settings(llm_openai_api_key=SecretStr("sk-test"), llm_vertex_location=None)
    with_vertex = Settings(llm_openai_api_key=None, llm_vertex_location="europe-west1")

    assert isinstance(build_embedder(nothing), WordLlamaEmbedder)  # semantic without a key
    assert isinstance(build_embedder(with_key), OpenAIEmbedder)
    assert isinstance(build_embedder(with_vertex), VertexEmbedder)
    assert isinstance(build_embedder(nothing, "hashing", dimensions=64), HashingEmbedder)
    assert build_embedder(with_key, "none") is None
    assert build_embedder(nothing, "none") is None
    with pytest.raises(ValueError):
        build_embedder(nothing, "vertex")


def test_cli_parser_accepts_ingest_and_search() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="controlroom")
    add_kb_parser(parser.add_subparsers(dest="command", required=True))

    ingest = parser.parse_args(["kb", "ingest", "kb/articles", "--embedder", "hashing"])
    search = parser.parse_args(["kb", "search", "where is my parcel", "-k", "5"])

    assert (ingest.command, ingest.kb_command, str(ingest.directory)) == (
        "kb",
        "ingest",
        "kb/articles",
    )
    assert (ingest.embedder, ingest.max_chars, ingest.overlap) == ("hashing", 800, 120)
    assert (search.kb_command, search.query, search.k, search.embedder) == (
        "search",
        "where is my parcel",
        5,
        "auto",
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["kb", "ingest", "dir", "--embedder", "magic"])


def test_wordllama_embeds_meaning_offline_from_its_own_package() -> None:
    embedder = WordLlamaEmbedder()
    shipping, delivery, password = (
        np.asarray(v)
        for v in embedder.embed_documents(
            ["How long does shipping take?", "when will my parcel arrive", "reset my password"]
        )
    )

    assert embedder.dimensions == 256 and embedder.name == "wordllama-l2-supercat-256"
    assert np.linalg.norm(shipping) == pytest.approx(1.0, abs=1e-5)
    # Texts that share no word but a meaning are nearer than texts about something else.
    assert float(shipping @ delivery) > float(shipping @ password) + 0.1
    assert embedder.embed_query("reset my password") == pytest.approx(list(password), abs=1e-6)
