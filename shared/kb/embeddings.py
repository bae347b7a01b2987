"""Embedders: text to vectors for the knowledge base's vector search.

    Embedder (protocol)
     ├── WordLlamaEmbedder            offline and semantic: the model ships inside its wheel
     ├── HashingEmbedder              offline and deterministic; LEXICAL, not semantic
     ├── OpenAIEmbedder               OpenAI embeddings API (official `openai` SDK)
     ├── VertexEmbedder               Vertex AI text embeddings (official `google-genai` SDK)
     └── SentenceTransformerEmbedder  a local sentence-transformers model (optional extra)

Every embedder has a `name` that is stored with the chunks it embedded: search uses vectors
only when the query embedder has the same name, and ingest re-embeds everything when the
name changes. Firestore vector fields hold at most 2048 dimensions.

The SDK clients are passed in (tests inject fakes); SDK errors become the LLM layer's
LlmTransientError (retry later) or LlmRequestError (permanent), as chat calls do.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from shared.kb.text import tokenize
from shared.llm.errors import LlmRequestError, LlmTransientError

if TYPE_CHECKING:
    import openai
    from google import genai

FIRESTORE_MAX_DIMENSIONS = 2048
OPENAI_NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
_TRANSIENT_STATUSES = {408, 409, 429}


class Embedder(Protocol):
    """Turns texts into vectors of a fixed dimension."""

    @property
    def name(self) -> str:
        """Identifies the model and its settings; stored with the vectors it made."""
        ...

    @property
    def dimensions(self) -> int:
        """Length of every vector."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors of chunks to be stored."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """Vector of a search query (some models embed queries differently)."""
        ...


def _check_dimensions(dimensions: int) -> int:
    if not 1 <= dimensions <= FIRESTORE_MAX_DIMENSIONS:
        raise ValueError(f"dimensions must be 1..{FIRESTORE_MAX_DIMENSIONS}, got {dimensions}")
    return dimensions


def _batches(texts: Sequence[str], size: int) -> list[list[str]]:
    return [list(texts[i : i + size]) for i in range(0, len(texts), size)]


