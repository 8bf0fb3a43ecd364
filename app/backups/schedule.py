"""The backup schedule: a row per tenant (interval, next run, retention), staggered by client key, the tick
enqueuing due runs, and the admin's change of it (validated, confirmed when it deletes snapshots, audited).

The tick is safe on several machines at once: a due run is claimed by a conditional update of ``next_run_at``
(one winner), and the job itself is a per-tenant singleton.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ForeignKey, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import Model, affected_rows, db
from ..quota.spread import spread_offset
from ..tenants import Tenant

DEFAULT_INTERVAL_HOURS = 24
# What an admin may choose: hours between backups, days with a snapshot kept, weeks with one kept.
INTERVAL_RANGE = (1, 24 * 7)
DAILY_RANGE = (1, 366)
WEEKLY_RANGE = (0, 520)
EPOCH = datetime(2024, 1, 1)  # naive UTC, like every timestamp in our tables


class BackupSchedule(Model):
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


def next_slot(client_key: str, interval_hours: int, after: datetime) -> datetime:
    """The tenant's first slot strictly after ``after``: epoch + the tenant's spread offset + k * interval."""
    after = _naive(after)
    interval = timedelta(hours=interval_hours)
    first = EPOCH + spread_offset(client_key, interval_hours)  # even over the interval (app.quota.spread)
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


class ScheduleError(ValueError):
    """A schedule setting out of range: which field, what was expected, what was received (safe to show)."""

    def __init__(self, field: str, expected: str, received: object) -> None:
        shown = str(received)
        shown = shown if len(shown) <= 20 else shown[:20] + "…"
        super().__init__(f"{LABELS.get(field, field)}: expected {expected}, received {shown!r}.")
        self.field, self.expected, self.received = field, expected, received
        self.message = str(self)


LABELS = {"interval_hours": "Hours between backups", "retention_daily": "Days with a backup kept",
          "retention_weekly": "Weeks with a backup kept", "concurrency": "Parallel Jira calls",
          "enabled": "Automatic backups"}


def check_range(field: str, value: object, bounds: tuple[int, int]) -> int:
    """``value`` as a whole number within ``bounds``; :raises ScheduleError: anything else (text, bools, floats)."""
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ScheduleError(field, f"a whole number from {low} to {high}", value)
    return value


def configure(tenant: Tenant, *, interval_hours: int | None = None, enabled: bool | None = None,
              concurrency: int | None = None, retention_daily: int | None = None,
              retention_weekly: int | None = None, now: datetime | None = None) -> BackupSchedule:
    """Change how often (and how hard) the tenant is backed up, and how much it keeps; the next run moves to the new
    interval's slot (or, switched back on, to the next slot from now). :raises ScheduleError: a value out of range,
    before anything changes."""
    checks = [("interval_hours", interval_hours, INTERVAL_RANGE), ("concurrency", concurrency, (1, 16)),
              ("retention_daily", retention_daily, DAILY_RANGE), ("retention_weekly", retention_weekly, WEEKLY_RANGE)]
    for field, value, bounds in checks:
        if value is not None:
            check_range(field, value, bounds)
    now = now or utcnow()
    schedule = schedule_for(tenant, now)
    resumed = enabled is True and not schedule.enabled
    if (interval_hours is not None and interval_hours != schedule.interval_hours) or resumed:
        schedule.interval_hours = interval_hours or schedule.interval_hours
        schedule.next_run_at = next_slot(tenant.client_key, schedule.interval_hours, now)
    if enabled is not None:
        schedule.enabled = enabled
    if concurrency is not None:
        schedule.concurrency = concurrency
    if retention_daily is not None:
        schedule.retention_daily = retention_daily
    if retention_weekly is not None:
        schedule.retention_weekly = retention_weekly
    db.session.commit()
    return schedule


@dataclass(frozen=True)
class Settings:
    """What the admin chooses on either door's schedule form."""

    enabled: bool
    interval_hours: int
    retention_daily: int
    retention_weekly: int

    def check(self) -> Settings:
        """:raises ScheduleError: a value out of range (the first one, by the form's order)."""
        check_range("interval_hours", self.interval_hours, INTERVAL_RANGE)
        check_range("retention_daily", self.retention_daily, DAILY_RANGE)
        check_range("retention_weekly", self.retention_weekly, WEEKLY_RANGE)
        return self


