"""Enrichment: a person's firmographics from their work email, through a port.

`Enricher.enrich(email, domain)` answers an `Enrichment` or None (no match). Two adapters:

- `PeopleDataLabsEnricher`: the Person Enrichment API v5,
  `GET https://api.peopledatalabs.com/v5/person/enrich?email=...&min_likelihood=N` with the
  key in `X-Api-Key`. 200 answers `{"status": 200, "likelihood": 1-10, "data": {...}}` where
  `data` is a Person Schema record (null for unknown fields); 404 means no match (and is not
  charged); 401/402/403 are refusals (a bad key, no credits) and 429/5xx are retried. Fields
  read: job_title, job_title_levels (cxo, vp, director, manager, ...), job_company_name,
  job_company_website, job_company_size (a range such as "51-200" or "10001+"),
  job_company_industry, location_country (a lower-case English name). Shapes from PDL's
  documentation pages (output response, person schema); high certainty for the envelope and
  field names, medium for the exact size-range spellings.
- `LocalEnricher`: the local twin, the default: plausible firmographics from the email's
  domain, from a small bundled table (local_companies.yaml), the same on every call; free
  mail domains and unknown domains get None, as a real provider mostly would.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Protocol

import httpx
import yaml
from pydantic import BaseModel, ConfigDict

from shared.http.client import HttpPolicy, VendorHttp
from shared.http.errors import VendorPermanentError

PDL_API = "https://api.peopledatalabs.com"
VENDOR = "peopledatalabs"
FREE_MAIL = frozenset({"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com"})
# PDL's job_title_levels, as the scoring policy's seniority names.
SENIORITY = {"cxo": "c_suite", "owner": "c_suite", "partner": "c_suite", "vp": "vp",
             "director": "director", "manager": "manager"}  # fmt: skip
COUNTRY_CODES = {"france": "FR", "germany": "DE", "united kingdom": "GB", "united states": "US",
                 "netherlands": "NL", "spain": "ES", "italy": "IT", "belgium": "BE"}  # fmt: skip


class Enrichment(BaseModel):
    """What a provider knows of a person's work."""

    model_config = ConfigDict(frozen=True)
    source: str
    company_name: str | None = None
    domain: str | None = None
    employees: int | None = None
    industry: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2 where known
    job_title: str | None = None
    seniority: str | None = None
    likelihood: int | None = None
    fetched_at: datetime | None = None


class Enricher(Protocol):
    """Who someone works for, from their email or company domain."""

    def enrich(self, email: str | None, domain: str | None) -> Enrichment | None:
        """The person's firmographics, or None when the provider knows nothing."""
        ...


def email_domain(email: str | None) -> str | None:
    """The lower-cased domain of an email address, or None."""
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower() or None


def employees_from_range(size: str | None) -> int | None:
    """The lower bound of a size range ("51-200" -> 51, "10001+" -> 10001)."""
    match = re.match(r"^\s*(\d+)", size or "")
    return int(match.group(1)) if match else None


class LocalCompany(BaseModel):
    """One company of the local twin's table."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    employees: int
    industry: str
    country: str
    job_title: str
    seniority: str


@cache
def local_companies() -> dict[str, LocalCompany]:
    """The bundled table of the local twin, by domain."""
    text = resources.files("shared.leads").joinpath("local_companies.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {domain: LocalCompany.model_validate(row) for domain, row in data.items()}


class LocalEnricher:
    """The local twin: firmographics for the bundled domains, None for everything else."""

    def enrich(self, email: str | None, domain: str | None) -> Enrichment | None:
        """The bundled company of the email's (or the given) domain."""
        found = (domain or email_domain(email) or "").lower()
        if not found or found in FREE_MAIL:
            return None
        company = local_companies().get(found)
        if company is None:
            return None
        return Enrichment(source="local", domain=found, likelihood=10,
                          company_name=company.name, employees=company.employees,
                          industry=company.industry, country=company.country,
                          job_title=company.job_title, seniority=company.seniority)  # fmt: skip


def pdl_error_message(body: Any) -> str | None:
    """PDL's error text: {"status": 4xx, "error": {"type": ..., "message": ...}}."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return f"{error.get('type', 'error')}: {error.get('message', '')}".strip()
    return None


class PeopleDataLabsEnricher:
    """People Data Labs' Person Enrichment API (one match per call, charged per match)."""

    def __init__(
        self,
        api_key: str,
        *,
        min_likelihood: int = 6,
        base_url: str = PDL_API,
        client: httpx.Client | None = None,
        policy: HttpPolicy | None = None,
    ) -> None:
        self.min_likelihood = min_likelihood
        self.http = VendorHttp(
            VENDOR,
            base_url,
            auth_headers=lambda: {"X-Api-Key": api_key},
            error_message=pdl_error_message,
            client=client,
            policy=policy,
        )

    def enrich(self, email: str | None, domain: str | None) -> Enrichment | None:
        """The matched person's work, or None on 404 (no match) or no email."""
        if not email:
            return None
        params = [("email", email), ("min_likelihood", str(self.min_likelihood))]
        try:
            body = self.http.request_json("GET", "/v5/person/enrich", params=params)
        except VendorPermanentError as error:
            if error.status == 404:
                return None
            raise
        data = body.get("data") or {}
        levels = [str(level) for level in data.get("job_title_levels") or []]
        seniority = next((SENIORITY[level] for level in levels if level in SENIORITY), None)
        country = data.get("location_country")
        return Enrichment(
            source=VENDOR,
            company_name=data.get("job_company_name"),
            domain=data.get("job_company_website") or email_domain(email),
            employees=employees_from_range(data.get("job_company_size")),
            industry=data.get("job_company_industry"),
            country=COUNTRY_CODES.get(str(country).lower(), country) if country else None,
            job_title=data.get("job_title"),
            seniority=seniority,
            likelihood=body.get("likelihood"),
        )
