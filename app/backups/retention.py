"""Retention: which snapshots a tenant keeps, pruning the rest and the blobs nothing references any more.

Rules (``keep``): a running snapshot is always kept; of finished ones (complete or partial) the newest of each of the
last N days that have one, and the newest of each of the last M ISO weeks that have one (N and M: the site's own
setting on its schedule, else BACKUP_RETENTION_DAILY and BACKUP_RETENTION_WEEKLY); always the newest complete
snapshot (so the only complete one never goes); every snapshot reachable through an active disaster-recovery
connection; failed snapshots while younger than the daily window (the page
shows them). Counting days *with* snapshots, not calendar days, means a site that stopped being backed up (it was
lost) keeps its history however long pruning runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..extensions import affected_rows, db
from ..tenants import Tenant
from .blob_models import SnapshotStreamBlob
from .blobs import sweep_orphan_objects, sweep_unreferenced
from .models import Blob, BlobData, RetentionRun, Snapshot, SnapshotEntry, SnapshotStatus, SnapshotType
from .purge import sweep_departed_when_due
from .storage import DatabaseBlobStore, blob_store, digests_in

log = logging.getLogger(__name__)

DEFAULT_DAILY = 30
DEFAULT_WEEKLY = 12
DEFAULT_INTERVAL_HOURS = 24
GC_BATCH = 500

# A feature that pins snapshots (tenant -> snapshot ids retention must keep); app/wiring.py lists them.
Protector = Callable[[Tenant], Iterable[int]]


def protectors() -> list[Protector]:
    """The app's snapshot pins besides an active connection's (``app/wiring.py``)."""
    found: list[Protector] = current_app.extensions["wiring"].protectors
    return found


@dataclass(frozen=True)
class SnapshotFacts:
    id: int
    status: str
    taken_at: datetime


@dataclass
class PruneResult:
    kept: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    blobs_deleted: int = 0
    stream_blobs_deleted: int = 0  # streamed blobs (attachments…) no kept snapshot holds


def keep(snapshots: Iterable[SnapshotFacts], *, daily: int, weekly: int, protected: set[int],
         now: datetime) -> set[int]:
    """The ids to keep under the rules in this module's docstring (pure: no database)."""
    ordered = sorted(snapshots, key=lambda s: (s.taken_at, s.id), reverse=True)
    kept = {s.id for s in ordered if s.status == SnapshotStatus.RUNNING.value or s.id in protected}
    good = [s for s in ordered if s.status in (SnapshotStatus.COMPLETE.value, SnapshotStatus.PARTIAL.value)]
    kept |= _newest_per(good, lambda s: s.taken_at.date(), daily)
    kept |= _newest_per(good, lambda s: tuple(s.taken_at.isocalendar())[:2], weekly)
    newest_complete = next((s for s in good if s.status == SnapshotStatus.COMPLETE.value), None)
    if newest_complete is not None:
        kept.add(newest_complete.id)
    failed_cutoff = now - timedelta(days=daily)
    kept |= {s.id for s in ordered if s.status == SnapshotStatus.FAILED.value and s.taken_at >= failed_cutoff}
    return kept


def _newest_per(newest_first: list[SnapshotFacts], bucket: Callable[[SnapshotFacts], object], limit: int) -> set[int]:
    chosen: dict[object, int] = {}
    for s in newest_first:
        key = bucket(s)
        if key not in chosen:
            if len(chosen) >= limit:
                break
            chosen[key] = s.id
    return set(chosen.values())


def protected_snapshot_ids(tenant: Tenant) -> set[int]:
    """Snapshots another site may be reading: all of the tenant's while its DR connection is Active, plus pins."""
    ids: set[int] = set()
    try:
        from ..recovery.connections import ConnectionState, connection_for_source
    except ImportError:  # the connections feature isn't there: nothing is reachable through it
        connection_for_source = None  # type: ignore[assignment]
    if connection_for_source is not None:
        conn = connection_for_source(tenant)
        if conn is not None and conn.state is ConnectionState.ACTIVE:
            # An active destination may read (and restore) any of the source's snapshots.
            ids |= set(db.session.scalars(select(Snapshot.id).where(Snapshot.tenant_id == tenant.id)))
    for protector in protectors():
        ids |= set(protector(tenant))
    return ids


