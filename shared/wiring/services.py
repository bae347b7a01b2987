"""Builds the real adapters from settings; only entry points import this module."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.pubsub_bus import PubSubBus
from shared.core.errors import PermanentError
from shared.core.log import configure_logging
from shared.core.ports import ConversationStore, DataSource
from shared.core.tracing import configure_tracing
from shared.llm.types import LLM
from shared.wiring.settings import Settings, get_settings

if TYPE_CHECKING:
    from shared.adapters.firestore_status import FirestoreStatusRecords
    from shared.app.run_effects import RowExporter
    from shared.artifacts import ArtifactStore
    from shared.email import EmailSender
    from shared.kb.retrieval import KnowledgeBase
    from shared.support.outbound import EscalationTickets, Notifier, ReplySender
    from shared.support.ratelimit import OutboundLimiter


@dataclass(frozen=True)
class Services:
    """The adapters one function process uses, created lazily and shared."""

    settings: Settings
    store: FirestoreStore
    bus: PubSubBus


@lru_cache(maxsize=1)
def llm() -> LLM:
    """This process's LLM: the configured provider chain with its Firestore response cache."""
    from shared.adapters.firestore_llm_cache import FirestoreLlmCache
    from shared.wiring.llm import build_llm

    svc = services()
    cache = FirestoreLlmCache(svc.settings.project_id, client=svc.store.client)
    return build_llm(svc.settings, cache=cache)


@lru_cache(maxsize=1)
def conversations() -> ConversationStore:
    """Support conversations in Firestore, sharing the store's client."""
    from shared.adapters.firestore_conversations import FirestoreConversations

    svc = services()
    return FirestoreConversations(svc.settings.project_id, client=svc.store.client)


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """The knowledge base in Firestore (BM25 over its chunks, cached by index version)."""
    from shared.adapters.firestore_kb import FirestoreKnowledgeStore
    from shared.kb.retrieval import KnowledgeBase
    from shared.wiring.kb import build_embedder

    svc = services()
    store = FirestoreKnowledgeStore(svc.settings.project_id, client=svc.store.client)
    return KnowledgeBase(store, build_embedder(svc.settings, svc.settings.kb_embedder))


@lru_cache(maxsize=1)
def outbound_limiter() -> OutboundLimiter:
    """Per-platform reply rate limits, shared by every instance unless configured off."""
    from shared.adapters.firestore_send_slots import FirestoreSendSlots
    from shared.support.ratelimit import OutboundLimiter

    svc = services()
    settings = svc.settings
    shared = FirestoreSendSlots(settings.project_id, client=svc.store.client)
    return OutboundLimiter.from_per_minute(
        settings.outbound_limits_per_minute,
        max_wait_s=settings.outbound_max_wait_s,
        shared=shared if settings.outbound_limits_shared else None,
    )


@cache
def reply_sender(platform: str) -> ReplySender:
    """How replies reach customers on `platform` (the vendor API, or the local thread)."""
    from shared.wiring.support import reply_sender_for

    credentials = services().settings.model_dump()
    return reply_sender_for(platform, credentials, limiter=outbound_limiter())


@lru_cache(maxsize=1)
def notifier() -> Notifier:
    """Where escalations are announced (Slack, or only the Firestore notification)."""
    from shared.wiring.support import notifier_for

    return notifier_for(services().settings.model_dump())


@lru_cache(maxsize=1)
def escalation_tickets() -> EscalationTickets | None:
    """The helpdesk that receives escalation tickets (Zendesk), if configured."""
    from shared.wiring.support import escalation_tickets_for

    return escalation_tickets_for(services().settings.model_dump())


@lru_cache(maxsize=1)
def email_sender() -> EmailSender:
    """How emails leave (CONTROLROOM_EMAIL_PROVIDER: the SMTP sink locally, or a vendor)."""
    from shared.wiring.email import build_email_sender

    return build_email_sender(services().settings)


@lru_cache(maxsize=1)
def row_exporter() -> RowExporter:
    """Where finished runs' figures are exported: a Google Sheet, or Firestore locally."""
    settings = services().settings
    if settings.sheets_spreadsheet_id:
        from shared.adapters.row_exports import SheetsRowExporter
        from shared.adapters.vendors.sheets import SheetsClient, google_token_provider

        client = SheetsClient(google_token_provider())
        return SheetsRowExporter(client, settings.sheets_spreadsheet_id, settings.sheets_range)
    from shared.adapters.row_exports import FirestoreRowExporter

    return FirestoreRowExporter(settings.project_id, client=services().store.client)


@lru_cache(maxsize=1)
def status_records() -> FirestoreStatusRecords:
    """The status page's audit trail, agent settings versions and effect counts."""
    from shared.adapters.firestore_status import FirestoreStatusRecords

    svc = services()
    return FirestoreStatusRecords(svc.settings.project_id, client=svc.store.client)


@lru_cache(maxsize=1)
def artifact_store() -> ArtifactStore:
    """Where reports and generated content go: a local folder, a GCS bucket or an S3 bucket."""
    from shared.wiring.artifacts import build_artifact_store

    return build_artifact_store(services().settings)


CSV_TABLES = ("customers", "orders", "subscriptions", "channel_spend", "campaigns")


@lru_cache(maxsize=1)
def data_source() -> DataSource:
    """Where agents read the business's data: the bundled sample, CSV files, or Stripe."""
    settings = services().settings
    if settings.data_source == "csv":
        from shared.adapters.csv_source import CsvDataSource

        if settings.data_csv_dir is None:
            raise PermanentError("CONTROLROOM_DATA_CSV_DIR must name a folder of CSV files")
        files = {t: settings.data_csv_dir / f"{t}.csv" for t in CSV_TABLES}
        return CsvDataSource({t: p for t, p in files.items() if p.exists()})
    if settings.data_source == "stripe":
        from shared.adapters.vendors.stripe import StripeClient, StripeDataSource

        if settings.stripe_api_key is None:
            raise PermanentError("CONTROLROOM_STRIPE_API_KEY is required for the stripe source")
        return StripeDataSource(StripeClient(settings.stripe_api_key.get_secret_value()))
    from shared.adapters.sample_source import SampleDataSource

    return SampleDataSource(settings.sample_as_of, customers=settings.sample_customers)


@lru_cache(maxsize=1)
def services() -> Services:
    """This process's services (clients connect on first use, not here)."""
    settings = get_settings()
    configure_logging(settings.service_name, settings.log_level, project=settings.project_id)
    configure_tracing(settings.service_name, settings.trace_exporter, settings.trace_file)
    return Services(
        settings=settings,
        store=FirestoreStore(settings.project_id),
        bus=PubSubBus(settings.project_id),
    )
