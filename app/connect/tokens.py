"""Pure JWT checks for Connect: HS256 tokens from Jira, RS256 signed installs, and our outgoing tokens.

Nothing here knows Flask; callers pass the request's method and relative URL so the qsh can be checked.
"""

from __future__ import annotations

import re
import time
from typing import Any

import jwt

from . import qsh as qsh_mod
from .errors import AuthenticationError

# A kid goes into a URL on the key server, so only a conservative shape is accepted: this blocks path
# traversal (``../``), query injection and absurd lengths before any network call is made.
KID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def token_from_header(value: str | None) -> str | None:
    """The token of an ``Authorization: JWT <token>`` header, or None."""
    if not value:
        return None
    if not value.startswith("JWT "):
        return None
    token = value.removeprefix("JWT ").strip()
    return token or None


def unverified_header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise AuthenticationError("The JWT is malformed.") from None
    return header


def unverified_claims(token: str) -> dict[str, Any]:
    """Claims read without verification, only to find out which key verifies them."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AuthenticationError("The JWT is malformed.") from None
    if not isinstance(claims, dict):
        raise AuthenticationError("The JWT is malformed.")
    return claims


def _decode(token: str, key: Any, algorithm: str, *, leeway: int, audience: list[str] | None = None
            ) -> dict[str, Any]:
    header = unverified_header(token)
    if header.get("alg") != algorithm:
        raise AuthenticationError(f"Expected a JWT signed with {algorithm}, got alg {header.get('alg')!r}.")
    try:
        return jwt.decode(
            token, key, algorithms=[algorithm], leeway=leeway, audience=audience,
            options={"require": ["exp", "iat", "iss", "qsh"], "verify_aud": audience is not None},
        )
    except jwt.ExpiredSignatureError:
        exp = unverified_claims(token).get("exp")
        raise AuthenticationError(
            f"The JWT expired at {exp} and the time is now {int(time.time())} "
            f"({leeway} seconds leeway is allowed).") from None
    except jwt.ImmatureSignatureError:
        raise AuthenticationError("The JWT was issued in the future.") from None
    except jwt.InvalidAudienceError:
        raise AuthenticationError("The JWT's audience is not this app's base URL.") from None
    except jwt.MissingRequiredClaimError as exc:
        raise AuthenticationError(f"The JWT lacks the required claim {exc.claim!r}.") from None
    except jwt.InvalidSignatureError:
        raise AuthenticationError("The JWT's signature does not verify.") from None
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"The JWT is invalid ({type(exc).__name__}).") from None


def check_qsh(claims: dict[str, Any], method: str, relative: str, *, allow_context: bool,
              allow_request: bool = True) -> str:
    """Check the qsh claim against the request; return ``"context"`` or ``"request"`` for the kind accepted."""
    claimed = claims.get("qsh")
    if claimed == qsh_mod.CONTEXT_QSH:
        if not allow_context:
            raise AuthenticationError("A context token is not accepted here; this URL needs a request-bound JWT.")
        return "context"
    if not allow_request:
        raise AuthenticationError("This endpoint accepts only a context token (qsh 'context-qsh').")
    expected = qsh_mod.qsh(method, relative)
    if claimed != expected:
        raise AuthenticationError("The JWT's qsh does not match this request.")
    return "request"


def verify_hs256(token: str, secret: str, *, leeway: int) -> dict[str, Any]:
    """Claims of an HS256 token signed with ``secret`` (exp/iat/iss/qsh required)."""
    return _decode(token, secret, "HS256", leeway=leeway)


def verify_install_rs256(token: str, public_key: Any, *, audience: str, leeway: int) -> dict[str, Any]:
    """Claims of an RS256 signed-install token whose ``aud`` is our base URL (a trailing slash is ignored)."""
    base = audience.rstrip("/")
    return _decode(token, public_key, "RS256", leeway=leeway, audience=[base, base + "/"])


def encode_hs256(claims: dict[str, Any], secret: str) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def outgoing_claims(app_key: str, method: str, relative: str, *, lifetime: int = 180,
                    now: int | None = None) -> dict[str, Any]:
    """Claims for a call from the app to Jira: ``iss`` is the app key, ``qsh`` binds the request."""
    issued = int(now if now is not None else time.time())
    return {"iss": app_key, "iat": issued, "exp": issued + lifetime, "qsh": qsh_mod.qsh(method, relative)}
