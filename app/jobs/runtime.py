"""Running jobs: finding the runner, the context a runner works through, claiming with leases, enqueueing."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, text, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from ..clock import utcnow
from ..extensions import affected_rows, db
from ..quota.points import PointsMeter
from ..quota.priorities import QuotaScope, priority_for, quota_scope, tenant_key
from .heartbeat import Heartbeat
from .models import TERMINAL, Job, JobState, move

log = logging.getLogger(__name__)

LEASE_SECONDS = 120  # a worker that stops heart-beating for this long is presumed dead; its job is requeued
# How long a runner whose database went away waits for it to come back before leaving the job to the sweeper.
DATABASE_WAIT_SECONDS = 600
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


class JobFailed(Exception):
    """A runner's way to fail with a message meant for people."""


class JobCancelled(Exception):
    """Raised by ``JobContext.check_cancelled`` when someone asked to cancel: the runner stops between objects.

    A runner that stopped for another reason (e.g. the access it works through ended) says why in ``message``.
    """

    def __init__(self, message: str = "Cancelled by an administrator.") -> None:
        super().__init__(message)
        self.message = message


class RetryLater(Exception):
    """The job can't go on now (e.g. Jira asks us to wait for long): requeue it to run again after ``seconds``."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason


# The phase a job's points are counted under when it starts, and the steps (``ctx.progress(step=...)`` prefixes) that
# move it on: a restore plans, then writes ("Restoring"), then verifies ("Verifying the destination").
FIRST_PHASE = {"backup": "read", "restore-preview": "plan", "restore": "plan"}
PHASE_STEPS = {"restore": (("Restoring", "write"), ("Verifying", "verify"))}

Runner = Callable[["JobContext"], dict[str, Any] | None]
# Told the name of an unexpected exception (a bug) that ended a job: ends what the job worked on, with words for people.
CrashHandler = Callable[["JobContext", str], None]


def runners() -> dict[str, Runner]:
    """The app's job runners by kind (``app/wiring.py``)."""
    found: dict[str, Runner] = current_app.extensions["wiring"].runners
    return found


def crash_handlers() -> dict[str, CrashHandler]:
    """What ends a runner's work when it crashes on a bug, by kind (``app/wiring.py``)."""
    found: dict[str, CrashHandler] = current_app.extensions["wiring"].crash_handlers
    return found


class JobContext:
    """What a runner sees: its parameters and checkpoint, and ways to report progress. Every write commits."""

    def __init__(self, job: Job, worker: str) -> None:
        self.job_id = job.id
        self.tenant_id = job.tenant_id
        self.kind = job.kind
        self.params = job.params
        self.checkpoint: dict[str, Any] = job.checkpoint
        self.attempt = job.attempts
        self._worker = worker
        # Jira's points this job spends, from every attempt (the earlier ones' are in the row): saved with progress
        self.meter = PointsMeter(FIRST_PHASE.get(job.kind, "other"), job.points)

    def enter_phase(self, phase: str) -> None:
        """Count the requests from now on under ``phase`` (plan, write, verify, read)."""
        self.meter.phase = phase

    def _follow_step(self, step: str) -> None:
        for prefix, phase in PHASE_STEPS.get(self.kind, ()):
            if step.startswith(prefix):
                self.enter_phase(phase)

    def points_values(self) -> dict[str, Any]:
        """The meter's tally as a column value, when it changed since the last save."""
        return {"points_json": json.dumps(self.meter.snapshot())} if self.meter.dirty else {}

    def _update(self, **values: Any) -> None:
        values.update(self.points_values())
        values["lease_expires_at"] = utcnow() + timedelta(seconds=LEASE_SECONDS)
        values["updated_at"] = utcnow()
        result = db.session.execute(
            update(Job).where(Job.id == self.job_id, Job.lease_owner == self._worker,
                              Job.state == JobState.RUNNING.value)
            .values(**values).execution_options(synchronize_session=False))
        db.session.commit()
        if affected_rows(result) != 1:
            # Our lease was taken over (we were presumed dead): stop without touching the job again.
            raise LeaseLost(self.job_id)

    def progress(self, done: int, total: int | None = None, step: str | None = None) -> None:
        values: dict[str, Any] = {"progress_done": done}
        if total is not None:
            values["progress_total"] = total
        if step is not None:
            values["step"] = step[:255]
            self._follow_step(step)
        self._update(**values)

    def save_checkpoint(self, checkpoint: dict[str, Any], *, done: int | None = None, step: str | None = None
                        ) -> None:
        """Persist where the job is, so a crash resumes from here."""
        self.checkpoint = checkpoint
        values: dict[str, Any] = {"checkpoint_json": json.dumps(checkpoint)}
        if done is not None:
            values["progress_done"] = done
        if step is not None:
            values["step"] = step[:255]
        self._update(**values)

    def cancel_requested(self) -> bool:
        flag = db.session.scalar(select(Job.cancel_requested).where(Job.id == self.job_id))
        db.session.commit()
        return bool(flag)

    def check_cancelled(self) -> None:
        if self.cancel_requested():
            raise JobCancelled()


