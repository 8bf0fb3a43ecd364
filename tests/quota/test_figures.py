"""Does the restore page's payload carry the points: the least a restore will spend before it, the spend after?"""

from __future__ import annotations

from app.extensions import db
from app.jobs.runtime import enqueue, run_job
from app.presenters import restore as rp
from app.restore import service
from app.restore.models import RestoreRun
from app.restore.plan import Selection
from app.tenants import Tenant
from tests.restore.conftest import sites  # noqa: F401  (fixture)


def test_the_confirmation_estimates_and_the_history_shows_the_spend(app, sites) -> None:  # noqa: F811
    app.config["QUOTA_TENANT_POINTS"] = 100_100
    with app.app_context():
        job, _ = enqueue(sites.source_tenant_id, "backup", {}, dispatch=False)
        assert run_job(job.id) == "succeeded"
        snapshot_id = job.result["snapshot_id"]
        dest = db.session.get(Tenant, sites.dest_tenant_id)
        run = service.start_preview(dest, snapshot_id, sites.admin)
        assert run_job(run.job_id) == "succeeded"
        run = db.session.get(RestoreRun, run.id, populate_existing=True)
        estimate = rp.confirmation(run, Selection(), "drop", dest.base_url)["points"]
        preview_points = rp.history_row(run, rp.people_for(dest, [run]))["points"]["points"]
        assert estimate["readDestination"] == preview_points > 0
        assert estimate["points"] > estimate["writes"] > 0
        assert estimate["siteQuota"] == 100_100 and 0 < estimate["hours"] < 1
        assert estimate["words"].startswith(f"At least {estimate['points']:,} points")
        started = service.start_restore(dest, run.id, Selection(), "drop", sites.admin)
        assert run_job(started.job_id) == "succeeded"
        run = db.session.get(RestoreRun, run.id, populate_existing=True)
        spent = rp.history_row(run, rp.people_for(dest, [run]))["points"]
        assert spent["points"] >= estimate["writes"] and {"write", "verify"} <= set(spent["byPhase"])
        # the restore planned from its recent preview's reads of the destination: it didn't read them again
        assert not spent["byPhase"].get("plan"), spent["byPhase"]
