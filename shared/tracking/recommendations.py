"""Recommendations served to the host app: GET /v1/recommendations/{user_id}.

For now the only strategy is popularity: the items most users interacted with (an item is
named by a tracked event's `properties.item_id` or `properties.product_id`), without those
the user already has. `popular_items` computes the ranking from the profiles' per-item
counters; a scheduled job is meant to run it and store the result, so serving is two reads.
Item-to-item co-occurrence per user is the next strategy (issue 7).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

ITEM_PROPERTIES = ("item_id", "product_id")


def item_of(properties: Mapping[str, Any]) -> str | None:
    """The item an event is about, if its properties name one."""
    for name in ITEM_PROPERTIES:
        value = properties.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


class ScoredItem(BaseModel):
    """One recommended item and why it ranks where it does."""

    item_id: str
    score: float


class RecommendationAnswer(BaseModel):
    """The answer of GET /v1/recommendations/{user_id}."""

    user_id: str
    strategy: Literal["popularity", "none"]
    items: list[ScoredItem] = Field(default_factory=list)


class RecommendationSource(Protocol):
    """Where the ranking and a user's items are read."""

    def popular(self) -> list[ScoredItem]:
        """The stored popularity ranking, best first (empty before the first refresh)."""
        ...

    def items_of(self, user_id: str) -> set[str]:
        """The items the user already interacted with."""
        ...


def popular_items(item_counts: Iterable[Mapping[str, int]], limit: int = 100) -> list[ScoredItem]:
    """Rank items by how many users interacted with them (then by interactions, then id)."""
    users: Counter[str] = Counter()
    interactions: Counter[str] = Counter()
    for counts in item_counts:
        for item, count in counts.items():
            if count > 0:
                users[item] += 1
                interactions[item] += count
    ranked = sorted(users, key=lambda item: (-users[item], -interactions[item], item))
    return [ScoredItem(item_id=item, score=float(users[item])) for item in ranked[:limit]]


def recommend(user_id: str, limit: int, *, source: RecommendationSource) -> RecommendationAnswer:
    """The most popular items the user has not interacted with yet."""
    ranking = source.popular()
    if not ranking:
        return RecommendationAnswer(user_id=user_id, strategy="none")
    seen = source.items_of(user_id)
    items = [item for item in ranking if item.item_id not in seen][:limit]
    return RecommendationAnswer(user_id=user_id, strategy="popularity", items=items)
