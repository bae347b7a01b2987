"""The sources under a support answer: cited articles only, each once, linked when the help
centre is public."""

from __future__ import annotations

from shared.support.sources import article_url, with_sources

PASSAGES = [
    {"n": 1, "source": "refunds.md", "title": "Refunds"},
    {"n": 2, "source": "returns-policy.md", "title": "Returns policy"},
    {"n": 3, "source": "refunds.md", "title": "Refunds"},
    {"n": 4, "source": "guides/shipping options.html", "title": "Shipping options"},
]


def test_each_cited_article_is_listed_once_with_its_link() -> None:
    answer = "Refunds take 3 days [1] [3], and shipping is free over €50 [4]."

    text = with_sources(answer, PASSAGES, "https://help.shop.example/articles/")

    assert text == (
        f"{answer}\n\nSources:\n"
        "[1] Refunds: https://help.shop.example/articles/refunds\n"
        "[4] Shipping options: https://help.shop.example/articles/guides/shipping%20options"
    )


def test_without_a_public_help_centre_the_titles_are_given_and_nothing_uncited() -> None:
    assert with_sources("Returns within 30 days [2].", PASSAGES, None) == (
        "Returns within 30 days [2].\n\nSources:\n[2] Returns policy"
    )
    assert with_sources("Hello! How can I help?", PASSAGES, None) == "Hello! How can I help?"


def test_an_answer_that_lists_its_sources_already_is_left_as_it_is() -> None:
    answer = "Refunds take 3 days [1].\n\nSources:\n[1] Refunds"

    assert with_sources(answer, PASSAGES, "https://help.shop.example") == answer
    assert article_url("https://h.example/a", "faq/refunds.md") == "https://h.example/a/faq/refunds"
