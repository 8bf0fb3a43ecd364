"""Connect's lifecycle: a site's signed ``installed``/``uninstalled`` events recorded on its tenant, each only if newer
than the last one (a replayed install can't take a tenant over)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..extensions import affected_rows, db
from ..tenants import Tenant, TenantBaseUrl, get_by_client_key


@dataclass(frozen=True)
class LifecycleStamp:
    """What is remembered of a signed lifecycle event: the token's ``iat`` and two SHA-256 digests, never a token."""

    iat: int
    token_sha256: str
    body_sha256: str


class LifecycleConflict(Exception):
    """Another delivery recorded a lifecycle event for this tenant first; nothing of this one was kept."""


def last_lifecycle_stamp(tenant: Tenant) -> LifecycleStamp | None:
    """The tenant's last accepted signed lifecycle event; None before the first one (or before it was recorded)."""
    if tenant.lifecycle_iat is None:
        return None
    return LifecycleStamp(tenant.lifecycle_iat, tenant.lifecycle_token_sha256 or "", tenant.lifecycle_body_sha256 or "")


def _claim_lifecycle(tenant: Tenant, stamp: LifecycleStamp | None) -> None:
    """Record ``stamp`` as the tenant's last lifecycle event if it is newer than the recorded one; no commit.

    A conditional UPDATE, so of two deliveries racing only one can win (PostgreSQL re-checks the row once the
    other's lock is released; SQLite has one writer at a time). :raises LifecycleConflict: this one lost.
    """
    if stamp is None:
        return
    if tenant.id is not None:
        won = affected_rows(db.session.execute(
            update(Tenant).where(Tenant.id == tenant.id,
                                 or_(Tenant.lifecycle_iat.is_(None), Tenant.lifecycle_iat < stamp.iat))
            .values(lifecycle_iat=stamp.iat, lifecycle_token_sha256=stamp.token_sha256,
                    lifecycle_body_sha256=stamp.body_sha256)
            .execution_options(synchronize_session=False))) == 1
        if not won:
            db.session.rollback()
            raise LifecycleConflict(tenant.client_key)
    tenant.lifecycle_iat = stamp.iat
    tenant.lifecycle_token_sha256 = stamp.token_sha256
    tenant.lifecycle_body_sha256 = stamp.body_sha256


def _commit_lifecycle(client_key: str) -> None:
    """Commit; a concurrent first install of the same clientKey (unique key) is a lost race, not a 500."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise LifecycleConflict(client_key) from None


def save_installation(payload: dict[str, Any], stamp: LifecycleStamp | None = None) -> Tenant:
    """Create or overwrite the tenant from a verified ``installed`` body (new secret, maybe a new baseUrl).

    With ``stamp`` (the signed event's), the write happens only if it is newer than the last recorded one.
    :raises LifecycleConflict: another delivery for this clientKey was recorded first; nothing was changed.
    """
    client_key = payload["clientKey"]
    tenant = get_by_client_key(client_key)
    if tenant is None:
        tenant = Tenant(client_key=client_key)
        db.session.add(tenant)
    _claim_lifecycle(tenant, stamp)
    tenant.base_url = payload["baseUrl"].rstrip("/")
    tenant.display_url = (payload.get("displayUrl") or "").rstrip("/") or None
    tenant.product_type = payload.get("productType") or "jira"
    tenant.cloud_id = payload.get("cloudId")
    tenant.shared_secret = payload["sharedSecret"]
    tenant.door = "connect"
    tenant.payload_json = json.dumps({k: v for k, v in payload.items() if k != "sharedSecret"})
    tenant.enabled = True
    tenant.uninstalled_at = None
    tenant.installed_at = tenant.installed_at or utcnow()
    if all(u.base_url != tenant.base_url for u in tenant.base_urls):
        tenant.base_urls.append(TenantBaseUrl(base_url=tenant.base_url))
    _commit_lifecycle(client_key)
    return tenant


def mark_uninstalled(tenant: Tenant, stamp: LifecycleStamp | None = None) -> None:
    """Flag the tenant; its data is kept for the retention period (a lost site is when backups matter).

    :raises LifecycleConflict: with ``stamp``, a newer lifecycle event was recorded first; nothing was changed.
    """
    _claim_lifecycle(tenant, stamp)
    tenant.uninstalled_at = utcnow()
    tenant.enabled = False
    _commit_lifecycle(tenant.client_key)


