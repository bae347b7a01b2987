"""Pure analytics each agent runs on a `Dataset`: numbers computed by code, not the LLM.

Money is integer cents, ratios are floats rounded to 4 decimals, and undefined figures
(nothing to divide by) are None. No module here imports a cloud client or an adapter.
"""

from shared.analytics.finance import FinanceReport, MonthlyRevenue, revenue_by_month
from shared.analytics.insights import (
    ChurnedCustomer,
    CustomerRfm,
    InsightsReport,
    SegmentSummary,
    customer_segments,
)
from shared.analytics.marketing import ChannelPerformance, MarketingReport, channel_performance
from shared.analytics.support import CategoryTrend, SupportReport, TicketStats, ticket_summary

__all__ = [
    "CategoryTrend",
    "ChannelPerformance",
    "ChurnedCustomer",
    "CustomerRfm",
    "FinanceReport",
    "InsightsReport",
    "MarketingReport",
    "MonthlyRevenue",
    "SegmentSummary",
    "SupportReport",
    "TicketStats",
    "channel_performance",
    "customer_segments",
    "revenue_by_month",
    "ticket_summary",
]
