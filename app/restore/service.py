"""What both doors (Connect pages, Forge JSON API) call for a restore: start a preview, start/cancel a restore, read
a run, the selection's dependency pull-in, and the report as JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..extensions import db
from ..jira.access import AUTHORISE_FIX
from ..jira.fixes import FORGE_FIX
from ..jobs.dispatch import dispatch
from ..jobs.journal import ReadJournal
from ..jobs.models import Job, JobState
from ..jobs.models import move as move_job
from ..jobs.runtime import new_job, request_cancel, singleton_holder
from ..recovery import audit
from ..tenants import Tenant
from .engine import HAS_ID, Outcome
from .ids import ADMIN_STANDS_IN, CHOICES
from .issues.subset import SubsetError, narrowed, subset_of
from .job import PREVIEW_KIND, RESTORE_KIND
from .membership import memberships
from .models import LIVE, RestoreItem, RestoreRun, RunStatus, claim, move
from .plan import Action, PlannedItem, Selection, belongs_to_projects, project_keys
from .plan import select as select_items
from .restorers import load
from .types.base import Ref

FALLBACKS = CHOICES  # the admin's choices for a missing person (``ids.PeoplePolicy``)
# Missing users take the restoring admin's place unless the admin chooses otherwise: with "drop", every project led
# by someone this site lacks fails (Jira requires a lead), which is never what an admin on their worst day wants.
DEFAULT_FALLBACK = ADMIN_STANDS_IN
# Outcomes a new run keeps: the object exists on the destination (an incomplete one keeps its id so that only its
# follow-up writes are retried).
KEPT_VALUES = [o.value for o in HAS_ID]
# The summary key under which a preview records the credentials and scopes it was planned with (see planned_with).
PLANNED_WITH = "plannedWith"
CREDENTIAL_WORDS = {"forge": "the Forge app's scopes", "oauth": "the OAuth grant", "connect": "Connect"}


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
                     requested_by=account_id, status=RunStatus.PLANNING.value, user_fallback=DEFAULT_FALLBACK,
                     summary_json=json.dumps({PLANNED_WITH: planned_with(destination)}))
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
    """Queue the restore of a previewed (or finished, to run again) run with the admin's choices.

    :raises RestoreRefused: no Active connection (403); an unknown fallback, type or project key (400); a preview
        made out of date by a newer preview or a grant given since (409); the run already running (409).
    """
    run = get_run(destination, run_id)
    _source(destination)
    end_orphaned(run)
    check_choices(run, selection, user_fallback)
    stale = stale_reason(run)
    if stale is not None:
        raise RestoreRefused(stale, 409)
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


def check_choices(run: RestoreRun, selection: Selection, user_fallback: str) -> None:
    """Refuse (400) a fallback, type or project key the run can't take, saying what it expected."""
    if user_fallback not in FALLBACKS:
        # The doors offer exactly the two choices, so this wording stays that of the page's question.
        raise RestoreRefused("Choose what to do with users missing on this site.", 400)
    unknown = [t for t in selection.types if t not in load()]
    if unknown:
        raise RestoreRefused(f"Unknown object type: {unknown[0][:64]}.", 400)
    if selection.projects:
        held = sorted({p for keys in project_membership(run).values() for p in keys})
        missing = [p for p in selection.projects if p not in held]
        if missing:
            raise RestoreRefused(f"This backup holds no project {missing[0][:40]!r}; it holds "
                                 f"{', '.join(held) or 'no projects'}.", 400)
    check_jql(run, selection)


def check_jql(run: RestoreRun, selection: Selection) -> None:
    """Refuse (400) JQL a backup can't evaluate, or that chooses no issue of it, saying why."""
    if not selection.jql:
        return
    try:
        subset = subset_of(run.snapshot_id, selection)
    except SubsetError as exc:
        raise RestoreRefused(str(exc), 400) from None
    if not subset:
        where = f" in {', '.join(selection.projects)}" if selection.projects else ""
        raise RestoreRefused(f"No issue of this backup{where} matches that JQL, so nothing would be restored.", 400)


