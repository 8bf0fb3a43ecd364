"""Do parallel "Restore" and "Preview" clicks leave exactly one run going, untouched by the losers? And does a bug in
a run end it failed, saying so, so that it can be started again?"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.jobs.models import Job
from app.jobs.runtime import run_job
from app.restore import attempt as restore_job
from app.restore import service
from app.restore.models import RestoreItem, RestoreRun
from app.restore.plan import Selection
from app.tenants import Tenant
from fakejira import installer
from fakejira.resources.basics import admin_account_id

CLICKS = 6


def _token(app, site) -> str:
    return installer.context_token(site, app.config["APP_KEY"], admin_account_id(site))


def _together(n: int, click: Any) -> list[Any]:
    """``click(i)`` in ``n`` threads released at once; each result, or the exception it raised."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = click(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _post(app, site, path: str, data: dict[str, Any]) -> int:
    resp = requests.post(app.config["BASE_URL"] + path, data={"jwt": _token(app, site), **data},
                         allow_redirects=False, timeout=30)
    return resp.status_code


def _preview(app, sites, snapshot_id: int) -> int:
    with app.app_context():
        run = service.start_preview(db.session.get(Tenant, sites.dest_tenant_id), snapshot_id, sites.admin)
        assert run_job(run.job_id) == "succeeded", db.session.get(Job, run.job_id).message
        return run.id


def _run_row(app, run_id: int) -> dict[str, Any]:
    with app.app_context():
        run = db.session.get(RestoreRun, run_id)
        return {"status": run.status, "job_id": run.job_id, "message": run.message}


