"""One attempt at a restore run, from start to report: plan (or carry on with the plan an earlier attempt saved),
write, bring back issue data, verify, record the outcome. And the preview: an attempt that only plans.

The job runners (``job.py``) create an attempt and turn how it ends (done, a wait, a failure, a stop) into the job's
outcome; everything the restore does is here. The attempt reads the source's snapshot on the connection's behalf, so
it checks between steps that the connection is still Active (``check_connection``).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..backups.snapshots import CorruptSnapshot, SnapshotReader
from ..clock import utcnow
from ..extensions import db
from ..issuedata.records import COUNTS_TYPE, FIELD_META_TYPE, ISSUE_TYPE, STATE_TYPE, restricted_groups
from ..issuedata.sprints import SPRINTS_TYPE
from ..jobs.journal import ReadJournal, journaled_reads
from ..jobs.runtime import JobContext, JobFailed
from ..jobs.threads import app_context_initializer
from ..objects.canonical import SiteObjects
from ..tenant_access import jira_access
from ..tenants import Tenant
from .engine import MAPPED, Executor, Reporter, Result
from .ids import PeoplePolicy
from .issues.run import authors_for, restore_issue_data
from .issues.subset import SubsetError, narrowed, subset_of
from .issues.verify import verify_restored
from .models import DatabaseState, RestoreItem, RestoreRun, RunStatus, earlier_ids, move, save_plan
from .pacing import PacedAccess, TokenBucket
from .plan import Action, Plan, PlanError, PlannedItem, Planner, Selection, type_order
from .restorers import load
from .reuse import ChainedJournal, RememberedReads, recent_preview
from .types.base import Ref, pooled_reads
from .verify import add_issue_section, verify

READABLE = ("complete", "partial")
UNREAD_MARK = "(not read by the backup:"  # how a type the snapshot lacks is listed among the run's unsupported types
PROGRESS_INTERVAL = 0.5  # seconds between progress writes and cancel checks during a run
# The snapshot's issue data (records, the backup's state and field metadata, counts, board sprints): verified on its own
ISSUE_DATA_TYPES = frozenset({ISSUE_TYPE, FIELD_META_TYPE, STATE_TYPE, COUNTS_TYPE, SPRINTS_TYPE})
STOPPED_DEACTIVATED = "the disaster-recovery connection was deactivated"
STOPPED_RELEASED = "the disaster-recovery connection was released"

load()  # every restorer declares its operations at import time


class RecoveryStopped(Exception):
    """The connection the run reads its source through is no longer Active: the run stops between objects."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def connection_ended(run: RestoreRun) -> str | None:
    """Why the run may no longer restore from its source (None while their connection is Active).

    Deactivation (final) and Release both end recovery through the connection: the transitions table leaves only
    Active as a state in which the destination reads the source's snapshots (``active_source_for``).
    """
    from ..recovery.connections import ConnectionState, RecoveryConnection

    state = db.session.scalar(
        select(RecoveryConnection.state)
        .where(RecoveryConnection.source_tenant_id == run.source_tenant_id,
               RecoveryConnection.destination_tenant_id == run.tenant_id)
        .order_by(RecoveryConnection.id.desc()).limit(1))
    db.session.commit()  # a fresh read each time; no transaction stays open
    if state is ConnectionState.ACTIVE:
        return None
    if state is ConnectionState.DEACTIVATED:
        return STOPPED_DEACTIVATED
    if state is ConnectionState.RELEASED:
        return STOPPED_RELEASED
    return "the disaster-recovery connection is no longer Active"


def check_connection(run: RestoreRun) -> None:
    """Raise ``RecoveryStopped`` when the run's connection is no longer Active."""
    reason = connection_ended(run)
    if reason is not None:
        raise RecoveryStopped(reason)


