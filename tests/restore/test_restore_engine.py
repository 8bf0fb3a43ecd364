"""Engine behaviour across types: follow-up writes that fail leave an *incomplete* object that the next run finishes,
restorers' notes reach the report, and destination reads survive Jira being unavailable for a while."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.jira.errors import JiraError
from app.jobs.models import Job
from app.jobs.runtime import run_job
from app.restore import service
from app.restore.models import RestoreRun
from app.restore.notes import note
from app.restore.plan import Selection
from app.restore.types.simple import ProjectCategories
from fakejira.seeding import export_site
from tests.restore.test_restore_basics import _tenant, _writes, outcomes, preview, restore

CATEGORIES = ("Internal", '=HYPERLINK("x") <b>Clients</b>')


def test_a_failed_follow_up_write_keeps_the_destination_id_and_the_next_run_retries_only_it(
        app, sites, snapshot_id, monkeypatch) -> None:
    """Is an object whose after_create failed recorded incomplete (with its id), finished later, never created twice?"""
    seen: list[str] = []

    def failing(self, access, dest_id, obj, ids) -> None:
        seen.append(dest_id)
        note(f"follow-up for {obj['name']}")
        raise JiraError("POST", "/rest/api/3/projectCategory/x", 400, {"errorMessages": ["refused"]})

    monkeypatch.setattr(ProjectCategories, "after_create", failing)
    run_id = preview(app, sites, snapshot_id)
    restore(app, sites, run_id, Selection(types=["projectCategories"]))
    items = outcomes(app, run_id)
    first = {name: items[("projectCategories", name)] for name in CATEGORIES}
    for row in first.values():
        assert row.outcome == "incomplete" and row.dest_id, (row.outcome, row.reason)
        assert "refused" in row.reason and row.notes == [f"follow-up for {row.name}"]
    monkeypatch.setattr(ProjectCategories, "after_create", lambda self, access, dest_id, obj, ids: seen.append(dest_id))
    seen.clear()
    sites.dest.calls.clear()
    restore(app, sites, run_id, Selection(types=["projectCategories"]))
    items = outcomes(app, run_id)
    assert sorted(seen) == sorted(r.dest_id for r in first.values())  # the follow-ups ran again, on the same ids
    for name, row in first.items():
        assert (items[("projectCategories", name)].outcome, items[("projectCategories", name)].dest_id) == \
            ("created", row.dest_id)
    assert not [c for c in _writes(sites.dest) if c["path"].endswith("/projectCategory")]
    names = [c["name"] for c in export_site(sites.dest)["projectCategories"]]
    assert sorted(names) == sorted(CATEGORIES)


def test_a_destination_read_failing_beyond_the_clients_retries_is_read_again(app, sites, snapshot_id) -> None:
    """Three 500s in a row exhaust the client (JIRA_MAX_RETRIES 2): does the planner read the type again?"""
    sites.dest.faults.add(500, method="GET", template="/rest/api/3/projectCategory", rate=1.0, times=3)
    run_id = preview(app, sites, snapshot_id)
    sites.dest.faults.clear()
    assert len(sites.dest.calls.find(method="GET", template="/rest/api/3/projectCategory", status=500)) == 3
    with app.app_context():
        assert db.session.get(RestoreRun, run_id).status == "planned"


def test_jira_unavailable_for_longer_requeues_the_job_instead_of_failing_the_run(app, sites, snapshot_id) -> None:
    sites.dest.faults.add(503, method="GET", template="/rest/api/3/projectCategory", rate=1.0)
    with app.app_context():
        run = service.start_preview(_tenant(sites.dest_tenant_id), snapshot_id, sites.admin)
        assert run_job(run.job_id) == "queued"
        job = db.session.get(Job, run.job_id, populate_existing=True)
        assert "unavailable" in job.message and job.not_before is not None
        assert db.session.get(RestoreRun, run.id, populate_existing=True).status == "planning"
        sites.dest.faults.clear()
        db.session.execute(db.update(Job).where(Job.id == run.job_id).values(not_before=None))
        db.session.commit()
        assert run_job(run.job_id) == "succeeded"
        assert db.session.get(RestoreRun, run.id, populate_existing=True).status == "planned"


@pytest.mark.parametrize("column", ["notes"])
def test_the_report_has_a_notes_column(app, sites, snapshot_id, column) -> None:
    run = restore(app, sites, preview(app, sites, snapshot_id))
    with app.app_context():
        text = service.report_csv(db.session.get(RestoreRun, run.id))
    assert text.splitlines()[0].split(",")[-1] == column


def test_a_database_lost_mid_restore_requeues_the_job_instead_of_failing_it(app, sites, snapshot_id, monkeypatch
                                                                           ) -> None:
    """A commit of the engine's outcomes fails as a lost database does (then every later commit fails with
    PendingRollbackError): the job must be requeued by the database error, not failed by the follow-on one."""
    from sqlalchemy.exc import OperationalError, PendingRollbackError

    from app.restore.models import DatabaseState

    run_id = preview(app, sites, snapshot_id)
    real_sync, calls = DatabaseState.sync, {"n": 0}

    def sync(self) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OperationalError("COMMIT", {}, Exception("database is locked"))
        if calls["n"] > 3:
            raise PendingRollbackError("This Session's transaction has been rolled back due to a previous exception")
        real_sync(self)

    monkeypatch.setattr(DatabaseState, "sync", sync)
    with app.app_context():
        run = service.start_restore(_tenant(sites.dest_tenant_id), run_id, Selection(), "drop", sites.admin)
        assert run_job(run.job_id) == "queued"
        job = db.session.get(Job, run.job_id, populate_existing=True)
        assert "PendingRollbackError" not in (job.message or "")
    monkeypatch.setattr(DatabaseState, "sync", real_sync)
    with app.app_context():
        db.session.execute(db.update(Job).where(Job.id == run.job_id).values(not_before=None))
        db.session.commit()
        assert run_job(run.job_id) == "succeeded"
        assert db.session.get(RestoreRun, run_id, populate_existing=True).status == "done"
