"""What the restore pages (and a future Forge API) call: start a preview, start/cancel a restore, read a run, the
selection's dependency pull-in, and the report as JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..connect.tenants import Tenant, utcnow
from ..extensions import db
from ..jobs.dispatch import dispatch
from ..jobs.journal import ReadJournal
from ..jobs.models import Job, JobState
from ..jobs.models import move as move_job
from ..jobs.runtime import new_job, request_cancel, singleton_holder
from .engine import HAS_ID, Outcome
from .job import PREVIEW_KIND, RESTORE_KIND
from .models import LIVE, RestoreItem, RestoreRun, RunStatus, claim, move
from .plan import Action, PlannedItem, Selection
from .plan import select as select_items
from .types import load
from .types.base import Ref

FALLBACKS = ("drop", "admin")
# Outcomes a new run keeps: the object exists on the destination (an incomplete one keeps its id so that only its
# follow-up writes are retried).
KEPT_VALUES = [o.value for o in HAS_ID]


class RestoreRefused(Exception):
    """A restore action this tenant may not take now (no Active connection, a foreign snapshot, a run in flight)."""

    status = 409

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _source(destination: Tenant) -> Tenant:
    from ..recovery.connections import active_source_for

    source = active_source_for(destination)
    if source is None:
        raise RestoreRefused("This site has no Active disaster-recovery connection.", 403)
    return source


def restorable_snapshots(destination: Tenant) -> list[Any]:
    """The connected source's finished snapshots, newest first (empty without an Active connection)."""
    from ..backups.models import Snapshot
    from ..recovery.connections import active_source_for

    source = active_source_for(destination)
    if source is None:
        return []
    return list(db.session.scalars(select(Snapshot).where(Snapshot.tenant_id == source.id,
                                                          Snapshot.status.in_(("complete", "partial")))
                                   .order_by(Snapshot.taken_at.desc(), Snapshot.id.desc()).limit(20)))


def _singleton(tenant: Tenant) -> str:
    return f"restore:{tenant.id}"  # one restore job (preview or run) at a time per destination


def start_preview(destination: Tenant, snapshot_id: int, account_id: str | None) -> RestoreRun:
    """Create a run for ``snapshot_id`` and queue its preview (a read-only plan).

    The run and its job are one transaction: when another restore job holds the site, neither is kept.
    """
    from ..backups.models import Snapshot

    source = _source(destination)
    snapshot = db.session.get(Snapshot, snapshot_id)
    if snapshot is None or snapshot.tenant_id != source.id or snapshot.status not in ("complete", "partial"):
        raise RestoreRefused("That snapshot isn't one of the connected source site's finished snapshots.", 404)
    run = RestoreRun(tenant_id=destination.id, source_tenant_id=source.id, snapshot_id=snapshot.id,
                     requested_by=account_id, status=RunStatus.PLANNING.value)
    db.session.add(run)
    db.session.flush()  # the run's id, for the job's parameters
    job = new_job(destination.id, PREVIEW_KIND, {"run_id": run.id}, singleton=_singleton(destination),
                  requested_by=account_id)
    run.job_id = job.id
    db.session.add(job)
    _commit_with_job(destination)
    dispatch(job.id)
    return run


def _commit_with_job(destination: Tenant) -> None:
    """Commit a start and the job it queued, or nothing when another restore job holds the site (409)."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if singleton_holder(_singleton(destination)) is None:
            raise
        raise RestoreRefused("A restore or preview is already running on this site.") from None


def get_run(destination: Tenant, run_id: int) -> RestoreRun:
    """The run, if it is this tenant's (another tenant's id is indistinguishable from a missing one)."""
    run = db.session.get(RestoreRun, run_id)
    if run is None or run.tenant_id != destination.id:
        raise RestoreRefused("No such restore.", 404)
    return run


def end_orphaned(run: RestoreRun) -> bool:
    """A run shown as live whose job has ended (or is gone) can never move again: end it failed, saying so.

    Runs could be left so by a bug before unexpected errors ended them properly; Start and Cancel repair them
    instead of refusing forever. True when the run was ended here."""
    if RunStatus(run.status) not in LIVE:
        return False
    job = db.session.get(Job, run.job_id) if run.job_id else None
    if job is not None and not job.is_terminal:
        return False
    ended = claim(run.id, RunStatus.FAILED, finished_at=utcnow(),
                  message="The previous attempt ended without finishing; it can be started again.")
    db.session.commit()
    db.session.refresh(run)
    return ended


def start_restore(destination: Tenant, run_id: int, selection: Selection, user_fallback: str,
                  account_id: str | None) -> RestoreRun:
    """Queue the restore of a previewed (or finished, to run again) run with the admin's choices."""
    run = get_run(destination, run_id)
    _source(destination)
    end_orphaned(run)
    if user_fallback not in FALLBACKS:
        raise RestoreRefused("Choose what to do with users missing on this site.", 400)
    unknown = [t for t in selection.types if t not in load()]
    if unknown:
        raise RestoreRefused(f"Unknown object type: {unknown[0]}.", 400)
    params = {"run_id": run.id, "snapshot_id": run.snapshot_id, "selection": selection.to_dict(),
              "user_fallback": user_fallback}
    job = new_job(destination.id, RESTORE_KIND, params, singleton=_singleton(destination), requested_by=account_id)
    # The start is one claim: a conditional UPDATE of the run's status, committed with the job (whose singleton
    # allows one restore job per site). A request that loses either has changed nothing: not the live run's status,
    # not its items' outcomes.
    if not claim(run.id, RunStatus.RESTORING, job_id=job.id, message=None, finished_at=None,
                 selection_json=json.dumps(selection.to_dict()), user_fallback=user_fallback,
                 requested_by=account_id or run.requested_by):
        db.session.rollback()
        raise RestoreRefused("This restore is already running.")
    # Running again retries what didn't make it; what was created or matched keeps its outcome and id.
    db.session.execute(update(RestoreItem).where(RestoreItem.run_id == run.id,
                                                 RestoreItem.outcome.not_in(KEPT_VALUES))
                       .values(outcome=Outcome.PENDING.value, reason=None, fix=None, notes_json=None))
    db.session.add(job)
    _commit_with_job(destination)
    dispatch(job.id)
    db.session.refresh(run)
    return run


