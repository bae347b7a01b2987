"""What a call costs: a price table in USD per million input and output tokens per model."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)


class ModelPrice(BaseModel):
    """List price of one model in USD per 1M tokens."""

    model_config = ConfigDict(frozen=True)
    input_per_mtok: float
    output_per_mtok: float


# List prices (standard tier, short prompts) when this table was written; override them in
# configuration (CONTROLROOM_LLM_PRICES) when the vendors' price pages change.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o": ModelPrice(input_per_mtok=2.50, output_per_mtok=10.00),
    "gpt-4o-mini": ModelPrice(input_per_mtok=0.15, output_per_mtok=0.60),
    "gpt-4.1": ModelPrice(input_per_mtok=2.00, output_per_mtok=8.00),
    "gpt-4.1-mini": ModelPrice(input_per_mtok=0.40, output_per_mtok=1.60),
    "gemini-2.5-pro": ModelPrice(input_per_mtok=1.25, output_per_mtok=10.00),
    "gemini-2.5-flash": ModelPrice(input_per_mtok=0.30, output_per_mtok=2.50),
}

_unpriced_warned: set[str] = set()


def cost_usd(
    prices: Mapping[str, ModelPrice], model: str, tokens_in: int, tokens_out: int
) -> float:
    """The cost of one call; a model missing from the table (a local server's) costs 0."""
    price = prices.get(model)
    if price is None:
        if model not in _unpriced_warned:
            _unpriced_warned.add(model)
            logger.warning("no price configured for model %r; its calls are counted at $0", model)
        return 0.0
    total = tokens_in * price.input_per_mtok + tokens_out * price.output_per_mtok
    return round(total / 1_000_000, 6)
