"""Connect user impersonation: the JWT-bearer grant that lets the app call a tenant's site as one of its users.

Atlassian's "User impersonation for Connect apps": the ``installed`` payload carries ``oauthClientId``; the app signs
an HS256 assertion with the tenant's shared secret and exchanges it at the OAuth 2.0 authorization server for a
bearer token (about 15 minutes) that acts as that user on the site's own URL. The descriptor must hold the
``ACT_AS_USER`` scope. Tokens are cached per (tenant, user) until shortly before they expire.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from flask import current_app

from ..jira.client import JiraClient, RetryPolicy
from ..jira.operations import declare
from .errors import ConnectError
from .tokens import encode_hs256

if TYPE_CHECKING:  # pragma: no cover
    from ..tenants import Tenant

DEFAULT_AUTHORIZATION_SERVER = "https://oauth-2-authorization-server.services.atlassian.com"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_PREFIX = "urn:atlassian:connect:clientid:"
USER_PREFIX = "urn:atlassian:connect:useraccountid:"
ASSERTION_LIFETIME = 60  # seconds: the authorization server refuses assertions that expire further ahead
EXPIRY_MARGIN = 60  # seconds: a cached token this close to its end is exchanged again
SCOPE_FIX = ("Add the ACT_AS_USER scope to the app descriptor's \"scopes\" (this app's descriptor holds it) and "
             "update the app on the site so Jira grants it.")
USER_FIX = ("That person isn't an active user of the destination site: invite or reactivate them, or let the app "
            "write the item itself with an \"originally by\" note.")
# The grant needs the descriptor's ACT_AS_USER scope, which no REST operation we call carries; Jira's spec ties that
# scope to the caller's own preferences. Declaring that read keeps the descriptor's scopes what the declarations
# derive (tests/connect/test_descriptor.py), and says in one place why the app asks for it.
ACT_AS_USER_MARKER = declare("GET", "/rest/api/3/mypreferences/locale")
CLIENT_FIX = "Reinstall the app on the site so Jira sends the installation's oauthClientId."


class ImpersonationRefused(ConnectError):
    """The authorization server refused to let the app act as a user; ``fix`` says what to do about it."""

    status = 409

    def __init__(self, message: str, fix: str, *, user_missing: bool = False) -> None:
        super().__init__(f"{message} Fix: {fix}")
        self.reason = message
        self.fix = fix
        self.user_missing = user_missing


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer`` with a token obtained on demand (and renewed by ``token``) for each request."""

    def __init__(self, token: Callable[[], str], label: str) -> None:
        self._token = token
        self.label = label

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = "Bearer " + self._token()
        return r

    def __repr__(self) -> str:  # never the token
        return f"<BearerAuth as {self.label}>"


@dataclass(frozen=True)
class Grant:
    """What a tenant's impersonation needs: its site, the installation's OAuth client id and its shared secret."""

    client_key: str
    base_url: str
    oauth_client_id: str
    shared_secret: str

    def __repr__(self) -> str:  # never the secret
        return f"<Grant {self.client_key[:12]} {self.base_url}>"

    @classmethod
    def for_tenant(cls, tenant: Tenant) -> Grant:
        """The tenant's grant material. :raises ImpersonationRefused: the install payload had no oauthClientId."""
        client_id = str(tenant.payload.get("oauthClientId") or "")
        if not client_id:
            raise ImpersonationRefused(
                f"The installation on {tenant.base_url} has no oauthClientId (expected one in the install payload, "
                "received none).", CLIENT_FIX)
        return cls(tenant.client_key, tenant.base_url.rstrip("/"), client_id, tenant.shared_secret)


def assertion_claims(grant: Grant, account_id: str, audience: str, now: float | None = None) -> dict[str, Any]:
    """The JWT-bearer assertion's claims for acting as ``account_id`` (``exp`` 60 s ahead)."""
    issued = int(now if now is not None else time.time())
    return {"iss": CLIENT_PREFIX + grant.oauth_client_id, "sub": USER_PREFIX + account_id, "tnt": grant.base_url,
            "aud": audience, "iat": issued, "exp": issued + ASSERTION_LIFETIME}


