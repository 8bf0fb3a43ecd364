"""What both doors (Connect pages, Forge JSON API) call for backups: start one, progress, a snapshot, its contents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..connect.auth import AppDisabledError
from ..extensions import db
from ..issuedata.records import COUNTS_TYPE, STATE_TYPE, IssueCounts, issue_counts
from ..jobs.models import Job
from ..jobs.runtime import enqueue, live_jobs
from ..tenants import Tenant
from .capture import JOB_KIND
from .catalogue import CATALOGUE
from .models import Snapshot
from .snapshots import Entry, SnapshotNotFound, SnapshotReader, TypeSummary


def singleton_key(tenant_id: int) -> str:
    return f"backup:{tenant_id}"


def start_backup(tenant: Tenant, account_id: str | None) -> tuple[Job, bool]:
    """Queue a backup of ``tenant`` (or return the one already queued/running); ``(job, created)``.

    :raises AppDisabledError: the site's admin disabled the app: no new backup starts, on demand or scheduled.
    """
    if not tenant.enabled:
        raise AppDisabledError()
    return enqueue(tenant.id, JOB_KIND, {}, singleton=singleton_key(tenant.id),
                   requested_by=account_id or "schedule")


def running_backup(tenant: Tenant) -> Job | None:
    """The tenant's live backup job, if any."""
    jobs = live_jobs(tenant.id, JOB_KIND)
    return jobs[0] if jobs else None


def last_backup_job(tenant: Tenant) -> Job | None:
    """The tenant's most recent backup job, whatever its state (a failure before any snapshot shows here)."""
    return db.session.scalars(select(Job).where(Job.tenant_id == tenant.id, Job.kind == JOB_KIND)
                              .order_by(Job.created_at.desc()).limit(1)).first()


@dataclass(frozen=True)
class TypeView:
    key: str
    label: str
    status: str
    count: int
    reason: str | None
    api_calls: int


@dataclass(frozen=True)
class SnapshotView:
    id: int
    taken_at: datetime
    finished_at: datetime | None
    status: str
    message: str | None
    object_count: int
    bytes_stored: int
    bytes_new: int
    api_calls: int
    duration_seconds: float | None
    app_version: str
    format_version: int
    types: list[TypeView]
    issue_data: IssueCounts | None = None  # issues, comments, worklogs, attachments; None without issue data

    @property
    def counts(self) -> dict[str, int]:
        return {t.key: t.count for t in self.types}


def _type_view(summary: TypeSummary) -> TypeView:
    otype = CATALOGUE.get(summary.type_key)
    return TypeView(summary.type_key, otype.label if otype else summary.type_key, summary.status, summary.count,
                    summary.reason, summary.api_calls)


def _view(snapshot: Snapshot, with_types: bool = True) -> SnapshotView:
    types = [_type_view(s) for s in SnapshotReader(snapshot.id).type_summaries()] if with_types else []
    return SnapshotView(snapshot.id, snapshot.taken_at, snapshot.finished_at, snapshot.status, snapshot.message,
                        snapshot.object_count, snapshot.bytes_stored, snapshot.bytes_new, snapshot.api_calls,
                        snapshot.duration_seconds, snapshot.app_version, snapshot.format_version, types,
                        _issue_data(snapshot.id, types))


def _issue_data(snapshot_id: int, types: list[TypeView]) -> IssueCounts | None:
    """The snapshot's issue-data counts (one small entry read), only when its types say it holds issue data."""
    if not any(t.key in (COUNTS_TYPE, STATE_TYPE) for t in types):
        return None
    return issue_counts(snapshot_id)


def _own_snapshot(tenant: Tenant, snapshot_id: int) -> Snapshot:
    snapshot = db.session.get(Snapshot, snapshot_id)
    if snapshot is None or snapshot.tenant_id != tenant.id:  # another tenant's snapshot doesn't exist for you
        raise SnapshotNotFound(f"snapshot {snapshot_id} does not exist")
    return snapshot


def snapshot_detail(tenant: Tenant, snapshot_id: int) -> SnapshotView:
    """One of the tenant's snapshots. :raises SnapshotNotFound: no such snapshot for this tenant."""
    return _view(_own_snapshot(tenant, snapshot_id))


def snapshot_contents(tenant: Tenant, snapshot_id: int, type_key: str, limit: int = 1000) -> list[Entry]:
    """The first ``limit`` entries of one type (natural key, source id), without decrypting payloads."""
    _own_snapshot(tenant, snapshot_id)
    out: list[Entry] = []
    for entry in SnapshotReader(snapshot_id).entries(type_key):
        out.append(entry)
        if len(out) >= limit:
            break
    return out


def progress(tenant: Tenant) -> dict[str, Any]:
    """Where the tenant's backup stands, for polling: the live job, else the last one's outcome."""
    job = running_backup(tenant) or last_backup_job(tenant)
    if job is None:
        return {"state": "none"}
    snapshot_id = job.checkpoint.get("snapshot_id") or (job.result or {}).get("snapshot_id")
    return {"jobId": job.id, "state": job.state, "percent": job.percent, "done": job.progress_done,
            "total": job.progress_total, "step": job.step, "message": job.message, "snapshotId": snapshot_id,
            "finished": job.is_terminal}
