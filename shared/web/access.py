"""Who may use the status page: scoped tokens, sign-in sessions, anti-forgery tokens, audit.

    require_scope(request, "read"|"act") -> Principal
        401 (UnauthorizedError) without a valid credential, 403 (ForbiddenError) without the
        scope; for a cookie session and a state-changing method it also checks the form's
        anti-forgery token (field `csrf_token` or header `X-CSRF-Token`), so every act route
        is protected without more code. Bearer requests are exempt: a browser never adds a
        bearer header on its own, so a forged cross-site request cannot carry one.
    csrf_token(principal) -> str
        the value of the hidden `csrf_token` field of a form (templates get it as
        `csrf_token`); "" for bearer and open principals, who need none.
    current_principal(request) -> Principal | None
        who the request was authenticated as, once require_scope ran.
    require_principal(request) -> Principal
        the same in a handler of a non-public route, where there is always one.
    record_action(principal, action, target, outcome=..., details=...)
        writes audit/{id}: who did what to which target, when.

Credentials, in order: an `Authorization: Bearer <token>` header (programs), else the session
cookie that POST /signin sets (people). Cookies are HttpOnly, SameSite=Strict, Secure (with the
`__Host-` prefix) when the status URL is https, signed, and valid for
CONTROLROOM_STATUS_SESSION_TTL_S while their token is unchanged.

Local development: with no token configured at all (neither CONTROLROOM_STATUS_TOKENS nor
CONTROLROOM_API_TOKEN) every reading page is open to anyone and every action is refused
(401); configure a token before exposing the page.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import flask

from shared.app.audit import AuditLog, new_audit_id
from shared.core.documents import AuditEntry
from shared.core.errors import ForbiddenError, PayloadTooLargeError, UnauthorizedError
from shared.core.models import utcnow
from shared.security.tokens import (
    ANONYMOUS_READER,
    Principal,
    ScopedToken,
    SessionCodec,
    TokenTable,
    bearer_token,
    principal_for,
)
from shared.wiring.services import services, status_records
from shared.wiring.settings import Settings

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SIGNIN_NONCE_FIELD = "signin_nonce"
MAX_CSRF_FORM_BYTES = 1024 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_PRINCIPAL_KEY = "controlroom.principal"  # what the credential names (None: no credential)
_EFFECTIVE_KEY = "controlroom.principal.effective"  # what require_scope let through


@dataclass(frozen=True)
class AccessConfig:
    """The tokens and session settings of this deployment."""

    table: TokenTable
    codec: SessionCodec
    secure_cookies: bool

    @property
    def session_cookie(self) -> str:
        """The session cookie's name (`__Host-` requires Secure, Path=/ and no Domain)."""
        return "__Host-controlroom_session" if self.secure_cookies else "controlroom_session"

    @property
    def nonce_cookie(self) -> str:
        """The cookie that pairs the sign-in form with the browser that loaded it."""
        return "__Host-controlroom_signin" if self.secure_cookies else "controlroom_signin"


def access_config(settings: Settings | None = None) -> AccessConfig:
    """This deployment's access configuration (cheap: a few tokens)."""
    settings = settings or services().settings
    table = TokenTable.build(settings.status_tokens, settings.api_token)
    configured = settings.status_session_secret
    key = table.session_key(configured.get_secret_value() if configured else None)
    return AccessConfig(
        table=table,
        codec=SessionCodec(key, settings.status_session_ttl_s),
        secure_cookies=settings.status_url.startswith("https://"),
    )


# --- authentication --------------------------------------------------------------------


def authenticate(request: flask.Request) -> Principal | None:
    """Who the request's credential names: None when it carries none (or an invalid cookie).

    A bearer header that matches no token is a 401 (UnauthorizedError), never a fallback to
    the cookie or to the open mode.
    """
    if _PRINCIPAL_KEY in request.environ:
        cached: Principal | None = request.environ[_PRINCIPAL_KEY]
        return cached
    config = access_config()
    principal: Principal | None = None
    presented = bearer_token(request.headers.get("Authorization"))
    if presented is not None:
        if config.table.open:
            raise UnauthorizedError("no tokens are configured on this deployment")
        token = config.table.match(presented)
        if token is None:
            raise UnauthorizedError("invalid bearer token")
        principal = principal_for(token, "bearer")
    else:
        cookie = request.cookies.get(config.session_cookie)
        if cookie:
            principal = config.codec.read(cookie, config.table)
    request.environ[_PRINCIPAL_KEY] = principal
    return principal


def current_principal(request: flask.Request) -> Principal | None:
    """The principal require_scope let through for this request (the anonymous reader on an
    open deployment), else the one its credential names; None when there is neither."""
    principal: Principal | None = request.environ.get(_EFFECTIVE_KEY) or request.environ.get(
        _PRINCIPAL_KEY
    )
    return principal


def require_principal(request: flask.Request) -> Principal:
    """Who calls a non-public route (the dispatcher checked its scope before the handler)."""
    principal = current_principal(request)
    if principal is None:
        raise UnauthorizedError("not signed in")
    return principal


