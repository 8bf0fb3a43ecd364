"""The tenant store: one row per Jira site that installed the app, keyed by ``clientKey`` (Connect or Forge)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import keyring
from ..extensions import Model, affected_rows, db
from .errors import AuthenticationError


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Tenant(Model):
    """A Jira site with this app installed (or uninstalled, kept for the retention period)."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_key: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    base_url: Mapped[str] = mapped_column(String(512))
    display_url: Mapped[str | None] = mapped_column(String(512))
    product_type: Mapped[str] = mapped_column(String(64), default="jira")
    cloud_id: Mapped[str | None] = mapped_column(String(64))
    # Which front door the site came through: "connect" (clientKey + shared secret) or "forge" (installations).
    door: Mapped[str] = mapped_column(String(16), default="connect", server_default="connect")
    shared_secret_enc: Mapped[str | None] = mapped_column(Text)  # None for Forge tenants: they have no secret
    payload_json: Mapped[str] = mapped_column(Text, default="{}")  # the install body, secret removed
    enabled: Mapped[bool] = mapped_column(default=True)
    installed_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(default=None)
    # The last accepted signed lifecycle event (installed/uninstalled): its token's ``iat`` and the SHA-256 of the
    # token and of the event + body, never the token itself. A replayed or older event is refused against these.
    lifecycle_iat: Mapped[int | None] = mapped_column(BigInteger, default=None)
    lifecycle_token_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    lifecycle_body_sha256: Mapped[str | None] = mapped_column(String(64), default=None)

    base_urls: Mapped[list[TenantBaseUrl]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantBaseUrl.first_seen")

    @property
    def shared_secret(self) -> str:
        """The Connect shared secret. :raises AuthenticationError: a Forge tenant has none (no Connect JWT is valid)."""
        if self.shared_secret_enc is None:
            raise AuthenticationError("This site uses the app through Forge: Connect JWTs are not accepted for it.")
        return keyring().decrypt_text(self.shared_secret_enc)

    @shared_secret.setter
    def shared_secret(self, value: str) -> None:
        self.shared_secret_enc = keyring().encrypt_text(value)

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.payload_json or "{}")

    @property
    def is_forge(self) -> bool:
        return self.door == "forge"

    @property
    def is_installed(self) -> bool:
        return self.uninstalled_at is None

    @property
    def link_url(self) -> str:
        """The URL to show people (``displayUrl`` when the site has a custom domain)."""
        return self.display_url or self.base_url

    def __repr__(self) -> str:  # never the secret
        return f"<Tenant {self.client_key} {self.base_url}>"


class TenantBaseUrl(Model):
    """Every base URL a tenant has had: sites get renamed, and recovery matches the old name too."""

    __tablename__ = "tenant_base_urls"
    __table_args__ = (UniqueConstraint("tenant_id", "base_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    base_url: Mapped[str] = mapped_column(String(512), index=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="base_urls")


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


def get_by_client_key(client_key: str) -> Tenant | None:
    """The tenant with this client key; None for anything that can't be one (the key often comes unverified)."""
    if not isinstance(client_key, str) or not client_key or len(client_key) > 255 or "\x00" in client_key:
        return None
    return db.session.scalars(select(Tenant).where(Tenant.client_key == client_key)).first()


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


def record_base_url(tenant: Tenant, base_url: str, display_url: str | None = None) -> None:
    """Set the tenant's site URL and keep it in the history (recovery matches old names too); no commit."""
    tenant.base_url = base_url.rstrip("/")
    if display_url is not None:
        tenant.display_url = display_url.rstrip("/") or None
    if all(u.base_url != tenant.base_url for u in tenant.base_urls):
        tenant.base_urls.append(TenantBaseUrl(base_url=tenant.base_url))


def mark_uninstalled(tenant: Tenant, stamp: LifecycleStamp | None = None) -> None:
    """Flag the tenant; its data is kept for the retention period (a lost site is when backups matter).

    :raises LifecycleConflict: with ``stamp``, a newer lifecycle event was recorded first; nothing was changed.
    """
    _claim_lifecycle(tenant, stamp)
    tenant.uninstalled_at = utcnow()
    tenant.enabled = False
    _commit_lifecycle(tenant.client_key)


def set_enabled(tenant: Tenant, enabled: bool) -> None:
    tenant.enabled = enabled
    db.session.commit()


# Features whose rows the tenant's cascade can't delete in one go register ``tenant id -> None`` in PURGING: each
# runs in the purge's transaction, before the tenant's row is deleted (PostgreSQL checks a NO ACTION reference
# between two tables the cascade reaches separately, so those rows must go first).
PURGING: list[Callable[[int], None]] = []
# Features keeping a tenant's data outside the database (backup objects in a directory or a bucket) register
# ``tenant id -> None`` in PURGED. Each runs after the tenant's rows are deleted and committed, and must not raise:
# it logs a failure and leaves a retry to its own sweep (a row never names data already deleted).
PURGED: list[Callable[[int], None]] = []


def purge_uninstalled(retention_days: int, now: datetime | None = None) -> list[str]:
    """Delete tenants uninstalled longer than ``retention_days`` ago, then what ``PURGED`` keeps of them elsewhere;
    return their client keys."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    stale = db.session.scalars(
        select(Tenant).where(Tenant.uninstalled_at.is_not(None), Tenant.uninstalled_at < cutoff)).all()
    keys = [t.client_key for t in stale]
    ids = [t.id for t in stale]
    for tenant in stale:
        for hook in PURGING:
            hook(tenant.id)
        db.session.delete(tenant)
    db.session.commit()
    for tenant_id in ids:
        for hook in PURGED:
            hook(tenant_id)
    return keys
