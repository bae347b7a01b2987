"""Properties of the webhook payload parsers: whatever JSON a platform (or an attacker with a
signing secret) sends, the parser returns valid messages or raises InvalidRequestError (400),
never another exception (which the webhooks function would answer with a 500)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InvalidRequestError
from shared.support.inbound import (
    PARSERS,
    InboundMessage,
    StripeEvent,
    parse_inbound,
    parse_stripe_event,
)
from tests.unit.fuzzing import fuzz_settings, json_values, mutated, webhook_fixture

PLATFORM_FIXTURES = {
    "tiktok": ["tiktok_im_receive_msg", "tiktok_im_mark_read_msg"],
    "linkedin": ["linkedin_organization_social_action_notifications"],
    "zendesk": ["zendesk_ticket_comment_added", "zendesk_ticket_status_changed"],
    "generic": ["generic_message"],
}
STRIPE_FIXTURES = [
    "stripe_customer_subscription_deleted",
    "stripe_customer_subscription_updated_cancel_at_period_end",
    "stripe_invoice_paid",
]
platforms = st.sampled_from(sorted(PARSERS))


def messages_or_400(platform: str, payload: object) -> list[InboundMessage] | None:
    """The parser's messages, or None when it rejected the payload with InvalidRequestError."""
    try:
        messages = parse_inbound(platform, payload)
    except InvalidRequestError as exc:
        assert str(exc), "a rejection must say what is wrong"
        return None
    for message in messages:
        assert isinstance(message, InboundMessage)
        assert message.platform == platform
        assert message.conversation_key.startswith(f"{platform}:")
        assert 1 <= len(message.text) <= 4000
        # Whatever parses can be published and stored: it survives a JSON round trip.
        assert InboundMessage.model_validate_json(message.model_dump_json()) == message
    return messages


def stripe_event_or_400(payload: object) -> StripeEvent | None:
    try:
        event = parse_stripe_event(payload)  # type: ignore[arg-type]
    except InvalidRequestError as exc:
        assert str(exc)
        return None
    assert event.id.startswith("evt_")
    assert StripeEvent.model_validate_json(event.model_dump_json()) == event
    return event


@fuzz_settings(300)
@given(platform=platforms, payload=json_values)
def test_any_json_parses_to_messages_or_a_400(platform: str, payload: Any) -> None:
    messages_or_400(platform, payload)


@fuzz_settings(50)
@given(platform=st.text(max_size=50), payload=json_values)
def test_an_unknown_platform_is_a_400(platform: str, payload: Any) -> None:
    if platform in PARSERS:
        return
    try:
        parse_inbound(platform, payload)
    except InvalidRequestError:
        return
    raise AssertionError(f"platform {platform!r} was accepted")


@st.composite
def near_valid_payloads(draw: st.DrawFn) -> tuple[str, Any]:
    """A documented payload of some platform with a few fields replaced or removed."""
    platform = draw(platforms)
    base = webhook_fixture(draw(st.sampled_from(PLATFORM_FIXTURES[platform])))
    return platform, draw(mutated(base))


@fuzz_settings(400)
@given(near_valid_payloads())
def test_near_valid_payloads_parse_to_messages_or_a_400(case: tuple[str, Any]) -> None:
    platform, payload = case
    messages_or_400(platform, payload)


@fuzz_settings(200)
@given(content=mutated(json.loads(webhook_fixture("tiktok_im_receive_msg")["content"])))
def test_tiktok_content_of_any_shape_parses_or_is_a_400(content: Any) -> None:
    # TikTok sends the message as a JSON-encoded string inside the JSON body.
    variants = [content]
    with contextlib.suppress(ValueError):  # json.dumps refuses integers over 4300 digits
        variants.append(json.dumps(content))
    for encoded in variants:
        payload = {**webhook_fixture("tiktok_im_receive_msg"), "content": encoded}
        messages_or_400("tiktok", payload)


@fuzz_settings(50)
@given(text=st.text(max_size=300))
def test_tiktok_content_that_is_any_text_parses_or_is_a_400(text: str) -> None:
    payload = {**webhook_fixture("tiktok_im_receive_msg"), "content": text}
    messages_or_400("tiktok", payload)


def test_tiktok_content_nested_too_deep_for_json_is_a_400() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    payload = {**webhook_fixture("tiktok_im_receive_msg"), "content": deep}
    assert messages_or_400("tiktok", payload) is None


def test_tiktok_content_with_an_integer_too_long_for_python_is_a_400() -> None:
    payload = {**webhook_fixture("tiktok_im_receive_msg"), "content": '{"n": ' + "9" * 5000 + "}"}
    assert messages_or_400("tiktok", payload) is None


@fuzz_settings(200)
@given(payload=json_values)
def test_any_json_is_a_stripe_event_or_a_400(payload: Any) -> None:
    stripe_event_or_400(payload)


@fuzz_settings(300)
@given(payload=st.sampled_from(STRIPE_FIXTURES).map(webhook_fixture).flatmap(mutated))
def test_near_valid_stripe_events_parse_or_are_a_400(payload: Any) -> None:
    stripe_event_or_400(payload)


def test_the_documented_payloads_still_parse() -> None:
    """The mutations start from payloads that parse: the properties test the deep paths."""
    assert messages_or_400("tiktok", webhook_fixture("tiktok_im_receive_msg"))
    assert messages_or_400("linkedin", webhook_fixture(PLATFORM_FIXTURES["linkedin"][0]))
    assert messages_or_400("zendesk", webhook_fixture("zendesk_ticket_comment_added"))
    assert messages_or_400("generic", webhook_fixture("generic_message"))
    for name in STRIPE_FIXTURES:
        assert stripe_event_or_400(webhook_fixture(name)) is not None