class LeaseLost(Exception):
    """Another worker owns the job now."""


def new_job(tenant_id: int, kind: str, params: dict[str, Any] | None = None, *, singleton: str | None = None,
            requested_by: str | None = None) -> Job:
    """A queued job (its id already set) for the caller to add to its transaction and commit with its changes.

    The commit (or a flush) raises ``IntegrityError`` when a live job holds ``singleton``: whatever else the
    transaction held (e.g. the claim of the work the job is for) is rolled back with it. Nobody runs the job
    before it is dispatched.
    """
    return Job(id=str(uuid.uuid4()), tenant_id=tenant_id, kind=kind, params_json=json.dumps(params or {}),
               singleton_key=singleton, requested_by=requested_by)


def singleton_holder(singleton: str) -> Job | None:
    """The live job holding ``singleton``, if any."""
    return db.session.scalars(select(Job).where(Job.singleton_key == singleton)).first()


def enqueue(tenant_id: int, kind: str, params: dict[str, Any] | None = None, *, singleton: str | None = None,
            requested_by: str | None = None, dispatch: bool = True) -> tuple[Job, bool]:
    """Create a queued job (or return the live one holding ``singleton``); returns ``(job, created)``."""
    job = new_job(tenant_id, kind, params, singleton=singleton, requested_by=requested_by)
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = singleton_holder(singleton) if singleton else None
        if existing is not None:
            return existing, False
        raise
    if dispatch:
        from .dispatch import dispatch as send

        send(job.id)
    return job, True


def request_cancel(job: Job) -> None:
    """Ask a job to stop: a queued job is cancelled at once, a running one stops between objects."""
    if job.state == JobState.QUEUED.value and move(job, JobState.CANCELLED, message="Cancelled before it started."):
        return
    db.session.execute(update(Job).where(Job.id == job.id).values(cancel_requested=True))
    db.session.commit()


