"""Lead scoring on the Firestore emulator: grades and reasons, reruns, the enrichment cache.

Profiles and memberships are seeded as the tracking jobs write them; the enricher is the
bundled local twin wrapped to count calls (our own port, not a vendor).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.adapters.firestore_store import FirestoreStore
from shared.agents import lead_steps as leads
from shared.agents.steps import StepContext
from shared.core.agent_settings import resolve_agent_settings
from shared.core.messages import AgentTask
from shared.http.errors import VendorPermanentError
from shared.leads.enrichment import Enrichment
from shared.leads.firestore import ENRICHMENT_CACHE, LEADS, FirestoreLeads
from shared.leads.ports import LeadPorts
from shared.llm.offline import OfflineLLM
from shared.tracking.firestore_segments import MEMBERS, PROFILES, FirestoreSegments
from shared.tracking.membership import Membership
from tests.helpers.fakes.counting_enricher import CountingEnricher

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def day(days_ago: int) -> str:
    return (NOW.date() - timedelta(days=days_ago)).isoformat()


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def seed(store: FirestoreStore, people: dict[str, dict[str, Any]]) -> None:
    """Profiles (traits, per-day counts, counters) and their segment memberships."""
    batch = store.client.batch()
    for n, (user, person) in enumerate(people.items(), start=1):
        counters: dict[str, int] = {}
        for names in person["daily"].values():
            for name, count in names.items():
                counters[name] = counters.get(name, 0) + count
        profile = {"traits": person["traits"], "daily": person["daily"], "counters": counters}
        batch.set(store.client.collection(PROFILES).document(user), profile)
        for segment in person["segments"]:
            membership = Membership(segment=segment, user_id=user, member=True, entries=1,
                                    changed_at=NOW, announced=True)  # fmt: skip
            batch.set(store.client.collection(MEMBERS).document(membership.doc_id),
                      membership.model_dump(mode="python"))  # fmt: skip
        if n % 200 == 0:
            batch.commit()
            batch = store.client.batch()
    batch.commit()


PEOPLE: dict[str, dict[str, Any]] = {
    "ann": {"traits": {"email": "ann@acme.test", "plan": "free"},
            "daily": {day(0): {"Viewed Pricing": 3}}, "segments": ["pricing-intent"]},
    "pat": {"traits": {"email": "pat@initech.test"},
            "daily": {day(10): {"Requested Demo": 1}}, "segments": ["engaged-shoppers"]},
    "dan": {"traits": {}, "daily": {day(0): {"Viewed Product": 2}},
            "segments": ["engaged-shoppers"]},
    "bob": {"traits": {"email": "bob@gmail.com"}, "daily": {day(20): {"Viewed Pricing": 1}},
            "segments": ["pricing-intent"]},
}  # fmt: skip


def context(store: FirestoreStore, enricher: CountingEnricher, clock: Clock) -> StepContext:
    project = store.client.project
    ports = LeadPorts(
        enricher=enricher,
        leads=FirestoreLeads(project, client=store.client),
        segments=FirestoreSegments(project, client=store.client),
        refresh_segments=lambda: pytest.fail("score_leads must not refresh segments"),
        refresh_recommendations=lambda: pytest.fail("nor recommendations"),
    )
    return StepContext(
        data=None,  # type: ignore[arg-type]
        llm=OfflineLLM,
        settings=resolve_agent_settings,
        store=store,
        email=lambda: None,
        clock=clock,
        on_step=lambda step, detail: None,
        leads=lambda: ports,
    )


def score(ctx: StepContext, run_id: str = "growth-1", **params: Any) -> dict[str, Any]:
    task = AgentTask(run_id=run_id, task_id="score", agent="leads", workflow="growth",
                     step="score", params=params)  # fmt: skip
    return leads.score_leads(task, ctx).output


def stored_leads(store: FirestoreStore) -> dict[str, dict[str, Any]]:
    return {s.id: s.to_dict() or {} for s in store.client.collection(LEADS).stream()}


def test_grades_and_reasons_are_stored_and_a_redelivery_changes_nothing(
    store: FirestoreStore,
) -> None:
    seed(store, PEOPLE)
    enricher = CountingEnricher()
    ctx = context(store, enricher, Clock())

    first = score(ctx)
    docs = stored_leads(store)
    again = score(ctx)  # the same task delivered again

    assert first["scored"] == 4
    assert first["segments"] == {"pricing-intent": 2, "engaged-shoppers": 2}
    assert first["by_grade"] == {"A": 1, "B": 1, "D": 2}
    assert [(t["user_id"], t["grade"]) for t in first["top"]] == [
        ("ann", "A"), ("pat", "B"), ("dan", "D"), ("bob", "D")]  # fmt: skip
    ann, pat, dan, bob = first["top"]
    assert (ann["fit"], ann["intent"], ann["score"]) == (100, 70, 82)
    assert ann["reasons"] == [
        "Company of 250 employees (mid-market, +45)",
        "Works in software (+25)",
        "Head of Growth (director level, +20)",
        "Based in FR (+10)",
        "Viewed Pricing 3 times in the last 14 days (+45)",
        "In the pricing-intent segment (+15)",
        "Active in the last 3 days (+10)",
    ]
    assert (pat["fit"], pat["intent"], pat["score"]) == (100, 50, 70)
    assert "Requested Demo once in the last 14 days (+40)" in pat["reasons"]
    assert not any(r.startswith("Active") for r in pat["reasons"])  # 10 days ago: not recent
    assert dan["company"] is None and dan["fit"] == 0
    assert bob["reasons"] == ["In the pricing-intent segment (+15)"]  # 20 days ago: outside

    assert sorted(enricher.calls) == ["ann@acme.test", "bob@gmail.com", "pat@initech.test"]
    assert again == first | {"enriched": 0}
    assert stored_leads(store) == docs  # not a field moved
    assert docs["ann"]["run_id"] == "growth-1" and docs["ann"]["grade"] == "A"
    assert docs["ann"]["enrichment"]["company_name"] == "Acme Analytics"
    assert docs["bob"]["enrichment"] is None and docs["dan"]["enrichment"] is None
    cached = list(store.client.collection(ENRICHMENT_CACHE).stream())
    assert len(cached) == 3  # no-match answers are cached too; no email, nothing to ask
    assert not any("@" in s.id for s in cached)  # keyed by a hash, never the address


def test_the_provider_is_asked_again_only_after_the_policys_max_age(
    store: FirestoreStore,
) -> None:
    seed(store, {"ann": PEOPLE["ann"], "bob": PEOPLE["bob"]})
    enricher = CountingEnricher()
    clock = Clock()
    ctx = context(store, enricher, clock)

    score(ctx, "run-1")
    clock.now = NOW + timedelta(days=30)  # enrich_max_age_days: 30, still young enough
    later = score(ctx, "run-2")
    assert len(enricher.calls) == 2 and later["enriched"] == 0
    assert stored_leads(store)["ann"]["run_id"] == "run-2"

    clock.now = NOW + timedelta(days=31)
    stale = score(ctx, "run-3")
    assert stale["enriched"] == 2
    assert sorted(enricher.calls) == sorted(["ann@acme.test", "bob@gmail.com"] * 2)


def test_a_runs_params_choose_the_segments(store: FirestoreStore) -> None:
    seed(store, PEOPLE)
    ctx = context(store, CountingEnricher(), Clock())

    output = score(ctx, segments=["engaged-shoppers"])

    assert output["segments"] == {"engaged-shoppers": 2}
    assert sorted(t["user_id"] for t in output["top"]) == ["dan", "pat"]
    assert sorted(stored_leads(store)) == ["dan", "pat"]


def test_more_leads_than_one_batch_are_all_written_and_listed_best_first(
    store: FirestoreStore,
) -> None:
    crowd = {f"u{n:03d}": {"traits": {}, "daily": {day(0): {"Viewed Product": 1 + n % 9}},
                           "segments": ["engaged-shoppers"]} for n in range(501)}  # fmt: skip
    seed(store, crowd)
    ctx = context(store, CountingEnricher(), Clock())

    output = score(ctx)

    assert output["scored"] == 501 and len(output["top"]) == 20
    assert len(stored_leads(store)) == 501
    top = FirestoreLeads(store.client.project, client=store.client).top(5)
    scores = [lead["score"] for lead in top]
    assert scores == sorted(scores, reverse=True) and scores[0] == output["top"][0]["score"]


class RefusingEnricher(CountingEnricher):
    """A provider that refuses every call (a bad key, no credits left)."""

    def enrich(self, email: str | None, domain: str | None) -> Enrichment | None:
        super().enrich(email, domain)
        raise VendorPermanentError("peopledatalabs", "HTTP 402: out of credits", status=402)


def test_a_refusing_provider_degrades_to_traits_alone_and_is_asked_again_next_time(
    store: FirestoreStore,
) -> None:
    seed(store, PEOPLE)
    refusing = RefusingEnricher()

    first = score(context(store, refusing, Clock()))
    later = CountingEnricher()
    second = score(context(store, later, Clock()), run_id="growth-2")

    assert first["scored"] == 4 and first["enriched"] == 0
    ann = next(t for t in first["top"] if t["user_id"] == "ann")
    assert ann["company"] is None and ann["fit"] == 0  # nothing known beyond the traits
    assert len(refusing.calls) == 3  # everyone with an email was asked
    assert sorted(later.calls) == sorted(refusing.calls)  # a refusal is not cached
    assert next(t for t in second["top"] if t["user_id"] == "ann")["company"] == "Acme Analytics"
