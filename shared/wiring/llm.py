"""build_llm: the LLM an agent gets, assembled from settings.

Providers are tried in `settings.llm_providers` order (default openai → vertex → offline);
a remote provider is left out while it is unconfigured (openai: no key and no base URL;
vertex: no location), so with nothing configured the result is the offline provider alone.
Each remote provider is wrapped in masking, the response cache, retries and cost accounting
(shared.llm.pipeline). The vendor SDKs are imported here, on first build, never at import.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from shared.core.models import utcnow
from shared.llm.cache import LlmCache
from shared.llm.offline import OfflineLLM
from shared.llm.pipeline import FallbackLLM, ProviderLLM, RetryPolicy
from shared.llm.ports import ChatProvider
from shared.llm.types import LLM

if TYPE_CHECKING:
    import google.auth.credentials

    from shared.wiring.settings import Settings

logger = logging.getLogger(__name__)


def build_llm(
    settings: Settings,
    cache: LlmCache | None = None,
    *,
    vertex_credentials: google.auth.credentials.Credentials | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = utcnow,
) -> LLM:
    """The provider chain the settings describe (the offline provider when nothing else is)."""
    chain: list[LLM] = []
    for name in dict.fromkeys(settings.llm_providers):
        if name == "offline":
            chain.append(OfflineLLM())
            continue
        chat = _chat_provider(name, settings, vertex_credentials)
        if chat is None:
            logger.info("LLM provider %s is not configured; skipped", name)
            continue
        models = settings.llm_openai_models if name == "openai" else settings.llm_vertex_models
        chain.append(
            ProviderLLM(
                chat,
                models,
                prices=settings.llm_prices,
                timeout_s=settings.llm_timeout_s,
                retry=RetryPolicy(
                    max_attempts=settings.llm_max_attempts,
                    initial_wait_s=min(1.0, settings.llm_max_wait_s),
                    max_wait_s=settings.llm_max_wait_s,
                ),
                mask_pii=settings.llm_mask_pii,
                cache=cache,
                cache_ttl_s=settings.llm_cache_ttl_s,
                sleep=sleep,
                clock=clock,
            )
        )
    if all(isinstance(llm, OfflineLLM) for llm in chain):
        logger.info("LLM: offline templates only")
        return OfflineLLM()
    llm = chain[0] if len(chain) == 1 else FallbackLLM(chain)
    logger.info("LLM chain: %s", getattr(llm, "provider", "?"))
    return llm


def _chat_provider(
    name: str,
    settings: Settings,
    vertex_credentials: google.auth.credentials.Credentials | None,
) -> ChatProvider | None:
    if name == "openai":
        key = (
            settings.llm_openai_api_key.get_secret_value() if settings.llm_openai_api_key else None
        )
        if not key and not settings.llm_openai_base_url:
            return None
        from shared.llm.openai_provider import OpenAIProvider, openai_client

        return OpenAIProvider(
            openai_client(key, settings.llm_openai_base_url, settings.llm_timeout_s)
        )
    if name == "vertex":
        if not settings.llm_vertex_location:
            return None
        from shared.llm.vertex_provider import VertexProvider, vertex_client

        return VertexProvider(
            vertex_client(
                settings.llm_vertex_project or settings.project_id,
                settings.llm_vertex_location,
                settings.llm_vertex_base_url,
                vertex_credentials,
            )
        )
    raise ValueError(f"unknown LLM provider {name!r}")