def stale_reason(run: RestoreRun) -> str | None:
    """Why a preview may no longer be started (None while it may): a newer preview of this site, or an OAuth grant
    given since it was made (what it planned as "can't restore" may now be restorable). Only previews go stale: a
    finished run is history, and running it again plans afresh."""
    if RunStatus(run.status) != RunStatus.PLANNED:
        return None
    newer = db.session.scalar(select(RestoreRun.id).where(RestoreRun.tenant_id == run.tenant_id,
                                                          RestoreRun.id > run.id).limit(1))
    if newer is not None:
        return f"This preview is out of date: a newer one (#{newer}) was made since. Open that one, or preview again."
    from ..oauth.flow import grant_for
    from ..oauth.models import GrantState

    destination = db.session.get(Tenant, run.tenant_id)
    grant = grant_for(destination) if destination is not None else None
    if grant is not None and grant.grant_state is GrantState.ACTIVE and _naive(grant.authorised_at) > \
            _naive(run.created_at):
        return ("This preview is out of date: full backup and restore was authorised after it was made, so more "
                "can be restored now. Preview again.")
    recorded = run.summary.get(PLANNED_WITH)
    if destination is not None and recorded is not None and recorded != planned_with(destination):
        return _access_changed(recorded, planned_with(destination))
    return None


def planned_with(destination: Tenant) -> dict[str, list[str]]:
    """The credential kinds the app calls ``destination``'s Jira with now, each with its scopes (sorted): a Forge
    site's app scopes (those of the deployed manifest), else Connect plus an active OAuth grant's scopes.

    A preview records it (in its summary, which a restore replaces): what it planned as restorable or "can't
    restore" holds only while this is unchanged."""
    if destination.is_forge:
        from ..forge import scopes

        return {"forge": sorted(scopes._granted())}  # what forge_allows checks every call against
    from ..oauth.flow import grant_for
    from ..oauth.models import GrantState

    kinds: dict[str, list[str]] = {"connect": []}
    grant = grant_for(destination)
    if grant is not None and grant.grant_state is GrantState.ACTIVE:
        kinds["oauth"] = sorted(grant.scope_set)
    return kinds


def _access_changed(then: dict[str, list[str]], now: dict[str, list[str]]) -> str:
    """The stale preview's words: which credential or scopes the app gained or lost since the preview."""
    changes: list[str] = []
    for kind in sorted(then.keys() | now.keys()):
        name = CREDENTIAL_WORDS.get(kind, kind)
        if kind not in then or kind not in now:
            changes.append(f"{name} {'given' if kind in now else 'removed'}")
            continue
        for verb, scopes in (("gained", set(now[kind]) - set(then[kind])), ("lost", set(then[kind]) - set(now[kind]))):
            if scopes:
                named = sorted(scopes)
                changes.append(f"{name} {verb} {', '.join(named[:3])}{' …' if len(named) > 3 else ''}")
    return ("This preview is out of date: the app's permissions on this site changed since it was made ("
            f"{'; '.join(changes)}), so what can be restored has changed. Preview again.")


def _naive(value: Any) -> Any:
    return value.replace(tzinfo=None) if value is not None and value.tzinfo is not None else value


def project_membership(run: RestoreRun) -> dict[tuple[str, str], set[str]]:
    """(type, source id) -> the project keys the object belongs to, for the run's types that belong to projects.

    Read from the snapshot (the preview's rows don't keep it), only for the few types whose restorer says which
    projects an object belongs to (projects, their own statuses, boards), so it stays cheap on a large site.
    """
    from ..backups.snapshots import SnapshotReader

    restorers = load()
    present = set(db.session.scalars(select(RestoreItem.type_key).where(RestoreItem.run_id == run.id).distinct()))
    reader = SnapshotReader(run.snapshot_id)
    out: dict[tuple[str, str], set[str]] = {}
    for type_key in sorted(present):
        restorer = restorers.get(type_key)
        if restorer is None or not belongs_to_projects(restorer):
            continue
        for obj in reader.objects(type_key):
            out[(type_key, restorer.source_id(obj))] = project_keys(restorer, obj)
    return memberships(out)


def cancel(destination: Tenant, run_id: int) -> RestoreRun:
    """Ask the run's job to stop between objects."""
    run = get_run(destination, run_id)
    if end_orphaned(run):
        return run
    job = db.session.get(Job, run.job_id) if run.job_id else None
    if job is None or RunStatus(run.status) not in LIVE:
        raise RestoreRefused("This restore isn't running.")
    request_cancel(job)
    audit.restore_cancel_asked(run)  # who asked, in the audit log (app.recovery.audit)
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


