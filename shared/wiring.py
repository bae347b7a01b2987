"""Builds the real adapters from settings; only entry points import this module."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.pubsub_bus import PubSubBus
from shared.config import Settings, get_settings
from shared.log import configure_logging


@dataclass(frozen=True)
class Services:
    """The adapters one function process uses, created lazily and shared."""

    settings: Settings
    store: FirestoreStore
    bus: PubSubBus


@lru_cache(maxsize=1)
def services() -> Services:
    """This process's services (clients connect on first use, not here)."""
    settings = get_settings()
    configure_logging(settings.service_name, settings.log_level)
    return Services(
        settings=settings,
        store=FirestoreStore(settings.project_id),
        bus=PubSubBus(settings.project_id),
    )
