"""The emulated Atlassian OAuth 2.0 (3LO) authorization server: clients, consent, codes, rotating refresh tokens.

Behaviour copied from auth.atlassian.com: authorization codes are single use and bound to the client and the
redirect URI; refresh tokens rotate (each use returns a new one and kills the old one); access tokens last an hour;
``offline_access`` is what earns a refresh token. Consent is programmable: ``consent_as(account_id, site)``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

AUDIENCE = "api.atlassian.com"
ACCESS_TOKEN_TTL = 3600
CODE_TTL = 600


class OAuthError(Exception):
    """A refused token request, answered as ``{"error": ..., "error_description": ...}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class OAuthClient:
    client_id: str
    secret: str
    redirect_uris: list[str]
    name: str = ""


@dataclass
class Grant:
    """What one user consented to for one client: scopes on some sites."""

    client_id: str
    account_id: str
    scopes: tuple[str, ...]
    cloud_ids: set[str]
    revoked: bool = False


@dataclass
class _Code:
    grant: Grant
    redirect_uri: str
    expires_at: float
    used: bool = False


@dataclass
class _Token:
    grant: Grant
    expires_at: float | None
    revoked: bool = False


@dataclass
class Consent:
    account_id: str
    cloud_ids: list[str]
    scopes: list[str] | None = None  # None: grant what was asked
    deny: bool = False


