"""Bearer tokens, the status page's scoped tokens, and its signed sign-in sessions.

    require_bearer(header, token)   the single API token that may start runs (webhooks function)
    bearer_token(header)            the token an `Authorization: Bearer` header carries, if any
    ScopedTokenSpec, StatusTokens   the setting CONTROLROOM_STATUS_TOKENS: a JSON object from a
                                    person's or program's name to "<scope>:<token>", e.g.
                                    {"alice": "act:...", "dashboard": "read:..."}
    TokenTable                      those tokens plus the API token (named "api", scope act)
    Principal                       who a request acts as: a name, its scopes, how it proved it
    SessionCodec                    sign-in cookies signed with itsdangerous, bound to the
                                    token they were issued for, and the anti-forgery tokens
                                    derived from them

Scopes: "read" lets a caller see every page; "act" also lets it change state (resolve,
approve, retry, cancel, edit settings) and includes "read".

Every comparison of a presented secret is constant-time (hmac.compare_digest on digests of
equal length, against every configured token, without stopping at the first match), so
neither a token nor which name it belongs to can be learnt from response times.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import AfterValidator, SecretStr, StringConstraints, ValidationInfo

from shared.core.errors import UnauthorizedError

Scope = Literal["read", "act"]
SCOPES: tuple[Scope, ...] = ("read", "act")
GRANTS: dict[str, frozenset[str]] = {
    "read": frozenset({"read"}),
    "act": frozenset({"read", "act"}),
}
API_TOKEN_NAME = "api"
MIN_TOKEN_CHARS = 12
SESSION_SALT = "controlroom.status.session"


def require_bearer(authorization: str | None, expected_token: str) -> None:
    """Pass when the Authorization header carries the expected bearer token."""
    if not expected_token:
        raise UnauthorizedError("no API token is configured on this deployment")
    presented = bearer_token(authorization)
    if presented is None:
        raise UnauthorizedError("missing 'Authorization: Bearer <token>' header")
    # Constant-time comparison so the token cannot be guessed byte by byte from timings.
    if not hmac.compare_digest(presented.encode(), expected_token.encode()):
        raise UnauthorizedError("invalid bearer token")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when there is no header.

    Raises UnauthorizedError for another scheme, so a client sending Basic learns why.
    """
    if not authorization or not authorization.strip():
        return None
    scheme, _, presented = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":  # auth schemes are case-insensitive (RFC 9110)
        raise UnauthorizedError(f"unsupported authorization scheme {scheme!r}; use Bearer")
    return presented.strip()


# --- configuration ----------------------------------------------------------------------


def _check_spec(spec: SecretStr) -> SecretStr:
    scope, separator, token = spec.get_secret_value().partition(":")
    if not separator or scope not in SCOPES:
        raise ValueError(f'must look like "<scope>:<token>" with scope one of {", ".join(SCOPES)}')
    if len(token) < MIN_TOKEN_CHARS or re.search(r"\s", token):
        raise ValueError(f"the token must have at least {MIN_TOKEN_CHARS} characters, no spaces")
    return spec


def _check_table(tokens: dict[str, SecretStr], info: ValidationInfo) -> dict[str, SecretStr]:
    secrets = [spec.get_secret_value().partition(":")[2] for spec in tokens.values()]
    if len(set(secrets)) != len(secrets):
        raise ValueError("two names share one token; every name needs its own")
    api_token = (info.data or {}).get("api_token") or ""
    if API_TOKEN_NAME in tokens and api_token:
        raise ValueError(f"the name {API_TOKEN_NAME!r} is taken by CONTROLROOM_API_TOKEN")
    if api_token and api_token in secrets:
        raise ValueError("a status token equals CONTROLROOM_API_TOKEN; use another")
    return tokens


PrincipalName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")]
ScopedTokenSpec = Annotated[SecretStr, AfterValidator(_check_spec)]
StatusTokens = Annotated[dict[PrincipalName, ScopedTokenSpec], AfterValidator(_check_table)]
"""The settings field type: checked when settings load, so a bad value stops the process."""


# --- who is asking ---------------------------------------------------------------------


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