def snapshot_allowed(destination: Tenant, snapshot_id: int, run: RestoreRun | None = None) -> Tenant:
    """The source tenant whose snapshot ``snapshot_id`` the destination may restore, or raise ``JobFailed``.

    Checked again in the job (not only in the view): the connection may have been deactivated since the click
    (``RecoveryStopped`` for the ``run`` then: it ends cancelled, saying why).
    """
    from ..backups.models import Snapshot
    from ..recovery.connections import active_source_for

    source = active_source_for(destination)
    if run is not None and (source is None or source.id != run.source_tenant_id):
        check_connection(run)
    snapshot = db.session.get(Snapshot, snapshot_id)
    if source is None:
        raise JobFailed("This site has no Active disaster-recovery connection, so it can't restore a snapshot.")
    if snapshot is None or snapshot.tenant_id != source.id:
        raise JobFailed("That snapshot doesn't belong to the connected source site.")
    return source


def snapshot_site(snapshot_id: int) -> SiteObjects:
    """The source's configuration as the snapshot holds it, every readable type: what verification names the
    source's ids by. Issue data is left out: it is verified on its own, a project at a time (on a site with 10,000
    issues, holding it here took the restoring worker from 140 MB to 750 MB)."""
    reader = SnapshotReader(snapshot_id)
    site: SiteObjects = {}
    for summary in reader.type_summaries():
        if summary.status in READABLE and summary.type_key not in ISSUE_DATA_TYPES:
            site[summary.type_key] = [(e.natural_key, e.source_id, obj) for e, obj in reader.items(summary.type_key)]
    db.session.commit()  # no transaction stays open while verification reads Jira
    return site


def _load(ctx: JobContext) -> tuple[RestoreRun, Tenant]:
    run = db.session.get(RestoreRun, int(ctx.params["run_id"]))
    if run is None or run.tenant_id != ctx.tenant_id:
        raise JobFailed("The restore run no longer exists.")
    tenant = db.session.get(Tenant, ctx.tenant_id)
    if tenant is None or not tenant.is_installed:
        raise JobFailed("The app is no longer installed on this Jira site.")
    return run, tenant


def _access(tenant: Tenant) -> PacedAccess:
    rate = float(current_app.config.get("RESTORE_RATE_PER_SECOND", 0) or 0)
    return PacedAccess(jira_access(tenant), TokenBucket(rate) if rate > 0 else None)


def _concurrency() -> int:
    """Requests in flight at once against the destination (the executor's workers; the pooled reads' bound)."""
    return max(1, int(current_app.config.get("RESTORE_CONCURRENCY", 4)))


def _plan(run: RestoreRun, access: PacedAccess, selection: Selection, ctx: JobContext, people: PeoplePolicy,
          *, preview: bool = False) -> Plan:
    """Plan ``selection`` of the run's snapshot against the destination and save it as the run's rows. The groups
    restricted comments and work logs are shown to come with their project: a preview learns them for every project
    (a later selection's "also restored" is read from its rows), a restore of some projects for those."""
    reader = SnapshotReader(run.snapshot_id)
    ctx.progress(0, None, "Checking the snapshot")
    try:
        reader.verify()  # the whole snapshot is checked before anything is written
    except CorruptSnapshot as exc:
        raise JobFailed(f"The snapshot failed its integrity check and won't be restored: {exc}") from None
    summaries = reader.type_summaries()
    readable = [s.type_key for s in summaries if s.status in READABLE]
    db.session.commit()  # no transaction stays open while we read Jira
    restorers = load()

    def on_type(type_key: str) -> None:
        check_connection(run)  # planning reads the source's snapshot on the connection's behalf: between types
        ctx.progress(0, None, f"Reading the destination's {restorers[type_key].title.lower()}")

    try:
        selection = narrowed(selection, subset_of(run.snapshot_id, selection))  # JQL: the projects of its issues
    except SubsetError as exc:
        raise JobFailed(str(exc)) from None
    issue_groups = None
    if preview or not selection.everything:  # everything brings every group anyway
        ctx.progress(0, None, "Reading the backup's issues")
        issue_groups = restricted_groups(run.snapshot_id, selection.projects or None)
        db.session.commit()
    try:
        plan = Planner(access, restorers, earlier_ids(run)).plan(reader, readable, selection, people,
                                                                   on_type=on_type, issue_groups=issue_groups)
    except PlanError as exc:
        raise JobFailed(str(exc)) from None
    plan.unsupported_types += [f"{s.type_key} {UNREAD_MARK} {s.reason or s.status})"
                               for s in summaries if s.status not in READABLE]
    run.missing_users_json = json.dumps(plan.missing_people)
    run.unsupported_types_json = json.dumps(plan.unsupported_types)
    save_plan(run.id, list(plan.items.values()))
    return plan