@dataclass
class AuthorizationServer:
    """Clients, consent and tokens of one emulated cloud. ``site_lookup`` maps a name or cloud id to a site."""

    site_lookup: Callable[[str], Any]
    clock: Callable[[], float] = time.time
    access_token_ttl: int = ACCESS_TOKEN_TTL
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    consent: Consent | None = None
    _codes: dict[str, _Code] = field(default_factory=dict)
    _access: dict[str, _Token] = field(default_factory=dict)
    _refresh: dict[str, _Token] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- set-up for tests ------------------------------------------------------------------------------------
    def register_client(self, redirect_uris: list[str], *, client_id: str | None = None,
                        secret: str | None = None, name: str = "") -> OAuthClient:
        """Register an OAuth 2.0 integration (as in the developer console) with its callback URLs."""
        client = OAuthClient(client_id or secrets.token_urlsafe(24), secret or secrets.token_urlsafe(48),
                             list(redirect_uris), name)
        self.clients[client.client_id] = client
        return client

    def consent_as(self, account_id: str, *sites: Any, scopes: list[str] | None = None,
                   deny: bool = False) -> None:
        """Make the next authorizations be approved (or denied) by ``account_id`` for ``sites``."""
        self.consent = Consent(account_id, [self._cloud_id(s) for s in sites], scopes, deny)

    def issue_tokens(self, client_id: str, account_id: str, sites: list[Any],
                     scopes: list[str]) -> dict[str, Any]:
        """Skip the browser dance: the token response a completed consent would give."""
        grant = Grant(client_id, account_id, tuple(scopes), {self._cloud_id(s) for s in sites})
        return self._token_response(grant)

    def revoke(self, token: str) -> None:
        """Revoke one access or refresh token."""
        with self._lock:
            for table in (self._access, self._refresh):
                if token in table:
                    table[token].revoked = True

    def revoke_grant(self, client_id: str, account_id: str) -> None:
        """The user removes the app's access (all its tokens die)."""
        with self._lock:
            for table in (self._access, self._refresh):
                for tok in table.values():
                    if tok.grant.client_id == client_id and tok.grant.account_id == account_id:
                        tok.grant.revoked = True

    def expire_access_tokens(self) -> None:
        """Make every current access token expired (as if an hour passed)."""
        with self._lock:
            for tok in self._access.values():
                tok.expires_at = self.clock() - 1

    def _cloud_id(self, site: Any) -> str:
        """A site object, name or cloud id, as a cloud id."""
        found = self.site_lookup(site) if isinstance(site, str) else site
        if found is None:
            raise KeyError(f"no site {site!r} in this cloud")
        return found.cloud_id

    # -- lookups ---------------------------------------------------------------------------------------------
    def lookup_access_token(self, token: str) -> Grant | None:
        with self._lock:
            tok = self._access.get(token)
            if tok is None or tok.revoked or tok.grant.revoked:
                return None
            if tok.expires_at is not None and tok.expires_at <= self.clock():
                return None
            return tok.grant

    # -- /authorize ------------------------------------------------------------------------------------------
    def authorize(self, args: Any) -> tuple[int, str]:
        """Handle ``GET /authorize``: ``(302, location)`` or ``(4xx, error page text)``."""
        client = self.clients.get(args.get("client_id", ""))
        if client is None:
            return 400, "Invalid client_id: this app is not registered."
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return 400, "The redirect_uri does not match the callback URL registered for this app."
        if args.get("audience") != AUDIENCE:
            return 400, f"Invalid audience: expected '{AUDIENCE}'."
        if args.get("response_type") != "code":
            return 400, "Unsupported response_type: expected 'code'."
        requested = [s for s in args.get("scope", "").split() if s]
        if not requested:
            return 400, "The scope parameter is required."
        try:
            consent = self._consent_from(args)
        except KeyError as exc:
            return 400, str(exc)
        state = args.get("state")
        if consent is None:
            return 401, "Nobody is signed in (call cloud.oauth.consent_as(account_id, site) first)."
        if consent.deny:
            return 302, _with_query(redirect_uri, {"error": "access_denied", "state": state})
        granted = [s for s in requested if consent.scopes is None or s in consent.scopes]
        grant = Grant(client.client_id, consent.account_id, tuple(granted), set(consent.cloud_ids))
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = _Code(grant, redirect_uri, self.clock() + CODE_TTL)
        return 302, _with_query(redirect_uri, {"code": code, "state": state})

    def _consent_from(self, args: Any) -> Consent | None:
        # Extra query parameters let a browser-driven test choose the consenting user without Python access.
        account = args.get("emulator_account_id")
        if account:
            sites = [s for s in args.get("emulator_site", "").split(",") if s]
            return Consent(account, [self._cloud_id(s) for s in sites],
                           None, args.get("emulator_deny") == "1")
        return self.consent

    # -- /oauth/token ----------------------------------------------------------------------------------------
    def token(self, form: Any) -> dict[str, Any]:
        """Handle ``POST /oauth/token`` (``authorization_code`` and ``refresh_token`` grants).

        :raises OAuthError: with Atlassian-like ``error`` codes (wording of descriptions is plausible, not copied).
        """
        client = self.clients.get(form.get("client_id", ""))
        if client is None or not secrets.compare_digest(client.secret, form.get("client_secret", "")):
            raise OAuthError(401, "access_denied", "Unauthorized")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._redeem_code(client, form)
        if grant_type == "refresh_token":
            return self._refresh_grant(client, form.get("refresh_token", ""))
        raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant_type '{grant_type}'.")

    def _redeem_code(self, client: OAuthClient, form: Any) -> dict[str, Any]:
        with self._lock:
            code = self._codes.get(form.get("code", ""))
            if code is None or code.used or code.expires_at <= self.clock():
                raise OAuthError(403, "invalid_grant", "Invalid authorization code")
            code.used = True  # single use, even when the rest of the request is wrong
            if code.grant.client_id != client.client_id:
                raise OAuthError(403, "invalid_grant", "Invalid authorization code")
            if form.get("redirect_uri") != code.redirect_uri:
                raise OAuthError(403, "invalid_grant", "redirect_uri does not match the authorization request")
        return self._token_response(code.grant)

    def _refresh_grant(self, client: OAuthClient, refresh_token: str) -> dict[str, Any]:
        with self._lock:
            tok = self._refresh.get(refresh_token)
            if tok is None or tok.revoked or tok.grant.revoked or tok.grant.client_id != client.client_id:
                raise OAuthError(403, "invalid_grant", "Unknown or invalid refresh token.")
            tok.revoked = True  # rotation: the old refresh token is dead from now on
        return self._token_response(tok.grant)

    def _token_response(self, grant: Grant) -> dict[str, Any]:
        access = secrets.token_urlsafe(40)
        body: dict[str, Any] = {"access_token": access, "expires_in": self.access_token_ttl,
                                "token_type": "Bearer", "scope": " ".join(grant.scopes)}
        with self._lock:
            self._access[access] = _Token(grant, self.clock() + self.access_token_ttl)
            if "offline_access" in grant.scopes:
                refresh = secrets.token_urlsafe(48)
                self._refresh[refresh] = _Token(grant, None)
                body["refresh_token"] = refresh
        return body


def _with_query(url: str, params: dict[str, Any]) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{url}{'&' if '?' in url else '?'}{query}"
