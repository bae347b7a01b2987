"""PII masking when values sit next to each other, as customers type them."""

from __future__ import annotations

import pytest

from shared.core.pii import PiiMask


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "ana@example.org +44 20 7946 0958 4242 4242 4242 4242",
            "<EMAIL_1> <PHONE_1> <CARD_1>",
        ),
        ("+44 20 7946 0958 4242-4242-4242-4242 thanks", "<PHONE_1> <CARD_1> thanks"),
        ("4242 4242 4242 4242 +44 20 7946 0958", "<CARD_1> <PHONE_1>"),
        ("order 2026 4242 4242 4242 4242", "order 2026 <CARD_1>"),
    ],
)
def test_a_card_written_next_to_other_numbers_is_masked_whole(text: str, masked: str) -> None:
    mask = PiiMask()

    assert mask.mask(text) == masked
    assert mask.restore(masked) == text