def _saved_plan(run: RestoreRun, ctx: JobContext) -> Plan:
    """The plan an earlier attempt of this job made and saved, rebuilt without reading the destination again.

    A resumed restore carries on with the plan it was executing: re-planning would read the whole destination
    again, which on a large site costs more than an hour of Jira's quota by itself (so a restore that had to wait
    once would never finish), and would judge objects this run already created as "already there". What was done
    is in the rows' outcomes; a create in flight when the attempt stopped is looked up before it is sent again.
    """
    reader = SnapshotReader(run.snapshot_id)
    ctx.progress(0, None, "Checking the snapshot")
    try:
        reader.verify()
    except CorruptSnapshot as exc:
        raise JobFailed(f"The snapshot failed its integrity check and won't be restored: {exc}") from None
    restorers = load()
    rows = db.session.scalars(select(RestoreItem).where(RestoreItem.run_id == run.id).order_by(RestoreItem.id))
    items = {}
    for row in rows:
        item = PlannedItem(row.type_key, row.source_id, row.natural_key, row.name, Action(row.action),
                           dest_id=row.dest_id, reason=row.reason or "", fix=row.fix or "", conflict=row.conflict,
                           selected=row.selected, pulled_in=row.pulled_in,
                           refs=[Ref(t, s, bool(o)) for t, s, o in row.refs])
        items[item.key] = item
    types = sorted({key[0] for key, item in items.items() if item.selected and key[0] in restorers})
    plan = Plan(items, {}, type_order(restorers, types), missing_users=run.missing_users,
                unsupported_types=run.unsupported_types)
    for type_key in plan.type_order:
        restorer = restorers[type_key]
        for obj in reader.objects(type_key):
            key = (type_key, restorer.source_id(obj))
            planned = items.get(key)
            if planned is not None and planned.selected:
                plan.objects[key] = obj
                planned.natural_key = restorer.natural_key(obj)  # the row keeps at most 10,000 characters of it
    lost = [item for item in plan.selected() if item.key not in plan.objects]
    if lost:
        raise JobFailed(f"The snapshot no longer holds {len(lost)} object(s) this restore planned, e.g. "
                        f"{lost[0].type_key} {lost[0].source_id}.")
    db.session.commit()  # no transaction stays open while we talk to Jira
    return plan


