"""A running job's lease, renewed from a thread of its own while its runner works.

A lease says "this worker is alive and has the job"; when it expires the sweeper hands the job to another worker
(the first is presumed dead). Progress renews it, but some steps make none for minutes — one large project's issues,
a verification's reads, a 50 MB upload on a slow link — and a second worker would then restore the same project
while the first still writes. The heartbeat renews the lease every quarter of its length, whatever the runner is
doing. A killed process takes the thread with it, so a dead worker's lease still expires; a lease another worker
took over is never renewed (the runner learns at its next progress: ``LeaseLost``).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import InterfaceError, OperationalError

from ..clock import utcnow
from ..extensions import affected_rows, db
from .models import Job, JobState

log = logging.getLogger(__name__)


class Heartbeat:
    """Renews ``job_id``'s lease for ``worker`` every ``every`` seconds, by ``lease`` seconds, until stopped."""

    def __init__(self, app: Flask, job_id: str, worker: str, *, lease: float, every: float) -> None:
        self.app, self.job_id, self.worker, self.lease, self.every = app, job_id, worker, lease, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job_id[:8]}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        with self.app.app_context():
            try:
                while not self._stop.wait(self.every):
                    if not self.renew():
                        return  # taken over, or the job ended: nothing of ours to keep alive
            finally:
                db.session.remove()

    def renew(self) -> bool:
        """Push the lease out; False when the job isn't this worker's running job any more."""
        try:
            result = db.session.execute(
                update(Job).where(Job.id == self.job_id, Job.lease_owner == self.worker,
                                  Job.state == JobState.RUNNING.value)
                .values(lease_expires_at=utcnow() + timedelta(seconds=self.lease))
                .execution_options(synchronize_session=False))
            db.session.commit()
        except (OperationalError, InterfaceError) as exc:  # the database is away or busy: try again next beat
            db.session.rollback()
            log.warning("job %s: couldn't renew its lease (%s)", self.job_id, type(exc).__name__)
            return True
        return affected_rows(result) == 1
