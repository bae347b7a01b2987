"""What the lead-scoring handlers (shared/agents/lead_steps.py) depend on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from shared.leads.enrichment import Enricher, Enrichment
from shared.leads.scoring import LeadScore
from shared.tracking.membership import SegmentUpdate
from shared.tracking.segments import ProfileFacts

if TYPE_CHECKING:
    # numpy and scipy.sparse (0.18 s): only the job that refreshes recommendations needs them
    from shared.tracking.recommendations import RecommendationRefresh


class LeadStore(Protocol):
    """Where scores are written and enrichments cached."""

    def save_scores(
        self,
        run_id: str,
        scores: Sequence[LeadScore],
        enrichments: dict[str, Enrichment | None],
        at: datetime,
    ) -> None:
        """Write each person's latest score."""
        ...

    def cached_enrichment(self, email: str) -> tuple[Enrichment | None, datetime] | None:
        """The cached answer and when it was fetched, or None if never asked."""
        ...

    def cache_enrichment(self, email: str, enrichment: Enrichment | None, at: datetime) -> None:
        """Remember the provider's answer."""
        ...

    def top(self, limit: int = 50) -> list[dict[str, Any]]:
        """The best-scored leads, best first."""
        ...


class SegmentReader(Protocol):
    """Who is in a segment, and what their profiles say."""

    def members(self, segment: str) -> list[str]:
        """The ids of the users now in `segment`."""
        ...

    def facts(self, user_ids: Sequence[str]) -> dict[str, ProfileFacts]:
        """The facts of each user that has a profile."""
        ...


@dataclass(frozen=True)
class LeadPorts:
    """The adapters lead scoring uses, and the two tracking jobs the refresh step runs."""

    enricher: Enricher
    leads: LeadStore
    segments: SegmentReader
    refresh_segments: Callable[[], SegmentUpdate]
    refresh_recommendations: Callable[[], RecommendationRefresh]