def configured_retention() -> tuple[int, int]:
    """The app-wide retention (BACKUP_RETENTION_DAILY, BACKUP_RETENTION_WEEKLY): what a site without its own keeps."""
    config = current_app.config
    return (int(config.get("BACKUP_RETENTION_DAILY", DEFAULT_DAILY)),
            int(config.get("BACKUP_RETENTION_WEEKLY", DEFAULT_WEEKLY)))


def retention_for(tenant: Tenant) -> tuple[int, int]:
    """``(daily, weekly)`` the tenant keeps: its own setting (its schedule's), else the app-wide one."""
    from .schedule import BackupSchedule

    daily, weekly = configured_retention()
    schedule = db.session.get(BackupSchedule, tenant.id)
    if schedule is not None:
        daily = schedule.retention_daily if schedule.retention_daily is not None else daily
        weekly = schedule.retention_weekly if schedule.retention_weekly is not None else weekly
    return daily, weekly


def _facts(tenant: Tenant) -> list[SnapshotFacts]:
    return [SnapshotFacts(i, s, t) for i, s, t in db.session.execute(
        select(Snapshot.id, Snapshot.status, Snapshot.taken_at).where(Snapshot.tenant_id == tenant.id))]


def doomed_under(tenant: Tenant, daily: int, weekly: int, now: datetime | None = None) -> list[SnapshotFacts]:
    """The tenant's snapshots a pass with ``daily``/``weekly`` would delete, oldest first (nothing is deleted)."""
    facts = _facts(tenant)
    kept = keep(facts, daily=daily, weekly=weekly, protected=protected_snapshot_ids(tenant), now=now or utcnow())
    return sorted((f for f in facts if f.id not in kept), key=lambda f: (f.taken_at, f.id))


def prune(tenant: Tenant, now: datetime | None = None) -> PruneResult:
    """Delete the tenant's snapshots the rules don't keep, then the blobs no snapshot references."""
    now = now or utcnow()
    _settle_issue_changes(tenant.id)  # before snapshots go: a row a kept, finished snapshot consumed is done with
    facts = _facts(tenant)
    daily, weekly = retention_for(tenant)
    kept = keep(facts, daily=daily, weekly=weekly, protected=protected_snapshot_ids(tenant), now=now)
    doomed = sorted(f.id for f in facts if f.id not in kept)
    for snapshot_id in doomed:
        # Explicit deletes (not FK cascades): SQLite doesn't enforce them unless asked.
        db.session.execute(delete(SnapshotEntry).where(SnapshotEntry.snapshot_id == snapshot_id))
        db.session.execute(delete(SnapshotType).where(SnapshotType.snapshot_id == snapshot_id))
        db.session.execute(delete(SnapshotStreamBlob).where(SnapshotStreamBlob.snapshot_id == snapshot_id))
        db.session.execute(delete(Snapshot).where(Snapshot.id == snapshot_id))
        db.session.commit()
    result = PruneResult(kept=sorted(kept), deleted=doomed)
    result.blobs_deleted = collect_garbage(tenant.id)
    result.stream_blobs_deleted = collect_stream_garbage(tenant.id, now)
    if doomed or result.blobs_deleted or result.stream_blobs_deleted:
        log.info("pruned tenant %s: %d snapshot(s), %d blob(s), %d streamed blob(s)", tenant.client_key,
                 len(doomed), result.blobs_deleted, result.stream_blobs_deleted)
    return result


def _settle_issue_changes(tenant_id: int) -> None:
    """Drop the webhook news finished snapshots consumed (``app.issuedata.changes.settle``)."""
    from ..issuedata.changes import settle

    settled = settle(tenant_id)
    if settled.pruned or settled.released:
        log.info("tenant %s: %d consumed issue change(s) pruned, %d given back for the next pass", tenant_id,
                 settled.pruned, settled.released)


