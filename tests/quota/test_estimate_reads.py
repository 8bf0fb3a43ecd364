"""Does the estimate before a restore say what it will spend, counted against the emulated Jira?

Jira charges a read per object returned: verifying a restored field configuration reads one item per field of the
site, a context all its options. Before, the estimate counted one point per created object, so a restore of a
large site was announced as fitting in one hour of quota when its verification alone took two. And Jira charges
each request, not each object: a screen is one create plus a write per tab and per field placed on it, a project
one per version, component and role, so the estimate counts each object's requests (its restorer's own count).
"""

from __future__ import annotations

from app.extensions import db
from app.jobs.models import Job
from app.jobs.runtime import run_job
from app.presenters import restore as rp
from app.restore import service
from app.restore.models import RestoreRun
from app.restore.plan import Selection
from app.tenants import Tenant
from tests.restore.conftest import oauth_grant, take_backup  # noqa: F401  (fixture)
from tests.restore.test_restore_basics import preview
from tests.restore.test_restore_projects import demo_sites  # noqa: F401  (fixture)


def test_the_estimate_of_reading_what_a_restore_creates_is_what_its_verification_reads(app, demo_sites,  # noqa: F811
                                                                                      fake_cloud) -> None:
    """A full restore into an empty site: verification reads the destination again, what was there (the preview's
    read) and what the restore created; the estimate of the two is within 25 % of the points it then spent, and the
    whole estimate (the write requests too) within 15 % of the restore's points."""
    sites = demo_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run_id = preview(app, sites, snapshot)
    with app.app_context():
        run = db.session.get(RestoreRun, run_id)
        dest = db.session.get(Tenant, sites.dest_tenant_id)
        estimate = rp.confirmation(run, Selection(), "admin", dest.base_url)["points"]
        started = service.start_restore(dest, run_id, Selection(), "admin", sites.admin)
        job_id = started.job_id
    with app.app_context():
        assert run_job(job_id) == "succeeded", db.session.get(Job, job_id).message
        spent = db.session.get(Job, job_id).points
    verify = spent["byPhase"]["verify"]
    read = estimate["readDestination"] + estimate["readCreated"]
    assert 0.75 * verify <= read <= 1.25 * verify, (estimate, spent["byPhase"])
    assert estimate["points"] == estimate["writeRequests"] + read
    assert estimate["writeRequests"] > estimate["writes"]  # more requests than objects: tabs, fields, versions...
    assert 0.85 * spent["points"] <= estimate["points"] <= 1.15 * spent["points"], (estimate, spent["byPhase"])
