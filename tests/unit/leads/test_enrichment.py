"""Enrichment: People Data Labs' documented Person Enrichment shapes, and the local twin."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.http.client import HttpPolicy
from shared.http.errors import VendorPermanentError, VendorRetryableError
from shared.leads.enrichment import LocalEnricher, PeopleDataLabsEnricher, employees_from_range

# The documented 200 envelope with a (trimmed) Person Schema record; unknown fields are null.
PDL_MATCH = {
    "status": 200,
    "likelihood": 9,
    "data": {
        "id": "qEnOZ5Oh0poWnQ1luFBfVw_0000",
        "full_name": "sean thorne",
        "job_title": "co-founder and chief executive officer",
        "job_title_levels": ["owner", "cxo"],
        "job_company_name": "people data labs",
        "job_company_website": "peopledatalabs.com",
        "job_company_size": "51-200",
        "job_company_industry": "computer software",
        "location_country": "united states",
        "work_email": None,
    },
}
PDL_NOT_FOUND = {
    "status": 404,
    "error": {"type": "not_found", "message": "No records were found matching your request"},
}


def enricher(
    status: int, body: dict[str, Any], seen: list[httpx.Request]
) -> PeopleDataLabsEnricher:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    return PeopleDataLabsEnricher(
        "pdl-key-123",
        client=httpx.Client(transport=httpx.MockTransport(answer)),
        policy=HttpPolicy(max_attempts=1),
    )


def test_a_match_becomes_an_enrichment_from_one_documented_get() -> None:
    seen: list[httpx.Request] = []

    found = enricher(200, PDL_MATCH, seen).enrich("sean@peopledatalabs.com", None)

    assert len(seen) == 1
    request = seen[0]
    assert request.method == "GET"
    assert request.url.path == "/v5/person/enrich"
    assert dict(request.url.params) == {"email": "sean@peopledatalabs.com", "min_likelihood": "6"}
    assert request.headers["X-Api-Key"] == "pdl-key-123"
    assert found is not None
    assert (found.company_name, found.employees, found.country, found.seniority) == (
        "people data labs", 51, "US", "c_suite",
    )  # fmt: skip
    assert found.industry == "computer software" and found.likelihood == 9


def test_no_match_is_none_and_no_email_asks_nothing() -> None:
    seen: list[httpx.Request] = []
    pdl = enricher(404, PDL_NOT_FOUND, seen)

    assert pdl.enrich("nobody@example.com", None) is None
    assert pdl.enrich(None, "example.com") is None
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, VendorRetryableError),
        (503, VendorRetryableError),
        (401, VendorPermanentError),
        (402, VendorPermanentError),
    ],
)
def test_refusals_are_permanent_and_throttling_retryable(
    status: int, error: type[Exception]
) -> None:
    body = {"status": status, "error": {"type": "payment_required", "message": "out of credits"}}

    with pytest.raises(error):
        enricher(status, body, []).enrich("sean@peopledatalabs.com", None)


def test_the_permanent_error_carries_the_vendors_message() -> None:
    body = {"status": 402, "error": {"type": "payment_required", "message": "out of credits"}}

    with pytest.raises(VendorPermanentError, match="out of credits"):
        enricher(402, body, []).enrich("sean@peopledatalabs.com", None)


@pytest.mark.parametrize(
    ("size", "employees"), [("51-200", 51), ("10001+", 10001), ("", None), (None, None)]
)
def test_company_size_ranges_read_as_their_lower_bound(
    size: str | None, employees: int | None
) -> None:
    assert employees_from_range(size) == employees


def test_the_local_twin_knows_its_bundled_domains_only() -> None:
    twin = LocalEnricher()

    acme = twin.enrich("ann@acme.test", None)

    assert acme is not None and acme.company_name == "Acme Analytics" and acme.employees == 250
    assert twin.enrich("ann@gmail.com", None) is None
    assert twin.enrich("ann@unknown.test", None) is None
    assert twin.enrich(None, "globex.test") is not None
