"""Budget against actuals: the variance of each line and of the whole, and what matters.

Variance is actual - budget, so a positive variance means more was spent (an expense line) or
earned (a revenue line) than planned. A line is *favourable* when it helps the result: an
expense under budget, revenue over it. It is *material* when the variance is at least
`materiality` (default 5 %) of its budget, or, for a line without a budget, whenever it has
any actual. Totals net revenue against expenses: the net result is revenue - expenses, for
the budget and the actuals alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.analytics._numbers import ratio

LineKind = Literal["expense", "revenue"]
DEFAULT_MATERIALITY = 0.05


class BudgetLine(BaseModel):
    """One budget line with what it came to."""

    model_config = ConfigDict(frozen=True)
    category: str
    kind: LineKind = "expense"
    budget_cents: int = Field(ge=0)
    actual_cents: int = Field(ge=0)


class LineVariance(BaseModel):
    """One line's variance against its budget."""

    model_config = ConfigDict(frozen=True)
    category: str
    kind: LineKind
    budget_cents: int
    actual_cents: int
    variance_cents: int  # actual - budget
    variance_share: float | None  # variance / budget; None without a budget
    favourable: bool | None  # None when actual equals budget
    material: bool


class BudgetVarianceReport(BaseModel):
    """Every line's variance, the net result, and the material lines by size."""

    model_config = ConfigDict(frozen=True)
    materiality: float
    lines: tuple[LineVariance, ...]  # in input order
    budget_expenses_cents: int
    actual_expenses_cents: int
    budget_revenue_cents: int
    actual_revenue_cents: int
    budget_net_cents: int  # revenue - expenses
    actual_net_cents: int
    net_variance_cents: int  # positive: a better net result than planned
    material_lines: tuple[str, ...]  # categories, largest absolute variance first


def budget_variance(
    lines: Sequence[BudgetLine], materiality: float = DEFAULT_MATERIALITY
) -> BudgetVarianceReport:
    """Variance of each line and of the net result against the budget."""
    if materiality < 0:
        raise ValueError(f"materiality must be >= 0, got {materiality}")
    variances = tuple(_line_variance(line, materiality) for line in lines)
    budget_expenses = sum(line.budget_cents for line in lines if line.kind == "expense")
    actual_expenses = sum(line.actual_cents for line in lines if line.kind == "expense")
    budget_revenue = sum(line.budget_cents for line in lines if line.kind == "revenue")
    actual_revenue = sum(line.actual_cents for line in lines if line.kind == "revenue")
    material = sorted(
        (line for line in variances if line.material),
        key=lambda line: (-abs(line.variance_cents), line.category),
    )
    budget_net = budget_revenue - budget_expenses
    actual_net = actual_revenue - actual_expenses
    return BudgetVarianceReport(
        materiality=materiality,
        lines=variances,
        budget_expenses_cents=budget_expenses,
        actual_expenses_cents=actual_expenses,
        budget_revenue_cents=budget_revenue,
        actual_revenue_cents=actual_revenue,
        budget_net_cents=budget_net,
        actual_net_cents=actual_net,
        net_variance_cents=actual_net - budget_net,
        material_lines=tuple(line.category for line in material),
    )


def _line_variance(line: BudgetLine, materiality: float) -> LineVariance:
    variance = line.actual_cents - line.budget_cents
    share = ratio(variance, line.budget_cents)
    favourable = None
    if variance != 0:
        favourable = (variance < 0) if line.kind == "expense" else (variance > 0)
    if line.budget_cents:
        material = abs(variance) >= materiality * line.budget_cents
    else:
        material = line.actual_cents > 0
    return LineVariance(
        category=line.category,
        kind=line.kind,
        budget_cents=line.budget_cents,
        actual_cents=line.actual_cents,
        variance_cents=variance,
        variance_share=share,
        favourable=favourable,
        material=material,
    )
