"""Bearer-token checks for HTTP entry points."""

from __future__ import annotations

import hmac

from shared.errors import UnauthorizedError


def require_bearer(authorization: str | None, expected_token: str) -> None:
    """Pass when the Authorization header carries the expected bearer token."""
    if not expected_token:
        raise UnauthorizedError("no API token is configured on this deployment")
    if not authorization:
        raise UnauthorizedError("missing 'Authorization: Bearer <token>' header")
    scheme, _, presented = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":  # auth schemes are case-insensitive (RFC 9110)
        raise UnauthorizedError(f"unsupported authorization scheme {scheme!r}; use Bearer")
    presented = presented.strip()
    # Constant-time comparison so the token cannot be guessed byte by byte from timings.
    if not hmac.compare_digest(presented.encode(), expected_token.encode()):
        raise UnauthorizedError("invalid bearer token")
