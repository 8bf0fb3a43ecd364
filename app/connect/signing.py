"""Signs the app's calls to Jira with a fresh Connect JWT per request, and builds the tenant's client."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
from flask import current_app

from ..jira.client import JiraClient, RetryPolicy
from . import qsh
from .tokens import encode_hs256, outgoing_claims

if TYPE_CHECKING:  # pragma: no cover
    from ..tenants import Tenant


class ConnectJwtAuth(requests.auth.AuthBase):
    """``Authorization: JWT`` with ``iss`` = app key and a qsh of the exact URL being sent."""

    def __init__(self, app_key: str, shared_secret: str, base_url: str, *, lifetime: int = 180) -> None:
        self.app_key = app_key
        self._secret = shared_secret
        self.base_url = base_url
        self.lifetime = lifetime

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        parts = urlsplit(r.url or "")
        relative = qsh.relative_url(parts.path, parts.query, self.base_url)
        claims = outgoing_claims(self.app_key, r.method or "GET", relative, lifetime=self.lifetime)
        r.headers["Authorization"] = "JWT " + encode_hs256(claims, self._secret)
        return r

    def __repr__(self) -> str:  # never the secret
        return f"<ConnectJwtAuth {self.app_key} -> {self.base_url}>"


def client_for(tenant: Tenant) -> JiraClient:
    """A Jira client calling ``tenant``'s site as the app, with the configured timeouts and retries."""
    cfg = current_app.config
    auth = ConnectJwtAuth(cfg["APP_KEY"], tenant.shared_secret, tenant.base_url)
    return JiraClient(
        tenant.base_url, auth,
        timeout=(cfg["JIRA_CONNECT_TIMEOUT"], cfg["JIRA_READ_TIMEOUT"]),
        retry=RetryPolicy(max_retries=cfg["JIRA_MAX_RETRIES"], max_retry_after=cfg["JIRA_MAX_RETRY_WAIT"],
                          base_delay=cfg["JIRA_RETRY_BASE_DELAY"]),
        label=tenant.client_key[:12],
    )
