"""Customer support: messages arriving from TikTok, LinkedIn, Zendesk and our site chat."""

from shared.core.messages import InboundMessage, InboundUser, StripeEvent, conversation_key
from shared.support.inbound import (
    InvalidPayloadError,
    parse_generic,
    parse_inbound,
    parse_linkedin,
    parse_stripe_event,
    parse_tiktok,
    parse_zendesk,
)

__all__ = [
    "InboundMessage",
    "InboundUser",
    "InvalidPayloadError",
    "StripeEvent",
    "conversation_key",
    "parse_generic",
    "parse_inbound",
    "parse_linkedin",
    "parse_stripe_event",
    "parse_tiktok",
    "parse_zendesk",
]
