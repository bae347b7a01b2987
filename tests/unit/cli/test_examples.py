"""The example CSVs the README points newcomers at run through `controlroom analyze`, and
each says what the sample shop holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.cli.analytics import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _analyze(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["analyze", *argv, "--json"]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


@pytest.mark.parametrize("analysis", ["rfm", "churn", "cohorts"])
def test_the_order_log_runs_every_purchase_analysis(
    analysis: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _analyze(capsys, analysis, "--input", str(EXAMPLES / "orders.csv"))


def test_the_revenue_series_forecasts_the_month_after_its_last_complete_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = (EXAMPLES / "revenue.csv").read_text().splitlines()
    result = _analyze(
        capsys, "forecast", "--input", str(EXAMPLES / "revenue.csv"), "--horizon", "2"
    )

    assert rows[0] == "date,value" and rows[-1].startswith("2026-10-01,")
    assert "2026-11" in json.dumps(result)


def test_the_campaign_rows_compare_four_channels(capsys: pytest.CaptureFixture[str]) -> None:
    result = _analyze(capsys, "channels", "--input", str(EXAMPLES / "campaigns.csv"))

    assert {"email", "referral", "search", "social"} <= set(json.dumps(result).split('"'))
