"""The offline intent model: fitted on the shipped training messages, tested on other shops."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from shared.agents.support_conversation import bundled_intent_model
from shared.kb.embeddings import WordLlamaEmbedder
from shared.support.classify import classify_message
from shared.support.intent_model import INTENTS, IntentModel, load_training


def test_the_training_messages_cover_every_intent_and_several_shops() -> None:
    messages = load_training()
    intents = Counter(str(m["intent"]) for m in messages)
    shops = {m["shop"] for m in messages}

    assert set(intents) == set(INTENTS) and min(intents.values()) >= 50
    assert len(shops) >= 6 and len({m["id"] for m in messages}) == len(messages)


def _fitted_without(shop: str) -> tuple[IntentModel, list[dict[str, object]]]:
    """The model fitted on every training shop but `shop`, and that shop's messages."""
    messages = load_training()
    embedder = WordLlamaEmbedder()

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(embedder.embed_documents(texts))

    train = [m for m in messages if m["shop"] != shop]
    model = IntentModel.fit(
        [str(m["message"]) for m in train],
        [str(m["intent"]) for m in train],
        [bool(m["negative"]) for m in train],
        embed,  # type: ignore[arg-type]
    )
    return model, [m for m in messages if m["shop"] == shop]


def test_a_shop_left_out_of_training_is_classified_better_than_by_keywords() -> None:
    shop = sorted({str(m["shop"]) for m in load_training()})[0]
    model, test = _fitted_without(shop)
    by_model = sum(model.guess(str(m["message"])).intent == m["intent"] for m in test)
    by_rules = sum(classify_message(str(m["message"])).intent == m["intent"] for m in test)

    assert by_model / len(test) >= 0.6
    assert by_model > by_rules


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("Do you offer a discount if we order 30 licences for our team?", "sales"),
        ("Why is there a second payment of 19.99 on my statement this month?", "billing"),
        ("haha you guys are great, have a lovely weekend", "general"),
    ],
)
def test_the_shipped_model_reads_messages_it_was_not_trained_on(message: str, intent: str) -> None:
    guess = bundled_intent_model().guess(message)

    assert guess.intent == intent
    assert 0.0 <= guess.negative <= 1.0


@pytest.mark.parametrize(
    "message",
    [
        "The kettle started sparking when I switched it on and the plug is black",
        "Someone logged into my account from another country and changed the email",
        "I was charged three times for the same order and my account is nearly empty",
        "You sent me someone else's invoice with their home address on it",
        "My friend slipped on the trail and can't put any weight on her ankle, send help",
        "There are two orders on my account I never placed, going to an address in Leeds",
        "The show starts tonight and my tickets aren't in the app",
    ],
)
def test_harm_of_every_family_is_urgent_by_rule(message: str) -> None:
    assert classify_message(message).urgent


@pytest.mark.parametrize(
    "message",
    [
        "I love the smoky lapsang, do you sell it in bigger bags?",
        "Wie verbinde ich mein Konto mit der Sparkasse?",
        "Can I still order today and have it by Friday?",
    ],
)
def test_words_that_only_look_like_harm_are_not_urgent(message: str) -> None:
    assert not classify_message(message).urgent, classify_message(message).urgent_terms


def test_every_shop_left_out_in_turn_is_classified_from_the_others() -> None:
    # The figure the module's docstring reports: the model never sees the shop it is scored on.
    scores = []
    for shop in sorted({str(m["shop"]) for m in load_training()}):
        model, test = _fitted_without(shop)
        right = sum(model.guess(str(m["message"])).intent == m["intent"] for m in test)
        scores.append(right / len(test))

    assert len(scores) >= 16
    assert sum(scores) / len(scores) >= 0.72


def test_the_ngram_features_are_unit_length_and_the_same_in_every_process() -> None:
    import zlib

    from shared.support.intent_model import NGRAM_DIMENSIONS, hashed_ngrams

    [row] = hashed_ngrams(["Charged twice!"])
    assert np.isclose(np.linalg.norm(row), 1.0)
    buckets = {
        zlib.crc32(g.encode()) % NGRAM_DIMENSIONS for g in ("charged", "twice", "charged twice")
    }
    assert set(np.flatnonzero(row)) == buckets


def test_a_plain_double_charge_is_not_urgent_by_itself() -> None:
    assert not classify_message("I was charged twice for order 123, can you refund one?").urgent
