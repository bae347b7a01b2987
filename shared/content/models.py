"""What the host app asks for (a brief) and what it gets back (variants, sources, usage)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["email", "social", "search", "landing_page", "sms"]
MAX_VARIANTS = 4


class ContentBrief(BaseModel):
    """POST /v1/content's body."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    product: str = Field(min_length=2, max_length=200, description="what the copy is about")
    audience: str = Field(min_length=2, max_length=300, description="who reads it, in words")
    channel: Channel = Field(description="where it appears; sets its length")
    tone: str = Field(default="friendly", min_length=2, max_length=60)
    variants: int = Field(default=2, ge=1, le=MAX_VARIANTS, description="how many to write")


class CopyVariant(BaseModel):
    """One variant's words (what the writer returns)."""

    headline: str = Field(min_length=1, max_length=120)
    body: str = Field(min_length=1, max_length=1200)
    call_to_action: str = Field(min_length=1, max_length=40)


class ContentSource(BaseModel):
    """A help-centre passage the copy was grounded in."""

    n: int
    title: str
    source: str


class ContentUsage(BaseModel):
    """What writing the variants cost."""

    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    provider: str
    model: str


class ContentAnswer(BaseModel):
    """POST /v1/content's answer."""

    variants: list[CopyVariant]
    sources: list[ContentSource]
    usage: ContentUsage
    offline: bool
