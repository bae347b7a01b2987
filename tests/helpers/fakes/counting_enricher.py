"""The local enrichment twin, counting who it is asked about (our own port, not a vendor)."""

from __future__ import annotations

from shared.leads.enrichment import Enrichment, LocalEnricher


class CountingEnricher:
    """Answers as the bundled twin does; `calls` lists each address asked about."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def enrich(self, email: str | None, domain: str | None) -> Enrichment | None:
        """The twin's answer, after noting the call."""
        self.calls.append(email or "")
        return LocalEnricher().enrich(email, domain)
