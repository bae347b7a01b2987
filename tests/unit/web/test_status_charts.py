"""Server-drawn SVG charts and the KPI percentile."""

from __future__ import annotations

import pytest

from shared.app.kpis import percentile
from shared.web.charts import Series, bar_chart, column_chart, nice_ceiling


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 50, None), ([7.0], 95, 7.0), ([60.0, 120.0, 300.0], 50, 120.0),
     ([300.0, 60.0, 120.0], 95, 282.0), ([1.0, 2.0, 3.0, 4.0], 50, 2.5)],
)  # fmt: skip
def test_percentile_interpolates_between_closest_ranks(
    values: list[float], q: float, expected: float | None
) -> None:
    assert percentile(values, q) == expected


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1.0), (0.7, 1.0), (3, 5.0), (11, 20.0), (240, 250.0), (1000, 1000.0)]
)
def test_the_axis_ends_at_a_round_number(value: float, ceiling: float) -> None:
    assert nice_ceiling(value) == pytest.approx(ceiling)


def test_labels_are_escaped_and_each_bar_carries_its_value() -> None:
    svg = str(bar_chart("Tokens <by> agent", [("<script>x</script>", 1200), ("finance", 300)]))

    assert "<script>" not in svg and "&lt;script&gt;x&lt;/script&gt;: 1,200" in svg
    assert svg.startswith('<svg class="chart" viewBox="0 0 640 ') and 'role="img"' in svg
    assert 'aria-label="Tokens &lt;by&gt; agent"' in svg


def test_stacked_columns_reach_the_total_and_empty_data_says_so() -> None:
    svg = str(column_chart("Runs", ["11-10", "11-11"], [Series("succeeded", [2, 0]),
                                                         Series("failed", [1, 1])]))  # fmt: skip
    empty = str(column_chart("Runs", ["11-10"], [Series("succeeded", [0])]))

    assert svg.count("<rect") == 3 + 2  # three bars with a value, two legend swatches
    assert ">5</text>" in svg and ">2.5</text>" in svg  # the axis: 3 rounded up, its half
    assert "<title>11-11: failed 1</title>" in svg
    assert empty == '<p class="note">Runs: nothing in this window.</p>'
    said = str(column_chart("Cost", ["11-10"], [Series("cost", [0])], empty="<No cost>"))
    assert said == '<p class="note">&lt;No cost&gt;</p>'  # names what is missing, escaped
