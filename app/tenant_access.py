"""Builds the ``JiraAccess`` for a tenant from every credential it has: Connect always, others when granted."""

from __future__ import annotations

from collections.abc import Callable

from .connect.signing import client_for
from .connect.tenants import Tenant
from .jira.access import Credential, JiraAccess, connect_allows

# Other credential kinds (the OAuth grant, Forge tokens) register a source here: tenant -> Credential or None.
CREDENTIAL_SOURCES: list[Callable[[Tenant], Credential | None]] = []


def jira_access(tenant: Tenant) -> JiraAccess:
    """Access to ``tenant``'s Jira: the Connect JWT first, then any other credential the tenant holds."""
    credentials = [Credential("connect", client_for(tenant), connect_allows())]
    for source in CREDENTIAL_SOURCES:
        credential = source(tenant)
        if credential is not None:
            credentials.append(credential)
    return JiraAccess(credentials)
