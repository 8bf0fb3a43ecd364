"""Who is calling a site and what they may do: Connect JWT (HS256 + qsh), OAuth 2.0 bearer tokens, scope checks.

The qsh is recomputed with Atlassian's own ``atlassian_jwt.url_utils.hash_url`` (not the app's code), from the
request as it arrived, relative to the site's base URL. Error bodies follow Jira's ``errorMessages`` shape for
Connect calls and the API gateway's ``{"code": 401, "message": ...}`` shape for OAuth calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jwt
from atlassian_jwt.url_utils import hash_url

from . import spec

if TYPE_CHECKING:  # pragma: no cover
    from .site import Installation, Site

JWT_LEEWAY_SECONDS = 30  # Atlassian's JWT reader tolerates this much clock skew on exp/iat
CONTEXT_QSH = "context-qsh"
ADMIN_OAUTH_SCOPE = "manage:jira-configuration"  # "settings that require the Jira administrators permission"


class AuthError(Exception):
    """A refused call: 401 (who are you?) or 403 (not allowed), with the body Jira would send."""

    def __init__(self, status: int, message: str, *, gateway: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.gateway = gateway

    def body(self) -> dict[str, Any]:
        if self.gateway:
            return {"code": self.status, "message": self.message}
        return {"errorMessages": [self.message], "errors": {}}


@dataclass
class Principal:
    """An authenticated caller."""

    kind: str  # "connect", "oauth", "forge" or "impersonation" (a Connect app acting as a user)
    name: str  # app key (Connect, impersonation) or OAuth client id
    account_id: str | None = None  # the acting user; None when an app acts as itself
    scopes: frozenset[str] = field(default_factory=frozenset)
    installation: Installation | None = None


def relative_url(site_base_url: str, raw_path: str, query_string: str) -> str:
    """The request URL relative to the site's base URL (its context path removed), as qsh wants it."""
    base_path = urlsplit(site_base_url).path.rstrip("/")
    path = raw_path
    if base_path and path.startswith(base_path):
        path = path[len(base_path):] or "/"
    return f"{path}?{query_string}" if query_string else path


def _token_from(authorization: str | None, query_jwt: str | None) -> str:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme == "JWT" and value.strip():
            return value.strip()
        if scheme.lower() == "bearer":
            raise AuthError(401, "OAuth 2.0 access tokens are accepted only through the API gateway "
                                 "(https://api.atlassian.com/ex/jira/{cloudId}).")
        raise AuthError(401, f"Unsupported authorization scheme '{scheme}'; Connect apps send 'JWT <token>'.")
    if query_jwt:
        return query_jwt
    raise AuthError(401, "You are not authenticated. Authentication required to perform this operation.")


def authenticate_connect(site: Site, method: str, raw_path: str, query_string: str,
                         authorization: str | None, query_jwt: str | None = None) -> Principal:
    """Check a Connect app's ``Authorization: JWT`` call the way Jira does; returns the calling app.

    :raises AuthError: 401 for every failure, naming what was wrong (never echoing the token or secret).
    """
    token = _token_from(authorization, query_jwt)
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AuthError(401, "The JWT is malformed.") from None
    if header.get("alg") != "HS256":
        raise AuthError(401, f"JWT algorithm '{header.get('alg')}' is not accepted; expected HS256.")
    issuer = unverified.get("iss")
    inst = site.installations.get(issuer) if isinstance(issuer, str) else None
    if inst is None:
        raise AuthError(401, f"No app with key '{issuer}' is installed on this site (claim 'iss').")
    if not inst.enabled:
        raise AuthError(401, f"The app '{inst.app_key}' is disabled on this site.")
    try:
        claims = jwt.decode(token, inst.shared_secret, algorithms=["HS256"], leeway=JWT_LEEWAY_SECONDS,
                            options={"require": ["iss", "iat", "exp", "qsh"], "verify_aud": False})
    except jwt.ExpiredSignatureError:
        raise AuthError(401, f"The JWT has expired (exp {unverified.get('exp')}, "
                             f"{JWT_LEEWAY_SECONDS} seconds leeway is allowed).") from None
    except jwt.InvalidSignatureError:
        raise AuthError(401, "The JWT signature is invalid for this app's shared secret.") from None
    except jwt.PyJWTError as exc:
        raise AuthError(401, f"The JWT is invalid: {exc}.") from None
    expected = hash_url(method.upper(), relative_url(site.base_url, raw_path, query_string))
    if claims["qsh"] == CONTEXT_QSH:
        raise AuthError(401, "Context JWTs (qsh 'context-qsh') are not accepted for REST API calls.")
    if claims["qsh"] != expected:
        raise AuthError(401, f"Expecting claim 'qsh' to have value '{expected}' but instead it has the value "
                             f"'{claims['qsh']}'")
    return Principal(kind="connect", name=inst.app_key, scopes=inst.scopes, installation=inst)


