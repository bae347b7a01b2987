"""Unsubscribe links, their headers and footer, and the offer codes campaign emails carry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from shared.email.offer_codes import ALPHABET, offer_code
from shared.email.unsubscribe import (
    Mailing,
    address_key,
    token_is_valid,
    unsubscribe_headers,
    unsubscribe_url,
    with_footer,
)

SECRET = b"s" * 32


class ListedKeys:
    def __init__(self, keys: set[str]) -> None:
        self.keys = keys

    def suppress(self, key: str, *, source: str, at: datetime) -> bool:
        new = key not in self.keys
        self.keys.add(key)
        return new

    def suppressed_among(self, keys: Sequence[str]) -> set[str]:
        return self.keys & set(keys)


def test_an_address_is_one_key_whatever_its_case_and_spaces_and_the_key_is_not_the_address() -> (
    None
):
    key = address_key("Ana.Diaz@Example.com ")

    assert key == address_key("ana.diaz@example.com")
    assert key != address_key("ana.diaz@example.org")
    assert len(key) == 32 and "ana" not in key


def test_the_link_carries_the_key_and_a_token_only_the_secret_makes() -> None:
    url = unsubscribe_url("https://status.example/", SECRET, "ana@example.com")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}

    assert (parts.scheme, parts.netloc, parts.path) == ("https", "status.example", "/unsubscribe")
    assert query["a"] == address_key("ana@example.com")
    assert "ana" not in url  # no address in the link
    assert token_is_valid(SECRET, query["a"], query["t"])
    assert not token_is_valid(b"other" * 8, query["a"], query["t"])
    assert not token_is_valid(SECRET, address_key("bob@example.com"), query["t"])
    assert not token_is_valid(SECRET, query["a"], query["t"][:-1] + "A")


def test_mail_clients_get_a_one_click_button_and_people_a_footer() -> None:
    url = "https://status.example/unsubscribe?a=k&t=t"

    assert unsubscribe_headers(url) == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    footer = with_footer("Hi Ana,\n\nCome back.\n\n", url, "Northwind Goods")
    assert footer.startswith("Hi Ana,\n\nCome back.\n\n--\n")
    assert "ordered from Northwind Goods" in footer and footer.rstrip().endswith(url)


def test_the_mailing_names_the_addresses_that_left() -> None:
    mailing = Mailing(
        suppressions=ListedKeys({address_key("bob@example.com")}),
        secret=SECRET,
        base_url="https://status.example",
        shop="Northwind Goods",
    )

    assert mailing.unsubscribed(["ana@example.com", "Bob@Example.com"]) == {"Bob@Example.com"}
    assert mailing.link("ana@example.com") == unsubscribe_url(
        "https://status.example", SECRET, "ana@example.com"
    )


def test_an_offer_code_is_the_same_on_a_redelivery_and_differs_per_customer_and_run() -> None:
    code = offer_code(SECRET, "winback-1", "cus_1")

    assert code == offer_code(SECRET, "winback-1", "cus_1")
    prefix, first, second = code.split("-")
    assert prefix == "BACK" and len(first) == len(second) == 4
    assert set(first + second) <= set(ALPHABET)
    others = {offer_code(SECRET, "winback-1", f"cus_{i}") for i in range(2, 502)}
    others |= {
        offer_code(SECRET, "winback-2", "cus_1"),
        offer_code(b"x" * 32, "winback-1", "cus_1"),
    }
    assert code not in others and len(others) == 502  # 500 customers, another run, another key
