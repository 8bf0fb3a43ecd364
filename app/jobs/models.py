"""The job table and its state machine: one Enum, one transitions table, one function that moves between states."""

from __future__ import annotations

import enum
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, update
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import Model, affected_rows, db
from ..quota import models as _quota_models  # noqa: F401  (the ledger's table, created and migrated with the jobs)


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})

# From state -> states it may move to. RUNNING -> QUEUED is a requeue: a worker died (its lease expired) or the job
# asked to wait (rate limits); the next run resumes from the checkpoint.
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.CANCELLED}),
    JobState.RUNNING: frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.QUEUED}),
    JobState.SUCCEEDED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
}


class IllegalTransition(Exception):
    """A move the transitions table doesn't allow (a bug, or a race another worker won)."""


class Job(Model):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value, index=True)
    # Non-null while the job is live; unique, so "one backup at a time per tenant" holds across processes/machines.
    singleton_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    checkpoint_json: Mapped[str] = mapped_column(Text, default="{}")
    result_json: Mapped[str | None] = mapped_column(Text)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None] = mapped_column()
    step: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str | None] = mapped_column(Text)  # the failure (or cancellation) reason shown to people
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    not_before: Mapped[datetime | None] = mapped_column()
    requested_by: Mapped[str | None] = mapped_column(String(128))  # accountId, or "schedule"
    # Jira's points the job spent, over all its attempts: total, per phase, per type, per endpoint (app.quota.points)
    points_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.params_json or "{}")

    @property
    def checkpoint(self) -> dict[str, Any]:
        return json.loads(self.checkpoint_json or "{}")

    @property
    def points(self) -> dict[str, Any]:
        return json.loads(self.points_json) if self.points_json else {}

    @property
    def result(self) -> dict[str, Any] | None:
        return json.loads(self.result_json) if self.result_json else None

    @property
    def job_state(self) -> JobState:
        return JobState(self.state)

    @property
    def is_terminal(self) -> bool:
        return self.job_state in TERMINAL

    @property
    def percent(self) -> int | None:
        """Progress in whole percent; never 100 unless the job succeeded."""
        if self.state == JobState.SUCCEEDED:
            return 100
        if not self.progress_total:
            return None
        return min(99, int(100 * self.progress_done / self.progress_total))


def move(job: Job, to: JobState, *, expect: JobState | None = None, **fields: Any) -> bool:
    """Move ``job`` to ``to`` atomically (a conditional UPDATE on its current state); commit; return success.

    False means another worker moved it first (the row is refreshed). A move the table forbids raises.
    """
    current = JobState(expect or job.state)
    if to not in TRANSITIONS[current]:
        raise IllegalTransition(f"job {job.id} cannot go from {current.value} to {to.value}")
    values: dict[str, Any] = {"state": to.value, "updated_at": utcnow(), **fields}
    if to in TERMINAL:
        values.setdefault("finished_at", utcnow())
        values["singleton_key"] = None
        values["lease_owner"] = None
        values["lease_expires_at"] = None
    result = db.session.execute(
        update(Job).where(Job.id == job.id, Job.state == current.value).values(**values)
        .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(job)
    return affected_rows(result) == 1
