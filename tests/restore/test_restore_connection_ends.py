"""Does deactivating (or releasing) the disaster-recovery connection stop a restore or preview that runs through it,
between objects, saying why, and keep new starts refused while there is no Active connection?"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.models import Job
from app.jobs.runtime import run_job
from app.recovery.connections import Side, deactivate, release
from app.restore import service
from app.restore.models import RestoreItem, RestoreRun
from app.restore.plan import Selection
from app.tenants import Tenant

DEACTIVATED = "the disaster-recovery connection was deactivated"
RELEASED = "the disaster-recovery connection was released"
ENDINGS = {  # how recovery through the connection ends -> the reason the run gives
    "source deactivates": (Side.SOURCE, deactivate, DEACTIVATED),
    "destination deactivates": (Side.DESTINATION, deactivate, DEACTIVATED),
    "source releases": (Side.SOURCE, release, RELEASED),
    "destination releases": (Side.DESTINATION, release, RELEASED),
}


@pytest.fixture
def slow(app):
    """Calls to Jira paced (a run takes seconds) and the stop check made before every object."""
    app.config["RESTORE_RATE_PER_SECOND"] = 12
    app.config["RESTORE_PROGRESS_INTERVAL"] = 0
    return app


def _end_connection(app, sites, ending: str) -> None:
    side, action, _reason = ENDINGS[ending]
    with app.app_context():
        tenant = db.session.get(Tenant, sites.source_tenant_id if side is Side.SOURCE else sites.dest_tenant_id)
        extra: dict[str, Any] = {"reusable": True} if action is release else {}
        action(tenant, side, "admin", None, **extra)
        db.session.remove()


def _in_background(app, job_id: str) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def go() -> None:
        with app.app_context():
            out["state"] = run_job(job_id)
            db.session.remove()

    thread = threading.Thread(target=go)
    thread.start()
    return thread, out


def _wait(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _writes(site) -> int:
    return sum(1 for c in site.calls.as_json() if c["method"] in ("POST", "PUT", "DELETE")
               and not c["path"].startswith("/_emulator"))


def _step(app, job_id: str) -> str:
    with app.app_context():
        job = db.session.get(Job, job_id)
        step = job.step or ""
        db.session.remove()
        return step


def _preview(app, sites, snapshot_id: int) -> int:
    with app.app_context():
        run = service.start_preview(db.session.get(Tenant, sites.dest_tenant_id), snapshot_id, sites.admin)
        assert run_job(run.job_id) == "succeeded", db.session.get(Job, run.job_id).message
        return run.id


def _refused_while_not_active(app, sites, snapshot_id: int, run_id: int) -> None:
    with app.app_context():
        dest = db.session.get(Tenant, sites.dest_tenant_id)
        for start in (lambda: service.start_restore(dest, run_id, Selection(), "drop", sites.admin),
                      lambda: service.start_preview(dest, snapshot_id, sites.admin)):
            with pytest.raises(service.RestoreRefused) as refused:
                start()
            assert refused.value.status == 403 and "no Active disaster-recovery connection" in refused.value.message


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_ending_the_connection_mid_restore_stops_it_between_objects(slow, sites, snapshot_id, oauth_grant,
                                                                     ending) -> None:
    app, reason = slow, ENDINGS[ending][2]
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run_id = _preview(app, sites, snapshot_id)
    with app.app_context():
        run = service.start_restore(db.session.get(Tenant, sites.dest_tenant_id), run_id, Selection(), "drop",
                                    sites.admin)
        job_id = run.job_id
    sites.dest.calls.clear()
    thread, out = _in_background(app, job_id)
    _wait(lambda: _writes(sites.dest) >= 3, "the restore's first writes")
    _end_connection(app, sites, ending)
    thread.join(120)
    writes_at_end = _writes(sites.dest)

    assert out.get("state") == "cancelled", out
    with app.app_context():
        run = db.session.get(RestoreRun, run_id)
        job = db.session.get(Job, job_id)
        assert run.status == "cancelled" and reason in run.message, run.message
        assert job.state == "cancelled" and reason in job.message, job.message
        assert run.finished_at is not None and run.summary["outcomes"].get("pending", 0) > 0, run.summary
        outcomes = {i.outcome for i in db.session.scalars(select(RestoreItem).where(RestoreItem.run_id == run_id))}
        # between objects: what was started was finished and recorded, the rest was never begun
        assert "created" in outcomes and not outcomes & {"creating", "incomplete"}, outcomes
    time.sleep(0.5)
    assert _writes(sites.dest) == writes_at_end  # nothing goes on writing
    _refused_while_not_active(app, sites, snapshot_id, run_id)


def test_deactivating_mid_preview_stops_it(slow, sites, snapshot_id) -> None:
    app = slow
    with app.app_context():
        run = service.start_preview(db.session.get(Tenant, sites.dest_tenant_id), snapshot_id, sites.admin)
        run_id, job_id = run.id, run.job_id
    thread, out = _in_background(app, job_id)
    _wait(lambda: _step(app, job_id).startswith("Reading the destination"), "the preview's reads")
    _end_connection(app, sites, "destination deactivates")
    thread.join(120)
    assert out.get("state") == "cancelled", out
    with app.app_context():
        run = db.session.get(RestoreRun, run_id)
        assert run.status == "cancelled" and DEACTIVATED in run.message, run.message
        assert DEACTIVATED in db.session.get(Job, job_id).message
    _refused_while_not_active(app, sites, snapshot_id, run_id)


def test_a_restore_waiting_in_the_queue_ends_when_the_connection_is_deactivated(app, sites, snapshot_id) -> None:
    run_id = _preview(app, sites, snapshot_id)
    with app.app_context():
        run = service.start_restore(db.session.get(Tenant, sites.dest_tenant_id), run_id, Selection(), "drop",
                                    sites.admin)
        job_id = run.job_id
    sites.dest.calls.clear()
    _end_connection(app, sites, "source deactivates")
    with app.app_context():
        run = db.session.get(RestoreRun, run_id)
        job = db.session.get(Job, job_id)
        assert run.status == "cancelled" and DEACTIVATED in run.message, run.message
        assert job.state == "cancelled" and job.singleton_key is None
        assert run_job(job_id) is None  # nothing left to run
    assert _writes(sites.dest) == 0
    _refused_while_not_active(app, sites, snapshot_id, run_id)
