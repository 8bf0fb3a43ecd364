"""Verifies Forge Invocation Tokens (FIT): RS256 against Forge's JWKS (cached by kid), issuer, audience, claims.

Nothing in a FIT is trusted before its signature is checked; the only things read from an unverified token are
its header's ``alg`` and ``kid``, and the kid is shape-checked before it can cause a fetch.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from flask import current_app
from jwt.algorithms import RSAAlgorithm

from ..extensions import lazy_extension
from . import ForgeError

ISSUER = "forge/invocation-token"
ALGORITHM = "RS256"
REFETCH_INTERVAL = 60.0  # an unknown kid refetches the JWKS at most this often (a stranger's kids cost us nothing)
FAILED_FETCH_BACKOFF = 5.0  # after a failed fetch, callers get 503 for this long without hammering the JWKS host
JWKS_TIMEOUT = (3.05, 5.0)
MAX_TOKEN_LENGTH = 16 * 1024
_KID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
_CLOUD_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_LIMITS = {"installationId": 255, "id": 255, "environment.id": 255, "environment.type": 64, "module.key": 255}


class FitInvalid(ForgeError):
    """The request's Forge Invocation Token is missing, malformed, forged, expired or not for this app."""

    status = 401
    code = "invalid-invocation-token"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksUnavailable(ForgeError):
    """Forge's signing keys could not be fetched: the caller should retry (Forge retries events itself)."""

    status = 503
    code = "jwks-unavailable"


@dataclass(frozen=True)
class Invocation:
    """Who is invoking us, as a verified FIT says: the installation, its environment and Jira, and the user."""

    installation_id: str
    app_id: str
    environment_id: str
    environment_type: str
    api_base_url: str
    cloud_id: str
    module_key: str
    site_url: str | None
    principal: str | None
    claims: dict[str, Any] = field(repr=False, compare=False, hash=False)


class JwksCache:
    """Forge's public keys by kid, refetched when an unknown kid shows up (at most once a minute)."""

    def __init__(self, url: str, *, session: requests.Session | None = None) -> None:
        self.url = url
        self.session = session or requests.Session()
        self._keys: dict[str, Any] = {}
        self._last_fetch: float | None = None  # monotonic time of the last successful fetch
        self._last_failure: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any:
        """The public key for ``kid``. :raises FitInvalid: unknown kid; :raises JwksUnavailable: fetch failed."""
        with self._lock:
            if kid in self._keys:
                return self._keys[kid]
            now = time.monotonic()
            if self._last_failure is not None and now - self._last_failure < FAILED_FETCH_BACKOFF:
                raise JwksUnavailable("Forge's signing keys could not be fetched; try again shortly.")
            if self._last_fetch is not None and now - self._last_fetch < REFETCH_INTERVAL:
                raise FitInvalid(f"The token's signing key (kid {kid!r}) is not one of Forge's keys.")
            self._fetch(now)
            if kid not in self._keys:
                raise FitInvalid(f"The token's signing key (kid {kid!r}) is not one of Forge's keys.")
            return self._keys[kid]

    def _fetch(self, now: float) -> None:
        try:
            resp = self.session.get(self.url, timeout=JWKS_TIMEOUT, allow_redirects=False)
            resp.raise_for_status()
            document = resp.json()
        except (requests.RequestException, ValueError):
            self._last_failure = now
            raise JwksUnavailable("Forge's signing keys could not be fetched; try again shortly.") from None
        keys: dict[str, Any] = {}
        for jwk in document.get("keys") or [] if isinstance(document, dict) else []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or jwk.get("alg", ALGORITHM) != ALGORITHM:
                continue
            if jwk.get("use", "sig") != "sig" or not isinstance(jwk.get("kid"), str):
                continue
            try:
                keys[jwk["kid"]] = RSAAlgorithm.from_jwk(json.dumps(jwk))
            except (jwt.PyJWTError, ValueError, KeyError):
                continue  # one malformed key must not hide the others
        self._keys = keys  # keys Forge dropped are forgotten: a rotated-out key stops verifying
        self._last_fetch = now
        self._last_failure = None


def jwks() -> JwksCache:
    """The app's JWKS cache (rebuilt when ``FORGE_JWKS_URL`` changes, as tests do)."""
    cache = lazy_extension("forge_jwks", lambda app: JwksCache(app.config["FORGE_JWKS_URL"]))
    if cache.url != current_app.config["FORGE_JWKS_URL"]:
        cache = JwksCache(current_app.config["FORGE_JWKS_URL"])
        current_app.extensions["forge_jwks"] = cache
    return cache


def token_from_authorization(header: str | None) -> str:
    """The FIT from ``Authorization: Bearer <FIT>``. :raises FitInvalid: absent or another scheme."""
    if not header:
        raise FitInvalid("Forge calls must carry 'Authorization: Bearer <Forge Invocation Token>'.")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise FitInvalid("Forge calls must carry 'Authorization: Bearer <Forge Invocation Token>'.")
    return value.strip()


