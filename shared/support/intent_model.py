"""Intent and negative sentiment from a model: logistic regression over sentence embeddings.

Offline, without a key: the messages are embedded by WordLlama (shipped in its wheel) and a
multinomial logistic regression is fitted on the labelled messages that ship with the project
(`shared/support/training/messages.jsonl`: several shops' customers, none of them the bundled
help centre's, none from the held-out one). Fitting takes a fraction of a second, so it
happens once per process on first use, from the data, with no stored weights to go stale.

Urgency and "wants a person" stay rules (shared.support.classify): a model may miss one, a
rule for "my account was hacked" does not. An urgency head fitted the same way was tried and
left out: leaving each training shop out in turn, it found 9 of 18 urgent messages at a
threshold that also flagged 20 of 342 others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TRAINING_MESSAGES = Path(__file__).with_name("training") / "messages.jsonl"
INTENTS = ("support", "billing", "sales", "general")

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class IntentGuess:
    """The model's intent, its probability, and the chance the customer is upset."""

    intent: str
    probability: float
    negative: float


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit(x: np.ndarray, y: np.ndarray, classes: int, l2: float, steps: int) -> np.ndarray:
    """Weights (features + 1, classes) of a softmax regression by gradient descent."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros((xb.shape[1], classes))
    target = np.eye(classes)[y]
    for _ in range(steps):
        p = _softmax(xb @ w)
        gradient = xb.T @ (p - target) / len(x) + l2 * np.vstack([w[:-1], np.zeros((1, classes))])
        w -= 1.0 * gradient
    return w


class IntentModel:
    """Intent (support, billing, sales, general) and negative sentiment of a message."""

    def __init__(self, embed: Embed, intent_w: np.ndarray, negative_w: np.ndarray) -> None:
        self._embed = embed
        self._intent_w = intent_w
        self._negative_w = negative_w

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        intents: Sequence[str],
        negative: Sequence[bool],
        embed: Embed,
        l2: float = 1e-3,
        steps: int = 400,
    ) -> IntentModel:
        """Fit both heads on labelled messages."""
        x = np.asarray(embed(list(texts)), dtype=float)
        y = np.asarray([INTENTS.index(i) for i in intents])
        intent_w = _fit(x, y, len(INTENTS), l2, steps)
        negative_w = _fit(x, np.asarray(negative, dtype=int), 2, l2, steps)
        return cls(embed, intent_w, negative_w)

    def guess(self, text: str) -> IntentGuess:
        """The most likely intent and the chance the message is negative."""
        x = np.asarray(self._embed([text]), dtype=float)
        xb = np.hstack([x, np.ones((1, 1))])
        p = _softmax(xb @ self._intent_w)[0]
        best = int(p.argmax())
        negative = float(_softmax(xb @ self._negative_w)[0][1])
        return IntentGuess(INTENTS[best], round(float(p[best]), 4), round(negative, 4))


def load_training(path: Path = TRAINING_MESSAGES) -> list[dict[str, object]]:
    """The labelled training messages (one JSON object a line)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