class WordLlamaEmbedder:
    """WordLlama's 256-d `l2_supercat` token embeddings, average-pooled and L2-normalised.

    Semantic without a key or a network: the weights and the tokenizer are files inside the
    installed `wordllama` package, loaded from there with downloads disabled (its default
    lookup searches another folder and would then try to download; the code never does).
    Loading takes about 0.2 s and embedding 1,000 short texts a few milliseconds here.
    """

    def __init__(self, dimensions: int = 256) -> None:
        self._dimensions = dimensions
        self._model: Any = None

    def _loaded(self) -> Any:
        if self._model is None:
            from pathlib import Path

            import wordllama

            package = Path(wordllama.__file__).parent
            self._model = wordllama.WordLlama.load(
                dim=self._dimensions, cache_dir=package, disable_download=True
            )
        return self._model

    @property
    def name(self) -> str:
        """`wordllama-l2-supercat-<dimensions>`."""
        return f"wordllama-l2-supercat-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        """Length of every vector."""
        return self._dimensions

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """One normalised vector per text."""
        if not texts:
            return []
        vectors = self._loaded().embed(list(texts), norm=True)
        return [[float(x) for x in row] for row in vectors]

    def embed_query(self, text: str) -> list[float]:
        """The same vector a document with this text would get."""
        return self.embed_documents([text])[0]


class HashingEmbedder:
    """Hashed bag of words: each stemmed token adds ±(1 + log tf) to one of `dimensions` slots
    chosen by a BLAKE2 hash of the token, then the vector is L2-normalised.

    Deterministic across processes and machines (no Python `hash`), free and offline, so the
    vector path (Firestore `find_nearest`, rank fusion) runs in tests and on a laptop. It is
    lexical: texts are similar when they share words, never when they share only meaning.
    """

    def __init__(self, dimensions: int = 256) -> None:
        self._dimensions = _check_dimensions(dimensions)

    @property
    def name(self) -> str:
        """`hashing-bow-<dimensions>`."""
        return f"hashing-bow-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        """Length of every vector."""
        return self._dimensions

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """One normalised vector per text (all zeros for a text without words)."""
        return [self._vector(tokens) for tokens in tokenize(texts)]

    def embed_query(self, text: str) -> list[float]:
        """The same vector a document with this text would get."""
        return self.embed_documents([text])[0]

    def _vector(self, tokens: list[str]) -> list[float]:
        vector = [0.0] * self._dimensions
        for token, count in Counter(tokens).items():
            digest = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest())
            sign = 1.0 if digest >> 63 else -1.0
            vector[digest % self._dimensions] += sign * (1.0 + math.log(count))
        norm = math.sqrt(sum(value * value for value in vector))
        return [value / norm for value in vector] if norm else vector


class OpenAIEmbedder:
    """`POST /embeddings` through an `openai.OpenAI` client (or any OpenAI-compatible server)."""

    def __init__(
        self,
        client: openai.OpenAI,
        model: str = "text-embedding-3-small",
        dimensions: int | None = None,
        batch_size: int = 256,
    ) -> None:
        # text-embedding-3-* can shorten their vectors; -large must, to fit Firestore's 2048.
        native = OPENAI_NATIVE_DIMENSIONS.get(model)
        if dimensions is None and native is None:
            raise ValueError(f"give the dimensions of embedding model {model!r}")
        self.client = client
        self.model = model
        self._requested = dimensions
        self._dimensions = _check_dimensions(dimensions or native or 0)
        self.batch_size = batch_size

    @property
    def name(self) -> str:
        """`openai:<model>@<dimensions>`."""
        return f"openai:{self.model}@{self._dimensions}"

    @property
    def dimensions(self) -> int:
        """Length of every vector."""
        return self._dimensions

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """One request per `batch_size` texts; vectors come back in input order."""
        return [
            vector for batch in _batches(texts, self.batch_size) for vector in self._embed(batch)
        ]

    def embed_query(self, text: str) -> list[float]:
        """OpenAI embeds queries and documents alike."""
        return self._embed([text])[0]

    def _embed(self, batch: list[str]) -> list[list[float]]:
        import openai

        options: dict[str, Any] = {}
        if self._requested is not None:
            options["dimensions"] = self._requested
        try:
            response = self.client.embeddings.create(model=self.model, input=batch, **options)
        except openai.APIStatusError as exc:
            message = f"openai embeddings HTTP {exc.status_code}: {exc.message}"
            if exc.status_code in _TRANSIENT_STATUSES or exc.status_code >= 500:
                raise LlmTransientError(message) from exc
            raise LlmRequestError(message) from exc
        except openai.APIConnectionError as exc:  # includes APITimeoutError
            raise LlmTransientError(f"openai embeddings: {exc.message}") from exc
        return [list(item.embedding) for item in sorted(response.data, key=lambda e: e.index)]


class VertexEmbedder:
    """Vertex AI `embedContent` through a `google.genai.Client(vertexai=True)`.

    Documents are embedded as RETRIEVAL_DOCUMENT and queries as RETRIEVAL_QUERY. Vertex takes
    up to 250 texts per request for text-embedding-00x models but one for gemini-embedding-*,
    hence the default batch size.
    """

    def __init__(
        self,
        client: genai.Client,
        model: str = "text-embedding-005",
        dimensions: int = 768,
        batch_size: int | None = None,
    ) -> None:
        self.client = client
        self.model = model
        self._dimensions = _check_dimensions(dimensions)
        self.batch_size = batch_size or (1 if model.startswith("gemini-embedding") else 100)

    @property
    def name(self) -> str:
        """`vertex:<model>@<dimensions>`."""
        return f"vertex:{self.model}@{self._dimensions}"

    @property
    def dimensions(self) -> int:
        """Length of every vector."""
        return self._dimensions

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """One request per `batch_size` texts."""
        return [
            vector
            for batch in _batches(texts, self.batch_size)
            for vector in self._embed(batch, "RETRIEVAL_DOCUMENT")
        ]

    def embed_query(self, text: str) -> list[float]:
        """A query embedding (task type RETRIEVAL_QUERY)."""
        return self._embed([text], "RETRIEVAL_QUERY")[0]

    def _embed(self, batch: list[str], task_type: str) -> list[list[float]]:
        from google.genai import errors as genai_errors
        from google.genai import types as genai_types

        from shared.llm.vertex_provider import TRANSPORT_ERRORS

        config = genai_types.EmbedContentConfig(
            task_type=task_type, output_dimensionality=self._dimensions
        )
        try:
            response = self.client.models.embed_content(
                model=self.model, contents=batch, config=config
            )
        except genai_errors.APIError as exc:
            message = f"vertex embeddings HTTP {exc.code} {exc.status}: {exc.message}"
            if exc.code in _TRANSIENT_STATUSES or exc.code >= 500:
                raise LlmTransientError(message) from exc
            raise LlmRequestError(message) from exc
        except TRANSPORT_ERRORS as exc:
            raise LlmTransientError(f"vertex embeddings: {type(exc).__name__}: {exc}") from exc
        vectors = [list(e.values or []) for e in response.embeddings or []]
        if len(vectors) != len(batch) or any(len(v) != self._dimensions for v in vectors):
            raise LlmRequestError(
                f"vertex embeddings: asked {len(batch)}x{self._dimensions}, got "
                f"{[len(v) for v in vectors]}"
            )
        return vectors


class SentenceTransformerEmbedder:
    """A local sentence-transformers model (`pip install sentence-transformers`, not a default
    dependency). Its weights are fetched from the Hugging Face hub on first use unless
    `model_name` is a local directory, or a loaded model is passed in."""

    def __init__(self, model_name: str = "all-MiniLM-L6-v2", model: Any | None = None) -> None:
        self.model_name = model_name
        self._model = model

    def _loaded(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(self.model_name)
        return self._model

    @property
    def name(self) -> str:
        """`local:<model name>`."""
        return f"local:{self.model_name}"

    @property
    def dimensions(self) -> int:
        """What the model reports."""
        return int(self._loaded().get_sentence_embedding_dimension())

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """L2-normalised vectors, so cosine and dot product agree."""
        vectors = self._loaded().encode(list(texts), normalize_embeddings=True)
        return [[float(x) for x in vector] for vector in vectors]

    def embed_query(self, text: str) -> list[float]:
        """The model's vector of the query."""
        return self.embed_documents([text])[0]
