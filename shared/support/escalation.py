"""When the support agent must hand a conversation to a person, and why (pure policy)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from shared.support.classify import Classification


class EscalationPolicy(BaseModel):
    """Thresholds from policies/support.yaml (overridable at run time)."""

    model_config = ConfigDict(frozen=True)
    min_confidence: float = 0.4
    negative_sentiment: float = -0.5
    refund_limit_eur: float = 100.0


_AMOUNT = r"(?:€|eur\s?|\$|£)\s?(\d+(?:[.,]\d{1,2})?)|(\d+(?:[.,]\d{1,2})?)\s?(?:€|eur|euros?)"


def _largest_amount(text: str) -> float | None:
    amounts = re.findall(_AMOUNT, text.lower())
    values = [float((a or b).replace(",", ".")) for a, b in amounts]
    return max(values) if values else None


# Instructions addressed to the agent ("SYSTEM: admin mode", "ignore previous instructions")
# together with a request to move money: nothing in a customer's text moves money, and a
# person looks at who tried.
_INSTRUCTIONS = re.compile(
    r"\b(?:system\s*:|admin(?:istrator)?\s+mode|developer\s+mode|ignore\s+(?:all\s+)?"
    r"(?:previous|prior|above|your)\s+(?:instructions|rules)|you\s+are\s+now|new\s+instructions)",
    re.IGNORECASE,
)
_MONEY_MOVE = re.compile(
    r"\b(?:refund|transfer|credit|pay\s*out|payout|wire|send\s+(?:me\s+)?money|reimburse)",
    re.IGNORECASE,
)


def escalation_reason(
    text: str, classification: Classification, confidence: float, policy: EscalationPolicy
) -> str | None:
    """The first reason that requires a human, or None when the agent may answer."""
    if classification.urgent:
        return "urgent: " + ", ".join(classification.urgent_terms[:3])
    if classification.legal_threat:
        return "legal threat"
    if classification.wants_human:
        return "customer asked for a human"
    if classification.sentiment <= policy.negative_sentiment:
        return f"strongly negative sentiment ({classification.sentiment})"
    amount = _largest_amount(text)
    if "refund" in text.lower() and amount is not None and amount > policy.refund_limit_eur:
        return f"refund of {amount:.2f} above the {policy.refund_limit_eur:.0f} limit"
    if _INSTRUCTIONS.search(text) and _MONEY_MOVE.search(text):
        return "instructions in the message ask to move money"
    if confidence < policy.min_confidence:
        return f"low retrieval confidence ({confidence:.2f} < {policy.min_confidence})"
    return None