class JobReporter(Reporter):
    """Progress into the job row (overall, current step); per-type progress is read from the items.

    The job row is written, and the cancel flag read, at most every ``interval`` seconds (and always for the last
    object): each is a commit on the engine's thread, the one handing out work, and once per object they held a
    large restore back. A cancel still stops the run between objects, at most ``interval`` later.
    """

    def __init__(self, ctx: JobContext, restorers: dict[str, Any], interval: float = PROGRESS_INTERVAL,
                 run: RestoreRun | None = None) -> None:
        self.ctx = ctx
        self.restorers = restorers
        self.interval = interval
        self.run = run  # given: the run also stops when its connection is no longer Active
        self.stop_reason: str | None = None  # why should_stop said yes, unless an administrator cancelled
        self._shown = self._checked = float("-inf")
        self.mapped_here = 0  # objects this attempt brought onto the destination (created, updated, reconciled)

    def starting(self, plan: Plan, total: int) -> None:
        self.ctx.progress(0, total, "Restoring")

    def item_done(self, item: PlannedItem, result: Result, done: int, total: int) -> None:
        if result.outcome in MAPPED:
            self.mapped_here += 1
        now = time.monotonic()
        if done < total and now - self._shown < self.interval:
            return
        self._shown = now
        title = self.restorers[item.type_key].title
        self.ctx.progress(done, total, f"{title}: {item.name} ({result.outcome.value})")

    def should_stop(self) -> bool:
        now = time.monotonic()
        if now - self._checked < self.interval:
            return False
        self._checked = now
        if self.ctx.cancel_requested():
            return True
        self.stop_reason = connection_ended(self.run) if self.run is not None else None
        return self.stop_reason is not None


def summarise(run_id: int) -> dict[str, Any]:
    """Counts of outcomes overall and per type, over the selected items."""
    rows = db.session.execute(select(RestoreItem.type_key, RestoreItem.outcome)
                              .where(RestoreItem.run_id == run_id, RestoreItem.selected.is_(True))).all()
    overall = Counter(outcome for _t, outcome in rows)
    per_type: dict[str, Counter] = {}
    for type_key, outcome in rows:
        per_type.setdefault(type_key, Counter())[outcome] += 1
    return {"total": len(rows), "outcomes": dict(overall), "types": {t: dict(c) for t, c in per_type.items()}}


def _run_without_expiry(executor: Executor, plan: Plan) -> Any:
    """``executor.run(plan)`` with the session not expiring its objects on commit.

    The engine commits once per round of work (outcomes, "creating" marks) and its ``DatabaseState`` holds every
    item row of the run: with expire-on-commit each commit expired all of them, and the next look at a row reloaded
    it (a SELECT per row), which made the engine's thread, the one handing out work, quadratic in the plan's size
    and left the workers idle on a large site. Nothing else writes these rows while the run owns them, and the
    cancel flag and the job row are read with fresh queries, so skipping the expiry loses nothing.
    """
    session = db.session()
    previous = session.expire_on_commit
    session.expire_on_commit = False
    try:
        return executor.run(plan)
    finally:
        session.expire_on_commit = previous


def progress_interval() -> float:
    return float(current_app.config.get("RESTORE_PROGRESS_INTERVAL", PROGRESS_INTERVAL))