def current_settings(tenant: Tenant) -> Settings:
    """The tenant's schedule as the form shows it (its retention: its own, else the app-wide one)."""
    from .retention import retention_for

    schedule = schedule_for(tenant)
    daily, weekly = retention_for(tenant)
    return Settings(schedule.enabled, schedule.interval_hours, daily, weekly)


class ConfirmDeletions(Exception):
    """The change would delete snapshots: the admin must confirm the number first (nothing has changed)."""

    def __init__(self, settings: Settings, doomed: list[datetime]) -> None:
        super().__init__(f"Saving deletes {len(doomed)} backup(s) now.")
        self.settings, self.doomed = settings, doomed


@dataclass(frozen=True)
class Change:
    """A saved change: before, after, and how many snapshots it deleted."""

    before: Settings
    after: Settings
    deleted: int

    @property
    def changed(self) -> bool:
        return self.before != self.after


def change_schedule(tenant: Tenant, account_id: str | None, wanted: Settings, *,
                    confirmed_deletions: int | None = None, now: datetime | None = None) -> Change:
    """Save the admin's schedule; a retention that deletes snapshots is confirmed first and applied at once.

    The snapshots the new retention doesn't keep are deleted now (not at the next retention pass), so the number
    the admin confirmed is the number that goes; when it no longer matches (a backup finished meanwhile) the
    change asks again. The change is audited.

    :raises ScheduleError: a value out of range (nothing changes).
    :raises ConfirmDeletions: snapshots would be deleted and ``confirmed_deletions`` isn't their number.
    """
    from ..recovery import audit
    from .retention import doomed_under, prune

    wanted.check()
    before = current_settings(tenant)
    retention_changed = (wanted.retention_daily, wanted.retention_weekly) != (before.retention_daily,
                                                                             before.retention_weekly)
    doomed = doomed_under(tenant, wanted.retention_daily, wanted.retention_weekly, now) if retention_changed else []
    if doomed and confirmed_deletions != len(doomed):
        raise ConfirmDeletions(wanted, [f.taken_at for f in doomed])
    configure(tenant, interval_hours=wanted.interval_hours, enabled=wanted.enabled,
              retention_daily=wanted.retention_daily, retention_weekly=wanted.retention_weekly, now=now)
    deleted = len(prune(tenant, now).deleted) if doomed else 0
    change = Change(before, wanted, deleted)
    if change.changed:
        audit.record(tenant.id, side=audit.SCHEDULE, action="schedule-changed", outcome=audit.SUCCEEDED,
                     account_id=account_id, detail=describe_change(change))
        db.session.commit()
    return change


def describe_settings(settings: Settings) -> str:
    """"Every 24 hours; keeps 30 days and 12 weeks of backups" (or "Automatic backups off; …")."""
    how = (f"every {settings.interval_hours} hour{'s' if settings.interval_hours != 1 else ''}" if settings.enabled
           else "automatic backups off")
    return (f"{how[0].upper()}{how[1:]}; keeps {settings.retention_daily} "
            f"day{'s' if settings.retention_daily != 1 else ''} and {settings.retention_weekly} "
            f"week{'s' if settings.retention_weekly != 1 else ''} of backups")


def describe_change(change: Change) -> str:
    deleted = (f" {change.deleted} backup{'s' if change.deleted != 1 else ''} deleted by the new retention."
               if change.deleted else "")
    return f"{describe_settings(change.after)} (was: {describe_settings(change.before).lower()}).{deleted}"


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
        won = affected_rows(db.session.execute(
            update(BackupSchedule).where(BackupSchedule.tenant_id == tenant_id,
                                         BackupSchedule.next_run_at == planned)
            .values(next_run_at=following, last_enqueued_at=now)
            .execution_options(synchronize_session=False))) == 1
        db.session.commit()
        if not won:
            continue
        tenant = db.session.get(Tenant, tenant_id)
        # A disabled (or uninstalled) site's slot passes without a backup; re-enabled, it resumes at its next slot.
        if tenant is not None and tenant.is_installed and tenant.enabled:
            start_backup(tenant, None)
            enqueued.append(tenant_id)
    return enqueued
