"""Forge installations as tenants: one row per installationId, attached to a stable tenant per site + environment.

Forge gives a new installationId on every reinstall; Connect kept the clientKey. The tenant key
``forge:<cloudId>:<environmentId>`` is what stays, so backups and recovery connections survive a reinstall.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import Model, db
from ..tenants import Tenant, get_by_client_key, record_base_url
from .fit import Invocation

log = logging.getLogger(__name__)


class ForgeInstallation(Model):
    """One installation of the Forge app on a site (a reinstall is a new row on the same tenant)."""

    __tablename__ = "forge_installations"

    id: Mapped[int] = mapped_column(primary_key=True)
    installation_id: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[str] = mapped_column(String(255))
    environment_id: Mapped[str] = mapped_column(String(255))
    environment_type: Mapped[str] = mapped_column(String(64))
    cloud_id: Mapped[str] = mapped_column(String(64))
    api_base_url: Mapped[str] = mapped_column(String(512))
    site_url: Mapped[str | None] = mapped_column(String(512))
    installed_at: Mapped[datetime] = mapped_column(default=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_installed(self) -> bool:
        return self.uninstalled_at is None

    def __repr__(self) -> str:
        return f"<ForgeInstallation {self.installation_id} tenant={self.tenant_id}>"


def tenant_key(cloud_id: str, environment_id: str) -> str:
    """The stable client key of a Forge tenant."""
    return f"forge:{cloud_id}:{environment_id}"


def installation_by_id(installation_id: str) -> ForgeInstallation | None:
    return db.session.scalars(
        select(ForgeInstallation).where(ForgeInstallation.installation_id == installation_id)).first()


def current_installation(tenant: Tenant) -> ForgeInstallation | None:
    """The tenant's live installation (the newest one not uninstalled), if any."""
    return db.session.scalars(
        select(ForgeInstallation).where(ForgeInstallation.tenant_id == tenant.id,
                                        ForgeInstallation.uninstalled_at.is_(None))
        .order_by(ForgeInstallation.installed_at.desc(), ForgeInstallation.id.desc()).limit(1)).first()


def tenant_for(invocation: Invocation) -> Tenant:
    """The tenant of a verified invocation, created (with its installation) on first sight; commits.

    Safe under Forge's retries arriving at once: unique keys make a concurrent creator lose, and the loser
    re-reads what the winner created.
    """
    for attempt in range(3):
        try:
            tenant = _find_or_create(invocation)
            db.session.commit()
            return tenant
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _find_or_create(inv: Invocation) -> Tenant:
    installation = installation_by_id(inv.installation_id)
    if installation is not None:
        tenant = db.session.get(Tenant, installation.tenant_id)
        assert tenant is not None  # the foreign key cascades
        _note_site_url(tenant, installation, inv)
        return tenant
    key = tenant_key(inv.cloud_id, inv.environment_id)
    tenant = get_by_client_key(key)
    if tenant is None:
        tenant = Tenant(client_key=key, door="forge", shared_secret_enc=None, product_type="jira",
                        cloud_id=inv.cloud_id, payload_json="{}", enabled=True,
                        # The site URL comes from the FIT's context (below) or from serverInfo (a job); until then
                        # the gateway URL stands in (it is never recorded in the base-URL history).
                        base_url=inv.api_base_url)
        db.session.add(tenant)
        db.session.flush()  # a concurrent creator of the same site fails here, before the installation row
        log.info("forge tenant created client_key=%s", key)
    installation = ForgeInstallation(installation_id=inv.installation_id, tenant_id=tenant.id, app_id=inv.app_id,
                                     environment_id=inv.environment_id, environment_type=inv.environment_type,
                                     cloud_id=inv.cloud_id, api_base_url=inv.api_base_url, site_url=inv.site_url)
    db.session.add(installation)
    db.session.flush()
    # A site + environment has one installation at a time: a new one supersedes any we never heard uninstall.
    db.session.execute(update(ForgeInstallation)
                       .where(ForgeInstallation.tenant_id == tenant.id, ForgeInstallation.id != installation.id,
                              ForgeInstallation.uninstalled_at.is_(None))
                       .values(uninstalled_at=utcnow()).execution_options(synchronize_session=False))
    # A new installation (first install or reinstall) is live: the tenant is installed again, its data intact.
    tenant.uninstalled_at = None
    tenant.enabled = True
    tenant.cloud_id = inv.cloud_id
    log.info("forge installation %s attached to tenant %s", inv.installation_id, key)
    _note_site_url(tenant, installation, inv)
    return tenant


def _note_site_url(tenant: Tenant, installation: ForgeInstallation, inv: Invocation) -> None:
    """A signed ``context.siteUrl`` is the site's address (sites get renamed: history keeps the old one)."""
    if inv.site_url and inv.site_url != tenant.base_url:
        record_base_url(tenant, inv.site_url)
    if inv.site_url and installation.site_url != inv.site_url:
        installation.site_url = inv.site_url


def site_url_known(tenant: Tenant) -> bool:
    """False while the tenant's base URL is still the gateway stand-in (serverInfo not read yet)."""
    return any(u.base_url == tenant.base_url for u in tenant.base_urls)


def mark_installed(tenant: Tenant, installation: ForgeInstallation) -> None:
    """An installed/upgraded event: the installation and its tenant are live (again); commits."""
    installation.uninstalled_at = None
    tenant.uninstalled_at = None
    tenant.enabled = True
    db.session.commit()


def mark_uninstalled(tenant: Tenant, installation: ForgeInstallation) -> None:
    """Pre-uninstall: the installation ends; the tenant too unless a newer installation is live. Data is kept."""
    now = utcnow()
    if installation.uninstalled_at is None:
        installation.uninstalled_at = now
    db.session.flush()
    if current_installation(tenant) is None and tenant.uninstalled_at is None:
        tenant.uninstalled_at = now
        tenant.enabled = False
    db.session.commit()
