"""Customer support: messages arriving from TikTok, LinkedIn, Zendesk and our site chat."""

from shared.support.inbound import (
    InboundMessage,
    InboundUser,
    InvalidPayloadError,
    StripeEvent,
    conversation_key,
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
