"""Bearer-token checks: the right token passes, every wrong request says what is wrong."""

from __future__ import annotations

import pytest

from shared.core.errors import UnauthorizedError
from shared.security.tokens import require_bearer

TOKEN = "s3cret-token-0042"


def rejection(authorization: str | None, expected: str = TOKEN) -> str:
    with pytest.raises(UnauthorizedError) as caught:
        require_bearer(authorization, expected)
    return str(caught.value)


def test_right_token_passes() -> None:
    result = require_bearer(f"Bearer {TOKEN}", TOKEN)

    assert result is None


def test_surrounding_whitespace_after_the_scheme_is_ignored() -> None:
    result = require_bearer(f"Bearer  {TOKEN} ", TOKEN)

    assert result is None


@pytest.mark.parametrize("authorization", [None, ""], ids=["absent", "empty"])
def test_missing_header_is_unauthorized(authorization: str | None) -> None:
    message = rejection(authorization)

    assert message == "missing 'Authorization: Bearer <token>' header"


@pytest.mark.parametrize("wrong", ["s3cret-token-0041", "s3cret-token-00420", "", TOKEN.upper()])
def test_wrong_token_is_unauthorized(wrong: str) -> None:
    message = rejection(f"Bearer {wrong}")

    assert message == "invalid bearer token"


@pytest.mark.parametrize("authorization", [f"Bearer {TOKEN}", None])
def test_no_configured_token_rejects_everything(authorization: str | None) -> None:
    message = rejection(authorization, expected="")

    assert message == "no API token is configured on this deployment"


@pytest.mark.parametrize("authorization", [f"Basic {TOKEN}", f"Token {TOKEN}", TOKEN])
def test_wrong_scheme_is_unauthorized(authorization: str) -> None:
    message = rejection(authorization)

    assert "Bearer" in message


def test_each_kind_of_rejection_has_its_own_message() -> None:
    # A client sending "Basic ..." should not be told its header is missing.
    messages = {
        "no configured token": rejection(f"Bearer {TOKEN}", expected=""),
        "missing header": rejection(None),
        "wrong scheme": rejection(f"Basic {TOKEN}"),
        "wrong token": rejection("Bearer nope"),
    }

    assert len(set(messages.values())) == len(messages), messages


def test_rejection_is_a_401() -> None:
    with pytest.raises(UnauthorizedError) as caught:
        require_bearer("Bearer nope", TOKEN)

    assert caught.value.http_status == 401
