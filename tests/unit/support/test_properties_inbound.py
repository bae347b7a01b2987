"""Properties of the webhook payload parsers: whatever JSON a platform (or an attacker with a
signing secret) sends, the parser returns valid messages or raises InvalidRequestError (400),
never another exception (which the webhooks function would answer with a 500)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.core.errors import InvalidRequestError
from shared.core.messages import InboundMessage, StripeEvent
from shared.support.inbound import PARSERS, parse_inbound, parse_stripe_event
from tests.helpers.fuzzing import fuzz_settings, json_values, mutated, webhook_fixture

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
        # Whatever parses can be published and stored: it survives a JSON round trip, and the
        # ids that name Firestore documents (platform:id) hold no path separator.
        assert InboundMessage.model_validate_json(message.model_dump_json()) == message
        ids = (message.platform_message_id, message.conversation_key, message.user.platform_user_id)
        assert not any("/" in part for part in ids), ids
    return messages


def stripe_event_or_400(payload: object) -> StripeEvent | None:
    try:
        event = parse_stripe_event(payload)  # type: ignore[arg-type]
    except InvalidRequestError as exc:
        assert str(exc)
        return None
    assert event.id.startswith("evt_") and "/" not in event.id  # stripe_events/{id}
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


ids = st.text(max_size=20) | st.integers()
texts = st.text(min_size=1, max_size=60)
WELL_FORMED = {
    "generic": st.fixed_dictionaries(
        {
            "message_id": ids,
            "conversation_id": ids,
            "user": st.fixed_dictionaries({"id": ids}, optional={"name": st.text(max_size=20)}),
            "text": texts,
        },
        optional={"language": st.text(max_size=8), "sent_at": st.datetimes().map(str)},
    ),
    "tiktok": st.fixed_dictionaries(
        {
            "event": st.just("im_receive_msg"),
            "content": st.fixed_dictionaries(
                {
                    "conversation_id": ids,
                    "message_id": ids,
                    "timestamp": st.integers(min_value=0, max_value=2**45),
                    "type": st.just("text"),
                    "from_user": st.fixed_dictionaries({"id": ids}),
                    "text": st.fixed_dictionaries({"body": texts}),
                }
            ).map(json.dumps),
        }
    ),
    "zendesk": st.fixed_dictionaries(
        {
            "type": st.just("zen:event-type:ticket.comment_added"),
            "id": ids,
            "time": st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
            "detail": st.fixed_dictionaries({"id": ids}),
            "event": st.fixed_dictionaries(
                {
                    "comment": st.fixed_dictionaries(
                        {"id": ids, "body": texts, "author": st.fixed_dictionaries({"id": ids})}
                    )
                }
            ),
        }
    ),
    "linkedin": st.fixed_dictionaries(
        {
            "notifications": st.lists(
                st.fixed_dictionaries(
                    {
                        "notificationId": ids,
                        "action": st.just("COMMENT"),
                        "sourcePost": ids,
                        "decoratedGeneratedActivity": st.fixed_dictionaries(
                            {
                                "comment": st.fixed_dictionaries(
                                    {"owner": ids, "entity": ids, "text": texts}
                                )
                            }
                        ),
                    }
                ),
                max_size=2,
            )
        }
    ),
}


@fuzz_settings(300)
@given(
    case=st.sampled_from(sorted(WELL_FORMED)).flatmap(
        lambda p: st.tuples(st.just(p), WELL_FORMED[p])
    )
)
def test_well_formed_payloads_with_any_values_parse_to_storable_messages_or_a_400(
    case: tuple[str, Any],
) -> None:
    platform, payload = case
    messages_or_400(platform, payload)


def test_the_documented_payloads_still_parse() -> None:
    """The mutations start from payloads that parse: the properties test the deep paths."""
    assert messages_or_400("tiktok", webhook_fixture("tiktok_im_receive_msg"))
    assert messages_or_400("linkedin", webhook_fixture(PLATFORM_FIXTURES["linkedin"][0]))
    assert messages_or_400("zendesk", webhook_fixture("zendesk_ticket_comment_added"))
    assert messages_or_400("generic", webhook_fixture("generic_message"))
    for name in STRIPE_FIXTURES:
        assert stripe_event_or_400(webhook_fixture(name)) is not None
