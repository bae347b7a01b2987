"""The ad platforms' figures reach the marketing agent's channel analysis."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.adapters.sample_source import SampleDataSource
from shared.ads.channel_feed import AdPerformanceFeed
from shared.ads.models import DailyPerformance
from shared.agents.marketing import analyse
from shared.core.agent_settings import bundled_policy

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def figures(platform: str, key: str, spend: int, value: int) -> DailyPerformance:
    return DailyPerformance(
        campaign_key=key,
        platform=platform,  # type: ignore[arg-type]
        external_id=f"x-{key}",
        day=date(2026, 11, 19),
        impressions=5_000,
        clicks=150,
        conversions=7.6,  # platforms report fractional (modelled) conversions
        spend_cents=spend,
        conversion_value_cents=value,
    )


def test_the_platforms_rows_join_the_campaign_results_the_channel_analysis_reads() -> None:
    asked: list[tuple[date, date]] = []
    rows = [figures("google_ads", "cmp-aaaaaa", 4_000, 12_000),
            figures("linkedin", "cmp-bbbbbb", 3_000, 1_000)]  # fmt: skip

    def performance_between(start: date, end: date) -> list[DailyPerformance]:
        asked.append((start, end))
        return rows

    plain = SampleDataSource(as_of=date(2026, 11, 1), customers=50)
    fed = AdPerformanceFeed(plain, performance_between, clock=lambda: NOW, days=28).load()

    assert asked == [(date(2026, 10, 23), date(2026, 11, 20))]
    added = fed.campaigns[len(plain.load().campaigns) :]
    assert [(c.channel, c.campaign, c.conversions) for c in added] == [
        ("search", "google_ads:cmp-aaaaaa", 7),
        ("social", "linkedin:cmp-bbbbbb", 7),
    ]
    report = analyse(fed, bundled_policy("marketing").values)
    assert report.funnels is not None
    search = next(c for c in report.funnels.channels if c.channel == "search")
    assert search.spend_cents >= 4_000 and search.impressions >= 5_000


def test_without_pulled_figures_the_data_set_is_served_as_it_is() -> None:
    plain = SampleDataSource(as_of=date(2026, 11, 1), customers=50)

    fed = AdPerformanceFeed(plain, lambda start, end: [], clock=lambda: NOW)

    assert fed.load() is plain.load()