class RestoreAttempt:
    """One attempt of a run's job: what it reads through, what it has journaled, and the steps of the restore."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.run, self.tenant = _load(ctx)
        self.restorers = load()
        self.access = _access(self.tenant)
        self.concurrency = _concurrency()
        # Reads journaled by this job: an attempt after a wait replays them instead of paying for them again.
        self.journal = ReadJournal(ctx.job_id)
        self.people = PeoplePolicy.chosen(self.run.user_fallback, self.run.requested_by)

    def _pooled(self) -> Any:
        return pooled_reads(self.concurrency, app_context_initializer())

    # -- the preview --------------------------------------------------------------------------------------------

    def preview(self) -> dict[str, Any]:
        """Plan the run against the destination as it is now: nothing is written to Jira.

        Planning reads the whole destination, which on a large site costs more than an hour of Jira's quota: its reads
        are journaled so an attempt after the wait carries on instead of starting over (it would never finish). They
        stay journaled after the preview: the restore that follows soon replays them (``reuse.py``) and clears them.
        """
        snapshot_allowed(self.tenant, self.run.snapshot_id, self.run)
        with journaled_reads(self.access, self.journal), self._pooled():
            plan = _plan(self.run, self.access, Selection(), self.ctx, self.people, preview=True)
        check_connection(self.run)
        move(self.run, RunStatus.PLANNED, message=None)
        return {"run_id": self.run.id, "counts": plan.counts()}

    # -- the restore --------------------------------------------------------------------------------------------

    def restore(self, reporter: JobReporter) -> dict[str, Any]:
        """Restore the run's selection: plan again (the destination may have changed), write, verify, report."""
        run = self.run
        preview = recent_preview(run.id, self.tenant.id)  # its recent answers: not read again
        # This attempt's planning answers: verification's, if nothing is written between (None: planning read nothing).
        planned: RememberedReads | None = RememberedReads()
        source = snapshot_allowed(self.tenant, run.snapshot_id, run)
        selection = Selection.from_dict(run.selection)
        if self.ctx.checkpoint.get("planned"):
            plan = _saved_plan(run, self.ctx)  # a resumed attempt carries on with the plan it was executing
            planned = None  # this attempt didn't read the destination: verification does
        else:
            # Journaled like the preview's (an attempt after a quota wait carries on), then forgotten before the first
            # write: those answers describe the destination as it was, and verification must read it as it is.
            with journaled_reads(self.access, ChainedJournal(self.journal, preview, planned)), self._pooled():
                plan = _plan(run, self.access, selection, self.ctx, self.people)
            self.ctx.save_checkpoint({**self.ctx.checkpoint, "planned": True})
            self.journal.clear()
        state = DatabaseState(run.id)
        executor = Executor(self.access, state, reporter=reporter, concurrency=self.concurrency, people=self.people,
                            restorers=self.restorers, thread_initializer=app_context_initializer())
        ids = _run_without_expiry(executor, plan)  # the restore's: verification names objects itself
        check_connection(run)  # stopped after the last object: the run ends as any stopped run does
        issues = restore_issue_data(self.access, self.tenant, snapshot_id=run.snapshot_id, source_tenant_id=source.id,
                                    ids=ids, people=self.people, selection=selection,
                                    between=lambda: check_connection(run),
                                    progress=lambda step: self.ctx.progress(len(plan.selected()), None, step))
        self.ctx.progress(len(plan.selected()), None, "Verifying the destination")
        db.session.commit()
        reads = ChainedJournal(self.journal, preview, planned)
        if executor.writes or planned is None:
            # The destination may differ from what planning read: verification reads it (a run that wrote nothing
            # compares what this attempt's planning read, or the recent preview: one read of the destination).
            reads = ChainedJournal(self.journal, None)
        if reporter.mapped_here:
            # This attempt changed the destination, so answers an earlier attempt's verification journaled may be out
            # of date. (An attempt that only retried follow-ups that failed again keeps them: otherwise a restore
            # with one stubborn object would read the whole destination again after every quota wait.)
            self.journal.clear()
        with journaled_reads(self.access, reads), self._pooled():
            check = verify(self.access, plan, state.results(), snapshot_site(run.snapshot_id))
        authors, _nobody = authors_for(self.tenant, ids)  # restricted comments are read as their authors
        subset = subset_of(run.snapshot_id, Selection.from_dict(run.selection))
        add_issue_section(check, issues, verify_restored(self.access, run.snapshot_id, issues,  # reads issues anew
                                                         authors.client_for, self.people.stand_in, subset))
        run = db.session.get_one(RestoreRun, run.id, populate_existing=True)
        summary = summarise(run.id)
        summary["api_calls"] = self.access.calls
        if issues is not None:
            summary["issues"] = issues
        # reads the preview, this attempt's planning or an earlier attempt had already paid for
        summary["reads_replayed"] = ChainedJournal(self.journal, preview, planned).replayed
        self.journal.clear()
        if preview is not None:
            preview.clear()
        move(run, RunStatus.DONE, summary_json=json.dumps(summary), verification_json=json.dumps(check.to_dict()),
             fidelity=check.fidelity, finished_at=utcnow(), message=None)
        return {"run_id": run.id, "summary": summary, "fidelity": check.fidelity}