def verify_fit(token: str) -> Invocation:
    """Verify a Forge Invocation Token and return what it says. :raises FitInvalid: every way it can be wrong."""
    cfg = current_app.config
    app_id = cfg.get("FORGE_APP_ID") or ""
    if not app_id:
        raise FitInvalid("Forge is not configured on this service (FORGE_APP_ID is empty).")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise FitInvalid("The Forge Invocation Token is missing or too long.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise FitInvalid("The Forge Invocation Token is not a well-formed JWT.") from None
    if header.get("alg") != ALGORITHM:
        raise FitInvalid(f"Forge Invocation Tokens are signed with RS256, got alg {header.get('alg')!r}.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not _KID.match(kid):
        raise FitInvalid("The Forge Invocation Token's header has no usable 'kid'.")
    key = jwks().key(kid)
    leeway = int(cfg.get("FORGE_FIT_LEEWAY", 30))
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=app_id, issuer=ISSUER, leeway=leeway,
                            options={"require": ["exp", "iss", "aud"]})
    except jwt.ExpiredSignatureError:
        raise FitInvalid(f"The Forge Invocation Token has expired ({leeway} seconds leeway is allowed).") from None
    except jwt.ImmatureSignatureError:
        raise FitInvalid(f"The Forge Invocation Token is not valid yet (nbf; {leeway} seconds leeway is allowed).") \
            from None
    except jwt.InvalidAudienceError:
        raise FitInvalid(f"The Forge Invocation Token is for another app: expected aud {app_id!r}.") from None
    except jwt.InvalidIssuerError:
        raise FitInvalid(f"The Forge Invocation Token's issuer is not {ISSUER!r}.") from None
    except jwt.InvalidSignatureError:
        raise FitInvalid("The Forge Invocation Token's signature does not verify with Forge's key.") from None
    except jwt.MissingRequiredClaimError as exc:
        raise FitInvalid(f"The Forge Invocation Token lacks the {exc.claim!r} claim.") from None
    except jwt.PyJWTError as exc:
        raise FitInvalid(f"The Forge Invocation Token is invalid ({type(exc).__name__}).") from None
    return invocation_from_claims(claims, app_id, gateway_base=cfg["ATLASSIAN_API_URL"])


def _claim(container: dict[str, Any], dotted: str) -> Any:
    value: Any = container
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _text(container: dict[str, Any], dotted: str) -> str:
    """A required string claim under ``app`` (``environment.id`` style paths): well-typed, bounded, no NULs."""
    value = _claim(container, dotted)
    limit = _LIMITS.get(dotted, 512)
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise FitInvalid(f"The Forge Invocation Token's 'app.{dotted}' claim must be a string of at most "
                         f"{limit} characters.")
    return value


def invocation_from_claims(claims: dict[str, Any], app_id: str, *, gateway_base: str) -> Invocation:
    """Check the verified claims' shape and build the ``Invocation``. :raises FitInvalid: a claim is wrong."""
    app = claims.get("app")
    if not isinstance(app, dict):
        raise FitInvalid("The Forge Invocation Token lacks the 'app' claim.")
    installation_id = _text(app, "installationId")
    if _text(app, "id") != app_id:
        raise FitInvalid(f"The Forge Invocation Token's 'app.id' is not {app_id!r}.")
    environment_id = _text(app, "environment.id")
    environment_type = _text(app, "environment.type")
    module_key = _text(app, "module.key") if _claim(app, "module.key") is not None else ""
    api_base_url = _text(app, "apiBaseUrl")
    prefix = gateway_base.rstrip("/") + "/ex/jira/"
    cloud_id = api_base_url.removeprefix(prefix) if api_base_url.startswith(prefix) else ""
    if not _CLOUD_ID.match(cloud_id):
        raise FitInvalid(f"The Forge Invocation Token's 'app.apiBaseUrl' must be {prefix}{{cloudId}}.")
    context = claims.get("context")
    if context is not None and not isinstance(context, dict):
        raise FitInvalid("The Forge Invocation Token's 'context' claim must be an object.")
    context = context or {}
    if context.get("cloudId") not in (None, cloud_id):
        raise FitInvalid("The Forge Invocation Token's 'context.cloudId' does not match its 'app.apiBaseUrl'.")
    site_url = context.get("siteUrl")
    if site_url is not None and (not isinstance(site_url, str) or len(site_url) > 512
                                 or not site_url.startswith(("https://", "http://"))):
        raise FitInvalid("The Forge Invocation Token's 'context.siteUrl' must be an http(s) URL.")
    principal = claims.get("principal")
    if principal is not None and (not isinstance(principal, str) or not principal or len(principal) > 128):
        raise FitInvalid("The Forge Invocation Token's 'principal' claim must be an accountId.")
    return Invocation(installation_id=installation_id, app_id=app_id, environment_id=environment_id,
                      environment_type=environment_type, api_base_url=api_base_url, cloud_id=cloud_id,
                      module_key=module_key, site_url=site_url.rstrip("/") if site_url else None,
                      principal=principal, claims=claims)
