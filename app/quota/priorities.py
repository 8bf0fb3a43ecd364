"""Who goes first when Jira's quota is short: a restore, then an on-demand backup, then a scheduled backup.

A scope says, for every client created inside it, which ledger row its requests draw from (the tenant), at which
priority, and which job meter counts them. The job runtime opens one around each job; a client outside any job (a
page's admin check) draws as ``INTERACTIVE`` for its site.
"""

from __future__ import annotations

import contextvars
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .points import PointsMeter


class Priority(enum.IntEnum):
    """Lower goes first. A restore is an admin's site being down; pages wait on people; backups can wait."""

    RESTORE = 0
    INTERACTIVE = 1
    ON_DEMAND_BACKUP = 2
    SCHEDULED_BACKUP = 3


RESTORE_KINDS = frozenset({"restore", "restore-preview"})
SCHEDULE_REQUESTER = "schedule"  # Job.requested_by of a backup the schedule started


def priority_for(kind: str, requested_by: str | None) -> Priority:
    """A job's priority from its kind and who asked for it."""
    if kind in RESTORE_KINDS:
        return Priority.RESTORE
    if kind == "backup":
        return Priority.SCHEDULED_BACKUP if requested_by == SCHEDULE_REQUESTER else Priority.ON_DEMAND_BACKUP
    return Priority.INTERACTIVE


def tenant_key(tenant_id: int) -> str:
    """The ledger row of one tenant (one Jira site)."""
    return f"tenant:{tenant_id}"


@dataclass(frozen=True)
class QuotaScope:
    """Where a client's requests draw from (``key``), how urgently, and what counts them (``meter``, optional)."""

    key: str
    priority: Priority
    meter: PointsMeter | None = None


_current: contextvars.ContextVar[QuotaScope | None] = contextvars.ContextVar("quota_scope", default=None)


def current_scope() -> QuotaScope | None:
    """The scope clients created now belong to (None outside any job)."""
    return _current.get()


@contextmanager
def quota_scope(scope: QuotaScope) -> Iterator[QuotaScope]:
    """Clients created inside the block draw from ``scope`` for their whole life, from whatever thread."""
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
