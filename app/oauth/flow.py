"""The authorization-code flow: settings, scopes, the authorize URL and its ``state``, and the callback's checks.

The callback carries no JWT, so the ``state`` is its only link to a tenant and an administrator: random, stored as a
hash, single use, expiring. Nothing is stored unless every check passes: the code exchanges, the granted site is the
tenant's own (by URL and cloudId), and the consenting account can use the grant as a Jira administrator.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from flask import current_app
from sqlalchemy import delete, select, update

from ..clock import utcnow
from ..extensions import affected_rows, db
from ..jira.client import JiraClient, RetryPolicy
from ..jira.errors import JiraError
from ..jira.operations import declare
from ..recovery import audit
from ..tenants import Tenant
from .models import GrantState, OAuthGrant, OAuthPendingState, move
from .tokens import AuthServerUnavailable, TokenRefused, TokenSet, token_request

log = logging.getLogger(__name__)

AUDIENCE = "api.atlassian.com"
OFFLINE_ACCESS = "offline_access"  # what earns a refresh token
FALLBACK_SCOPES = frozenset({"manage:jira-configuration"})
REQUIRED_SETTINGS = ("ATLASSIAN_OAUTH_CLIENT_ID", "ATLASSIAN_OAUTH_CLIENT_SECRET")
DEFAULT_STATE_TTL = 600
CALLBACK_PATH = "/oauth/callback"
DEFAULT_PORTS = {"http": 80, "https": 443}

# A cheap read only a Jira administrator's grant can make: proves the consent is usable before we keep it.
PROBE = declare("GET", "/rest/api/3/statuses/search")


class FlowRefused(Exception):
    """The callback can't complete; ``code`` is a stable marker, ``message`` is safe to show (never a token)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class OAuthSettings:
    client_id: str
    client_secret: str
    auth_url: str
    api_url: str
    redirect_uri: str

    def __repr__(self) -> str:  # never the secret
        return f"<OAuthSettings client={self.client_id} auth={self.auth_url} api={self.api_url}>"


def missing_settings() -> list[str]:
    """The settings an administrator of this app must still set before OAuth can work (empty: configured)."""
    return [name for name in REQUIRED_SETTINGS if not current_app.config.get(name)]


def settings() -> OAuthSettings:
    cfg = current_app.config
    return OAuthSettings(cfg["ATLASSIAN_OAUTH_CLIENT_ID"], cfg["ATLASSIAN_OAUTH_CLIENT_SECRET"],
                         cfg["ATLASSIAN_AUTH_URL"].rstrip("/"), cfg["ATLASSIAN_API_URL"].rstrip("/"),
                         cfg["BASE_URL"].rstrip("/") + CALLBACK_PATH)


def gateway_url(cloud_id: str) -> str:
    """Where OAuth calls to one site go: ``{ATLASSIAN_API_URL}/ex/jira/{cloudId}``."""
    return f"{settings().api_url}/ex/jira/{cloud_id}"


def needed_scopes() -> set[str]:
    """The OAuth scopes of every declared operation Connect can't call (the fallback before any is declared)."""
    from ..wiring import declared_operations  # the wiring imports this module: it can't be imported at load

    scopes: set[str] = set()
    for op in declared_operations():
        if not op.connect_allowed:
            scopes |= op.oauth_scopes
    return scopes or set(FALLBACK_SCOPES)


def requested_scopes() -> list[str]:
    """What the authorize URL asks for: the minimal cover of our INACCESSIBLE operations, plus offline access."""
    return sorted(needed_scopes() | {OFFLINE_ACCESS})


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def start_authorisation(tenant: Tenant, account_id: str) -> str:
    """Record a fresh ``state`` for this tenant and admin and return Atlassian's authorize URL carrying it."""
    cfg = settings()
    now = utcnow()
    state = secrets.token_urlsafe(32)
    ttl = int(current_app.config.get("OAUTH_STATE_TTL_SECONDS", DEFAULT_STATE_TTL))
    # Old attempts are worthless once expired; keep the table small.
    db.session.execute(delete(OAuthPendingState).where(OAuthPendingState.expires_at < now - timedelta(days=1)))
    db.session.add(OAuthPendingState(state_hash=_hash(state), tenant_id=tenant.id, account_id=account_id,
                                     created_at=now, expires_at=now + timedelta(seconds=ttl)))
    db.session.commit()
    query = {"audience": AUDIENCE, "client_id": cfg.client_id, "scope": " ".join(requested_scopes()),
             "redirect_uri": cfg.redirect_uri, "state": state, "response_type": "code", "prompt": "consent"}
    return f"{cfg.auth_url}/authorize?{urlencode(query)}"


