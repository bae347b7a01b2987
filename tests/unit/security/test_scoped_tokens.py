"""Scoped status-page tokens, their setting, and signed sessions bound to the token."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr, ValidationError

from shared.security.tokens import (
    Principal,
    SessionCodec,
    TokenTable,
    bearer_token,
)
from shared.wiring.settings import Settings

ALICE = "act-token-alice-0001"
DASH = "read-token-dash-0001"
API = "local-api-token-01"


def table(api_token: str = API) -> TokenTable:
    specs = {"alice": SecretStr(f"act:{ALICE}"), "dash": SecretStr(f"read:{DASH}")}
    return TokenTable.build(specs, api_token)


def settings(monkeypatch: pytest.MonkeyPatch, tokens: dict[str, str], api: str = "") -> Settings:
    monkeypatch.setenv("CONTROLROOM_STATUS_TOKENS", json.dumps(tokens))
    monkeypatch.setenv("CONTROLROOM_API_TOKEN", api)
    return Settings()


def test_each_token_names_its_holder_and_act_includes_read() -> None:
    tokens = table()

    found = {name: tokens.match(secret) for name, secret in [("a", ALICE), ("d", DASH), ("i", API)]}

    assert {k: (t.name, t.scope) if t else None for k, t in found.items()} == {
        "a": ("alice", "act"),
        "d": ("dash", "read"),
        "i": ("api", "act"),
    }
    assert tokens.match(ALICE + "x") is None and tokens.match("") is None
    assert not tokens.open and TokenTable.build({}, "").open


def test_the_setting_takes_a_json_object_of_scoped_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = settings(monkeypatch, {"alice": f"act:{ALICE}", "dash": f"read:{DASH}"}, API)

    assert sorted(loaded.status_tokens) == ["alice", "dash"]
    assert loaded.status_tokens["dash"].get_secret_value() == f"read:{DASH}"


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        ({"alice": f"admin:{ALICE}"}, "scope one of read, act"),
        ({"alice": ALICE}, "<scope>:<token>"),
        ({"alice": "act:short"}, "at least 12 characters"),
        ({"alice": f"act:{ALICE}", "bob": f"read:{ALICE}"}, "two names share one token"),
        ({"api": f"act:{ALICE}"}, "taken by CONTROLROOM_API_TOKEN"),
        ({"alice": f"act:{API}"}, "equals CONTROLROOM_API_TOKEN"),
        ({"al ice": f"act:{ALICE}"}, "String should match pattern"),
    ],
)
def test_a_bad_setting_stops_the_process_without_echoing_the_secret(
    monkeypatch: pytest.MonkeyPatch, tokens: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(monkeypatch, tokens, API)

    assert message in str(caught.value)
    assert ALICE not in str(caught.value) and API not in str(caught.value)


def test_a_session_names_its_principal_until_it_expires_or_its_token_changes() -> None:
    tokens = table()
    codec = SessionCodec(tokens.session_key("k" * 32), max_age_s=3600)
    alice = tokens.named("alice")
    assert alice is not None
    cookie = codec.issue(alice, "sid-1")

    assert codec.read(cookie, tokens) == Principal(
        "alice", frozenset({"read", "act"}), "session", "sid-1"
    )
    rotated = TokenTable.build({"alice": SecretStr("act:another-token-0002")}, API)
    assert codec.read(cookie, rotated) is None  # the token changed: signed out
    assert codec.read(cookie[:-2] + "xx", tokens) is None  # tampered
    assert SessionCodec(b"other key", 3600).read(cookie, tokens) is None
    assert SessionCodec(tokens.session_key("k" * 32), max_age_s=-1).read(cookie, tokens) is None


def test_the_anti_forgery_token_is_the_sessions_own() -> None:
    codec = SessionCodec(b"key", 3600)
    token = codec.csrf_token("sid-1")

    assert codec.check_csrf("sid-1", token)
    assert not codec.check_csrf("sid-2", token)
    assert not codec.check_csrf("sid-1", token[:-1] + "0" if token[-1] != "0" else "1")


def test_the_derived_session_key_changes_with_any_token() -> None:
    assert table().session_key(None) != table("other-api-token-1").session_key(None)
    assert table().session_key(None) == table().session_key(None)
    assert table().session_key("configured") == b"configured"


@pytest.mark.parametrize(
    ("header", "token"),
    [(None, None), ("", None), (f"Bearer {ALICE}", ALICE), (f"bearer  {ALICE} ", ALICE)],
)
def test_bearer_token_reads_the_header(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