def collect_garbage(tenant_id: int) -> int:
    """Delete the tenant's blobs no entry references; skipped while a snapshot runs (it may be about to reuse one)."""
    running = db.session.execute(select(func.count(Snapshot.id)).where(
        Snapshot.tenant_id == tenant_id, Snapshot.status == SnapshotStatus.RUNNING.value)).scalar_one()
    if running:
        return 0
    store = blob_store()
    total = 0
    while True:
        orphans = db.session.execute(
            select(Blob.id, Blob.sha256).where(
                Blob.tenant_id == tenant_id,
                ~exists().where(SnapshotEntry.blob_id == Blob.id)).limit(GC_BATCH)).all()
        if not orphans:
            return total
        digests = [sha for _, sha in orphans]
        db.session.execute(delete(Blob).where(Blob.id.in_([i for i, _ in orphans])))
        if isinstance(store, DatabaseBlobStore):
            store.delete(tenant_id, digests)
        else:
            # Leftover DB-backend rows from before a backend switch go too.
            db.session.execute(delete(BlobData).where(BlobData.tenant_id == tenant_id,
                                                      digests_in(BlobData.sha256, digests)))
        db.session.commit()
        if not isinstance(store, DatabaseBlobStore):
            store.delete(tenant_id, digests)  # after the commit: a metadata row never names a deleted file
        total += len(orphans)


def collect_stream_garbage(tenant_id: int, now: datetime | None = None) -> int:
    """Mark-and-sweep of streamed blobs over the snapshots' manifests (``backup_snapshot_stream_blobs``).

    Skipped while a snapshot runs, as for configuration blobs: it may have just stored content it is about to
    record as held. Objects a crash left without metadata go too, once older than an upload could be.
    """
    running = db.session.execute(select(func.count(Snapshot.id)).where(
        Snapshot.tenant_id == tenant_id, Snapshot.status == SnapshotStatus.RUNNING.value)).scalar_one()
    if running:
        return 0
    deleted = sweep_unreferenced(tenant_id)
    sweep_orphan_objects(tenant_id, now)
    return deleted


def _claim(tenant_id: int, now: datetime, interval: timedelta) -> bool:
    """Claim today's pruning of a tenant atomically, so several clocks prune it once."""
    claimed = affected_rows(db.session.execute(update(RetentionRun).where(
        RetentionRun.tenant_id == tenant_id, RetentionRun.last_run_at <= now - interval)
        .values(last_run_at=now)))
    if claimed == 1:
        db.session.commit()
        return True
    if db.session.get(RetentionRun, tenant_id) is not None:
        db.session.rollback()
        return False
    try:
        db.session.execute(insert(RetentionRun).values(tenant_id=tenant_id, last_run_at=now))
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        return False


def run_retention(now: datetime) -> None:
    """Prune every tenant with snapshots once per BACKUP_PRUNE_INTERVAL_HOURS (cheap on the ticks in between)."""
    interval = timedelta(hours=float(current_app.config.get("BACKUP_PRUNE_INTERVAL_HOURS", DEFAULT_INTERVAL_HOURS)))
    due = db.session.scalars(
        select(Snapshot.tenant_id).distinct()
        .outerjoin(RetentionRun, RetentionRun.tenant_id == Snapshot.tenant_id)
        .where((RetentionRun.tenant_id.is_(None)) | (RetentionRun.last_run_at <= now - interval))).all()
    db.session.commit()
    for tenant_id in due:
        if not _claim(tenant_id, now, interval):
            continue
        tenant = db.session.get(Tenant, tenant_id)
        if tenant is None:
            continue
        try:
            prune(tenant, now)
        except Exception:
            db.session.rollback()
            log.exception("pruning tenant %s failed", tenant.client_key)
    sweep_departed_when_due(now, interval)  # purged tenants' objects a failure or a crash left behind
