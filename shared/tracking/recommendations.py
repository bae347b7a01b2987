"""Recommendations served to the host app: GET /v1/recommendations/{user_id}.

An item is named by a tracked event's `properties.item_id` or `properties.product_id`; each
profile counts its items. Two strategies, both computed by the hourly
`recommendations-refresh` job (`refresh_recommendations`) and stored, so that serving a user
is one document read:

- co-occurrence: item-to-item cosine similarity over which users interacted with which items
  (sim(i, j) = users with both / sqrt(users with i * users with j)); a user's candidates are
  scored by the sum of their similarities to the user's items, best first, the user's own
  items left out. The rest of the list is filled with popular items (score 0: no similarity).
- popularity, the cold-start fallback: the items most users interacted with. A user with no
  item, or none similar to anything, gets this list; a user the job has not seen yet (new
  since its last run) is served the stored ranking minus their items (two reads).

The computation is pure (numpy/scipy sparse matrices, users taken in chunks so the dense
part stays small); the Firestore side is `shared/tracking/firestore.FirestoreRecommendations`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from pydantic import BaseModel, Field
from scipy import sparse

ITEM_PROPERTIES = ("item_id", "product_id")
STORED_PER_USER = 100  # the API's largest `limit`
USER_CHUNK = 1_000
Strategy = Literal["co-occurrence", "popularity"]


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
    strategy: Literal["co-occurrence", "popularity", "none"]
    items: list[ScoredItem] = Field(default_factory=list)


class UserRecommendations(BaseModel):
    """user_recommendations/{user_id}: what the last refresh chose for one user."""

    user_id: str
    strategy: Strategy
    items: list[ScoredItem] = Field(default_factory=list)


class RecommendationSource(Protocol):
    """Where the ranking and a user's items are read."""

    def popular(self) -> list[ScoredItem]:
        """The stored popularity ranking, best first (empty before the first refresh)."""
        ...

    def items_of(self, user_id: str) -> set[str]:
        """The items the user already interacted with."""
        ...

    def stored_for(self, user_id: str) -> UserRecommendations | None:
        """The list the last refresh stored for the user, if it saw them."""
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
    """The user's stored list; else the most popular items the user has not interacted with."""
    stored = source.stored_for(user_id)
    if stored is not None:
        return RecommendationAnswer(
            user_id=user_id, strategy=stored.strategy, items=stored.items[:limit]
        )
    ranking = source.popular()
    if not ranking:
        return RecommendationAnswer(user_id=user_id, strategy="none")
    seen = source.items_of(user_id)
    items = [item for item in ranking if item.item_id not in seen][:limit]
    return RecommendationAnswer(user_id=user_id, strategy="popularity", items=items)


@dataclass(frozen=True)
class ItemSimilarity:
    """Item-to-item cosine similarity: `matrix[i, j]` for items[i], items[j] (diagonal 0)."""

    items: tuple[str, ...]
    matrix: sparse.csr_matrix


def interaction_matrix(
    user_items: Mapping[str, Iterable[str]], items: Sequence[str]
) -> sparse.csr_matrix:
    """Users (in mapping order) by `items`: 1 where the user interacted with the item."""
    column = {item: index for index, item in enumerate(items)}
    rows: list[int] = []
    cols: list[int] = []
    for row, its in enumerate(user_items.values()):
        for item in set(its):
            rows.append(row)
            cols.append(column[item])
    data = np.ones(len(rows), dtype=np.float64)
    shape = (len(user_items), len(items))
    return sparse.csr_matrix((data, (rows, cols)), shape=shape)


def item_similarity(user_items: Mapping[str, Iterable[str]]) -> ItemSimilarity:
    """Cosine similarity of every pair of items over the users who interacted with them."""
    items = tuple(sorted({item for its in user_items.values() for item in its}))
    matrix = interaction_matrix(user_items, items)
    cooccurrence = (matrix.T @ matrix).tocsr()
    users_per_item = np.asarray(cooccurrence.diagonal()).ravel()
    scale = sparse.diags(1.0 / np.sqrt(np.maximum(users_per_item, 1.0)))
    cosine = (scale @ cooccurrence @ scale).tocsr()
    cosine.setdiag(0.0)
    cosine.eliminate_zeros()
    return ItemSimilarity(items=items, matrix=cosine)


def recommend_for_users(
    user_items: Mapping[str, Iterable[str]],
    popular: Sequence[ScoredItem],
    limit: int = STORED_PER_USER,
) -> Iterator[UserRecommendations]:
    """Each user's list: items similar to theirs, best first, then popular ones they lack."""
    users = {user: set(its) for user, its in user_items.items()}
    with_items = {user: its for user, its in users.items() if its}
    names = list(with_items)
    scored: dict[str, list[ScoredItem]] = {}
    similarity = item_similarity(with_items) if with_items else None
    for start in range(0, len(names) if similarity else 0, USER_CHUNK):
        assert similarity is not None
        chunk = {user: with_items[user] for user in names[start : start + USER_CHUNK]}
        matrix = interaction_matrix(chunk, similarity.items)
        scores = (matrix @ similarity.matrix).tocsr()
        for row, user in enumerate(chunk):
            begin, end = scores.indptr[row], scores.indptr[row + 1]
            candidates = [
                (round(float(value), 9), similarity.items[column])
                for column, value in zip(
                    scores.indices[begin:end], scores.data[begin:end], strict=True
                )
                if value > 0 and similarity.items[column] not in chunk[user]
            ]
            candidates.sort(key=lambda pair: (-pair[0], pair[1]))
            scored[user] = [ScoredItem(item_id=i, score=v) for v, i in candidates[:limit]]
    for user, its in users.items():
        similar = scored.get(user, [])
        chosen = {item.item_id for item in similar} | its
        fill = [
            ScoredItem(item_id=item.item_id, score=0.0 if similar else item.score)
            for item in popular
            if item.item_id not in chosen
        ]
        yield UserRecommendations(
            user_id=user,
            strategy="co-occurrence" if similar else "popularity",
            items=(similar + fill)[:limit],
        )


class RecommendationStore(Protocol):
    """Where the refresh job reads interactions and writes its lists."""

    def user_item_counts(self) -> Iterator[tuple[str, dict[str, int]]]:
        """Every user profile's id and item counters."""
        ...

    def store_popular(self, ranking: Sequence[ScoredItem]) -> None:
        """Replace the popularity ranking."""
        ...

    def store_for_users(self, lists: Iterable[UserRecommendations]) -> int:
        """Replace each user's stored list; how many were written."""
        ...


@dataclass(frozen=True)
class RecommendationRefresh:
    """What one refresh computed."""

    users: int
    items: int
    co_occurrence_users: int

    def summary(self) -> str:
        """One line for the log."""
        return (
            f"{self.users} user(s), {self.items} item(s); "
            f"{self.co_occurrence_users} with similar items, the rest popular ones"
        )


def refresh_recommendations(
    store: RecommendationStore, *, limit: int = STORED_PER_USER
) -> RecommendationRefresh:
    """Recompute the popularity ranking and every user's list, and store them (the job)."""
    counts = dict(store.user_item_counts())
    ranking = popular_items(counts.values(), limit=limit)
    store.store_popular(ranking)
    user_items = {user: [i for i, n in items.items() if n > 0] for user, items in counts.items()}
    lists = list(recommend_for_users(user_items, ranking, limit=limit))
    store.store_for_users(lists)
    return RecommendationRefresh(
        users=len(lists),
        items=len({i for its in user_items.values() for i in its}),
        co_occurrence_users=sum(1 for r in lists if r.strategy == "co-occurrence"),
    )
