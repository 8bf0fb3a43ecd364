"""People as the admin pages show them: display names for the account ids our tables keep (both doors use it).

Names come from the site's Jira (``GET /rest/api/3/user/bulk``, as the app), cached a few minutes per site. When
Jira can't answer (the site is down, uninstalled, or the id is someone else's site's), the page shows the id: a
page must never fail because a name couldn't be looked up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ..extensions import lazy_extension
from ..jira.errors import JiraError
from ..jira.operations import declare
from ..tenant_access import jira_access
from ..tenants import Tenant

log = logging.getLogger(__name__)

BULK_USERS = declare("GET", "/rest/api/3/user/bulk")
PER_CALL = 200  # the bulk endpoint's page cap
TTL_SECONDS = 300
SCHEDULE = "schedule"  # what a job started by the schedule records instead of an account id


@dataclass(frozen=True)
class Person:
    """Someone shown on a page: ``name`` to read, ``account_id`` kept for a title/tooltip and for tests."""

    account_id: str
    name: str
    known: bool  # False: Jira gave no name (the id is shown)


class _NameCache:
    def __init__(self) -> None:
        self.entries: dict[tuple[int, str], tuple[float, str | None]] = {}

    def get(self, tenant_id: int, account_id: str) -> tuple[bool, str | None]:
        hit = self.entries.get((tenant_id, account_id))
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def put(self, tenant_id: int, account_id: str, name: str | None) -> None:
        self.entries[(tenant_id, account_id)] = (time.monotonic() + TTL_SECONDS, name)


def _cache() -> _NameCache:
    return lazy_extension("people_names", lambda app: _NameCache())


def _fetch(tenant: Tenant, account_ids: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    access = jira_access(tenant)
    for start in range(0, len(account_ids), PER_CALL):
        chunk = account_ids[start:start + PER_CALL]
        page = access.call(BULK_USERS, params={"accountId": chunk, "maxResults": PER_CALL}) or {}
        for user in page.get("values") or []:
            if user.get("accountId") and user.get("displayName"):
                names[str(user["accountId"])] = str(user["displayName"])
    return names


def display_names(tenant: Tenant, account_ids: Iterable[str | None]) -> dict[str, str]:
    """``account id -> display name`` for the ids Jira knows on ``tenant`` (missing ids: no entry)."""
    cache = _cache()
    wanted = sorted({a for a in account_ids if a and a != SCHEDULE})
    found: dict[str, str] = {}
    unknown: list[str] = []
    for account_id in wanted:
        cached, name = cache.get(tenant.id, account_id)
        if not cached:
            unknown.append(account_id)
        elif name:
            found[account_id] = name
    if unknown and tenant.is_installed:
        try:
            fetched = _fetch(tenant, unknown)
        except (JiraError, OSError) as exc:  # a page never fails for a name; it shows the id instead
            log.info("display names for tenant %s unavailable: %s", tenant.id, type(exc).__name__)
            return found
        for account_id in unknown:
            cache.put(tenant.id, account_id, fetched.get(account_id))
        found.update(fetched)
    return found


def person(account_id: str | None, names: dict[str, str]) -> Person | None:
    """The person for an id (None for none), named when ``names`` knows them."""
    if not account_id:
        return None
    if account_id == SCHEDULE:
        return Person(account_id, "Scheduled backup", True)
    return Person(account_id, names.get(account_id, account_id), account_id in names)
