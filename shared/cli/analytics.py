"""`controlroom analyze`: run one of the analytics on your own CSV file.

    controlroom analyze rfm      --input orders.csv [--as-of 2026-06-30]
    controlroom analyze churn    --input orders.csv [--calibration-end 2026-06-30] [--horizon 12]
    controlroom analyze churn    --input summary.csv        (columns frequency, recency, T)
    controlroom analyze cohorts  --input orders.csv
    controlroom analyze forecast --input revenue.csv --horizon 6
    controlroom analyze channels --input campaigns.csv

A purchase log has one row per purchase: customer, date and (for rfm, and for lifetime value
in churn) amount; the --*-col flags name the columns when they are not the defaults. Dates
are ISO (2026-06-30, or a timestamp whose date part counts); money is in currency units
with a dot for decimals (12.50). `churn` reads a frequency/recency/T summary as is, and a
purchase log up to --calibration-end (default: its last date). `forecast` reads date,value
rows evenly spaced by a day, week, month, quarter or year. `channels` reads campaign rows:
channel, impressions, clicks, conversions, spend, revenue.

--json prints the whole result as JSON; without it a short summary is printed. A file the
analysis cannot use exits with status 2 and one line on stderr naming the file, the row (the
header is row 1) and the column at fault.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.analytics.bgnbd import (
    BgNbdModel,
    ChurnForecast,
    CustomerSummary,
    average_order_values,
    fit_bg_nbd,
    score_customers,
    summarize_purchases,
)
from shared.analytics.campaigns import (
    BudgetShift,
    CampaignRow,
    ChannelFunnelReport,
    channel_funnels,
    propose_budget_shift,
)
from shared.analytics.cohorts import CohortRetention, monthly_cohort_retention
from shared.analytics.forecast import IrregularSeriesError, SeriesForecast, forecast_series
from shared.analytics.insights import RfmReport, rfm_segments
from shared.analytics.transactions import Purchase

ANALYSES = ("rfm", "churn", "cohorts", "forecast", "channels")
EXIT_BAD_INPUT = 2
SUMMARY_COLUMNS = ("frequency", "recency", "T")
DEFAULT_CHURN_HORIZON = 12.0
DEFAULT_FORECAST_HORIZON = 6


class InputError(Exception):
    """A file the analysis cannot use; the message names the file, row and column at fault."""


def add_analyze_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `analyze` command to an argparse subparsers object and return its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "analyze",
        help="run an analysis (rfm, churn, cohorts, forecast, channels) on a CSV file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("analysis", choices=ANALYSES)
    parser.add_argument("--input", required=True, type=Path, help="the CSV file to read")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    parser.add_argument(
        "--delimiter", default=",", type=_one_character, help="CSV field separator (default ,)"
    )
    columns = parser.add_argument_group("column names")
    for flag, default in (
        ("customer", "customer_id"),
        ("date", "date"),
        ("amount", "amount"),
        ("value", "value"),
        ("channel", "channel"),
        ("impressions", "impressions"),
        ("clicks", "clicks"),
        ("conversions", "conversions"),
        ("spend", "spend"),
        ("revenue", "revenue"),
    ):
        columns.add_argument(f"--{flag}-col", default=default, help=f"default: {default}")
    options = parser.add_argument_group("analysis options")
    options.add_argument("--as-of", type=_iso_date, help="rfm, cohorts: the day to look from")
    options.add_argument(
        "--calibration-end", type=_iso_date, help="churn: last day of the history used"
    )
    options.add_argument("--time-unit", choices=("days", "weeks"), default="weeks", help="churn")
    options.add_argument(
        "--horizon",
        type=float,
        help=f"churn: time units ahead (default {DEFAULT_CHURN_HORIZON:g}); "
        f"forecast: periods ahead (default {DEFAULT_FORECAST_HORIZON})",
    )
    options.add_argument("--season-length", type=int, help="forecast: periods per season (0: none)")
    options.add_argument(
        "--level", type=_share_between_0_and_1, default=0.9, help="forecast: interval level"
    )
    options.add_argument(
        "--alpha", type=_share_between_0_and_1, default=0.05, help="channels: significance"
    )
    options.add_argument(
        "--shift-fraction",
        type=_share_between_0_and_1,
        default=0.1,
        help="channels: share of the worst channel's budget to move",
    )
    return parser


def run_analyze(args: argparse.Namespace) -> int:
    """Run the analysis the arguments name and print it; 2 when the input is unusable."""
    try:
        result = _ANALYSES[args.analysis](args)
    except InputError as error:
        print(f"controlroom analyze: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        print(_SUMMARIES[args.analysis](result))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m shared.cli.analytics analyze ...`, the command on its own."""
    parser = argparse.ArgumentParser(prog="controlroom")
    add_analyze_parser(parser.add_subparsers(dest="command", required=True))
    return run_analyze(parser.parse_args(argv))


