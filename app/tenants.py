"""The tenant store: one row per Jira site that installed the app, keyed by ``clientKey``, whichever door it came
through (Connect's lifecycle in app/connect/installs.py, Forge's in app/forge/installations.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .clock import utcnow
from .connect.errors import AuthenticationError
from .crypto import keyring
from .extensions import Model, db


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


def get_by_client_key(client_key: str) -> Tenant | None:
    """The tenant with this client key; None for anything that can't be one (the key often comes unverified)."""
    if not isinstance(client_key, str) or not client_key or len(client_key) > 255 or "\x00" in client_key:
        return None
    return db.session.scalars(select(Tenant).where(Tenant.client_key == client_key)).first()


def record_base_url(tenant: Tenant, base_url: str, display_url: str | None = None) -> None:
    """Set the tenant's site URL and keep it in the history (recovery matches old names too); no commit."""
    tenant.base_url = base_url.rstrip("/")
    if display_url is not None:
        tenant.display_url = display_url.rstrip("/") or None
    if all(u.base_url != tenant.base_url for u in tenant.base_urls):
        tenant.base_urls.append(TenantBaseUrl(base_url=tenant.base_url))


def set_enabled(tenant: Tenant, enabled: bool) -> None:
    tenant.enabled = enabled
    db.session.commit()


# What a purge calls per tenant id, from the app's wiring (app/wiring.py):
# - ``purging``: features whose rows the tenant's cascade can't delete in one go; each runs in the purge's
#   transaction, before the tenant's row is deleted (PostgreSQL checks a NO ACTION reference between two tables the
#   cascade reaches separately, so those rows must go first);
# - ``purged``: features keeping a tenant's data outside the database (backup objects in a directory or a bucket);
#   each runs after the tenant's rows are deleted and committed, and must not raise: it logs a failure and leaves a
#   retry to its own sweep (a row never names data already deleted).
PurgeHook = Callable[[int], None]


def purge_hooks() -> tuple[list[PurgeHook], list[PurgeHook]]:
    """The app's ``purging`` and ``purged`` hooks (``app/wiring.py``)."""
    wiring = current_app.extensions["wiring"]
    purging: list[PurgeHook] = wiring.purging
    purged: list[PurgeHook] = wiring.purged
    return purging, purged


def purge_uninstalled(retention_days: int, now: datetime | None = None) -> list[str]:
    """Delete tenants uninstalled longer than ``retention_days`` ago, then what the ``purged`` hooks keep of them
    elsewhere; return their client keys."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    stale = db.session.scalars(
        select(Tenant).where(Tenant.uninstalled_at.is_not(None), Tenant.uninstalled_at < cutoff)).all()
    keys = [t.client_key for t in stale]
    ids = [t.id for t in stale]
    purging, purged = purge_hooks()
    for tenant in stale:
        for hook in purging:
            hook(tenant.id)
        db.session.delete(tenant)
    db.session.commit()
    for tenant_id in ids:
        for hook in purged:
            hook(tenant_id)
    return keys
