"""Builds the ``JiraAccess`` for a tenant from every credential it has: Connect always, others when granted."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from .connect.signing import client_for
from .jira.access import Credential, JiraAccess, connect_allows
from .tenants import Tenant

# Another credential kind a Connect tenant may hold (the OAuth grant): tenant -> Credential or None.
CredentialSource = Callable[[Tenant], Credential | None]


def credential_sources() -> list[CredentialSource]:
    """The app's credential sources besides Connect's, in the order they are tried (``app/wiring.py``)."""
    found: list[CredentialSource] = current_app.extensions["wiring"].credential_sources
    return found


def jira_access(tenant: Tenant) -> JiraAccess:
    """Access to ``tenant``'s Jira: the Connect JWT first, then any other credential the tenant holds.

    A Forge tenant has no Connect secret and no OAuth grant: it gets the Forge credential alone.
    """
    if tenant.is_forge:
        from .forge.credential import jira_access as forge_access

        return forge_access(tenant)
    credentials = [Credential("connect", client_for(tenant), connect_allows())]
    for source in credential_sources():
        credential = source(tenant)
        if credential is not None:
            credentials.append(credential)
    return JiraAccess(credentials)
