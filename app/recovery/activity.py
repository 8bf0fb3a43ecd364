"""The audit log's job events: each backup, preview and restore starting and ending, recorded from the jobs table.

A job's row already says who asked (``requested_by``: an account id, or "schedule"), when it was queued and how and
when it ended, whatever ended it (its runner, a crash, a cancel before it started, the connection ending). So instead
of a hook at every one of those places, the log is brought up to date from the jobs: before either door shows it, and
on every sweeper tick. Each event is inserted once (``(job_id, action)`` is unique; a second writer's insert does
nothing), at the job's own time, so the log reads the same whenever it was caught up.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite

from ..backups.models import Snapshot, SnapshotStatus
from ..extensions import db
from ..jobs.models import Job, JobState
from ..restore.models import RestoreRun
from . import audit

log = logging.getLogger(__name__)

BACKUP_KIND, PREVIEW_KIND, RESTORE_KIND = "backup", "restore-preview", "restore"
AREAS = {BACKUP_KIND: audit.BACKUPS, PREVIEW_KIND: audit.RESTORE, RESTORE_KIND: audit.RESTORE}
STARTED = {BACKUP_KIND: "backup-started", PREVIEW_KIND: "preview-started", RESTORE_KIND: "restore-started"}
ENDED_ACTIONS = ("backup-finished", "backup-failed", "preview-finished", "restore-finished")
BATCH = 500  # jobs caught up per call; the rest on the next call


def catch_up(tenant_id: int | None = None, limit: int = BATCH) -> int:
    """Record the start and the end of every job (of ``tenant_id``, or of every tenant) the log lacks; commits.

    Returns how many entries were written.
    """
    written = 0
    for job in _jobs_missing(tenant_id, tuple(STARTED.values()), limit, terminal_only=False):
        written += _insert(_started_entry(job))
    for job in _jobs_missing(tenant_id, ENDED_ACTIONS, limit, terminal_only=True):
        written += _insert(_ended_entry(job))
    db.session.commit()
    return written


def catch_up_all(now: datetime) -> None:
    """Keep every tenant's log up to date even when nobody opens the page (cheap when there is nothing new)."""
    catch_up(None)


def _jobs_missing(tenant_id: int | None, actions: tuple[str, ...], limit: int, *, terminal_only: bool) -> list[Job]:
    recorded = exists().where(audit.AuditEntry.job_id == Job.id, audit.AuditEntry.action.in_(actions))
    query = select(Job).where(Job.kind.in_(tuple(STARTED)), ~recorded)
    if tenant_id is not None:
        query = query.where(Job.tenant_id == tenant_id)
    if terminal_only:
        query = query.where(Job.state.in_([JobState.SUCCEEDED.value, JobState.FAILED.value,
                                           JobState.CANCELLED.value]))
    return list(db.session.scalars(query.order_by(Job.created_at).limit(limit)))


def _insert(values: dict[str, Any]) -> int:
    """Insert one entry unless its ``(job_id, action)`` is already there (another process got there first)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values["detail"] = values["detail"][:500]
    table = audit.AuditEntry.__table__
    inserted = db.session.execute(insert(table).values(**values)
                                  .on_conflict_do_nothing(index_elements=["job_id", "action"])
                                  .returning(table.c.id)).all()
    return len(inserted)


def _base(job: Job, action: str, outcome: str, detail: str, when: datetime | None) -> dict[str, Any]:
    return {"tenant_id": job.tenant_id, "side": AREAS[job.kind], "action": action, "outcome": outcome,
            "account_id": job.requested_by, "detail": detail, "created_at": when or job.updated_at,
            "job_id": job.id}


def _started_entry(job: Job) -> dict[str, Any]:
    if job.kind == BACKUP_KIND:
        how = "by the schedule" if job.requested_by == "schedule" else "on demand"
        return _base(job, STARTED[job.kind], audit.SUCCEEDED, f"Started {how}.", job.created_at)
    run = _run_words(job)
    if job.kind == PREVIEW_KIND:
        detail = f"{run}: a preview (nothing is written to Jira)."
    else:
        detail = f"{run}: restoring {_selection_words(job.params.get('selection') or {})}."
    return _base(job, STARTED[job.kind], audit.SUCCEEDED, detail, job.created_at)


def _ended_entry(job: Job) -> dict[str, Any]:
    state = JobState(job.state)
    reason = job.message or "No reason was recorded."
    if job.kind == BACKUP_KIND:
        if state is JobState.FAILED:
            return _base(job, "backup-failed", audit.FAILED, reason, job.finished_at)
        if state is JobState.CANCELLED:
            return _base(job, "backup-finished", audit.CANCELLED, reason, job.finished_at)
        outcome, detail = _snapshot_words(job)
        return _base(job, "backup-finished", outcome, detail, job.finished_at)
    action = "preview-finished" if job.kind == PREVIEW_KIND else "restore-finished"
    run = _run_words(job)
    if state is JobState.FAILED:
        return _base(job, action, audit.FAILED, f"{run}: {reason}", job.finished_at)
    if state is JobState.CANCELLED:
        return _base(job, action, audit.CANCELLED, f"{run}: {reason}", job.finished_at)
    if job.kind == PREVIEW_KIND:
        return _base(job, action, audit.SUCCEEDED, f"{run}: the preview is ready.", job.finished_at)
    fidelity = (job.result or {}).get("fidelity")
    if fidelity is None:
        return _base(job, action, audit.SUCCEEDED, f"{run}: done.", job.finished_at)
    complete = float(fidelity) >= 1.0
    words = "done, identical to the backup" if complete else "done with differences from the backup"
    return _base(job, action, audit.SUCCEEDED if complete else audit.DIFFERENCES,
                 f"{run}: {words} (fidelity {float(fidelity) * 100:.1f} %).", job.finished_at)


def _snapshot_words(job: Job) -> tuple[str, str]:
    """A finished backup's outcome and detail from its snapshot: complete or partial, how many objects."""
    snapshot_id = (job.result or {}).get("snapshot_id") or job.checkpoint.get("snapshot_id")
    snapshot = db.session.get(Snapshot, snapshot_id) if snapshot_id else None
    if snapshot is None:
        return audit.SUCCEEDED, "Finished."
    objects = f"{snapshot.object_count} object{'s' if snapshot.object_count != 1 else ''}"
    if snapshot.status == SnapshotStatus.PARTIAL.value:
        return audit.PARTIAL, f"Partial: {objects}; {snapshot.message or 'some types could not be read.'}"
    if snapshot.status == SnapshotStatus.FAILED.value:
        return audit.FAILED, snapshot.message or "The snapshot failed."
    return audit.SUCCEEDED, f"Complete: {objects}."


def _run_words(job: Job) -> str:
    """"Restore #12 of the backup of 2026-04-02 10:15 UTC" (the run and its snapshot's time, when still there)."""

    run_id = job.params.get("run_id")
    run = db.session.get(RestoreRun, run_id) if run_id else None
    snapshot = db.session.get(Snapshot, run.snapshot_id) if run is not None else None
    of = f" of the backup of {snapshot.taken_at:%Y-%m-%d %H:%M} UTC" if snapshot is not None else ""
    return f"Restore #{run_id}{of}"


def _selection_words(selection: dict[str, Any]) -> str:
    types, projects = selection.get("types") or [], selection.get("projects") or []
    if not types and not projects:
        return "everything in the backup"
    parts = []
    if types:
        parts.append(f"{len(types)} type{'s' if len(types) != 1 else ''}")
    if projects:
        parts.append("projects " + ", ".join(str(p) for p in projects[:10]))
    return " and ".join(parts) + " (with what they depend on)"
