"""`controlroom analyze` on CSV files: the happy paths, and bad files named row and column."""

from __future__ import annotations

import argparse
import json
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.analytics._numbers import add_months
from shared.cli.analytics import add_analyze_parser, main, run_analyze

CDNOW = Path(__file__).resolve().parents[2] / "data" / "cdnow_customers_summary.csv"


def write(tmp_path: Path, text: str, name: str = "input.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def analyze_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    """Run the command with --json; return the parsed output."""
    assert main(["analyze", *argv, "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def analyze_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the command expecting bad input; return the one line on stderr."""
    assert main(["analyze", *argv, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    return captured.err


def _orders(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        "cust,day,total\n"
        "a,2026-01-05,12.50\n"
        "a,2026-02-10,7.5\n"
        "b,2026-01-20T09:30:00,100\n"
        "c,2026-02-03,0.99\n",
    )


# --- happy paths --------------------------------------------------------------------------


def test_the_parser_hooks_into_a_parent_command(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser(prog="controlroom")
    add_analyze_parser(parser.add_subparsers(dest="command", required=True))

    args = parser.parse_args(["analyze", "cohorts", "--input", str(tmp_path / "x.csv")])

    assert (args.command, args.analysis, args.customer_col, args.json) == (
        "analyze",
        "cohorts",
        "customer_id",
        False,
    )


def test_rfm_with_custom_column_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _orders(tmp_path)
    columns = ("--customer-col", "cust", "--date-col", "day", "--amount-col", "total")

    result = analyze_json(capsys, "rfm", "--input", str(path), *columns, "--as-of", "2026-03-01")

    by_id = {row["customer_id"]: row for row in result["customers"]}
    assert result["as_of"] == "2026-03-01"
    assert (by_id["a"]["frequency"], by_id["a"]["monetary_cents"]) == (2, 2000)
    assert (by_id["b"]["recency_days"], by_id["b"]["monetary_cents"]) == (40, 10000)
    assert by_id["c"]["monetary_cents"] == 99
    assert sum(segment["customer_count"] for segment in result["segments"]) == 3


def test_rfm_text_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _orders(tmp_path)
    argv = ["analyze", "rfm", "--input", str(path), "--customer-col", "cust"]

    assert main([*argv, "--date-col", "day", "--amount-col", "total"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("RFM of 3 customers as of 2026-02-10:")
    assert "champions" in out


def test_churn_from_a_summary_file(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("churn", "--input", str(CDNOW), "--customer-col", "ID", "--horizon", "39")

    result = analyze_json(capsys, *argv)

    model = result["model"]
    assert (round(model["r"], 3), round(model["alpha"], 3)) == (0.243, 4.414)
    assert (round(model["a"], 3), round(model["b"], 3)) == (0.793, 2.426)
    assert result["customer_count"] == 2357
    assert result["calibration_end"] is None
    assert result["expected_value_cents"] is None  # a summary has no amounts
    first = result["customers"][0]
    # CDNOW customer 1 is the one of Hardie's spreadsheet: 1.226 purchases in 39 weeks.
    assert (first["customer_id"], first["frequency"], first["recency"]) == ("1", 2, 30.43)
    assert first["expected_purchases"] == pytest.approx(1.226, abs=1e-3)


def test_churn_from_a_purchase_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["customer_id,date,amount"]
    start = date(2025, 1, 6)
    for number in range(40):
        # Customer k buys every (k % 5 + 1) weeks, the first 10 stop after two months.
        gap, stop = number % 5 + 1, 8 if number < 10 else 52
        first = start + timedelta(days=number)
        for week in range(0, stop, gap):
            lines.append(f"c{number:02d},{first + timedelta(weeks=week)},{10 + number % 3}.00")
    lines.append("c00,2026-06-01,99.00")  # after the calibration end: ignored
    path = write(tmp_path, "\n".join(lines) + "\n")

    result = analyze_json(
        capsys, "churn", "--input", str(path), "--calibration-end", "2025-12-31", "--horizon", "8"
    )

    assert result["calibration_end"] == "2025-12-31"
    assert (result["time_unit"], result["horizon"]) == ("weeks", 8.0)
    assert result["customer_count"] == 40
    assert result["model"]["converged"]
    scores = {row["customer_id"]: row for row in result["customers"]}
    # The early quitters look far less alive than the steady buyers with the same rhythm.
    assert scores["c01"]["p_alive"] < 0.5 < scores["c11"]["p_alive"]
    assert scores["c11"]["average_order_value_cents"] == 1200  # 10 + 11 % 3 euros
    assert result["expected_value_cents"] > 0


def test_cohorts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        "customer_id,date\na,2026-01-05\nb,2026-01-20\na,2026-02-01\nc,2026-02-11\nb,2026-03-31\n",
    )

    result = analyze_json(capsys, "cohorts", "--input", str(path))

    assert result["cohorts"] == ["2026-01", "2026-02"]
    assert result["cohort_sizes"] == [2, 1]
    assert result["retention"] == [[1.0, 0.5, 0.5], [1.0, 0.0]]
    assert result["last_month_complete"] is True


def test_forecast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        f"{add_months(date(2023, 1, 1), t)},{1000 + 8 * t + 120 * math.sin(math.pi * t / 6):.2f}"
        for t in range(36)
    ]
    # Rows out of order are fine: the series is sorted by date.
    path = write(tmp_path, "month,revenue\n" + "\n".join(reversed(rows)) + "\n")

    result = analyze_json(
        capsys,
        "forecast",
        "--input",
        str(path),
        "--date-col",
        "month",
        "--value-col",
        "revenue",
        "--horizon",
        "3",
    )

    assert [point["period"] for point in result["points"]] == ["2026-01", "2026-02", "2026-03"]
    assert result["seasonal_periods"] == 12
    assert result["backtest"]["holdout_periods"] == 3
    for point in result["points"]:
        assert point["lower"] <= point["mean"] <= point["upper"]


def test_channels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        "channel,impressions,clicks,conversions,spend,revenue\n"
        "search,10000,500,50,1000.00,4000.00\n"
        "social,20000,400,12,800.00,960.00\n"
        "email,2000,200,18,100.00,600.00\n",
    )

    result = analyze_json(capsys, "channels", "--input", str(path))

    funnels = result["funnels"]
    assert [c["channel"] for c in funnels["channels"]] == ["email", "search", "social"]
    assert funnels["significant_pairs"] == [["email", "social"], ["search", "social"]]
    shift = result["budget_shift"]
    assert (shift["from_channel"], shift["to_channel"], shift["shift_cents"]) == (
        "social",
        "email",
        5000,
    )


# --- bad files ------------------------------------------------------------------------------


def test_a_bad_date_names_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "customer_id,date\na,2026-01-05\nb,05/01/2026\n")

    error = analyze_error(capsys, "cohorts", "--input", str(path))

    assert f"{path}: row 3, column 'date': '05/01/2026' is not an ISO date" in error


def test_a_row_with_extra_fields_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An unquoted decimal comma would otherwise read as 12 and lose the cents.
    path = write(tmp_path, "customer_id,date,amount\na,2026-01-05,12.50\na,2026-01-06,12,50\n")

    error = analyze_error(capsys, "rfm", "--input", str(path))

    assert "row 3 has 4 fields but the header has 3" in error


def test_an_unparseable_amount_names_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, 'customer_id,date,amount\na,2026-01-05,12.50\na,2026-01-06,"12,50"\n')

    error = analyze_error(capsys, "rfm", "--input", str(path))

    assert "row 3, column 'amount': '12,50' is not an amount" in error


def test_a_negative_amount_and_an_empty_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    negative = write(tmp_path, "customer_id,date,amount\na,2026-01-05,-3\n", "negative.csv")
    empty = write(tmp_path, "customer_id,date,amount\na,2026-01-05,3\n,2026-01-06,4\n", "e.csv")

    assert "row 2, column 'amount': -3 is negative" in analyze_error(
        capsys, "rfm", "--input", str(negative)
    )
    assert "row 3, column 'customer_id': is empty" in analyze_error(
        capsys, "rfm", "--input", str(empty)
    )


def test_rows_are_numbered_as_the_file_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "customer_id,date\na,2026-01-05\n\nb,2026-13-01\n")

    error = analyze_error(capsys, "cohorts", "--input", str(path))

    assert "row 4, column 'date': '2026-13-01' is not an ISO date" in error  # after a blank line


def test_a_missing_column_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "customer,when\na,2026-01-05\n")

    error = analyze_error(capsys, "cohorts", "--input", str(path))

    assert "no column 'customer_id' in the header (columns: customer, when)" in error


