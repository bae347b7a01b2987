"""Ad platforms' daily figures fed to the marketing agent's channel analysis.

The marketing agent reads campaign results from the business's data set (`campaigns`). This
source adds the figures the ad-performance workflow pulled from Google Ads, Meta and LinkedIn
over the last `days` days, one row per campaign and day, so the weekly channel funnels and
budget shift see the campaigns the ad manager runs. Google Ads counts as the `search` channel,
Meta and LinkedIn as `social`; each row's campaign is "<platform>:<campaign key>".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from shared.ads.models import DailyPerformance, Platform
from shared.core.dataset import AcquisitionChannel, Campaign, Dataset
from shared.core.ports import DataSource

CHANNEL: dict[Platform, AcquisitionChannel] = {
    "google_ads": "search",
    "meta": "social",
    "linkedin": "social",
}
PerformanceBetween = Callable[[date, date], list[DailyPerformance]]


def campaign_rows(performance: list[DailyPerformance]) -> tuple[Campaign, ...]:
    """The platforms' figures as the data set's campaign results."""
    rows = []
    for p in performance:
        clicks = min(p.clicks, p.impressions)
        rows.append(
            Campaign(
                day=p.day,
                channel=CHANNEL[p.platform],
                campaign=f"{p.platform}:{p.campaign_key}",
                impressions=p.impressions,
                clicks=clicks,
                conversions=min(int(p.conversions), clicks),
                spend_cents=p.spend_cents,
                revenue_cents=p.conversion_value_cents,
            )
        )
    return tuple(rows)


class AdPerformanceFeed:
    """A data source whose campaign results include the ad platforms' recent figures."""

    def __init__(
        self,
        inner: DataSource,
        performance_between: PerformanceBetween,
        *,
        clock: Callable[[], datetime],
        days: int = 28,
    ) -> None:
        self.inner = inner
        self.performance_between = performance_between
        self.clock = clock
        self.days = days

    def load(self) -> Dataset:
        """The inner data set, with the ad platforms' rows added to its campaigns."""
        dataset = self.inner.load()
        today = self.clock().date()
        rows = campaign_rows(self.performance_between(today - timedelta(days=self.days), today))
        if not rows:
            return dataset
        return dataset.model_copy(update={"campaigns": dataset.campaigns + rows})
