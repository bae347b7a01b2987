"""Typed settings: the one place that reads the process environment."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.llm.pricing import DEFAULT_PRICES, ModelPrice
from shared.security.tokens import StatusTokens
from shared.tracking.keys import DEFAULT_TIER_QUOTAS, TrackingKeys

RateLimitKind = Literal["address", "principal"]
DEFAULT_RATE_LIMITS: dict[RateLimitKind, int] = {"address": 6000, "principal": 1200}


class Settings(BaseSettings):
    """Everything a function needs to know about where it runs."""

    # Errors never echo the input: several settings are secrets.
    model_config = SettingsConfigDict(
        env_prefix="CONTROLROOM_", extra="ignore", hide_input_in_errors=True
    )

    project_id: str = Field(
        default="controlroom-local",
        validation_alias=AliasChoices("GOOGLE_CLOUD_PROJECT", "CONTROLROOM_PROJECT_ID"),
    )
    firestore_emulator_host: str | None = Field(
        default=None, validation_alias="FIRESTORE_EMULATOR_HOST"
    )
    pubsub_emulator_host: str | None = Field(default=None, validation_alias="PUBSUB_EMULATOR_HOST")
    # Cloud Run sets K_SERVICE to the function's name; logs carry it.
    service_name: str = Field(default="controlroom", validation_alias="K_SERVICE")
    # A plain str (callers compare it as such) kept out of repr() and model_dump(), as the
    # SecretStr settings are, so printing or logging the settings never shows it.
    api_token: str = Field(
        default="", description="Bearer token that may start runs", repr=False, exclude=True
    )
    # Status page access (shared/security/tokens.py): name -> "<scope>:<token>", scope "read"
    # (see every page) or "act" (also resolve, approve, retry, cancel, edit settings); the
    # api_token joins as "api" with act. With no token at all the page is open for reading
    # only (local development). Sessions from /signin are signed with status_session_secret,
    # or with a key derived from the tokens when unset.
    status_tokens: StatusTokens = Field(default_factory=dict)
    status_session_secret: SecretStr | None = None
    status_session_ttl_s: int = Field(default=12 * 3600, ge=300, le=30 * 24 * 3600)
    status_url: str = Field(default="http://127.0.0.1:8080", description="Public status page URL")
    # An agent shows as failing on the KPIs page when more than this share of its tasks of the
    # last 7 days failed (or when its latest task did).
    agent_error_rate_alert: float = Field(default=0.2, ge=0, le=1)
    # The sweeper (shared/app/sweep.py) sends again a task nobody took this long after it was
    # dispatched (its message lost) and moves on a step finished this long ago but still open.
    # The sweep itself runs on the sweep-overdue-runs schedule (every 5 minutes in the cloud;
    # the local cloud ticks every CONTROLROOM_SWEEP_PERIOD_S seconds).
    task_stall_s: int = Field(default=120, ge=5, le=24 * 3600)
    # How long an agent holds a task it started before another delivery may take it over;
    # unset: the agent function's timeout (a task cannot outlive its function).
    task_lease_s: int | None = Field(default=None, ge=10, le=3600)
    log_level: str = "INFO"
    # OpenTelemetry (shared/core/tracing.py): "none" still makes, propagates and logs trace ids but
    # exports nothing; "local" appends each span as a JSON line to trace_file (the local
    # cloud's traces.jsonl); "gcp" exports to Cloud Trace.
    trace_exporter: Literal["none", "local", "gcp"] = "none"
    trace_file: Path | None = None
    # The bundled sample data set is generated as of this date (deterministic output).
    sample_as_of: date = date(2026, 11, 16)
    sample_customers: int = Field(default=400, ge=0, le=1_000_000)
    # Where agents read the business's data: the bundled sample, a folder of CSV files
    # (customers.csv, orders.csv, subscriptions.csv, channel_spend.csv, campaigns.csv), or Stripe.
    data_source: Literal["sample", "csv", "stripe"] = "sample"
    data_csv_dir: Path | None = None
    # While the source is unavailable, agents may use the last good read up to this old
    # (hours; 0 never), labelled as cached in their reports (shared/adapters/last_good.py).
    data_cache_max_age_h: float = Field(default=24.0, ge=0)
    stripe_api_key: SecretStr | None = None
    # Knowledge base: where the nightly re-index reads articles, and which embedder to use
    # ("auto": OpenAI if keyed, else Vertex if located, else WordLlama; or none/hashing/...).
    kb_articles_dir: Path = Path(__file__).resolve().parents[2] / "kb" / "articles"
    kb_embedder: Literal["auto", "none", "wordllama", "hashing", "openai", "vertex", "local"] = (
        "auto"
    )
    # Webhook signing secrets per platform (tiktok, linkedin, zendesk, stripe, generic).
    webhook_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    # Tracking API (shared/tracking/keys.py): events per UTC day per tier, then each source's
    # key and tier, {"web": {"key": "<16+ characters>", "tier": "free"}}; the daily quota is
    # counted on this many Firestore documents per source (about that many requests a second).
    tracking_tier_quotas: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_TIER_QUOTAS))
    tracking_keys: TrackingKeys = Field(default_factory=dict)
    tracking_quota_shards: int = Field(default=16, ge=1, le=500)
    # Lead scoring's enrichment (shared/leads/enrichment.py): the local twin, or People Data
    # Labs' Person Enrichment API with its key.
    enrichment_provider: Literal["local", "peopledatalabs"] = "local"
    peopledatalabs_api_key: SecretStr | None = None
    # Ad platforms of the ad manager (shared/ads/): each platform with all of its settings
    # uses its real API, with none its Firestore twin; partly set is an error.
    google_ads_customer_id: str | None = None
    google_ads_developer_token: SecretStr | None = None
    google_ads_login_customer_id: str | None = None  # a manager account acting for it
    google_ads_api_version: str = "v26"
    meta_ad_account_id: str | None = None
    meta_access_token: SecretStr | None = None
    meta_page_id: str | None = None  # the Facebook page the ads are published as
    meta_custom_audiences: dict[str, str] = Field(default_factory=dict)  # segment -> audience id
    meta_api_version: str = "v21.0"
    linkedin_ad_account_id: str | None = None
    linkedin_ads_access_token: SecretStr | None = None
    linkedin_campaign_group_id: str | None = None
    ads_countries: list[str] = Field(default_factory=lambda: ["FR"])  # Meta's geo targeting
    # LangSmith tracing of the graphs (shared/wiring/langsmith.py): only with a key.
    langsmith_api_key: SecretStr | None = None
    langsmith_project: str = "controlroom"
    langsmith_endpoint: str = "https://api.smith.langchain.com"
    # Web origins whose pages may call the tracking API from the browser (CORS, for the
    # snippet served at /v1/controlroom.js); "*" lets any site send with a browser key.
    tracking_allowed_origins: list[str] = Field(default_factory=lambda: ["*"])
    # Requests a minute per caller on the HTTP functions (shared/security/ratelimit.py):
    # "address" for every request by client address, "principal" per credential; 0 = off.
    http_rate_limits: dict[RateLimitKind, int] = Field(
        default_factory=lambda: dict(DEFAULT_RATE_LIMITS)
    )
    # Outbound channels: a vendor whose credentials are all unset uses the local channel (the
    # Firestore thread, a Firestore notification); partly set credentials are an error.
    tiktok_access_token: SecretStr | None = None
    tiktok_business_id: str | None = None
    linkedin_access_token: SecretStr | None = None
    linkedin_organization_urn: str | None = None  # urn:li:organization:<id>, the replies' author
    linkedin_api_version: str | None = None
    zendesk_subdomain: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: SecretStr | None = None
    # Whether the offline writer's extractive answers are sent to customers. Unset: yes while
    # no platform credential (TikTok, LinkedIn, Zendesk) is configured, no once one is; then
    # they wait in the conversation view as a suggested reply a person sends or edits.
    support_send_offline_answers: bool | None = None
    # The public help centre's base URL: a reply links each article it cites as this URL
    # followed by the article's file name without its extension (refunds.md -> .../refunds).
    kb_articles_url: str | None = None
    slack_bot_token: SecretStr | None = None
    slack_channel: str | None = None  # a channel ID such as C0123ABCDEF
    # The weekly report's figures go to this Google Sheet (ADC credentials) when set,
    # otherwise to Firestore sheet_exports/{run}.
    sheets_spreadsheet_id: str | None = None
    sheets_range: str = "Weekly!A1"
    # Email (win-back campaigns): "smtp" (a local sink in the local cloud), "sendgrid",
    # "mailgun" or "ses"; the provider's credentials below must be set for the chosen one.
    email_provider: Literal["smtp", "sendgrid", "mailgun", "ses"] = "smtp"
    # The sample shop's own name: the sender matches the emails' signature ("The Northwind team").
    email_from: str = "Northwind Goods <hello@northwind.example>"
    # Signs the unsubscribe link in every campaign email and the offer codes; derived from
    # api_token when unset. Links already sent stop working when it changes.
    email_link_secret: SecretStr | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    # Local cloud only: the folder where the SMTP sink keeps what it received, so a resend
    # after a crash can ask whether the first copy arrived (as a vendor's sent-mail API).
    smtp_received_dir: str | None = None
    sendgrid_api_key: SecretStr | None = None
    sendgrid_base_url: str = "https://api.sendgrid.com"
    mailgun_api_key: SecretStr | None = None
    mailgun_domain: str | None = None
    mailgun_base_url: str = "https://api.mailgun.net"
    ses_region: str = "us-east-1"
    ses_endpoint_url: str | None = None  # e.g. a moto server in tests
    # Artifacts (reports, drafts): "local" folder, "gcs" bucket or "s3" bucket (AWS S3, MinIO).
    artifact_store: Literal["local", "gcs", "s3"] = "local"
    artifact_dir: str = ".controlroom/artifacts"
    artifact_bucket: str | None = None
    s3_endpoint_url: str | None = None  # MinIO or a moto server; None means AWS
    s3_region: str = "us-east-1"
    artifact_url_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Per-platform reply limits per process (defaults: TikTok 60/min, LinkedIn 100/min).
    outbound_limits_per_minute: dict[str, float] = Field(default_factory=dict)
    outbound_max_wait_s: float = Field(default=30.0, ge=0)
    # The reply limits hold across every instance (Firestore send_slots/{platform}, one
    # transaction per reply); off: each process keeps its own bucket.
    outbound_limits_shared: bool = True
    # Fault injection for the local cloud and its tests, e.g. {"finance": {"delay_s": 3}}.
    faults: dict[str, dict[str, Any]] = Field(default_factory=dict)

    # LLM layer (shared.wiring.llm.build_llm). Providers are tried in this order; a remote
    # one is skipped while unconfigured, so with no key at all only "offline" remains.
    llm_providers: tuple[Literal["openai", "vertex", "offline"], ...] = (
        "openai",
        "vertex",
        "offline",
    )
    # OpenAI, or any OpenAI-compatible server (vLLM, Ollama) when a base URL is given; used
    # when a key or a base URL is set.
    llm_openai_api_key: SecretStr | None = None
    llm_openai_base_url: str | None = None
    # Tier -> model, with optional per-agent overrides such as {"finance.smart": "gpt-4.1"}.
    llm_openai_models: dict[str, str] = Field(
        default_factory=lambda: {"smart": "gpt-4o", "fast": "gpt-4o-mini"}
    )
    # Gemini on Vertex AI (Application Default Credentials); used when a location is set.
    llm_vertex_location: str | None = None
    llm_vertex_project: str | None = None  # defaults to project_id
    llm_vertex_base_url: str | None = None  # a private endpoint or proxy
    llm_vertex_models: dict[str, str] = Field(
        default_factory=lambda: {"smart": "gemini-2.5-pro", "fast": "gemini-2.5-flash"}
    )
    llm_timeout_s: float = Field(default=20.0, gt=0, description="Timeout of one LLM call")
    llm_max_attempts: int = Field(default=3, ge=1, description="Calls per provider on 429/5xx")
    llm_max_wait_s: float = Field(
        default=10.0, ge=0, description="Longest wait between retries; a longer hint falls back"
    )
    llm_cache_ttl_s: int = Field(default=7 * 24 * 3600, ge=0, description="0 turns caching off")
    llm_mask_pii: bool = True
    # USD per 1M input/output tokens per model name; unknown models cost 0.
    llm_prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    @field_validator("faults", mode="before")
    @classmethod
    def _parse_faults(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, built once from the environment."""
    return Settings()