def test_missing_empty_and_headerless_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.csv"
    empty = write(tmp_path, "", "empty.csv")
    header_only = write(tmp_path, "customer_id,date\n", "header.csv")

    assert "no such file" in analyze_error(capsys, "cohorts", "--input", str(missing))
    assert "cannot be read" in analyze_error(capsys, "cohorts", "--input", str(tmp_path))
    assert "the file is empty" in analyze_error(capsys, "cohorts", "--input", str(empty))
    assert "no data rows" in analyze_error(capsys, "cohorts", "--input", str(header_only))


def test_a_summary_with_recency_beyond_t(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "frequency,recency,T\n2,10.5,20\n1,30,20\n")

    error = analyze_error(capsys, "churn", "--input", str(path))

    assert "row 3, column 'recency': 30 exceeds T (20)" in error


def test_a_summary_with_a_fractional_frequency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "frequency,recency,T\n2.5,10.5,20\n")

    error = analyze_error(capsys, "churn", "--input", str(path))

    assert "row 2, column 'frequency': '2.5' is not a whole number" in error


def test_a_log_without_repeat_purchases_cannot_be_fitted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "customer_id,date\na,2026-01-05\nb,2026-01-06\n")

    error = analyze_error(capsys, "churn", "--input", str(path))

    assert "repeat purchase" in error


def test_irregular_forecast_dates_name_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "date,value\n2026-01-01,1\n2026-02-01,2\n2026-03-01,3\n2026-05-01,4\n2026-06-01,5\n",
    )

    error = analyze_error(capsys, "forecast", "--input", str(path))

    assert "row 5, column 'date': dates are not evenly spaced: 2026-05-01 is 2 months" in error


def test_duplicate_forecast_dates_name_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "date,value\n2026-01-03,1\n2026-01-01,2\n2026-01-02,3\n2026-01-02,4\n")

    error = analyze_error(capsys, "forecast", "--input", str(path))

    assert "row 5, column 'date': 2026-01-02 appears twice" in error


def test_a_funnel_that_widens_names_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "channel,impressions,clicks,conversions,spend\nsearch,100,10,1,5\nsocial,100,10,11,5\n",
    )

    error = analyze_error(capsys, "channels", "--input", str(path))

    assert "row 3, column 'conversions': 11 exceeds clicks" in error


def test_options_out_of_range_are_refused_by_argparse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["analyze", "forecast", "--input", str(tmp_path / "x.csv"), "--level", "90"])

    assert exited.value.code == 2
    assert "90 is not between 0 and 1" in capsys.readouterr().err


def test_run_analyze_returns_two_for_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(
        analysis="cohorts",
        input=tmp_path / "missing.csv",
        json=True,
        delimiter=",",
        customer_col="customer_id",
        date_col="date",
        as_of=None,
    )

    assert run_analyze(args) == 2
    assert "no such file" in capsys.readouterr().err
