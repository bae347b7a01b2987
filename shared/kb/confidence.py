"""How sure the knowledge base is that its best article answers a question: a probability.

Three pieces of evidence about the best hit, each meaning the same whatever the help centre:

    coverage  the share of the question's IDF weight found in that article (lexical, BM25's IDF)
    cosine    the embedding similarity of the question to that article's nearest chunk
              (0 without an embedder)
    agree     1 when BM25 and the embeddings put the same article first, else 0

are combined by a logistic model, `P(best article answers) = sigmoid(w . [1, coverage,
cosine, agree])`, fitted on labelled messages (`fit_calibration`): a message is positive when
the article the agent would cite is one of its expected articles, negative when it is
another article or when no article answers it. Fitted on the bundled help centre's 110
messages only; the held-out help centre (kb/heldout) measures it (`make eval`), with the
expected calibration error (`expected_calibration_error`).

With no embedder, `cosine` and `agree` are 0 and the model falls back to LEXICAL_WEIGHTS,
fitted the same way on BM25 alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Evidence:
    """What retrieval saw about its best hit."""

    coverage: float
    cosine: float = 0.0
    agree: float = 0.0

    def features(self) -> list[float]:
        """The model's inputs, with the intercept."""
        return [1.0, self.coverage, self.cosine, self.agree]


# Fitted by fit_calibration on kb/eval/messages.jsonl with WordLlama embeddings (hybrid) and
# with BM25 alone (lexical); see tests/unit/test_kb_confidence.py, which refits them.
HYBRID_WEIGHTS = (-1.743, 2.13, 4.516, 2.534)
LEXICAL_WEIGHTS = (-0.994, 3.957, 0.0, 0.0)


def calibrated_confidence(evidence: Evidence, hybrid: bool) -> float:
    """P(the best article answers the question), in [0, 1]."""
    weights = HYBRID_WEIGHTS if hybrid else LEXICAL_WEIGHTS
    z = sum(w * x for w, x in zip(weights, evidence.features(), strict=True))
    return round(1.0 / (1.0 + math.exp(-z)), 4)


def fit_calibration(
    evidence: Sequence[Evidence], answered: Sequence[bool], l2: float = 0.1, steps: int = 4000
) -> tuple[float, ...]:
    """Logistic-regression weights (intercept first) by gradient descent with a little L2."""
    x = np.asarray([e.features() for e in evidence], dtype=float)
    y = np.asarray(answered, dtype=float)
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (p - y) / len(y) + l2 * np.r_[0.0, w[1:]] / len(y)
        w -= 0.5 * gradient
    return tuple(round(float(v), 3) for v in w)


def expected_calibration_error(
    probabilities: Sequence[float], outcomes: Sequence[bool], bins: int = 10
) -> float:
    """Mean |confidence - accuracy| over equal-width bins, weighted by their counts."""
    if not probabilities:
        return 0.0
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.sum() * abs(p[members].mean() - y[members].mean())
    return round(float(error / len(p)), 4)
