"""Does every job count Jira's points as Jira charges them, per phase and per type, and keep them on its row?

The emulated Jira charges each answered request by the documented rule and keeps its own tally; the job's figure,
counted in the app's Jira client, must equal it exactly.
"""

from __future__ import annotations

from app.extensions import db
from app.jobs.models import Job
from app.jobs.runtime import enqueue, run_job
from app.restore import service
from app.restore.models import RestoreRun
from app.restore.plan import Selection
from app.tenants import Tenant
from tests.restore.conftest import sites  # noqa: F401  (fixture)


def _charged(site) -> int:
    return sum(site.limits.points().values())


def _job_points(app, job_id: str) -> dict:
    with app.app_context():
        return db.session.get(Job, job_id, populate_existing=True).points


def test_a_backups_points_equal_what_jira_charged(app, sites) -> None:  # noqa: F811
    sites.source.limits.clear_points()
    with app.app_context():
        job, _ = enqueue(sites.source_tenant_id, "backup", {}, dispatch=False)
        assert run_job(job.id) == "succeeded"
    points = _job_points(app, job.id)
    assert points["points"] == _charged(sites.source) > 0
    assert points["byPhase"] == {"read": points["points"]}
    assert sum(points["byType"].values()) == points["points"]
    assert points["requests"] >= len(points["byEndpoint"]) > 3
    # Jira's own tally is per endpoint too: the same figures, endpoint by endpoint
    assert {k: v for k, v in points["byEndpoint"].items() if v} == dict(sites.source.limits.points())


def test_a_restores_points_equal_what_jira_charged_and_name_their_phases(app, sites) -> None:  # noqa: F811
    with app.app_context():
        job, _ = enqueue(sites.source_tenant_id, "backup", {}, dispatch=False)
        assert run_job(job.id) == "succeeded"
        snapshot_id = db.session.get(Job, job.id, populate_existing=True).result["snapshot_id"]
    sites.dest.limits.clear_points()
    with app.app_context():
        dest = db.session.get(Tenant, sites.dest_tenant_id)
        run = service.start_preview(dest, snapshot_id, sites.admin)
        assert run_job(run.job_id) == "succeeded"
        preview_job = run.job_id
    preview = _job_points(app, preview_job)
    assert preview["points"] == _charged(sites.dest) > 0
    assert set(preview["byPhase"]) == {"plan"}

    sites.dest.limits.clear_points()
    with app.app_context():
        dest = db.session.get(Tenant, sites.dest_tenant_id)
        started = service.start_restore(dest, run.id, Selection(), "drop", sites.admin)
        assert run_job(started.job_id) == "succeeded"
        restore_job = db.session.get(RestoreRun, run.id, populate_existing=True).job_id
    spent = _job_points(app, restore_job)
    assert spent["points"] == _charged(sites.dest)
    # planned from the preview's reads of the destination (a restore right after its preview reads nothing again)
    assert {"write", "verify"} <= set(spent["byPhase"]) and not spent["byPhase"].get("plan")
    assert sum(spent["byPhase"].values()) == spent["points"]
    assert spent["byPhase"]["write"] > 0 and spent["byPhase"]["verify"] > 0


def test_the_estimates_counts_bill_as_the_meter_bills_the_requests() -> None:
    """One rule for both: reading 120 objects a page of 50 at a time is three answers of 50, 50 and 20 objects;
    an empty list is still one request; writes cost a request each, bulk ones a request per batch."""
    from app.quota.points import cost, read_points, write_points

    pages = [{"values": [{}] * n} for n in (50, 50, 20)]
    assert read_points(120) == sum(cost("GET", "/rest/api/3/field/search", 200, page) for page in pages) == 123
    assert read_points(0) == cost("GET", "/rest/api/3/field/search", 200, {"values": []}) == 1
    assert write_points(7) == 7 * cost("POST", "/rest/api/3/field", 201, {"id": "10000"}) == 7
    assert write_points(2500, per_request=1000) == 3  # options: up to 1,000 a request
    assert write_points(0) == 0