def consume_state(state: str | None) -> OAuthPendingState:
    """The pending authorisation ``state`` names, marked used (atomically: a replay finds it used).

    :raises FlowRefused: unknown, used or expired.
    """
    refused = FlowRefused("state-invalid", "This authorisation link is not valid: it was already used, has "
                                           "expired, or did not come from this app. Start again from the "
                                           "Disaster recovery page in Jira.")
    if not state or len(state) > 200:
        raise refused
    now = utcnow()
    digest = _hash(state)
    result = db.session.execute(
        update(OAuthPendingState)
        .where(OAuthPendingState.state_hash == digest, OAuthPendingState.used_at.is_(None),
               OAuthPendingState.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    if affected_rows(result) != 1:
        raise refused
    pending = db.session.scalars(select(OAuthPendingState).where(OAuthPendingState.state_hash == digest)).one()
    return pending


def normalise_site_url(url: str) -> str:
    """``scheme://host[:port][/path]`` lower-cased, without default ports or a trailing slash."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def accessible_resources(access_token: str) -> list[dict[str, Any]]:
    """The sites the token may reach (``[{id: cloudId, url, name, scopes}]``)."""
    try:
        resp = requests.get(f"{settings().api_url}/oauth/token/accessible-resources", timeout=(5, 20),
                            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"})
    except requests.RequestException:
        raise FlowRefused("unavailable", "Atlassian could not be reached to list the sites you granted access "
                                         "to; try again.", 502) from None
    if resp.status_code != 200:
        raise FlowRefused("unavailable", f"Atlassian refused to list the sites you granted access to "
                                         f"({resp.status_code}); try again.", 502)
    try:
        body = resp.json()
    except ValueError:
        body = None
    return [r for r in body if isinstance(r, dict)] if isinstance(body, list) else []


def site_resource(tenant: Tenant, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The resource that is the tenant's own site: same normalised URL, and same cloudId when Jira told us one.

    :raises FlowRefused: the consent was for other sites only.
    """
    own = {normalise_site_url(u) for u in (tenant.base_url, tenant.display_url) if u}
    for resource in resources:
        if normalise_site_url(str(resource.get("url") or "")) in own:
            if tenant.cloud_id and str(resource.get("id")) != tenant.cloud_id:
                break
            return resource
    granted = ", ".join(str(r.get("url")) for r in resources) or "no site"
    raise FlowRefused("wrong-site", f"Access was granted to {granted}, not to {tenant.link_url}. Start again and "
                                    f"choose {tenant.link_url} on Atlassian's consent screen.")


def _probe(cloud_id: str, access_token: str, tenant: Tenant) -> None:
    """One read through the gateway, as the grant will be used: refuses consents that can't do the job."""
    client = JiraClient(gateway_url(cloud_id), _StaticBearer(access_token), timeout=(5, 20),
                        retry=RetryPolicy(max_retries=1, base_delay=0.5), label="oauth-probe")
    try:
        client.get(PROBE.path(), {"maxResults": 1})
    except JiraError as exc:
        if exc.status == 401:
            raise FlowRefused("scope-missing", "The consent did not include the access the app asked for ("
                              + ", ".join(sorted(needed_scopes())) + "). Authorise again and approve every "
                              "permission on Atlassian's consent screen.") from None
        if exc.status == 403:
            raise FlowRefused("not-admin", f"The Atlassian account that approved access can't administer "
                                           f"{tenant.link_url}'s configuration ({exc.status}). Sign in to Atlassian "
                                           f"as a Jira administrator of that site and authorise again.") from None
        raise FlowRefused("unavailable", f"Jira could not be reached through Atlassian's API gateway "
                                         f"({exc.status}); try again.", 502) from None


class _StaticBearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._token}"
        return r

    def __repr__(self) -> str:  # never the token
        return "<StaticBearer>"


def complete_authorisation(args: Mapping[str, str]) -> OAuthGrant:
    """Handle the callback's query (``state`` plus ``code`` or ``error``): check everything, then store the grant.

    :raises FlowRefused: with the reason; nothing is stored then.
    """
    if missing_settings():
        raise FlowRefused("not-configured", "OAuth is not configured for this app: " + ", ".join(missing_settings())
                          + " must be set.", 409)
    pending = consume_state(args.get("state"))
    tenant = db.session.get(Tenant, pending.tenant_id)
    if tenant is None or not tenant.is_installed:
        raise FlowRefused("tenant-gone", "The app is no longer installed on the site that asked for this "
                                         "authorisation.", 410)
    if args.get("error"):
        raise FlowRefused("denied", "Access was not granted on Atlassian's consent screen, so nothing changed. "
                                    "You can authorise again from the Disaster recovery page.")
    code = args.get("code")
    if not code:
        raise FlowRefused("code-missing", "Atlassian sent no authorisation code. Start again from the Disaster "
                                          "recovery page.")
    tokens = _exchange(code)
    resource = site_resource(tenant, accessible_resources(tokens.access_token))
    cloud_id = str(resource["id"])
    _probe(cloud_id, tokens.access_token, tenant)
    grant = save_grant(tenant, pending.account_id, cloud_id, str(resource.get("url") or tenant.base_url), tokens)
    log.info("oauth grant stored for tenant %s by %s (cloud %s, version %d)", tenant.client_key,
             pending.account_id, cloud_id, grant.version)
    return grant


def _exchange(code: str) -> TokenSet:
    try:
        return token_request({"grant_type": "authorization_code", "code": code,
                              "redirect_uri": settings().redirect_uri})
    except TokenRefused as refused:
        raise FlowRefused("code-refused", f"Atlassian refused the authorisation code ({refused.error}): it may "
                                          f"have been used already or have expired. Start again from the "
                                          f"Disaster recovery page.") from None
    except AuthServerUnavailable:
        raise FlowRefused("unavailable", "Atlassian's authorization server could not be reached; try again.",
                          502) from None


def save_grant(tenant: Tenant, account_id: str, cloud_id: str, site_url: str, tokens: TokenSet) -> OAuthGrant:
    """Store (or replace) the tenant's grant as ACTIVE, tokens encrypted; bumps ``version`` so refreshers of the
    replaced consent can't overwrite it."""
    now = utcnow()
    grant = db.session.scalars(select(OAuthGrant).where(OAuthGrant.tenant_id == tenant.id)).first()
    new = OAuthGrant(tenant_id=tenant.id, version=0) if grant is None else None
    row = move(grant, GrantState.ACTIVE, new=new)
    if new is not None:
        db.session.add(new)
    row.cloud_id = cloud_id
    row.site_url = site_url.rstrip("/")
    row.account_id = account_id
    row.scopes = " ".join(tokens.scopes if tokens.scopes is not None else requested_scopes())
    row.set_tokens(tokens.access_token, tokens.refresh_token, tokens.expires_at(now))
    row.version = (row.version or 0) + 1
    row.refreshing_until = None
    row.authorised_at = now
    row.refreshed_at = None
    audit.authorisation_given(tenant.id, account_id, row.site_url)
    db.session.commit()
    return row


def grant_for(tenant: Tenant) -> OAuthGrant | None:
    return db.session.scalars(select(OAuthGrant).where(OAuthGrant.tenant_id == tenant.id)).first()


def remove_grant(tenant: Tenant, account_id: str) -> bool:
    """An administrator removes the app's OAuth access: tokens are erased; True if there was an active grant."""
    grant = grant_for(tenant)
    if grant is None or grant.grant_state is GrantState.REVOKED:
        return False
    move(grant, GrantState.REVOKED, reason="Access was removed from the Disaster recovery page. To stop it at "
                                           "Atlassian too, remove the app under Connected apps in your Atlassian "
                                           "account.")
    grant.version += 1  # any refresh in flight must not bring the tokens back
    audit.authorisation_removed(tenant.id, account_id)
    db.session.commit()
    log.info("oauth grant of tenant %s removed by %s", tenant.client_key, account_id)
    return True