def authenticate_oauth(site: Site, authorization: str | None, oauth: Any) -> Principal:
    """Check an OAuth 2.0 bearer token at the gateway; ``oauth`` is the cloud's authorization server."""
    if not authorization or not authorization.startswith("Bearer "):
        raise AuthError(401, "Unauthorized", gateway=True)
    grant = oauth.lookup_access_token(authorization.removeprefix("Bearer ").strip())
    if grant is None or site.cloud_id not in grant.cloud_ids:
        raise AuthError(401, "Unauthorized", gateway=True)
    return Principal(kind="oauth", name=grant.client_id, account_id=grant.account_id,
                     scopes=frozenset(grant.scopes))


# -- scopes --------------------------------------------------------------------------------------------------
def connect_covers(granted: frozenset[str] | set[str], required: str | None) -> bool:
    """Does a descriptor's scope list cover an operation's ``x-atlassian-connect-scope``?"""
    if required is None or required == "INACCESSIBLE":
        return False
    if required == "NONE":
        return True
    if required in spec.CONNECT_LEVELS:
        held = [spec.CONNECT_LEVELS.index(s) for s in (x.upper() for x in granted) if s in spec.CONNECT_LEVELS]
        return bool(held) and max(held) >= spec.CONNECT_LEVELS.index(required)
    return required in {x.upper() for x in granted}  # ACT_AS_USER, ACCESS_EMAIL_ADDRESSES stand alone


def check_connect_scope(principal: Principal, method: str, template: str) -> None:
    """403 unless the app's descriptor scopes cover the operation (INACCESSIBLE never is)."""
    required = spec.connect_scope(method, template)
    if required == "INACCESSIBLE":
        raise AuthError(403, f"The app '{principal.name}' cannot access this resource: "
                             f"{method.upper()} {template} is not available to Connect apps.")
    if not connect_covers(principal.scopes, required):
        # Plausible wording (Jira's exact text for scope refusals isn't published).
        raise AuthError(403, f"The app '{principal.name}' does not have the required scope "
                             f"'{required}' to access this resource.")


def check_oauth_scope(principal: Principal, method: str, template: str) -> None:
    """Refuse a token whose scopes don't include one of the operation's scope sets.

    The gateway answers this with 401 ``Unauthorized; scope does not match`` (observed on real traffic), not 403.
    """
    alternatives = spec.oauth_scopes(method, template)
    if not alternatives:
        raise AuthError(401, "Unauthorized; scope does not match", gateway=True)
    if not any(needed <= principal.scopes for needed in alternatives):
        raise AuthError(401, "Unauthorized; scope does not match", gateway=True)


def check_oauth_admin(site: Site, principal: Principal, method: str, template: str) -> None:
    """A user token may only do admin-only operations if the user is a Jira administrator of the site."""
    alternatives = spec.oauth_scopes(method, template)
    admin_only = bool(alternatives) and all(ADMIN_OAUTH_SCOPE in needed for needed in alternatives)
    if admin_only and principal.account_id not in site.admins:
        raise AuthError(403, "You are not authorized to perform this action. "
                             "Administrator privileges are required.")


def check_impersonated_admin(site: Site, principal: Principal, method: str, template: str) -> None:
    """An app acting as a user may do ADMIN-scoped operations only if that user is a Jira administrator."""
    if spec.connect_scope(method, template) == "ADMIN" and principal.account_id not in site.admins:
        raise AuthError(403, "You are not authorized to perform this action. "
                             "Administrator privileges are required.")
