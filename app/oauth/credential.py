"""The OAuth grant as a credential of ``jira_access(tenant)``: Connect first, the grant for what Connect can't call."""

from __future__ import annotations

from flask import current_app

from ..jira.access import AUTHORISE_FIX, Credential, oauth_allows
from ..jira.client import JiraClient, RetryPolicy
from ..tenants import Tenant
from .flow import gateway_url, grant_for, missing_settings
from .models import GrantState
from .tokens import GrantBearerAuth, TokenProvider


def oauth_credential(tenant: Tenant) -> Credential | None:
    """The tenant's active grant as a ``Credential`` (None: OAuth not configured, or no usable grant)."""
    if missing_settings():
        return None
    grant = grant_for(tenant)
    if grant is None or grant.grant_state is not GrantState.ACTIVE:
        return None
    cfg = current_app.config
    client = JiraClient(
        gateway_url(grant.cloud_id), GrantBearerAuth(TokenProvider(grant.id), AUTHORISE_FIX),
        timeout=(cfg["JIRA_CONNECT_TIMEOUT"], cfg["JIRA_READ_TIMEOUT"]),
        retry=RetryPolicy(max_retries=cfg["JIRA_MAX_RETRIES"], max_retry_after=cfg["JIRA_MAX_RETRY_WAIT"],
                          base_delay=cfg["JIRA_RETRY_BASE_DELAY"]),
        label="oauth:" + tenant.client_key[:12],
    )
    return Credential("oauth", client, oauth_allows(grant.scope_set))