def _refusal(status: int, body: Any, account_id: str, site: str) -> ImpersonationRefused:
    """The typed refusal for the server's answer: the error code decides the fix."""
    error = str(body.get("error") or "") if isinstance(body, dict) else ""
    said = str(body.get("error_description") or "") if isinstance(body, dict) else ""
    words = f"the authorization server answered {status} {error or '(no error code)'}" + (f": {said}" if said else "")
    if error in ("unauthorized_client", "invalid_scope"):
        return ImpersonationRefused(f"The app may not act as users on {site} ({words}).", SCOPE_FIX)
    if error == "invalid_grant" and "user" in said.casefold():
        return ImpersonationRefused(f"The app can't act as {account_id} on {site} ({words}).", USER_FIX,
                                    user_missing=True)
    return ImpersonationRefused(f"The app can't act as {account_id} on {site} ({words}).",
                                "Check the site's clock, the installation and the app's scopes, then try again.")


class Impersonation:
    """Exchanges assertions for bearer tokens and caches them per (tenant, user) until they are about to expire."""

    def __init__(self, server_url: str, *, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time, timeout: tuple[float, float] = (5.0, 30.0)) -> None:
        self.server_url = server_url.rstrip("/")
        self.session = session or requests.Session()
        self.clock = clock
        self.timeout = timeout
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.exchanges = 0  # token requests sent (tests and figures)

    def token(self, grant: Grant, account_id: str) -> str:
        """A bearer token acting as ``account_id`` on the grant's site. :raises ImpersonationRefused: refused."""
        key = (grant.client_key, account_id)
        with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and cached[1] - EXPIRY_MARGIN > self.clock():
                return cached[0]
        token, expires_at = self._exchange(grant, account_id)
        with self._lock:
            self._tokens[key] = (token, expires_at)
        return token

    def forget(self, grant: Grant, account_id: str) -> None:
        """Drop a cached token (the site answered 401 with it)."""
        with self._lock:
            self._tokens.pop((grant.client_key, account_id), None)

    def _exchange(self, grant: Grant, account_id: str) -> tuple[str, float]:
        claims = assertion_claims(grant, account_id, self.server_url, self.clock())
        form = {"grant_type": GRANT_TYPE, "assertion": encode_hs256(claims, grant.shared_secret)}
        self.exchanges += 1
        resp = self.session.post(f"{self.server_url}/oauth2/token", data=form, timeout=self.timeout,
                                 headers={"Accept": "application/json"})
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            raise _refusal(resp.status_code, body, account_id, grant.base_url)
        lifetime = float(body.get("expires_in") or 900)
        return str(body["access_token"]), self.clock() + lifetime


_SHARED: dict[str, Impersonation] = {}
_SHARED_LOCK = threading.Lock()


def server_url() -> str:
    """The authorization server this deployment exchanges assertions at (``CONNECT_IMPERSONATION_URL``)."""
    return str(current_app.config.get("CONNECT_IMPERSONATION_URL") or DEFAULT_AUTHORIZATION_SERVER).rstrip("/")


def shared() -> Impersonation:
    """The process's token cache for the configured authorization server."""
    url = server_url()
    with _SHARED_LOCK:
        found = _SHARED.get(url)
        if found is None:
            found = _SHARED[url] = Impersonation(url)
        return found


def client_as(grant: Grant, account_id: str, impersonation: Impersonation | None = None) -> JiraClient:
    """A Jira client calling the grant's site as ``account_id``; the token is obtained (and verified) now."""
    source = impersonation or shared()
    source.token(grant, account_id)  # refused grants surface here, before any write
    cfg = current_app.config
    auth = BearerAuth(lambda: source.token(grant, account_id), f"{account_id} on {grant.base_url}")
    return JiraClient(grant.base_url, auth,
                      timeout=(cfg["JIRA_CONNECT_TIMEOUT"], cfg["JIRA_READ_TIMEOUT"]),
                      retry=RetryPolicy(max_retries=cfg["JIRA_MAX_RETRIES"],
                                        max_retry_after=cfg["JIRA_MAX_RETRY_WAIT"],
                                        base_delay=cfg["JIRA_RETRY_BASE_DELAY"]),
                      label=f"as-user:{grant.client_key[:12]}")