# --- reading CSV files ------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    """A CSV file's rows, each with its row number (the header is row 1)."""

    path: Path
    columns: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str | None]], ...]

    def require(self, *names: str) -> None:
        """Raise InputError when a column is missing from the header."""
        for name in names:
            if name not in self.columns:
                raise InputError(
                    f"{self.path}: no column {name!r} in the header "
                    f"(columns: {', '.join(self.columns) or 'none'})"
                )

    def has(self, *names: str) -> bool:
        return all(name in self.columns for name in names)

    def cell(self, number: int, row: dict[str, str | None], column: str) -> str:
        """The stripped cell text; InputError when it is empty or missing."""
        text = (row.get(column) or "").strip()
        if not text:
            raise self.error(number, column, "is empty")
        return text

    def error(self, number: int, column: str, problem: str) -> InputError:
        return InputError(f"{self.path}: row {number}, column {column!r}: {problem}")


def _read_table(path: Path, delimiter: str) -> _Table:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle, delimiter=delimiter)
            columns = tuple(name.strip() for name in reader.fieldnames or ())
            reader.fieldnames = list(columns)
            rows = []
            for row in reader:
                # The line the record ends on, as editors and spreadsheets number it
                # (the header is 1), blank lines included.
                number = reader.line_num
                if None in row:  # DictReader files surplus fields under the key None
                    raise InputError(
                        f"{path}: row {number} has {len(columns) + len(row[None])} fields "
                        f"but the header has {len(columns)}; quote fields that contain "
                        f"{delimiter!r} (a decimal comma?)"
                    )
                rows.append((number, row))
    except FileNotFoundError as error:
        raise InputError(f"{path}: no such file") from error
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from error
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text ({error.reason})") from error
    except csv.Error as error:
        raise InputError(f"{path}: not a readable CSV file ({error})") from error
    if not columns:
        raise InputError(f"{path}: the file is empty; expected a header row")
    if not rows:
        raise InputError(f"{path}: the header is there but no data rows follow")
    return _Table(path=path, columns=columns, rows=tuple(rows))


