"""Prose templates: the money and ratio filters, and missing facts as errors."""

from __future__ import annotations

import jinja2
import pytest

from shared.llm.templates import render


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("{{ v | eur }}", 1499485, "€14,994.85"),
        ("{{ v | eur }}", 5, "€0.05"),
        ("{{ v | eur }}", 0, "€0.00"),
        ("{{ v | eur }}", 123456789, "€1,234,567.89"),
        ("{{ v | pct }}", 0.243, "+24.3%"),
        ("{{ v | pct }}", -0.0549, "-5.5%"),
        ("{{ v | pct }}", 0.0, "+0.0%"),
        ("{{ v | share }}", 0.2782, "27.8%"),
        ("{{ v | share }}", 1.0, "100.0%"),
        ("{{ v | times }}", 2.967, "2.97\N{MULTIPLICATION SIGN}"),
        ("{{ v | times }}", 0, "0.00\N{MULTIPLICATION SIGN}"),
        ("{{ v | num }}", 104.4, "104"),
        ("{{ v | num }}", 12345.6, "12,346"),
        ("{{ v | num }}", 0, "0"),
    ],
)
def test_filter_formats_a_value(template: str, value: float, expected: str) -> None:
    text = render(template, {"v": value})

    assert text == expected


@pytest.mark.parametrize("name", ["eur", "pct", "share", "times", "num"])
def test_filter_shows_none_as_not_available(name: str) -> None:
    text = render(f"{{{{ v | {name} }}}}", {"v": None})

    assert text == "n/a"


def test_missing_fact_is_an_error_not_a_blank() -> None:
    with pytest.raises(jinja2.UndefinedError, match="latest_month"):
        render("Revenue for {{ latest_month }} was {{ revenue | eur }}.", {"revenue": 100})


def test_missing_fact_in_a_condition_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError, match="tickets"):
        render("{% if tickets %}busy{% endif %}", {})


def test_missing_fact_passed_through_a_filter_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError, match="revenue"):
        render("{{ revenue | eur }}", {})


def test_render_strips_surrounding_whitespace_and_does_not_escape() -> None:
    text = render("\n  {{ a }} & {{ b }}  \n", {"a": "<R&D>", "b": "x"})

    assert text == "<R&D> & x"


def test_a_template_cannot_reach_python_internals() -> None:
    # Templates are editable on the status page; the sandbox keeps them to their facts.
    hostile = "{{ ''.__class__.__mro__[1].__subclasses__() }}"

    with pytest.raises(jinja2.exceptions.SecurityError):
        render(hostile, {})