def cancel(destination: Tenant, run_id: int) -> RestoreRun:
    """Ask the run's job to stop between objects."""
    run = get_run(destination, run_id)
    if end_orphaned(run):
        return run
    job = db.session.get(Job, run.job_id) if run.job_id else None
    if job is None or RunStatus(run.status) not in LIVE:
        raise RestoreRefused("This restore isn't running.")
    request_cancel(job)
    db.session.refresh(job)
    if job.state == "cancelled":  # it hadn't started: nothing will move the run, so do it here
        move(run, RunStatus.CANCELLED, message="Cancelled before it started.")
    return run


def stop_queued_runs(destination_id: int, reason: str) -> None:
    """End now the destination's live runs whose job hasn't started, saying why (``reason``).

    Called when recovery through the destination's connection ends. A running job stops by itself between objects
    (its stop check reads the connection); a queued one (e.g. waiting out Jira's quota) would show "restoring"
    until it ran. A job claimed meanwhile fails the conditional move and is left to stop by itself.
    """
    runs = list(db.session.scalars(select(RestoreRun).where(RestoreRun.tenant_id == destination_id,
                                                            RestoreRun.status.in_([s.value for s in LIVE]))))
    for run in runs:
        job = job_of(run)
        if job is None or job.state != JobState.QUEUED.value:
            continue
        if move_job(job, JobState.CANCELLED, message=f"Stopped: {reason}."):
            ReadJournal(job.id).clear()
            move(run, RunStatus.CANCELLED, message=f"Stopped: {reason}.", finished_at=utcnow())


def job_of(run: RestoreRun) -> Job | None:
    return db.session.get(Job, run.job_id) if run.job_id else None


def items(run: RestoreRun, *, selected_only: bool = False) -> list[RestoreItem]:
    query = select(RestoreItem).where(RestoreItem.run_id == run.id)
    if selected_only:
        query = query.where(RestoreItem.selected.is_(True))
    rows = list(db.session.scalars(query.order_by(RestoreItem.id)))
    order = {t: n for n, t in enumerate(load())}
    return sorted(rows, key=lambda r: (order.get(r.type_key, 999), r.id))


@dataclass
class TypeCounts:
    type_key: str
    title: str
    counts: dict[str, int]
    total: int


def counts_by_type(rows: list[RestoreItem], field: str) -> list[TypeCounts]:
    """Per type, how many items have each value of ``field`` ("action" or "outcome")."""
    restorers = load()
    out: dict[str, TypeCounts] = {}
    for row in rows:
        title = restorers[row.type_key].title if row.type_key in restorers else row.type_key
        entry = out.setdefault(row.type_key, TypeCounts(row.type_key, title, {}, 0))
        value = getattr(row, field)
        entry.counts[value] = entry.counts.get(value, 0) + 1
        entry.total += 1
    return list(out.values())


def pull_in(run: RestoreRun, selection: Selection) -> list[RestoreItem]:
    """The objects the selection needs but didn't choose (dependencies pulled in), from the stored plan."""
    rows = items(run)
    planned = {(r.type_key, r.source_id): PlannedItem(r.type_key, r.source_id, r.natural_key, r.name,
                                                      Action(r.action), refs=[Ref(t, s, o) for t, s, o in r.refs])
               for r in rows}
    # Selection by project needs each object's projects, which the preview doesn't store yet: types only here.
    select_items(planned, selection, {})
    by_key = {(r.type_key, r.source_id): r for r in rows}
    return [by_key[k] for k, p in planned.items() if p.pulled_in]


REPORT_COLUMNS = ("type", "name", "naturalKey", "sourceId", "destinationId", "action", "outcome", "reason", "fix",
                  "notes")
NOTES_SEPARATOR = " | "  # notes in one CSV cell


def report_rows(run: RestoreRun) -> list[dict[str, Any]]:
    return [{"type": r.type_key, "name": r.name, "naturalKey": r.natural_key, "sourceId": r.source_id,
             "destinationId": r.dest_id, "action": r.action, "outcome": r.outcome, "reason": r.reason or "",
             "fix": r.fix or "", "notes": r.notes} for r in items(run, selected_only=True)]


def report_json(run: RestoreRun) -> dict[str, Any]:
    return {"run": run.id, "snapshot": run.snapshot_id, "status": run.status, "selection": run.selection,
            "userFallback": run.user_fallback, "missingUsers": run.missing_users, "summary": run.summary,
            "verification": run.verification, "objects": report_rows(run)}


def _safe_cell(value: Any) -> str:
    """Spreadsheet apps run cells starting with = + - @ as formulas: prefix those with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_csv(run: RestoreRun) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_COLUMNS)
    for row in report_rows(run):
        row = dict(row, notes=NOTES_SEPARATOR.join(row["notes"]))
        writer.writerow([_safe_cell(row[c]) for c in REPORT_COLUMNS])
    return out.getvalue()


def outcome_labels() -> dict[str, str]:
    return {o.value: o.value.capitalize() for o in Outcome}
