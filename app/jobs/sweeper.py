"""Keeps jobs moving: re-dispatches stalled jobs and runs periodic tasks (the backup schedule) on a tick.

Safe to run on several machines at once: claiming a job and creating scheduled jobs are both atomic in the
database, so duplicates lose the race harmlessly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import case, or_, select
from sqlalchemy.exc import InterfaceError, OperationalError

from ..clock import utcnow
from ..extensions import db
from ..quota.priorities import RESTORE_KINDS, SCHEDULE_REQUESTER
from .dispatch import dispatch
from .models import Job, JobState

log = logging.getLogger(__name__)

Periodic = Callable[[datetime], object]  # what it returns, if anything, is not the tick's


def periodic_tasks() -> dict[str, Periodic]:
    """The app's periodic tasks by name (``app/wiring.py``): each idempotent and cheap when there's nothing to do."""
    found: dict[str, Periodic] = current_app.extensions["wiring"].periodic
    return found


def stalled_jobs(now: datetime | None = None) -> list[str]:
    """Queued jobs that are due, and running jobs whose worker's lease has expired (it crashed or was killed)."""
    now = now or utcnow()
    try:
        return _stalled(now)
    except (OperationalError, InterfaceError):  # the database is away: nothing to hand out until it's back
        db.session.rollback()
        log.warning("job sweeper: the database is unavailable")
        return []


def _urgency() -> Any:
    """Restores before on-demand backups before scheduled ones (``app.quota.priorities``), as the quota serves them:
    a worker free for one job takes the site that is down first."""
    return case((Job.kind.in_(sorted(RESTORE_KINDS)), 0), (Job.requested_by == SCHEDULE_REQUESTER, 2), else_=1)


def _stalled(now: datetime) -> list[str]:
    rows = db.session.scalars(select(Job.id).where(or_(
        (Job.state == JobState.QUEUED.value) & or_(Job.not_before.is_(None), Job.not_before <= now),
        (Job.state == JobState.RUNNING.value) & (Job.lease_expires_at < now),
    )).order_by(_urgency(), Job.created_at)).all()
    db.session.commit()
    return list(rows)


def run_periodic(now: datetime | None = None) -> None:
    """Run every periodic task of the app once; one failing doesn't stop the others."""
    now = now or utcnow()
    for name, fn in periodic_tasks().items():
        try:
            fn(now)
        except Exception:
            db.session.rollback()
            log.exception("periodic task %s failed", name)


def tick(now: datetime | None = None) -> None:
    """One round: periodic tasks, then re-dispatch whatever is stalled."""
    now = now or utcnow()
    run_periodic(now)
    for job_id in stalled_jobs(now):
        dispatch(job_id)


class Sweeper:
    """A daemon thread ticking every ``interval`` seconds inside a process (web in embedded mode, or worker)."""

    def __init__(self, app: Flask, interval: float) -> None:
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="job-sweeper", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.app.app_context():
                    tick()
            except Exception:  # the database may be down: keep trying, never die
                log.exception("job sweeper tick failed")


def run_forever(app: Flask, interval: float) -> None:
    """The ``clock`` process: tick until killed."""
    while True:
        with app.app_context():
            try:
                tick()
            except Exception:
                db.session.rollback()
                log.exception("clock tick failed")
        time.sleep(interval)
