"""An approval's edits read as a sentence on the run's timeline."""

from __future__ import annotations

from shared.app.run_commands import describe_edits


def test_edits_read_as_a_sentence_not_a_python_list() -> None:
    text = describe_edits(
        {"exclude": ["cus_1", "cus_2"], "subject": "We miss you", "budgets": {"g-1": 2550}},
        "EUR",
    )

    assert text == (
        "leaving out cus_1, cus_2; with the subject “We miss you”; "
        "with the daily budget of g-1 at 25.50 EUR"
    )
    assert "[" not in text


def test_a_long_list_is_shortened() -> None:
    text = describe_edits({"exclude": [f"cus_{n}" for n in range(8)]})

    assert text == "leaving out cus_0, cus_1, cus_2, cus_3, cus_4 and 3 more"
