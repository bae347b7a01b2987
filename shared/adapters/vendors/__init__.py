"""Real HTTP adapters for the vendors a business's data lives in: Stripe, HubSpot, Sheets.

Each client takes an optional `httpx.Client` (tests pass one on an `httpx.MockTransport`),
sends the vendor's documented requests, follows pagination, and raises the errors of
`shared.http.errors`. The data sources turn what the clients read into the
data set the agents analyse (the DataSource port).
"""

from shared.adapters.vendors.hubspot import HubSpotClient, HubSpotDataSource, HubSpotObject
from shared.adapters.vendors.sheets import (
    AppendResult,
    SheetsClient,
    SheetsDataSource,
    ValueRange,
    google_token_provider,
)
from shared.adapters.vendors.stripe import (
    StripeClient,
    StripeDataSource,
    StripeMapping,
    stripe_dataset,
)
from shared.http.client import HttpPolicy, parse_retry_after
from shared.http.errors import VendorPermanentError, VendorRetryableError

__all__ = [
    "AppendResult",
    "HttpPolicy",
    "HubSpotClient",
    "HubSpotDataSource",
    "HubSpotObject",
    "SheetsClient",
    "SheetsDataSource",
    "StripeClient",
    "StripeDataSource",
    "StripeMapping",
    "ValueRange",
    "VendorPermanentError",
    "VendorRetryableError",
    "google_token_provider",
    "parse_retry_after",
    "stripe_dataset",
]
