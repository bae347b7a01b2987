"""PII masking: what is masked, what is left alone, and restoring answers."""

from __future__ import annotations

import pytest

from shared.core.pii import PiiMask, luhn_valid


@pytest.mark.parametrize(
    "email",
    ["ana@example.com", "ana.lopez+vip@mail.example.co.uk", "b_ob-1@shop.de", "X%Y@sub.do-main.io"],
)
def test_email_addresses_are_masked(email: str) -> None:
    mask = PiiMask()

    masked = mask.mask(f"Reply to {email}, please.")

    assert masked == "Reply to <EMAIL_1>, please."
    assert mask.found == {"<EMAIL_1>": email}


@pytest.mark.parametrize(
    "card", ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"]
)
def test_card_numbers_with_a_valid_check_digit_are_masked(card: str) -> None:
    masked = PiiMask().mask(f"Paid with {card}.")

    assert masked == "Paid with <CARD_1>."


@pytest.mark.parametrize("number", ["4111 1111 1111 1112", "1234567890123", "9999999999999999"])
def test_long_numbers_failing_the_luhn_check_are_not_cards(number: str) -> None:
    masked = PiiMask().mask(f"Order {number} shipped.")

    assert "<CARD_" not in masked


@pytest.mark.parametrize(
    "phone",
    [
        "+49 30 12345678",
        "+44 (0)20 7946 0958",
        "0049 30 1234567",
        "030 1234567",
        "06 12 34 56 78",
        "(030) 1234567",
        "(415) 555-0132",
        "415-555-0132",
        "+1.415.555.0132",
    ],
)
def test_phone_numbers_are_masked(phone: str) -> None:
    masked = PiiMask().mask(f"Call {phone} today.")

    assert masked == "Call <PHONE_1> today."


@pytest.mark.parametrize(
    "text",
    [
        "Revenue for 2026-10 was €14,994.85 (+24.3%).",
        "1,499,485 cents over 12 months, AOV €42.10, ratio 0.243.",
        "From 2026-10-01 to 2026-10-31 there were 1 234 orders.",
        "Months (2026-09 - 2026-10) grew 2.5\u00d7; 12 345 678 units.",
        "Ticket #48213 for customer C-10233 at 08:00 on 16/11/2026.",
    ],
)
def test_figures_dates_and_ids_are_left_alone(text: str) -> None:
    assert PiiMask().mask(text) == text


def test_the_same_value_gets_the_same_placeholder_across_texts() -> None:
    mask = PiiMask()

    system = mask.mask("Escalations go to ops@example.com.")
    prompt = mask.mask("ana@example.com wrote; copy ops@example.com and call +49 30 12345678.")

    assert system == "Escalations go to <EMAIL_1>."
    assert prompt == "<EMAIL_2> wrote; copy <EMAIL_1> and call <PHONE_1>."


def test_restore_puts_the_values_back_and_leaves_unknown_placeholders() -> None:
    mask = PiiMask()
    mask.mask("ana@example.com paid with 4111 1111 1111 1111")

    restored = mask.restore("Thank <EMAIL_1> for <CARD_1>; <EMAIL_9> is not ours.")

    assert restored == "Thank ana@example.com for 4111 1111 1111 1111; <EMAIL_9> is not ours."


def test_masking_then_restoring_is_the_identity() -> None:
    text = "Ana (ana@example.com, +34 612 345 678) paid 5500 0000 0000 0004 on 2026-10-16."
    mask = PiiMask()

    assert mask.restore(mask.mask(text)) == text


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("79927398713", True), ("79927398710", False), ("4111111111111111", True), ("0", True)],
)
def test_luhn_check(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid
