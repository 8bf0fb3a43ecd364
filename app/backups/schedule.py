"""The backup schedule: a row per tenant (interval, next run), staggered by client key, and the tick enqueuing due runs.

The tick is safe on several machines at once: a due run is claimed by a conditional update of ``next_run_at``
(one winner), and the job itself is a per-tenant singleton.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import ForeignKey, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..connect.tenants import Tenant, utcnow
from ..extensions import db
from ..jobs.sweeper import periodic

DEFAULT_INTERVAL_HOURS = 24
EPOCH = datetime(2024, 1, 1)  # naive UTC, like every timestamp in our tables


class BackupSchedule(db.Model):
    __tablename__ = "backup_schedules"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    interval_hours: Mapped[int] = mapped_column(default=DEFAULT_INTERVAL_HOURS)
    concurrency: Mapped[int | None] = mapped_column()  # parallel Jira calls; None: BACKUP_CONCURRENCY
    # Snapshots kept (see app.backups.retention): the newest of each of the last N days with one, and of each of
    # the last M ISO weeks with one. None: BACKUP_RETENTION_DAILY / BACKUP_RETENTION_WEEKLY.
    retention_daily: Mapped[int | None] = mapped_column(default=None)
    retention_weekly: Mapped[int | None] = mapped_column(default=None)
    next_run_at: Mapped[datetime] = mapped_column(index=True)
    last_enqueued_at: Mapped[datetime | None] = mapped_column()


def stagger(client_key: str, interval_hours: int) -> timedelta:
    """A stable offset within the interval, from a hash of the client key, so tenants don't all start at once."""
    seconds = interval_hours * 3600
    digest = int.from_bytes(hashlib.sha256(client_key.encode()).digest()[:8], "big")
    return timedelta(seconds=digest % seconds)


def next_slot(client_key: str, interval_hours: int, after: datetime) -> datetime:
    """The tenant's first slot strictly after ``after``: epoch + stagger + k * interval."""
    after = _naive(after)
    interval = timedelta(hours=interval_hours)
    first = EPOCH + stagger(client_key, interval_hours)
    if after < first:
        return first
    periods = (after - first) // interval + 1
    return first + periods * interval


def _naive(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def schedule_for(tenant: Tenant, now: datetime | None = None) -> BackupSchedule:
    """The tenant's schedule, created with the defaults on first use."""
    schedule = db.session.get(BackupSchedule, tenant.id)
    if schedule is None:
        schedule = BackupSchedule(tenant_id=tenant.id, enabled=True, interval_hours=DEFAULT_INTERVAL_HOURS,
                                  next_run_at=next_slot(tenant.client_key, DEFAULT_INTERVAL_HOURS, now or utcnow()))
        db.session.add(schedule)
        db.session.commit()
    return schedule


def configure(tenant: Tenant, *, interval_hours: int | None = None, enabled: bool | None = None,
              concurrency: int | None = None, now: datetime | None = None) -> BackupSchedule:
    """Change how often (and how hard) the tenant is backed up; the next run moves to the new interval's slot."""
    if interval_hours is not None and not 1 <= interval_hours <= 24 * 7:
        raise ValueError(f"interval_hours must be between 1 and 168, got {interval_hours}")
    if concurrency is not None and not 1 <= concurrency <= 16:
        raise ValueError(f"concurrency must be between 1 and 16, got {concurrency}")
    schedule = schedule_for(tenant, now)
    if interval_hours is not None and interval_hours != schedule.interval_hours:
        schedule.interval_hours = interval_hours
        schedule.next_run_at = next_slot(tenant.client_key, interval_hours, now or utcnow())
    if enabled is not None:
        schedule.enabled = enabled
    if concurrency is not None:
        schedule.concurrency = concurrency
    db.session.commit()
    return schedule


def _create_missing_schedules(now: datetime) -> None:
    """Installed tenants without a schedule get the default one (daily, staggered)."""
    missing = db.session.scalars(
        select(Tenant).outerjoin(BackupSchedule, BackupSchedule.tenant_id == Tenant.id)
        .where(BackupSchedule.tenant_id.is_(None))).all()
    for tenant in missing:
        if tenant.is_installed:
            db.session.add(BackupSchedule(tenant_id=tenant.id, interval_hours=DEFAULT_INTERVAL_HOURS,
                                          next_run_at=next_slot(tenant.client_key, DEFAULT_INTERVAL_HOURS, now)))
    try:
        db.session.commit()
    except Exception:  # another machine created them first
        db.session.rollback()


@periodic("backup-schedule")
def enqueue_due_backups(now: datetime | None = None) -> list[int]:
    """Enqueue a backup for every tenant whose slot has come; returns the tenant ids this caller enqueued."""
    from .service import start_backup

    now = _naive(now or utcnow())
    _create_missing_schedules(now)
    due = db.session.execute(
        select(BackupSchedule.tenant_id, BackupSchedule.next_run_at, Tenant.client_key)
        .join(Tenant, Tenant.id == BackupSchedule.tenant_id)
        .where(BackupSchedule.enabled.is_(True), BackupSchedule.next_run_at <= now)).all()
    db.session.commit()
    enqueued: list[int] = []
    for tenant_id, planned, client_key in due:
        schedule = db.session.get(BackupSchedule, tenant_id)
        if schedule is None:
            continue
        following = next_slot(client_key, schedule.interval_hours, now)
        # Only the caller that moves next_run_at from the value it read gets to enqueue: the others lose the race.
        won = db.session.execute(
            update(BackupSchedule).where(BackupSchedule.tenant_id == tenant_id,
                                         BackupSchedule.next_run_at == planned)
            .values(next_run_at=following, last_enqueued_at=now)
            .execution_options(synchronize_session=False)).rowcount == 1
        db.session.commit()
        if not won:
            continue
        tenant = db.session.get(Tenant, tenant_id)
        # A disabled (or uninstalled) site's slot passes without a backup; re-enabled, it resumes at its next slot.
        if tenant is not None and tenant.is_installed and tenant.enabled:
            start_backup(tenant, None)
            enqueued.append(tenant_id)
    return enqueued
