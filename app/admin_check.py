"""Is this account a Jira administrator? Asked of the site's own Jira, for both doors, and remembered briefly.

The one home of the check both doors' decorators make (Connect's ``admin_required``, Forge's
``forge_admin_required``): Jira's ``POST /rest/api/3/permissions/check`` for the ADMINISTER global permission,
through whatever credential the tenant holds (the Connect JWT, or the Forge app's system token). Descriptor
conditions and Forge's UI only hide links; this is what protects the actions.
"""

from __future__ import annotations

import threading
import time

from .extensions import lazy_extension
from .jira.operations import PERMISSIONS_CHECK
from .tenant_access import jira_access
from .tenants import Tenant


class AdminCache:
    """Remembers Jira's answer to 'is this user an admin?' for a short while, per tenant and user."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[str, str], tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> bool | None:
        with self._lock:
            hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: tuple[str, str], value: bool) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl, value)

    def forget_tenant(self, client_key: str) -> int:
        """Drop every answer cached for ``client_key`` (a reinstall changed its secret or site); return how many."""
        with self._lock:
            stale = [key for key in self._entries if key[0] == client_key]
            for key in stale:
                del self._entries[key]
        return len(stale)


def _admin_cache() -> AdminCache:
    return lazy_extension("admin_cache", lambda app: AdminCache(app.config["ADMIN_CHECK_TTL_SECONDS"]))


def forget_admin_answers(client_key: str) -> int:
    """Drop this process's cached admin answers for the tenant (called on every accepted install/uninstall)."""
    return _admin_cache().forget_tenant(client_key)


def is_jira_admin(tenant: Tenant, account_id: str) -> bool:
    """Ask Jira (as the app) whether ``account_id`` holds the ADMINISTER global permission.

    :raises JiraError: Jira didn't answer (the doors refuse with "try again": never a guess either way).
    """
    key = (tenant.client_key, account_id)
    cached = _admin_cache().get(key)
    if cached is not None:
        return cached
    answer = jira_access(tenant).call(PERMISSIONS_CHECK, json={"accountId": account_id,
                                                              "globalPermissions": ["ADMINISTER"]},
                                      idempotent=True) or {}
    granted = "ADMINISTER" in (answer.get("globalPermissions") or [])
    _admin_cache().put(key, granted)
    return granted
