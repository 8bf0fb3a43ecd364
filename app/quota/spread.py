"""Scheduled backups spread evenly over their interval (the hour, for hourly ones), each tenant at a stable offset.

A hash of the client key scatters tenants at random: fifty of them leave gaps of five minutes and clumps of several
starting within the same second, and each clump draws Jira's app-wide points at once. The tenant's row id, stepped
by the golden ratio (a Weyl sequence), lays any run of consecutive ids out almost evenly: after N tenants every gap
is one of at most three lengths, the longest under 2.62 * interval / N, and a new tenant never moves another's slot.
"""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

GOLDEN = (math.sqrt(5) - 1) / 2  # 0.618…: the irrational step whose multiples fill [0, 1) most evenly


def weyl_offset(ordinal: int, interval_seconds: int) -> timedelta:
    """The ``ordinal``-th point of the golden-ratio sequence over the interval, to the whole second."""
    return timedelta(seconds=int(((ordinal * GOLDEN) % 1.0) * interval_seconds))


def hashed_offset(client_key: str, interval_seconds: int) -> timedelta:
    """A stable offset from the client key alone (for a key no tenant row holds yet)."""
    digest = int.from_bytes(hashlib.sha256(client_key.encode()).digest()[:8], "big")
    return timedelta(seconds=digest % interval_seconds)


def spread_offset(client_key: str, interval_hours: int) -> timedelta:
    """The tenant's stable offset within its backup interval: by its row id when it has one, else by its key."""
    seconds = interval_hours * 3600
    tenant_id = _tenant_id(client_key)
    return weyl_offset(tenant_id, seconds) if tenant_id is not None else hashed_offset(client_key, seconds)


def _tenant_id(client_key: str) -> int | None:
    from flask import has_app_context

    if not has_app_context():
        return None
    from sqlalchemy import select

    from ..extensions import db
    from ..tenants import Tenant

    with db.session.no_autoflush:
        return db.session.scalar(select(Tenant.id).where(Tenant.client_key == client_key))
