"""Typed settings: the one place that reads the process environment."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from typing import Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a function needs to know about where it runs."""

    model_config = SettingsConfigDict(env_prefix="CONTROLROOM_", extra="ignore")

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
    api_token: str = Field(default="", description="Bearer token that may start runs")
    status_url: str = Field(default="http://127.0.0.1:8080", description="Public status page URL")
    log_level: str = "INFO"
    # The bundled sample data set is generated as of this date (deterministic output).
    sample_as_of: date = date(2026, 11, 16)
    # Fault injection for the local cloud and its tests, e.g. {"finance": {"delay_s": 3}}.
    faults: dict[str, dict[str, Any]] = Field(default_factory=dict)

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
