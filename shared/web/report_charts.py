"""The report's own charts, inline SVG like shared/web/charts.py: a line with its forecast
interval, and a heat map (the cohort retention matrix).

    line_chart(title, labels, series, band=..., fmt=...)   values over periods, a shaded band
    heat_map(title, rows, columns, cells)                  shares 0..1 as shades of one colour

Every point and cell carries its value in a <title> (shown on hover) and the pages print the
same figures in a table, so nothing is only in a picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from shared.web.charts import (
    MAX_X_LABELS,
    WIDTH,
    Formatter,
    colour_for,
    nice_ceiling,
    plain,
    svg_frame,
)

NOTHING = Markup('<p class="note">No figures to chart.</p>')


@dataclass(frozen=True)
class Line:
    """One named line; None where it has no value (a gap)."""

    name: str
    values: Sequence[float | None]
    colour: str = ""


@dataclass(frozen=True)
class Band:
    """A shaded interval over some of the labels (None where it does not apply)."""

    name: str
    lower: Sequence[float | None]
    upper: Sequence[float | None]


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Line],
    *,
    band: Band | None = None,
    fmt: Formatter = plain,
    y_label: str = "",
) -> Markup:
    """Lines over labels (a None value leaves a gap), with an optional shaded interval."""
    values = [v for s in series for v in s.values if v is not None]
    if band is not None:
        values += [v for v in band.upper if v is not None]
    if not labels or not values:
        return NOTHING
    height, left, right, top, bottom = 250, 64, 12, 30, 38
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    top_value = nice_ceiling(max(values))
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return left + step * i

    def y(value: float) -> float:
        return top + plot_h * (1 - value / top_value)

    body: list[str] = []
    for fraction in (0, 0.5, 1):
        at = top + plot_h * (1 - fraction)
        body.append(
            f'<line x1="{left}" x2="{WIDTH - right}" y1="{at:.1f}" y2="{at:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{at + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#555">{escape(fmt(top_value * fraction))}</text>'
        )
    if y_label:
        body.append(
            f'<text x="12" y="{top + plot_h / 2:.1f}" font-size="11" fill="#555" '
            f'transform="rotate(-90 12 {top + plot_h / 2:.1f})" text-anchor="middle">'
            f"{escape(y_label)}</text>"
        )
    legend: list[tuple[str, str]] = []
    if band is not None:
        pairs = [
            (i, lo, hi)
            for i, (lo, hi) in enumerate(zip(band.lower, band.upper, strict=True))
            if lo is not None and hi is not None
        ]
        if pairs:
            upper = [f"{x(i):.1f},{y(hi):.1f}" for i, _, hi in pairs]
            lower = [f"{x(i):.1f},{y(lo):.1f}" for i, lo, _ in reversed(pairs)]
            tip = escape("; ".join(f"{labels[i]}: {fmt(lo)} to {fmt(hi)}" for i, lo, hi in pairs))
            body.append(
                f'<polygon points="{" ".join(upper + lower)}" fill="#2f6fde" '
                f'fill-opacity="0.15"><title>{escape(band.name)}: {tip}</title></polygon>'
            )
            legend.append((band.name, "#9db8ee"))
    for index, one in enumerate(series):
        colour = one.colour or colour_for(one.name, index)
        legend.append((one.name, colour))
        points = [(i, v) for i, v in enumerate(one.values) if v is not None]
        runs: list[list[tuple[int, float]]] = []
        for i, v in points:
            if runs and runs[-1][-1][0] == i - 1:
                runs[-1].append((i, v))
            else:
                runs.append([(i, v)])
        dash = ' stroke-dasharray="6 4"' if "forecast" in one.name.lower() else ""
        for run in runs:
            path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
            )
        for i, v in points:
            body.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(f'{labels[i]}: {one.name} {fmt(v)}')}</title></circle>"
            )
    every = math.ceil(len(labels) / MAX_X_LABELS)
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            # The outermost labels keep inside the frame.
            anchor = "end" if i == len(labels) - 1 and i else "start" if i == 0 else "middle"
            body.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 18}" font-size="11" '
                f'text-anchor="{anchor}" fill="#555">{escape(label)}</text>'
            )
    at = left
    for name, colour in legend:
        body.append(f'<rect x="{at}" y="8" width="10" height="10" fill="{colour}"/>')
        body.append(f'<text x="{at + 14}" y="17" font-size="12">{escape(name)}</text>')
        at += 28 + 7 * len(name)
    return svg_frame(title, height, body)


def heat_map(
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[float | None]],
    *,
    fmt: Formatter = lambda v: f"{v:.0%}",
) -> Markup:
    """One row per label, one cell per column, shaded by its share (0 light, 1 dark)."""
    if not rows or not columns:
        return NOTHING
    left, top, cell_h = 72, 26, 22
    cell_w = (WIDTH - left - 8) / len(columns)
    height = top + cell_h * len(rows) + 8
    body: list[str] = []
    for j, column in enumerate(columns):
        body.append(
            f'<text x="{left + cell_w * (j + 0.5):.1f}" y="{top - 8}" font-size="11" '
            f'text-anchor="middle" fill="#555">{escape(column)}</text>'
        )
    for i, (label, row) in enumerate(zip(rows, cells, strict=True)):
        at = top + cell_h * i
        body.append(
            f'<text x="{left - 6}" y="{at + 15}" font-size="11" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        for j, value in enumerate(row):
            if value is None:
                continue
            share = min(max(value, 0.0), 1.0)
            ink = "#fff" if share > 0.55 else "#111"
            body.append(
                f'<rect x="{left + cell_w * j:.1f}" y="{at}" width="{cell_w - 1:.1f}" '
                f'height="{cell_h - 1}" fill="#2f6fde" fill-opacity="{0.08 + 0.92 * share:.2f}">'
                f"<title>{escape(f'{label}, {columns[j]}: {fmt(value)}')}</title></rect>"
            )
            if cell_w >= 34:
                body.append(
                    f'<text x="{left + cell_w * (j + 0.5):.1f}" y="{at + 15}" font-size="10" '
                    f'text-anchor="middle" fill="{ink}">{escape(fmt(value))}</text>'
                )
    return svg_frame(title, height, body)