def _parse_date(table: _Table, number: int, row: dict[str, str | None], column: str) -> date:
    text = table.cell(number, row, column)
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise table.error(number, column, f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def _parse_cents(table: _Table, number: int, row: dict[str, str | None], column: str) -> int:
    text = table.cell(number, row, column)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise table.error(
            number, column, f"{text!r} is not an amount (digits with a dot for decimals)"
        ) from None
    if not amount.is_finite():
        raise table.error(number, column, f"{text!r} is not a finite amount")
    if amount < 0:
        raise table.error(number, column, f"{text} is negative")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _parse_count(table: _Table, number: int, row: dict[str, str | None], column: str) -> int:
    text = table.cell(number, row, column)
    try:
        value = int(text)
    except ValueError:
        raise table.error(number, column, f"{text!r} is not a whole number") from None
    if value < 0:
        raise table.error(number, column, f"{value} is negative")
    return value


def _parse_number(table: _Table, number: int, row: dict[str, str | None], column: str) -> float:
    text = table.cell(number, row, column)
    try:
        value = float(text)
    except ValueError:
        raise table.error(number, column, f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise table.error(number, column, f"{text!r} is not a finite number")
    return value


def _purchases(table: _Table, args: argparse.Namespace, *, amounts: bool) -> list[Purchase]:
    customer, day, amount = args.customer_col, args.date_col, args.amount_col
    table.require(customer, day, *((amount,) if amounts else ()))
    return [
        Purchase(
            customer_id=table.cell(number, row, customer),
            purchase_date=_parse_date(table, number, row, day),
            amount_cents=_parse_cents(table, number, row, amount) if amounts else 0,
        )
        for number, row in table.rows
    ]


# --- the analyses -----------------------------------------------------------------------


def _rfm(args: argparse.Namespace) -> RfmReport:
    table = _read_table(args.input, args.delimiter)
    return rfm_segments(_purchases(table, args, amounts=True), as_of=args.as_of)


def _churn(args: argparse.Namespace) -> ChurnForecast:
    table = _read_table(args.input, args.delimiter)
    horizon = DEFAULT_CHURN_HORIZON if args.horizon is None else args.horizon
    if horizon < 0:
        raise InputError(f"--horizon must be >= 0, got {horizon:g}")
    if table.has(*SUMMARY_COLUMNS):
        summaries = _summaries(table, args.customer_col)
        return score_customers(_fit(table, summaries), summaries, horizon, time_unit=args.time_unit)
    if not table.has(args.customer_col, args.date_col):
        raise InputError(
            f"{table.path}: expected a purchase log (columns {args.customer_col!r} and "
            f"{args.date_col!r}) or a summary (columns frequency, recency, T); "
            f"the header has {', '.join(table.columns)}"
        )
    with_amounts = table.has(args.amount_col)
    purchases = _purchases(table, args, amounts=with_amounts)
    calibration_end = args.calibration_end or max(p.purchase_date for p in purchases)
    summaries = summarize_purchases(purchases, calibration_end, args.time_unit)
    if not summaries:
        raise InputError(f"{table.path}: no purchases on or before {calibration_end}")
    return score_customers(
        _fit(table, summaries),
        summaries,
        horizon,
        time_unit=args.time_unit,
        average_order_values=(
            average_order_values(purchases, calibration_end) if with_amounts else None
        ),
        calibration_end=calibration_end,
    )


def _summaries(table: _Table, customer_column: str) -> list[CustomerSummary]:
    summaries = []
    for number, row in table.rows:
        customer_id = str(number)
        if customer_column in table.columns:
            customer_id = table.cell(number, row, customer_column)
        frequency = _parse_count(table, number, row, "frequency")
        recency = _parse_number(table, number, row, "recency")
        age = _parse_number(table, number, row, "T")
        for column, value in (("recency", recency), ("T", age)):
            if value < 0:
                raise table.error(number, column, f"{value:g} is negative")
        if recency > age:
            raise table.error(number, "recency", f"{recency:g} exceeds T ({age:g})")
        if frequency == 0 and recency != 0:
            raise table.error(number, "recency", "must be 0 when frequency is 0")
        summaries.append(
            CustomerSummary(customer_id=customer_id, frequency=frequency, recency=recency, T=age)
        )
    return summaries


def _fit(table: _Table, summaries: Sequence[CustomerSummary]) -> BgNbdModel:
    try:
        return fit_bg_nbd(summaries)
    except ValueError as error:
        raise InputError(f"{table.path}: {error}") from error


def _cohorts(args: argparse.Namespace) -> CohortRetention:
    table = _read_table(args.input, args.delimiter)
    return monthly_cohort_retention(_purchases(table, args, amounts=False), as_of=args.as_of)


def _forecast(args: argparse.Namespace) -> SeriesForecast:
    table = _read_table(args.input, args.delimiter)
    table.require(args.date_col, args.value_col)
    horizon = DEFAULT_FORECAST_HORIZON if args.horizon is None else args.horizon
    if horizon != int(horizon) or horizon < 1:
        raise InputError(f"--horizon must be a whole number of periods >= 1, got {horizon:g}")
    points = sorted(
        (
            _parse_date(table, number, row, args.date_col),
            _parse_number(table, number, row, args.value_col),
            number,
        )
        for number, row in table.rows
    )
    dates = [day for day, _, _ in points]
    try:
        return forecast_series(
            dates,
            [value for _, value, _ in points],
            int(horizon),
            level=args.level,
            season_length=args.season_length,
        )
    except IrregularSeriesError as error:
        number = points[min(error.position, len(points) - 1)][2]
        raise table.error(number, args.date_col, str(error)) from error
    except ValueError as error:
        raise InputError(f"{table.path}: {error}") from error


def _channels(args: argparse.Namespace) -> ChannelsResult:
    table = _read_table(args.input, args.delimiter)
    counts = (args.impressions_col, args.clicks_col, args.conversions_col)
    table.require(args.channel_col, *counts, args.spend_col)
    rows = []
    for number, row in table.rows:
        impressions, clicks, conversions = (
            _parse_count(table, number, row, column) for column in counts
        )
        if clicks > impressions:
            raise table.error(number, args.clicks_col, f"{clicks} exceeds impressions")
        if conversions > clicks:
            raise table.error(number, args.conversions_col, f"{conversions} exceeds clicks")
        rows.append(
            CampaignRow(
                channel=table.cell(number, row, args.channel_col),
                impressions=impressions,
                clicks=clicks,
                conversions=conversions,
                spend_cents=_parse_cents(table, number, row, args.spend_col),
                revenue_cents=(
                    _parse_cents(table, number, row, args.revenue_col)
                    if table.has(args.revenue_col)
                    else 0
                ),
            )
        )
    try:
        report = channel_funnels(rows, alpha=args.alpha)
        shift = propose_budget_shift(report, fraction=args.shift_fraction)
    except ValueError as error:
        raise InputError(f"{table.path}: {error}") from error
    return ChannelsResult(funnels=report, budget_shift=shift)


class ChannelsResult(BaseModel):
    """What `analyze channels` reports: the funnels and the budget shift they suggest."""

    model_config = ConfigDict(frozen=True)
    funnels: ChannelFunnelReport
    budget_shift: BudgetShift | None  # None when no channel out-earns another


_ANALYSES: dict[str, Callable[[argparse.Namespace], BaseModel]] = {
    "rfm": _rfm,
    "churn": _churn,
    "cohorts": _cohorts,
    "forecast": _forecast,
    "channels": _channels,
}


# --- printing ---------------------------------------------------------------------------


def _euros(cents: int | None) -> str:
    return "n/a" if cents is None else f"EUR {cents / 100:,.2f}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _rfm_summary(result: RfmReport) -> str:
    lines = [f"RFM of {len(result.customers)} customers as of {result.as_of}:"]
    for segment in result.segments:
        lines.append(
            f"  {segment.segment:<12} {segment.customer_count:>6}  "
            f"{_share(segment.share_of_customers):>6}  {_euros(segment.revenue_cents)}"
        )
    return "\n".join(lines)


def _churn_summary(result: ChurnForecast) -> str:
    model = result.model
    fit = f"log-likelihood {model.log_likelihood or 0.0:.1f}"
    if not model.converged:
        fit += ", the optimiser did NOT converge"
    lines = [
        f"BG/NBD on {result.customer_count} customers ({result.time_unit}): "
        f"r={model.r:.3f} alpha={model.alpha:.3f} a={model.a:.3f} b={model.b:.3f} ({fit})",
        f"expected active: {result.expected_active_customers:.1f}; likely churned "
        f"(P(alive) < {result.churn_threshold:g}): {result.likely_churned_count} "
        f"({_share(result.likely_churned_share)})",
        f"expected purchases in the next {result.horizon:g} {result.time_unit}: "
        f"{result.expected_purchases:.1f}",
    ]
    if result.expected_value_cents is not None:
        lines.append(f"expected value over that horizon: {_euros(result.expected_value_cents)}")
    return "\n".join(lines)


def _cohorts_summary(result: CohortRetention) -> str:
    lines = [f"monthly cohort retention as of {result.as_of} (share buying in month k):"]
    for cohort, size, shares in zip(
        result.cohorts, result.cohort_sizes, result.retention, strict=True
    ):
        cells = " ".join(f"{share:>6.1%}" for share in shares)
        lines.append(f"  {cohort} {size:>6}  {cells}")
    return "\n".join(lines)


def _forecast_summary(result: SeriesForecast) -> str:
    lines = [f"{result.model}, {result.interval_level:.0%} prediction intervals:"]
    for point in result.points:
        lines.append(
            f"  {point.period}  {point.mean:,.2f}  [{point.lower:,.2f}, {point.upper:,.2f}]"
        )
    backtest = result.backtest
    if backtest is not None:
        lines.append(
            f"backtest on the last {backtest.holdout_periods}: MAE {backtest.mae:,.2f} vs "
            f"{backtest.baseline} {backtest.baseline_mae:,.2f}; "
            f"{backtest.interval_coverage:.0%} inside the intervals"
        )
    return "\n".join(lines)


def _channels_summary(result: ChannelsResult) -> str:
    lines = []
    for channel in result.funnels.channels:
        lines.append(
            f"  {channel.channel:<12} CTR {_share(channel.ctr):>6}  CVR {_share(channel.cvr):>6}  "
            f"CPA {_euros(channel.cpa_cents):>14}  ROAS "
            f"{'n/a' if channel.roas is None else f'{channel.roas:.2f}'}"
        )
    lines.extend(result.funnels.statements)
    if result.budget_shift is not None:
        lines.append(result.budget_shift.explanation)
    return "\n".join(lines)


_SUMMARIES: dict[str, Callable[[Any], str]] = {
    "rfm": _rfm_summary,
    "churn": _churn_summary,
    "cohorts": _cohorts_summary,
    "forecast": _forecast_summary,
    "channels": _channels_summary,
}


def _share_between_0_and_1(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1 (exclusive)")
    return value


def _one_character(text: str) -> str:
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a single character")
    return text


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


if __name__ == "__main__":
    sys.exit(main())