def require_scope(request: flask.Request, scope: str) -> Principal:
    """The request's principal if it holds `scope`; 401 or 403 otherwise (see the module)."""
    principal = authenticate(request)
    if principal is None:
        if access_config().table.open:
            if scope == "read":
                request.environ[_EFFECTIVE_KEY] = ANONYMOUS_READER
                return ANONYMOUS_READER
            raise UnauthorizedError(
                "this deployment has no tokens configured, so it is read-only; "
                "set CONTROLROOM_STATUS_TOKENS to act"
            )
        raise UnauthorizedError("sign in at /signin, or send 'Authorization: Bearer <token>'")
    if not principal.can(scope):
        held = " and ".join(sorted(principal.scopes))
        raise ForbiddenError(f"{principal.name!r} may {held}; this needs the {scope} scope")
    if principal.via == "session" and request.method not in SAFE_METHODS:
        _check_csrf(request, principal)
    request.environ[_EFFECTIVE_KEY] = principal
    return principal


def _check_csrf(request: flask.Request, principal: Principal) -> None:
    presented = request.headers.get(CSRF_HEADER) or _form_field(request, CSRF_FIELD)
    if not presented:
        raise ForbiddenError("this form has no anti-forgery token; reload the page and retry")
    if principal.session_id is None or not access_config().codec.check_csrf(
        principal.session_id, presented
    ):
        raise ForbiddenError("the form's anti-forgery token is not this session's; reload it")


def _form_field(request: flask.Request, name: str) -> str | None:
    if request.mimetype not in FORM_TYPES:
        return None
    if request.content_length is not None and request.content_length > MAX_CSRF_FORM_BYTES:
        raise PayloadTooLargeError(f"body larger than {MAX_CSRF_FORM_BYTES} bytes")
    value = request.form.get(name)
    return value if isinstance(value, str) else None


def csrf_token(principal: Principal | None) -> str:
    """The anti-forgery token a form must send back; "" where none is needed."""
    if principal is None or principal.via != "session" or principal.session_id is None:
        return ""
    return access_config().codec.csrf_token(principal.session_id)


# --- sign-in ---------------------------------------------------------------------------


def check_token(presented: str) -> ScopedToken | None:
    """The configured token equal to `presented` (constant-time), or None."""
    return access_config().table.match(presented)


def start_session(response: flask.Response, token: ScopedToken) -> Principal:
    """Set a new session cookie for `token` on the response; returns its principal."""
    config = access_config()
    session_id = secrets.token_urlsafe(18)
    response.set_cookie(
        config.session_cookie,
        config.codec.issue(token, session_id),
        max_age=config.codec.max_age_s,
        path="/",
        secure=config.secure_cookies,
        httponly=True,
        samesite="Strict",
    )
    response.delete_cookie(config.nonce_cookie, path="/", secure=config.secure_cookies)
    return principal_for(token, "session", session_id)


def end_session(response: flask.Response) -> None:
    """Clear the session cookie."""
    config = access_config()
    response.delete_cookie(
        config.session_cookie,
        path="/",
        secure=config.secure_cookies,
        httponly=True,
        samesite="Strict",
    )


def new_signin_nonce() -> str:
    """A fresh nonce for the sign-in form (see set_signin_nonce)."""
    return secrets.token_urlsafe(18)


def set_signin_nonce(response: flask.Response, nonce: str) -> None:
    """Set the sign-in form's nonce as a SameSite=Strict cookie too: a sign-in posted from
    another site cannot carry the cookie, so nobody can sign a victim in as themselves."""
    config = access_config()
    response.set_cookie(
        config.nonce_cookie,
        nonce,
        max_age=3600,
        path="/",
        secure=config.secure_cookies,
        httponly=True,
        samesite="Strict",
    )


def check_signin_nonce(request: flask.Request, presented: str | None) -> None:
    """ForbiddenError unless the form's nonce matches this browser's nonce cookie."""
    expected = request.cookies.get(access_config().nonce_cookie) or ""
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
    if (
        not presented
        or not expected
        or not secrets.compare_digest(presented.encode(), expected.encode())
    ):
        raise ForbiddenError("the sign-in form expired or came from elsewhere; load it again")


def open_mode() -> bool:
    """True when no token is configured (reading open, acting refused)."""
    return access_config().table.open


# --- audit -----------------------------------------------------------------------------


def audit_log() -> AuditLog:
    """Where actions are recorded."""
    return status_records()


def record_action(
    principal: Principal,
    action: str,
    target: str,
    *,
    outcome: str = "done",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record in audit/{id} that `principal` did `action` to `target` (now)."""
    at = utcnow()
    entry = AuditEntry(
        audit_id=new_audit_id(at, uuid.uuid4().hex[:8]),
        who=principal.name,
        via=principal.via,
        action=action,
        target=target,
        outcome=outcome,
        at=at,
        details=details or {},
    )
    audit_log().record_audit(entry)
    logger.info("audit: %s %s %s (%s)", entry.who, action, target, outcome)
    return entry
