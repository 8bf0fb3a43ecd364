"""Jira access for a Forge tenant: only the Forge credential (the app system token on the installation's apiBaseUrl).

The token is looked up for every request, so jobs always send the freshest one; a 401 through a stale token
re-reads the store once (a fresher token may have arrived) and otherwise pauses the job (``ForgeTokenUnavailable``).
"""

from __future__ import annotations

from typing import Any

import requests
from flask import current_app

from ..jira.access import Credential, JiraAccess
from ..jira.bearer import RefreshingBearerAuth, rest_path, stale_token_answer
from ..jira.client import JiraClient, RetryPolicy
from ..jira.fixes import FORGE_FIX
from ..tenants import Tenant
from .installations import current_installation
from .scopes import forge_allows, forge_scopes
from .tokens import ForgeTokenUnavailable, current_system_token, invalidate


class ForgeSystemAuth(RefreshingBearerAuth):
    """``Authorization: Bearer <freshest system token>``; on a 401, one resend if a fresher token has arrived."""

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id

    def current_token(self, r: requests.PreparedRequest) -> tuple[str, str]:
        token = current_system_token(self.tenant_id)
        if token is None:
            raise ForgeTokenUnavailable(r.method or "GET", rest_path(r.url or ""))
        return token, token

    def fresh_token(self, resp: requests.Response, marker: Any) -> str:
        invalidate(self.tenant_id, marker)
        fresh = current_system_token(self.tenant_id)
        if fresh is None or fresh == marker:
            raise ForgeTokenUnavailable(resp.request.method or "GET", rest_path(resp.request.url or ""))
        return fresh

    def after_resend(self, retried: requests.Response, token: str) -> requests.Response:
        if stale_token_answer(retried):  # the fresher token is refused too: wait for another (the job pauses)
            invalidate(self.tenant_id, token)
            raise ForgeTokenUnavailable(retried.request.method or "GET", rest_path(retried.request.url or ""))
        return retried

    def __repr__(self) -> str:  # never a token
        return f"<ForgeSystemAuth tenant={self.tenant_id}>"


def forge_credential(tenant: Tenant) -> Credential | None:
    """The Forge credential of a Forge tenant (None: not a Forge tenant, or no live installation)."""
    if not tenant.is_forge:
        return None
    installation = current_installation(tenant)
    if installation is None:
        return None
    cfg = current_app.config
    client = JiraClient(
        installation.api_base_url, ForgeSystemAuth(tenant.id),
        timeout=(cfg["JIRA_CONNECT_TIMEOUT"], cfg["JIRA_READ_TIMEOUT"]),
        retry=RetryPolicy(max_retries=cfg["JIRA_MAX_RETRIES"], max_retry_after=cfg["JIRA_MAX_RETRY_WAIT"],
                          base_delay=cfg["JIRA_RETRY_BASE_DELAY"]),
        label="forge:" + tenant.client_key[6:18],
    )
    return Credential("forge", client, forge_allows)


def jira_access(tenant: Tenant) -> JiraAccess:
    """Access to a Forge tenant's Jira through the Forge credential only (no Connect JWT, no OAuth grant)."""
    credential = forge_credential(tenant)
    return JiraAccess([credential] if credential is not None else [], fix=FORGE_FIX)


def granted_scopes() -> frozenset[str]:
    return frozenset(forge_scopes())
