"""Does every end of a restore job's attempt but a wait leave no journaled reads behind, and does a wait keep them for
the next attempt? (A job that won't resume has no use for them; one that will replays them instead of paying again.)"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.jira.errors import JiraUnavailable, RateLimited
from app.jobs.journal import ReadJournalEntry
from app.jobs.models import Job
from app.jobs.runtime import run_job
from app.restore import attempt, service
from app.restore import job as restore_job
from app.restore.models import RestoreRun
from app.tenants import Tenant


def _journaled(job_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(ReadJournalEntry)
                             .where(ReadJournalEntry.job_id == job_id)) or 0


def _failing_after_planning(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Planning reads the destination (journaled) as usual, then Jira answers ``error``."""
    real = attempt._plan

    def plan_then_fail(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise error

    monkeypatch.setattr(attempt, "_plan", plan_then_fail)


def _preview_job(app, sites, snapshot_id: int, earlier_attempts: int) -> tuple[int, str]:
    dest = db.session.get(Tenant, sites.dest_tenant_id)
    run = service.start_preview(dest, snapshot_id, sites.admin)
    db.session.get(Job, run.job_id).attempts = earlier_attempts
    db.session.commit()
    return run.id, run.job_id


def test_a_preview_jira_kept_refusing_fails_and_leaves_no_journaled_reads(app, sites, snapshot_id,
                                                                           monkeypatch) -> None:
    _failing_after_planning(monkeypatch, JiraUnavailable("GET", "/rest/api/3/field", 503))
    with app.app_context():
        run_id, job_id = _preview_job(app, sites, snapshot_id, restore_job.UNAVAILABLE_REQUEUES - 1)
        assert run_job(job_id) == "failed"
        run = db.session.get(RestoreRun, run_id, populate_existing=True)
        assert run.status == "failed" and run.message.startswith("Jira stayed unavailable"), run.message
        assert _journaled(job_id) == 0


@pytest.mark.parametrize("error", [JiraUnavailable("GET", "/rest/api/3/field", 503),
                                   RateLimited("GET", "/rest/api/3/field", retry_after=120)],
                         ids=["unavailable", "rate-limited"])
def test_a_preview_told_to_wait_keeps_its_journaled_reads_for_the_next_attempt(app, sites, snapshot_id,
                                                                                monkeypatch, error) -> None:
    _failing_after_planning(monkeypatch, error)
    with app.app_context():
        run_id, job_id = _preview_job(app, sites, snapshot_id, 0)
        assert run_job(job_id) == "queued"
        assert db.session.get(RestoreRun, run_id, populate_existing=True).status not in ("failed", "cancelled")
        assert _journaled(job_id) > 0
        monkeypatch.undo()
        db.session.get(Job, job_id, populate_existing=True).not_before = None  # the wait is over
        db.session.commit()
        assert run_job(job_id) == "succeeded"
        assert db.session.get(RestoreRun, run_id, populate_existing=True).status == "planned"
