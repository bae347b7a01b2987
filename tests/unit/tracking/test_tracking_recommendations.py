"""Item-to-item recommendations: cosine co-occurrence, popularity fill and cold start."""

from __future__ import annotations

import math
import random
from collections import defaultdict

import pytest

from shared.tracking import recommendations
from shared.tracking.recommendations import (
    ScoredItem,
    item_similarity,
    popular_items,
    recommend_for_users,
)

USERS = {"ann": ["a", "b"], "bob": ["a", "c"], "cy": ["b"], "dee": []}


def _brute_force_scores(user_items: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Each user's candidate scores, by the definition, in plain Python."""
    holders: dict[str, set[str]] = defaultdict(set)
    for user, items in user_items.items():
        for item in items:
            holders[item].add(user)

    def cosine(i: str, j: str) -> float:
        return len(holders[i] & holders[j]) / math.sqrt(len(holders[i]) * len(holders[j]))

    scores: dict[str, dict[str, float]] = {}
    for user, items in user_items.items():
        own = set(items)
        candidates = {j: sum(cosine(i, j) for i in own) for j in holders if j not in own}
        scores[user] = {j: s for j, s in candidates.items() if s > 0}
    return scores


def test_similarity_is_cosine_over_the_users_of_each_item() -> None:
    similarity = item_similarity({u: i for u, i in USERS.items() if i})
    index = {item: n for n, item in enumerate(similarity.items)}

    def sim(i: str, j: str) -> float:
        return float(similarity.matrix[index[i], index[j]])

    assert similarity.items == ("a", "b", "c")
    assert sim("a", "b") == pytest.approx(1 / math.sqrt(2 * 2))
    assert sim("a", "c") == pytest.approx(1 / math.sqrt(2 * 1))
    assert sim("b", "c") == 0.0 and sim("a", "a") == 0.0


def test_each_user_gets_similar_items_first_then_popular_ones_they_lack() -> None:
    popular = popular_items([{i: 1 for i in items} for items in USERS.values()])

    lists = {r.user_id: r for r in recommend_for_users(USERS, popular, limit=5)}

    ann = lists["ann"]
    assert ann.strategy == "co-occurrence"
    assert [(i.item_id, round(i.score, 6)) for i in ann.items] == [("c", round(1 / 2**0.5, 6))]
    cy = lists["cy"]
    assert [i.item_id for i in cy.items] == ["a", "c"]  # a is similar; c only popular
    assert cy.items[1].score == 0.0
    # A user with no items yet: the popularity ranking, as is.
    assert lists["dee"].strategy == "popularity"
    assert lists["dee"].items == popular


def test_scores_match_the_definition_on_random_data_across_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recommendations, "USER_CHUNK", 7)  # several chunks
    rng = random.Random(3)
    user_items = {
        f"u{n}": sorted({f"i{rng.randrange(25)}" for _ in range(rng.randrange(0, 6))})
        for n in range(60)
    }
    expected = _brute_force_scores(user_items)

    lists = {r.user_id: r for r in recommend_for_users(user_items, [], limit=100)}

    for user, scores in expected.items():
        got = {i.item_id: i.score for i in lists[user].items}
        assert got == pytest.approx(scores), user
        ranked = [i.item_id for i in lists[user].items]
        assert ranked == sorted(scores, key=lambda j: (-round(scores[j], 9), j))


def test_ties_break_by_item_id_and_the_limit_holds() -> None:
    user_items = {"a": ["x", "p", "q", "r"], "b": ["x"]}
    popular = [ScoredItem(item_id="z", score=9.0)]

    lists = {r.user_id: r for r in recommend_for_users(user_items, popular, limit=2)}

    assert [i.item_id for i in lists["b"].items] == ["p", "q"]
    assert lists["a"].strategy == "popularity"  # nobody shares its items with it alone
    assert [i.item_id for i in lists["a"].items] == ["z"]


def test_nobody_with_items_gives_everyone_popularity() -> None:
    lists = list(recommend_for_users({"a": [], "b": []}, [ScoredItem(item_id="z", score=1.0)]))

    assert [(r.strategy, [i.item_id for i in r.items]) for r in lists] == [
        ("popularity", ["z"]),
        ("popularity", ["z"]),
    ]
