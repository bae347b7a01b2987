"""Copy a customer reads is refused when it shows template syntax, ids, counts or the rule."""

from __future__ import annotations

import pytest

from shared.core.copy_check import copy_problems

RULE = "Added to cart three times in 7 days, or viewed ten products in 30 days"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Hi {{ first_name }}, we miss you", "template syntax"),
        ("Hi [First Name], we miss you", "an unfilled placeholder"),
        ("Your code: {code}", "an unfilled placeholder"),
        ("Order for cus_0162 is ready", "an internal id"),
        ("2 people like you compared plans this week.", "an audience count"),
        ("Pricing fans (143 people)", "an audience count"),
        (f"Ready when you are: {RULE.lower()}.", "how the audience was chosen"),
    ],
)
def test_what_a_customer_must_not_read_is_named(text: str, problem: str) -> None:
    found = copy_problems(text, internal=[RULE, "engaged-shoppers"])

    assert any(p.startswith(problem) for p in found), found


@pytest.mark.parametrize(
    "text",
    [
        "Choosing a plan? See them side by side and pick what fits.",
        "Lea, your 20% off is waiting: use code NW-7QK2 by 14 December.",
        "Free delivery on orders over €40 in 2-3 days.",
    ],
)
def test_ordinary_copy_passes(text: str) -> None:
    assert copy_problems(text, internal=[RULE, "engaged-shoppers", "new"]) == []
