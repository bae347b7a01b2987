"""LangSmith tracing of the agents' LangGraph graphs, when a LangSmith key is configured.

With `CONTROLROOM_LANGSMITH_API_KEY` set, every Pub/Sub delivery a function handles runs
inside a LangSmith tracing context (project `CONTROLROOM_LANGSMITH_PROJECT`, endpoint
`CONTROLROOM_LANGSMITH_ENDPOINT`), so each graph invocation, with its nodes, is sent to
LangSmith, tagged with the consumer and the run and task ids. Without a key nothing is
imported and nothing leaves the process; OpenTelemetry (shared/core/tracing.py) traces either way.

Before anything is sent, the client's anonymizer masks e-mail addresses, phone numbers and
card numbers in every input, output, metadata value and error (shared.core.pii), as prompts are
masked before they reach an LLM provider. The client sends from a background thread; each
delivery flushes it before it is acknowledged, since Cloud Run may stop the CPU after that.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from shared.wiring.settings import Settings

if TYPE_CHECKING:
    from langsmith import Client


@contextmanager
def langsmith_tracing(settings: Settings, **metadata: str | None) -> Iterator[None]:
    """Trace the graphs run inside to LangSmith when a key is set; otherwise do nothing."""
    if settings.langsmith_api_key is None:
        yield
        return
    from langsmith.run_helpers import tracing_context

    client = langsmith_client(
        settings.langsmith_api_key.get_secret_value(), settings.langsmith_endpoint
    )
    tags = {k: v for k, v in metadata.items() if v is not None}
    try:
        with tracing_context(
            enabled=True, client=client, project_name=settings.langsmith_project, metadata=tags
        ):
            yield
    finally:
        client.flush()


@cache
def langsmith_client(api_key: str, endpoint: str) -> Client:
    """One LangSmith client per process and key, with PII masked before anything is sent."""
    from langsmith import Client

    return Client(api_url=endpoint, api_key=api_key, anonymizer=mask_pii)


def mask_pii(value: Any) -> Any:
    """The value with PII masked in every string it holds (dicts and lists walked)."""
    from shared.core.pii import PiiMask

    if isinstance(value, str):
        return PiiMask().mask(value)
    if isinstance(value, dict):
        return {k: mask_pii(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_pii(v) for v in value]
    return value