def selected_rows(run: RestoreRun, selection: Selection) -> list[tuple[RestoreItem, bool]]:
    """What ``selection`` restores of the run's stored plan: each row it includes, and whether it was pulled in
    (a dependency of what was chosen rather than chosen itself) — exactly what the run would restore."""
    rows = items(run)
    selection = narrowed(selection, subset_of(run.snapshot_id, selection))  # JQL: its issues' projects
    planned = {(r.type_key, r.source_id): PlannedItem(r.type_key, r.source_id, r.natural_key, r.name,
                                                      Action(r.action), refs=[Ref(t, s, o) for t, s, o in r.refs])
               for r in rows}
    select_items(planned, selection, project_membership(run) if selection.projects else {})
    return [(r, planned[(r.type_key, r.source_id)].pulled_in) for r in rows
            if planned[(r.type_key, r.source_id)].selected]


@dataclass(frozen=True)
class Blocker:
    """Why a restore may not start as chosen (``code``: "leads" or "grant"), in words, with the fix."""

    code: str
    text: str
    fix: str


@dataclass
class Consequences:
    """What starting the run with a selection and fallback would do, counted before anything is written."""

    creates: int
    updates: int
    kept: int  # already on the site (identical or kept as they are)
    not_restored: int  # skipped or can't be restored
    blockers: list[Blocker]

    @property
    def writes(self) -> int:
        return self.creates + self.updates


def consequences(run: RestoreRun, selection: Selection, user_fallback: str) -> Consequences:
    """Count what the selection would create and update, and what blocks it (the confirmation's words)."""
    chosen = [row for row, _pulled in selected_rows(run, selection)]
    todo = [r for r in chosen if r.outcome not in KEPT_VALUES]
    counts = {a: sum(1 for r in todo if r.action == a.value) for a in Action}
    blockers = [b for b in (_leads_blocker(run, chosen, user_fallback), _grant_blocker(todo)) if b is not None]
    return Consequences(counts[Action.CREATE], counts[Action.UPDATE], counts[Action.REUSE],
                        counts[Action.SKIP] + counts[Action.CANNOT], blockers)


def _leads_blocker(run: RestoreRun, chosen: list[RestoreItem], user_fallback: str) -> Blocker | None:
    if user_fallback != "drop":
        return None
    keys = {r.natural_key.upper() for r in chosen if r.type_key == "projects" and r.outcome not in KEPT_VALUES}
    leaders = [p for p in run.missing_people if set(p.get("leads") or []) & keys]
    if not leaders:
        return None
    failing = sorted({k for p in leaders for k in p.get("leads") or [] if k in keys})
    names = ", ".join(str(p.get("displayName") or "someone without a name in the backup") for p in leaders)
    return Blocker("leads", f"{len(failing)} project{'s' if len(failing) != 1 else ''} would fail: "
                            f"{', '.join(failing)}. Jira requires a project lead, and their leads ({names}) have no "
                            "account on this site, so leaving missing users out leaves them without one.",
                   "Choose \"Put me in their place\" for users who aren't on this site, or invite them to this "
                   "site and preview again.")


def _grant_blocker(todo: list[RestoreItem]) -> Blocker | None:
    walled = [r for r in todo if r.action == Action.CANNOT.value and r.fix in (AUTHORISE_FIX, FORGE_FIX)]
    if not walled:
        return None
    restorers = load()
    titles = sorted({restorers[r.type_key].title if r.type_key in restorers else r.type_key for r in walled})
    depending = sum(1 for r in todo if r.action == Action.SKIP.value)
    also = f"; {depending} object{'s' if depending != 1 else ''} that depend on them would be skipped" \
        if depending else ""
    if walled[0].fix == AUTHORISE_FIX:
        text = (f"{len(walled)} object{'s' if len(walled) != 1 else ''} can't be restored without full backup and "
                f"restore authorised on this site ({', '.join(titles)}){also}.")
        return Blocker("grant", text, "Authorise full backup and restore on the Disaster recovery page, then "
                                      "preview again.")
    return Blocker("grant", f"{len(walled)} object(s) can't be restored with the app's current scopes "
                            f"({', '.join(titles)}){also}.", walled[0].fix or "")


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
