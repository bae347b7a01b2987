"""Webhook bodies from each platform, in the vendors' documented shapes, become InboundMessages;
events that carry no customer message become nothing; bad bodies say which field is wrong."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.core.errors import InvalidRequestError
from shared.support import (
    InboundMessage,
    InboundUser,
    InvalidPayloadError,
    parse_generic,
    parse_inbound,
    parse_linkedin,
    parse_stripe_event,
    parse_tiktok,
    parse_zendesk,
)

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "webhooks"

Parser = Callable[[dict[str, Any]], list[InboundMessage]]


def fixture(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return payload


def tiktok_with_content(**changes: Any) -> dict[str, Any]:
    """The TikTok DM fixture with fields of its JSON-encoded content replaced."""
    payload = fixture("tiktok_im_receive_msg")
    content = {**json.loads(payload["content"]), **changes}
    return {**payload, "content": json.dumps({k: v for k, v in content.items() if v is not None})}


def linkedin_first_comment(**changes: Any) -> dict[str, Any]:
    payload = fixture("linkedin_organization_social_action_notifications")
    comment = payload["notifications"][0]["decoratedGeneratedActivity"]["comment"]
    comment.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del comment[key]
    return payload


def zendesk_comment(**changes: Any) -> dict[str, Any]:
    payload = fixture("zendesk_ticket_comment_added")
    payload["event"]["comment"].update(changes)
    return payload


def invalid(parser: Parser, payload: dict[str, Any]) -> str:
    with pytest.raises(InvalidPayloadError) as caught:
        parser(payload)
    return str(caught.value)


# --- each platform on its documented payload ------------------------------------------


def test_tiktok_direct_message() -> None:
    payload = fixture("tiktok_im_receive_msg")

    messages = parse_tiktok(payload)

    assert messages == [
        InboundMessage(
            platform="tiktok",
            platform_message_id="7419038219477393670",
            conversation_key="tiktok:0:1:7418290164882556934:7343915108926244870",
            user=InboundUser(
                platform_user_id="-000bGqWEtyx1X3sJ5wTwJ1TfRXlnT0cS9Ux",
                display_name="jana.nováková",
            ),
            text="Hi! My order #4821 still hasn't shipped, can you check?",
            sent_at=datetime(2024, 10, 28, 11, 12, 5, 123000, tzinfo=UTC),
            raw_event_type="im_receive_msg",
        )
    ]


def test_tiktok_content_may_arrive_already_decoded() -> None:
    payload = fixture("tiktok_im_receive_msg")
    decoded = {**payload, "content": json.loads(payload["content"])}

    messages = parse_tiktok(decoded)

    assert messages == parse_tiktok(payload)


def test_linkedin_comments_in_one_batch_become_one_message_each() -> None:
    payload = fixture("linkedin_organization_social_action_notifications")

    messages = parse_linkedin(payload)

    assert [m.text for m in messages] == [
        "Does the new reports page export to CSV? We need it for month-end.",
        "Sync has been failing for us since Tuesday, who can I talk to?",
    ]
    first = messages[0]
    assert first.platform_message_id == (
        "urn:li:comment:(urn:li:activity:7256637247890620418,7256977717598625792)"
    )
    assert first.conversation_key == "linkedin:urn:li:activity:7256637247890620418"
    assert first.user == InboundUser(platform_user_id="urn:li:person:aB3dE5fG7h")
    assert first.sent_at == datetime(2024, 10, 28, 13, 0, 0, 310000, tzinfo=UTC)
    assert first.raw_event_type == "COMMENT"


def test_linkedin_comment_text_in_the_comments_api_shape_is_read_too() -> None:
    payload = linkedin_first_comment(text=None, message={"text": "Is there an API?"})

    messages = parse_linkedin(payload)

    assert messages[0].text == "Is there an API?"


def test_zendesk_customer_comment() -> None:
    payload = fixture("zendesk_ticket_comment_added")

    messages = parse_zendesk(payload)

    assert messages == [
        InboundMessage(
            platform="zendesk",
            platform_message_id="31420698765",
            conversation_key="zendesk:5158",
            user=InboundUser(platform_user_id="8447388090494", display_name="Maria Rossi"),
            text="Any update? The second charge of €49.00 is still on my card statement.",
            sent_at=datetime(2024, 10, 28, 10, 15, 42, 123456, tzinfo=UTC),
            raw_event_type="zen:event-type:ticket.comment_added",
        )
    ]


def test_zendesk_numeric_ids_are_read_as_strings() -> None:
    payload = zendesk_comment(id=31420698765, author={"id": 8447388090494, "is_staff": False})
    payload["detail"]["id"] = 5158

    messages = parse_zendesk(payload)

    assert messages[0].platform_message_id == "31420698765"
    assert messages[0].conversation_key == "zendesk:5158"
    assert messages[0].user.platform_user_id == "8447388090494"


def test_generic_site_chat_message() -> None:
    payload = fixture("generic_message")

    messages = parse_generic(payload)

    assert messages == [
        InboundMessage(
            platform="generic",
            platform_message_id="msg_01JBDX7K9Q4W2C8YV3N5T6R0ZA",
            conversation_key="generic:conv_01JBDX5H2M7P9R4S6T8V0W1XYZ",
            user=InboundUser(
                platform_user_id="visitor_8f3a2c",
                display_name="Tomás Alvarez",
                email="tomas@example.com",
            ),
            text="Hola, ¿tienen soporte en español para la integración con Shopify?",
            language="es",
            sent_at=datetime(2024, 10, 28, 11, 4, 27, tzinfo=UTC),
            raw_event_type="message",
        )
    ]


def test_generic_minimal_message() -> None:
    payload = {
        "message_id": "m1",
        "conversation_id": "c1",
        "user": {"id": "u1"},
        "text": "hello",
    }

    (message,) = parse_generic(payload)

    assert message.user == InboundUser(platform_user_id="u1")
    assert message.sent_at is None
    assert message.language is None


@pytest.mark.parametrize(
    ("platform", "name"),
    [
        ("tiktok", "tiktok_im_receive_msg"),
        ("linkedin", "linkedin_organization_social_action_notifications"),
        ("zendesk", "zendesk_ticket_comment_added"),
        ("generic", "generic_message"),
    ],
)
def test_parse_inbound_dispatches_by_platform_and_messages_survive_json(
    platform: str, name: str
) -> None:
    messages = parse_inbound(platform, fixture(name))

    assert messages
    for message in messages:
        assert message.platform == platform
        assert InboundMessage.model_validate_json(message.model_dump_json()) == message


def test_parse_inbound_rejects_an_unknown_platform_and_a_non_object_body() -> None:
    with pytest.raises(InvalidRequestError, match="no message parser for platform 'fax'"):
        parse_inbound("fax", {})

    with pytest.raises(InvalidPayloadError, match="zendesk payload: body must be a JSON object"):
        parse_inbound("zendesk", [fixture("zendesk_ticket_comment_added")])


# --- events that carry no customer message ---------------------------------------------


@pytest.mark.parametrize(
    ("parser", "payload"),
    [
        pytest.param(parse_tiktok, fixture("tiktok_im_mark_read_msg"), id="tiktok-read-receipt"),
        pytest.param(
            parse_tiktok,
            {**fixture("tiktok_im_receive_msg"), "event": "im_send_msg"},
            id="tiktok-our-own-echo",
        ),
        pytest.param(
            parse_tiktok,
            tiktok_with_content(type="image", text=None, image={"media_id": "v0f044gc0000"}),
            id="tiktok-image",
        ),
        pytest.param(
            parse_tiktok,
            {"client_key": "k", "event": "authorization.removed", "content": '{"reason": 1}'},
            id="tiktok-other-event",
        ),
        pytest.param(
            parse_linkedin,
            {
                "type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS",
                "notifications": [
                    fixture("linkedin_organization_social_action_notifications")["notifications"][1]
                ],
            },
            id="linkedin-like",
        ),
        pytest.param(
            parse_linkedin,
            {"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": []},
            id="linkedin-empty-batch",
        ),
        pytest.param(
            parse_linkedin,
            {"type": "LEAD_ACTION", "leadGenFormResponse": "urn:li:leadGenFormResponse:1"},
            id="linkedin-other-product",
        ),
        pytest.param(
            parse_zendesk, fixture("zendesk_ticket_status_changed"), id="zendesk-status-change"
        ),
        pytest.param(
            parse_zendesk,
            zendesk_comment(author={"id": "8447388090495", "is_staff": True, "name": "Agent"}),
            id="zendesk-staff-reply",
        ),
        pytest.param(parse_zendesk, zendesk_comment(is_public=False), id="zendesk-private-note"),
    ],
)
def test_events_without_a_customer_message_parse_to_nothing(
    parser: Parser, payload: dict[str, Any]
) -> None:
    messages = parser(payload)

    assert messages == []


def test_linkedin_skips_what_no_agent_should_answer() -> None:
    payload = fixture("linkedin_organization_social_action_notifications")
    admin, image_only, own_page = copy.deepcopy(payload["notifications"][:1] * 3)
    admin["action"] = "ADMIN_COMMENT"
    del image_only["decoratedGeneratedActivity"]["comment"]["text"]
    own_page["decoratedGeneratedActivity"]["comment"]["owner"] = "urn:li:organization:96072893"
    payload["notifications"] = [admin, image_only, own_page]

    messages = parse_linkedin(payload)

    assert messages == []


# --- bad bodies name the field ----------------------------------------------------------


@pytest.mark.parametrize(
    ("parser", "payload", "expected"),
    [
        pytest.param(
            parse_tiktok,
            {"event": "im_receive_msg"},
            "tiktok payload: content: Field required",
            id="tiktok-no-content",
        ),
        pytest.param(
            parse_tiktok,
            {"event": "im_receive_msg", "content": "{not json"},
            "tiktok payload: content: not a JSON-encoded object",
            id="tiktok-content-not-json",
        ),
        pytest.param(
            parse_tiktok,
            tiktok_with_content(message_id=None),
            "tiktok payload: content.message_id: Field required",
            id="tiktok-no-message-id",
        ),
        pytest.param(
            parse_tiktok,
            tiktok_with_content(text={}),
            "tiktok payload: content.text.body: Field required",
            id="tiktok-no-text-body",
        ),
        pytest.param(
            parse_tiktok,
            tiktok_with_content(timestamp="yesterday"),
            "tiktok payload: content.timestamp: Input should be a valid integer",
            id="tiktok-bad-timestamp",
        ),
        pytest.param(
            parse_linkedin,
            {"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"},
            "linkedin payload: notifications: Field required",
            id="linkedin-no-notifications",
        ),
        pytest.param(
            parse_linkedin,
            linkedin_first_comment(owner=None),
            "linkedin payload: notifications.0.decoratedGeneratedActivity.comment.owner: "
            "Field required",
            id="linkedin-comment-without-owner",
        ),
        pytest.param(
            parse_linkedin,
            {"notifications": [{"action": "COMMENT"}]},
            "linkedin payload: notifications.0.notificationId: Field required",
            id="linkedin-no-notification-id",
        ),
        pytest.param(
            parse_zendesk,
            {"detail": {"id": "5158"}},
            "zendesk payload: type: Field required",
            id="zendesk-no-type",
        ),
        pytest.param(
            parse_zendesk,
            {**fixture("zendesk_ticket_comment_added"), "detail": {}},
            "zendesk payload: detail.id: Field required",
            id="zendesk-no-ticket-id",
        ),
        pytest.param(
            parse_zendesk,
            zendesk_comment(body=""),
            "zendesk payload: event.comment.body: String should have at least 1 character",
            id="zendesk-empty-body",
        ),
        pytest.param(
            parse_generic,
            {**fixture("generic_message"), "user": {"name": "Tomás"}},
            "generic payload: user.id: Field required",
            id="generic-no-user-id",
        ),
        pytest.param(
            parse_generic,
            {**fixture("generic_message"), "sent_at": "2024-10-28T11:04:27"},
            "generic payload: sent_at: Input should have timezone info",
            id="generic-naive-time",
        ),
        pytest.param(
            parse_generic,
            {**fixture("generic_message"), "user": {"id": "u1", "email": "not-an-email"}},
            "generic payload: user.email: String should match pattern",
            id="generic-bad-email",
        ),
        pytest.param(
            parse_generic,
            {**fixture("generic_message"), "txet": "typo"},
            "generic payload: txet: Extra inputs are not permitted",
            id="generic-unknown-field",
        ),
    ],
)
def test_schema_errors_name_the_field(
    parser: Parser, payload: dict[str, Any], expected: str
) -> None:
    message = invalid(parser, payload)

    assert message.startswith(expected), message


@pytest.mark.parametrize("control", ["\x00", "\n", "\x7f", "\x85", "\x1b"])
@pytest.mark.parametrize(
    ("parser", "payload", "field"),
    [
        (parse_generic, lambda c: {**fixture("generic_message"), "conversation_id": f"c{c}1"},
         "conversation_id"),
        (parse_generic, lambda c: {**fixture("generic_message"), "message_id": f"m{c}1"},
         "message_id"),
        (parse_generic, lambda c: {**fixture("generic_message"), "user": {"id": f"u{c}1"}},
         "user.id"),
        (parse_zendesk, lambda c: zendesk_comment(id=f"zd{c}1"), "id"),
    ],
)  # fmt: skip
def test_an_id_with_a_control_character_is_refused_naming_the_field(
    parser: Parser, payload: Callable[[str], dict[str, Any]], field: str, control: str
) -> None:
    message = invalid(parser, payload(control))

    assert field in message and "control characters" in message, message


def test_message_text_keeps_the_control_characters_the_customer_sent() -> None:
    text = "line one\nline two\x00\x7f end"

    (message,) = parse_generic({**fixture("generic_message"), "text": text})

    assert message.text == text


def test_invalid_payload_is_a_bad_request() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_generic({})

    assert isinstance(caught.value, InvalidPayloadError)
    assert caught.value.http_status == 400
    assert str(caught.value) == (
        "generic payload: message_id: Field required; conversation_id: Field required; "
        "user: Field required; text: Field required"
    )


# --- limits ---------------------------------------------------------------------------

TOO_LONG = "x" * 4001
LONGEST = "x" * 4000
TOO_LONG_ID = "i" * 257


def with_text(parser: Parser, text: str) -> dict[str, Any]:
    if parser is parse_tiktok:
        return tiktok_with_content(text={"body": text})
    if parser is parse_linkedin:
        return linkedin_first_comment(text=text)
    if parser is parse_zendesk:
        return zendesk_comment(body=text)
    return {**fixture("generic_message"), "text": text}


TEXT_FIELDS = [
    pytest.param(parse_tiktok, "content.text.body", id="tiktok"),
    pytest.param(
        parse_linkedin, "notifications.0.decoratedGeneratedActivity.comment.text", id="linkedin"
    ),
    pytest.param(parse_zendesk, "event.comment.body", id="zendesk"),
    pytest.param(parse_generic, "text", id="generic"),
]


@pytest.mark.parametrize(("parser", "field"), TEXT_FIELDS)
def test_text_over_4000_characters_is_rejected(parser: Parser, field: str) -> None:
    message = invalid(parser, with_text(parser, TOO_LONG))

    assert f"{field}: String should have at most 4000 characters" in message


@pytest.mark.parametrize(("parser", "field"), TEXT_FIELDS)
def test_text_of_exactly_4000_characters_is_accepted(parser: Parser, field: str) -> None:
    messages = parser(with_text(parser, LONGEST))

    assert messages[0].text == LONGEST


@pytest.mark.parametrize(
    ("parser", "payload", "field"),
    [
        pytest.param(
            parse_tiktok,
            tiktok_with_content(conversation_id=TOO_LONG_ID),
            "content.conversation_id",
            id="tiktok",
        ),
        pytest.param(
            parse_linkedin,
            linkedin_first_comment(owner=TOO_LONG_ID),
            "notifications.0.decoratedGeneratedActivity.comment.owner",
            id="linkedin",
        ),
        pytest.param(
            parse_zendesk, zendesk_comment(id=TOO_LONG_ID), "event.comment.id", id="zendesk"
        ),
        pytest.param(
            parse_generic,
            {**fixture("generic_message"), "message_id": TOO_LONG_ID},
            "message_id",
            id="generic",
        ),
    ],
)
def test_ids_over_256_characters_are_rejected(
    parser: Parser, payload: dict[str, Any], field: str
) -> None:
    message = invalid(parser, payload)

    assert f"{field}: String should have at most 256 characters" in message


def test_conversation_key_must_name_the_platform() -> None:
    with pytest.raises(ValueError, match="conversation_key must start with 'zendesk:'"):
        InboundMessage(
            platform="zendesk",
            platform_message_id="1",
            conversation_key="tiktok:1",
            user=InboundUser(platform_user_id="u"),
            text="hi",
            raw_event_type="x",
        )


# --- Stripe ---------------------------------------------------------------------------


def test_stripe_subscription_deleted_is_a_churn_signal() -> None:
    event = parse_stripe_event(fixture("stripe_customer_subscription_deleted"))

    assert event.id == "evt_1QGm9xLkdIwHu7ixZxCvBn02"
    assert event.type == "customer.subscription.deleted"
    assert event.created == datetime(2024, 11, 30, 0, 0, 1, tzinfo=UTC)
    assert event.customer_id == "cus_R6xYz1AbCdEfGh"
    assert event.object_id == "sub_1QEh2nLkdIwHu7ixd2a1b3c4"
    assert event.is_churn_signal is True


def test_stripe_subscription_set_to_cancel_at_period_end_is_a_churn_signal() -> None:
    event = parse_stripe_event(fixture("stripe_customer_subscription_updated_cancel_at_period_end"))

    assert event.type == "customer.subscription.updated"
    assert event.is_churn_signal is True


def test_stripe_subscription_update_that_keeps_renewing_is_not_churn() -> None:
    payload = fixture("stripe_customer_subscription_updated_cancel_at_period_end")
    payload["data"]["object"]["cancel_at_period_end"] = False

    event = parse_stripe_event(payload)

    assert event.is_churn_signal is False


def test_stripe_invoice_paid_is_not_churn_and_names_the_customer() -> None:
    event = parse_stripe_event(fixture("stripe_invoice_paid"))

    assert event.is_churn_signal is False
    assert event.customer_id == "cus_R6xYz1AbCdEfGh"
    assert event.object_id == "in_1QF1cALkdIwHu7ixJkLmNo45"


def test_stripe_customer_ids_from_a_customer_object_and_an_expanded_customer() -> None:
    deleted_customer = fixture("stripe_invoice_paid")
    deleted_customer["type"] = "customer.deleted"
    deleted_customer["data"]["object"] = {"id": "cus_Gone0001", "object": "customer"}
    expanded = fixture("stripe_invoice_paid")
    expanded["data"]["object"]["customer"] = {"id": "cus_Exp0002", "object": "customer"}

    assert parse_stripe_event(deleted_customer).customer_id == "cus_Gone0001"
    assert parse_stripe_event(expanded).customer_id == "cus_Exp0002"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"data": None}, "stripe payload: data: Input should be a valid dictionary"),
        ({"data": {}}, "stripe payload: data.object: Field required"),
        ({"id": "ch_123"}, "stripe payload: id: String should match pattern '^evt_'"),
        ({"object": "charge"}, "stripe payload: object: Input should be 'event'"),
        ({"created": "now"}, "stripe payload: created: Input should be a valid integer"),
        ({"type": None}, "stripe payload: type: Input should be a valid string"),
    ],
)
def test_stripe_schema_errors_name_the_field(change: dict[str, Any], expected: str) -> None:
    payload = {**fixture("stripe_invoice_paid"), **change}

    with pytest.raises(InvalidPayloadError) as caught:
        parse_stripe_event(payload)

    assert str(caught.value).startswith(expected), str(caught.value)