def claim(job_id: str, worker: str = WORKER_ID, now: datetime | None = None) -> Job | None:
    """Take the job if it is queued (and due) or its runner's lease has expired; None if someone else has it."""
    now = now or utcnow()
    result = db.session.execute(
        update(Job)
        .where(Job.id == job_id,
               or_(Job.state == JobState.QUEUED.value,
                   (Job.state == JobState.RUNNING.value) & (Job.lease_expires_at < now)),
               or_(Job.not_before.is_(None), Job.not_before <= now))
        .values(state=JobState.RUNNING.value, lease_owner=worker,
                lease_expires_at=now + timedelta(seconds=LEASE_SECONDS), attempts=Job.attempts + 1,
                started_at=now, updated_at=now, not_before=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    if affected_rows(result) != 1:
        return None
    return db.session.get(Job, job_id, populate_existing=True)


_local = threading.local()


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database can't be reached or used right now (down, cut, locked), not a bug."""
    return isinstance(exc, OperationalError | InterfaceError)


def wait_for_database(timeout: float = DATABASE_WAIT_SECONDS, pause: float = 0.5) -> bool:
    """Block until the database answers again (True), or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.session.rollback()
            db.session.execute(text("SELECT 1"))
            db.session.commit()
            return True
        except (OperationalError, InterfaceError):
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def run_job(job_id: str, worker: str = WORKER_ID) -> str | None:
    """Claim and run one job to a terminal state (or a requeue); returns the state it ended in, or None.

    When the database goes away mid-job the job neither fails nor kills the worker: the runner waits for the
    database, then requeues the job, which resumes from its last checkpoint.
    """
    try:
        return _run_job(job_id, worker)
    except (OperationalError, InterfaceError) as exc:
        log.warning("job %s: the database is unavailable (%s); waiting for it", job_id, type(exc).__name__)
        if not wait_for_database():
            log.error("job %s: the database stayed unavailable; the sweeper resumes the job later", job_id)
            return None
        try:
            _finish(job_id, JobState.QUEUED, lease_owner_check=worker,
                    message="The database was unavailable for a while; the job carries on from its checkpoint.")
        except (OperationalError, InterfaceError):
            db.session.rollback()
            return None  # gone again: the lease expires and the sweeper resumes the job
        return JobState.QUEUED.value


def _run_job(job_id: str, worker: str) -> str | None:
    job = claim(job_id, worker)
    if job is None:
        return None
    fn = runners().get(job.kind)
    if fn is None:
        move(job, JobState.FAILED, message=f"No runner for jobs of kind {job.kind!r}.")
        return job.state
    ctx = JobContext(job, worker)
    log.info("job %s (%s) started, attempt %s", job.id, job.kind, job.attempts)
    scope = QuotaScope(tenant_key(job.tenant_id), priority_for(job.kind, job.requested_by), ctx.meter)
    beat = Heartbeat(current_app._get_current_object(), job.id, worker,  # type: ignore[attr-defined]
                     lease=LEASE_SECONDS, every=LEASE_SECONDS / 4)
    try:
        with beat, quota_scope(scope):  # the lease held while it runs; every Jira client it makes draws as this job
            result = fn(ctx)
    except LeaseLost:
        log.warning("job %s: lease lost, another worker took over", job_id)
        db.session.rollback()
        return None
    except JobCancelled as stop:
        db.session.rollback()
        _finish(job_id, JobState.CANCELLED, message=stop.message, **_spent(ctx))
    except RetryLater as wait:
        db.session.rollback()
        _finish(job_id, JobState.QUEUED, message=wait.reason,
                not_before=utcnow() + timedelta(seconds=wait.seconds), **_spent(ctx))
    except JobFailed as failure:
        db.session.rollback()
        _finish(job_id, JobState.FAILED, message=str(failure), **_spent(ctx))
    except Exception as exc:  # the job must end in a state, whatever went wrong
        if database_unavailable(exc):
            raise  # not the job's fault: run_job waits for the database and requeues
        db.session.rollback()
        log.exception("job %s (%s) crashed", job_id, job.kind)
        _crashed(ctx, exc)
        _finish(job_id, JobState.FAILED, message=f"Internal error ({type(exc).__name__}); the team has the details.",
                **_spent(ctx))
    else:
        _finish(job_id, JobState.SUCCEEDED, result_json=json.dumps(result or {}), **_spent(ctx))
    final = db.session.get_one(Job, job_id, populate_existing=True)
    log.info("job %s (%s) ended %s", job_id, final.kind, final.state)
    return final.state


def _spent(ctx: JobContext) -> dict[str, Any]:
    """The job's points for its final row (and the ledger's batched counts written out: the job is over)."""
    from ..quota.budget import current_budget

    budget = current_budget()
    if budget is not None:
        budget.flush()
    return {"points_json": json.dumps(ctx.meter.snapshot())}


def _crashed(ctx: JobContext, exc: Exception) -> None:
    """Let the runner's crash handler end its work (a run left "running" would refuse every new start)."""
    handler = crash_handlers().get(ctx.kind)
    if handler is None:
        return
    try:
        handler(ctx, type(exc).__name__)
    except Exception as second:
        if database_unavailable(second):
            raise  # run_job waits for the database and requeues: the next attempt runs (or crashes) again
        db.session.rollback()
        log.exception("job %s (%s): its crash handler failed too", ctx.job_id, ctx.kind)


def _finish(job_id: str, to: JobState, *, lease_owner_check: str | None = None, **fields: Any) -> None:
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None or job.state != JobState.RUNNING.value:
        return
    if lease_owner_check is not None and job.lease_owner != lease_owner_check:
        return  # another worker took the job over meanwhile
    if to == JobState.QUEUED:
        fields.update(lease_owner=None, lease_expires_at=None)
    move(job, to, expect=JobState.RUNNING, **fields)


def live_jobs(tenant_id: int, kind: str | None = None) -> list[Job]:
    query = select(Job).where(Job.tenant_id == tenant_id, Job.state.not_in([s.value for s in TERMINAL]))
    if kind:
        query = query.where(Job.kind == kind)
    return list(db.session.scalars(query.order_by(Job.created_at)))