def _restore_jobs(app, tenant_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        return [(j.id, j.state) for j in db.session.scalars(select(Job).where(
            Job.tenant_id == tenant_id, Job.kind.in_(("restore", "restore-preview"))).order_by(Job.created_at))]


def test_of_parallel_clicks_exactly_one_preview_and_one_restore_start_and_the_losers_change_nothing(
        live_app, sites, snapshot_id, oauth_grant) -> None:
    oauth_grant(sites.dest, sites.dest_tenant_id)
    codes = _together(CLICKS, lambda i: _post(live_app, sites.dest, "/admin/restore/preview",
                                              {"snapshot_id": snapshot_id}))
    assert sorted(codes) == [303] + [409] * (CLICKS - 1), codes
    with live_app.app_context():
        runs = db.session.scalars(select(RestoreRun)).all()
        assert len(runs) == 1 and runs[0].status == "planning"  # the losers kept no run
        run_id, preview_job = runs[0].id, runs[0].job_id
        assert _restore_jobs(live_app, sites.dest_tenant_id) == [(preview_job, "queued")]
        assert run_job(preview_job) == "succeeded"
    jobs_before = _restore_jobs(live_app, sites.dest_tenant_id)
    form = {"scope": "all", "user_fallback": "drop", "confirmed": "yes"}

    codes = _together(CLICKS, lambda i: _post(live_app, sites.dest, f"/admin/restore/{run_id}/start", form))
    assert sorted(codes) == [303] + [409] * (CLICKS - 1), codes  # one start, the others "already running"
    live = _run_row(live_app, run_id)
    assert live["status"] == "restoring" and live["message"] is None
    new_jobs = [j for j in _restore_jobs(live_app, sites.dest_tenant_id) if j not in jobs_before]
    assert new_jobs == [(live["job_id"], "queued")]  # the losers left no job behind

    # Mid-run (an outcome the live run recorded), more clicks: all refused, nothing of the live run reset.
    with live_app.app_context():
        item = db.session.scalars(select(RestoreItem).where(RestoreItem.run_id == run_id,
                                                            RestoreItem.type_key == "projectCategories")).first()
        item.outcome, item.reason, item_id = "failed", "recorded by the live run", item.id
        db.session.commit()
    codes = _together(CLICKS, lambda i: _post(live_app, sites.dest, f"/admin/restore/{run_id}/start", form))
    assert codes == [409] * CLICKS, codes
    assert _run_row(live_app, run_id) == live
    with live_app.app_context():
        item = db.session.get(RestoreItem, item_id)
        assert (item.outcome, item.reason) == ("failed", "recorded by the live run")
        assert run_job(live["job_id"]) == "succeeded", db.session.get(Job, live["job_id"]).message
    assert _run_row(live_app, run_id)["status"] == "done"


def test_a_start_while_another_runs_on_the_site_changes_neither_run(app, sites, snapshot_id) -> None:
    # A newer preview makes an older one out of date (#16), so the other run is an earlier one that finished: run
    # again while the newer one restores, it must be refused and left as it was.
    first = _preview(app, sites, snapshot_id)
    with app.app_context():
        dest = db.session.get(Tenant, sites.dest_tenant_id)
        assert run_job(service.start_restore(dest, first, Selection(), "drop", sites.admin).job_id) == "succeeded"
    second = _preview(app, sites, snapshot_id)
    with app.app_context():
        dest = db.session.get(Tenant, sites.dest_tenant_id)
        live = service.start_restore(dest, second, Selection(), "drop", sites.admin)
        live_job = live.job_id
        with pytest.raises(service.RestoreRefused) as refused:
            service.start_restore(dest, first, Selection(), "drop", sites.admin)
        assert refused.value.status == 409 and "already running" in refused.value.message
        assert db.session.get(RestoreRun, first, populate_existing=True).status == "done"
        assert db.session.get(RestoreRun, second, populate_existing=True).status == "restoring"
        assert run_job(live_job) == "succeeded"
        assert db.session.get(RestoreRun, second, populate_existing=True).status == "done"


# -- a bug ends the run failed ---------------------------------------------------------------------------------------

def _planting_a_bug(monkeypatch) -> list[int]:
    """Planning meets a KeyError (a stand-in for any bug in our code) the first time only."""
    calls = [0]
    real = restore_job.earlier_ids

    def buggy(run: RestoreRun) -> dict:
        calls[0] += 1
        if calls[0] == 1:
            raise KeyError("secret-looking-key")
        return real(run)

    monkeypatch.setattr(restore_job, "earlier_ids", buggy)
    return calls


def test_a_bug_in_a_preview_ends_the_run_failed_and_a_start_works_again(app, sites, snapshot_id,
                                                                          monkeypatch) -> None:
    _planting_a_bug(monkeypatch)
    with app.app_context():
        dest = db.session.get(Tenant, sites.dest_tenant_id)
        run = service.start_preview(dest, snapshot_id, sites.admin)
        run_id, job_id = run.id, run.job_id
        assert run_job(job_id) == "failed"
        run = db.session.get(RestoreRun, run_id, populate_existing=True)
        assert run.status == "failed" and "internal error (KeyError)" in run.message, run.message
        assert "secret-looking-key" not in run.message and "Traceback" not in run.message
        assert db.session.get(Job, job_id, populate_existing=True).state == "failed"
        with pytest.raises(service.RestoreRefused) as refused:
            service.cancel(dest, run_id)
        assert (refused.value.status, refused.value.message) == (409, "This restore isn't running.")
        again = service.start_restore(dest, run_id, Selection(), "drop", sites.admin)
        assert run_job(again.job_id) == "succeeded", db.session.get(Job, again.job_id).message
        assert db.session.get(RestoreRun, run_id, populate_existing=True).status == "done"


def test_a_bug_in_a_restore_ends_the_run_failed_and_a_start_works_again(app, sites, snapshot_id,
                                                                          monkeypatch) -> None:
    run_id = _preview(app, sites, snapshot_id)
    _planting_a_bug(monkeypatch)
    with app.app_context():
        dest = db.session.get(Tenant, sites.dest_tenant_id)
        run = service.start_restore(dest, run_id, Selection(), "drop", sites.admin)
        job_id = run.job_id
        assert run_job(job_id) == "failed"
        run = db.session.get(RestoreRun, run_id, populate_existing=True)
        assert run.status == "failed" and "internal error (KeyError)" in run.message, run.message
        assert run.finished_at is not None
        job = db.session.get(Job, job_id, populate_existing=True)
        assert job.state == "failed" and job.singleton_key is None
        with pytest.raises(service.RestoreRefused):
            service.cancel(dest, run_id)
        again = service.start_restore(dest, run_id, Selection(), "drop", sites.admin)
        assert again.job_id != job_id
        assert run_job(again.job_id) == "succeeded", db.session.get(Job, again.job_id).message
        assert db.session.get(RestoreRun, run_id, populate_existing=True).status == "done"


@pytest.mark.parametrize("then", ["start", "cancel"])
def test_a_run_left_live_by_an_ended_job_is_repaired_by_start_or_cancel(app, sites, snapshot_id, then) -> None:
    """A run an earlier bug left "restoring" after its job ended: Start and Cancel end it failed, with the reason,
    instead of refusing it forever; Start then runs it."""
    run_id = _preview(app, sites, snapshot_id)
    with app.app_context():
        dest = db.session.get(Tenant, sites.dest_tenant_id)
        run = service.start_restore(dest, run_id, Selection(), "drop", sites.admin)
        job = db.session.get(Job, run.job_id)
        job.state, job.singleton_key = "failed", None  # the job ended without moving its run: the wedge
        db.session.commit()
        if then == "cancel":
            assert service.cancel(dest, run_id).status == "failed"
            assert "ended without finishing" in db.session.get(RestoreRun, run_id).message
        again = service.start_restore(dest, run_id, Selection(), "drop", sites.admin)
        assert again.status == "restoring" and again.job_id != job.id
        assert run_job(again.job_id) == "succeeded", db.session.get(Job, again.job_id).message
        assert db.session.get(RestoreRun, run_id, populate_existing=True).status == "done"