@dataclass(frozen=True)
class ScopedToken:
    """One configured token: whose it is and what it may do."""

    name: str
    scope: Scope
    secret: str = field(repr=False)

    @property
    def fingerprint(self) -> str:
        """A digest naming this exact token, kept in sessions so rotating it ends them."""
        return hashlib.sha256(f"controlroom.token\x1f{self.secret}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Principal:
    """Who a request acts as, and how it proved it (bearer header, session cookie, or
    nothing at all on a deployment without tokens)."""

    name: str
    scopes: frozenset[str]
    via: Literal["bearer", "session", "open"]
    session_id: str | None = None

    def can(self, scope: str) -> bool:
        """Whether this principal holds `scope`."""
        return scope in self.scopes


ANONYMOUS_READER = Principal("anonymous", GRANTS["read"], "open")


@dataclass(frozen=True)
class TokenTable:
    """Every token that may use the status page."""

    tokens: tuple[ScopedToken, ...]

    @classmethod
    def build(cls, status_tokens: Mapping[str, SecretStr], api_token: str = "") -> TokenTable:
        """From the settings; the API token joins as "api" with the act scope."""
        tokens = []
        for name, spec in sorted(status_tokens.items()):
            scope, _, secret = spec.get_secret_value().partition(":")
            tokens.append(ScopedToken(name, "act" if scope == "act" else "read", secret))
        if api_token:
            tokens.append(ScopedToken(API_TOKEN_NAME, "act", api_token))
        return cls(tuple(tokens))

    @property
    def open(self) -> bool:
        """True when no token at all is configured (local development: read-only, open)."""
        return not self.tokens

    def match(self, presented: str) -> ScopedToken | None:
        """The token equal to `presented`, compared in constant time against every one."""
        wanted = _digest(presented)
        found = None
        for token in self.tokens:  # no early exit: the time does not depend on the position
            if hmac.compare_digest(wanted, _digest(token.secret)):
                found = token
        return found

    def named(self, name: str) -> ScopedToken | None:
        """The token configured under `name`, if any."""
        return next((t for t in self.tokens if t.name == name), None)

    def session_key(self, configured: str | None) -> bytes:
        """The key that signs sessions: the configured secret, else one derived from every
        token (so changing any token signs everybody out)."""
        if configured:
            return configured.encode()
        material = "\x1e".join(f"{t.name}\x1f{t.secret}" for t in self.tokens)
        return hashlib.sha256(f"{SESSION_SALT}\x1d{material}".encode()).digest()


def principal_for(
    token: ScopedToken, via: Literal["bearer", "session"], session_id: str | None = None
) -> Principal:
    """The principal a matched token stands for."""
    return Principal(token.name, GRANTS[token.scope], via, session_id)


# --- sign-in sessions ------------------------------------------------------------------


class SessionCodec:
    """Signed session cookies: {name, token fingerprint, session id} with a timestamp.

    A session is valid while its signature verifies, it is younger than `max_age_s`, and the
    name still has the same token; its scopes are the token's current ones.
    """

    def __init__(self, key: bytes, max_age_s: int) -> None:
        self._key = key
        self._serializer = URLSafeTimedSerializer(key, salt=SESSION_SALT)
        self.max_age_s = max_age_s

    def issue(self, token: ScopedToken, session_id: str) -> str:
        """The cookie value of a new session for `token`."""
        return self._serializer.dumps({"n": token.name, "f": token.fingerprint, "s": session_id})

    def read(self, cookie: str, table: TokenTable) -> Principal | None:
        """The principal of a valid session cookie; None for anything else."""
        try:
            data: Any = self._serializer.loads(cookie, max_age=self.max_age_s)
        except BadSignature:  # SignatureExpired is a BadSignature too
            return None
        if not isinstance(data, dict):
            return None
        name, fingerprint, session_id = data.get("n"), data.get("f"), data.get("s")
        if not all(isinstance(v, str) for v in (name, fingerprint, session_id)):
            return None
        token = table.named(str(name))
        if token is None or not hmac.compare_digest(token.fingerprint, str(fingerprint)):
            return None
        return principal_for(token, "session", str(session_id))

    def csrf_token(self, session_id: str) -> str:
        """The anti-forgery token of a session, for its forms."""
        return hmac.new(self._key, f"csrf\x1f{session_id}".encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, session_id: str, presented: str) -> bool:
        """Whether `presented` is the session's anti-forgery token (constant-time)."""
        return hmac.compare_digest(self.csrf_token(session_id).encode(), presented.encode())
