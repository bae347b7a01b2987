"""Charts as inline SVG drawn on the server: no JavaScript, no external files.

They scale to the page's width through their viewBox (readable on a phone), carry role="img"
with a title for screen readers, give every bar its value in a <title> (shown on hover), and
escape every label. Pages show the same figures in a table next to each chart.

    column_chart(title, labels, series, stacked=...)   columns per label (e.g. per day)
    bar_chart(title, rows)                              one horizontal bar per row
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
PALETTE = ("#2f6fde", "#17803d", "#b42318", "#a15c07", "#6941c6", "#667085", "#0e7490")
STATUS_COLOURS = {
    "succeeded": "#17803d",
    "failed": "#b42318",
    "running": "#a15c07",
    "waiting": "#2f6fde",
    "cancelled": "#667085",
    "deflected": "#17803d",
    "escalated": "#b42318",
    "pending": "#a15c07",
}
MAX_X_LABELS = 8
MAX_LABEL_CHARS = 18

Formatter = Callable[[float], str]


def plain(value: float) -> str:
    """A count or amount without trailing zeros: 3, 2.5, 1,204."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


@dataclass(frozen=True)
class Series:
    """One named series of values, one per label."""

    name: str
    values: Sequence[float]
    colour: str = ""


def colour_for(name: str, index: int) -> str:
    """The colour of a status-like name, else the index-th of the palette."""
    return STATUS_COLOURS.get(name, PALETTE[index % len(PALETTE)])


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-12:
            return step * power
    return 10 * power  # unreachable: 10 x power always exceeds value


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def nothing_to_chart(title: str, empty: str = "") -> Markup:
    """The note in place of a chart with nothing above zero, saying which chart it is."""
    return Markup('<p class="note">{}</p>').format(empty or f"{title}: nothing in this window.")


def svg_frame(title: str, height: int, body: list[str]) -> Markup:
    """An SVG element of the chart width, scaled by its viewBox, titled for screen readers."""
    label = escape(title)
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{label}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">'
        f"<title>{label}</title>{''.join(body)}</svg>"
    )


def column_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = True,
    fmt: Formatter = plain,
    empty: str = "",
) -> Markup:
    """Columns per label, the series stacked (or side by side), with a legend and a y axis.

    With nothing above zero, a note names what is missing (`empty`, else the chart's title).
    """
    if not labels or not series or not any(v for s in series for v in s.values):
        return nothing_to_chart(title, empty)
    height, left, right, top, bottom = 240, 56, 8, 28, 34
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    if stacked:
        peak = max(sum(s.values[i] for s in series) for i in range(len(labels)))
    else:
        peak = max(v for s in series for v in s.values)
    top_value = nice_ceiling(peak)
    body: list[str] = []
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        body.append(
            f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#555">{escape(fmt(top_value * fraction))}</text>'
        )
    slot = plot_w / len(labels)
    colours = [s.colour or colour_for(s.name, i) for i, s in enumerate(series)]
    every = math.ceil(len(labels) / MAX_X_LABELS)
    for i, label in enumerate(labels):
        x0 = left + slot * i
        base = 0.0
        for j, one in enumerate(series):
            value = one.values[i]
            bar_h = plot_h * value / top_value
            if stacked:
                width, x = slot * 0.7, x0 + slot * 0.15
                y = top + plot_h - plot_h * (base + value) / top_value
                base += value
            else:
                width = slot * 0.8 / len(series)
                x, y = x0 + slot * 0.1 + width * j, top + plot_h - bar_h
            if value:
                tip = escape(f"{label}: {one.name} {fmt(value)}")
                body.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                    f'height="{bar_h:.1f}" fill="{colours[j]}"><title>{tip}</title></rect>'
                )
        if i % every == 0:
            body.append(
                f'<text x="{x0 + slot / 2:.1f}" y="{height - bottom + 16}" font-size="11" '
                f'text-anchor="middle" fill="#555">{escape(_short(label))}</text>'
            )
    x = left
    for one, colour in zip(series, colours, strict=True):
        body.append(f'<rect x="{x}" y="8" width="10" height="10" fill="{colour}"/>')
        body.append(f'<text x="{x + 14}" y="17" font-size="12">{escape(one.name)}</text>')
        x += 24 + 7 * len(one.name)
    return svg_frame(title, height, body)


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, float]],
    *,
    fmt: Formatter = plain,
    colour: str = PALETTE[0],
    empty: str = "",
) -> Markup:
    """One horizontal bar per (label, value) row, with the value written after it."""
    if not rows or not any(value for _, value in rows):
        return nothing_to_chart(title, empty)
    row_h, label_w, value_w = 24, 150, 90
    height = row_h * len(rows) + 8
    span = WIDTH - label_w - value_w
    peak = max(value for _, value in rows)
    body: list[str] = []
    for i, (label, value) in enumerate(rows):
        y = 4 + row_h * i
        width = span * value / peak if peak else 0
        text = escape(fmt(value))
        body.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12">'
            f"<title>{escape(label)}</title>{escape(_short(label))}</text>"
        )
        body.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{width:.1f}" height="{row_h - 8}" '
            f'fill="{colour}"><title>{escape(label)}: {text}</title></rect>'
        )
        body.append(
            f'<text x="{label_w + width + 6:.1f}" y="{y + 16}" font-size="12">{text}</text>'
        )
    return svg_frame(title, height, body)
