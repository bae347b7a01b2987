"""Model tiers: which model a request gets, from configuration rather than code.

A provider's model map has an entry per tier ("smart", "fast") and optional per-agent
overrides ("finance.smart"); the agent's own entry wins.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.llm.types import Tier

TIERS: tuple[Tier, ...] = ("smart", "fast")


def resolve_model(models: Mapping[str, str], tier: Tier, agent: str | None = None) -> str:
    """The model for `tier`, overridden for `agent` when the map has `<agent>.<tier>`."""
    if agent is not None and f"{agent}.{tier}" in models:
        return models[f"{agent}.{tier}"]
    return models[tier]


def check_model_map(provider: str, models: Mapping[str, str]) -> None:
    """Fail at start-up, not on the first call, when a tier has no model."""
    missing = [tier for tier in TIERS if not models.get(tier)]
    if missing:
        raise ValueError(f"LLM provider {provider!r} has no model for tier(s) {missing}")
    unknown = [key for key in models if key.rsplit(".", 1)[-1] not in TIERS]
    if unknown:
        raise ValueError(f"LLM provider {provider!r}: keys {unknown} do not end in a tier")
