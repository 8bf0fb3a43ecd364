"""Does an uninterrupted restore leave the destination with one 'Default dashboard' (the source's System dashboard
mapped onto the destination's), and does reading the destination list each dashboard once under each of its keys?

A second 'Default dashboard' was reported from the crash bench (``duplicates in dashboards: ['- / default
dashboard']``, the clean run too). Nothing was created twice: the owner-less System dashboard was listed twice under
the same key, once as itself and once as "owner dropped", which the bench (and anyone counting keys) reads as two.
"""

from __future__ import annotations

from collections import Counter

from app.extensions import db
from app.restore.plan import Selection
from app.restore.types.sharing import Dashboards
from app.tenant_access import jira_access
from app.tenants import Tenant
from fakejira.seeding import export_site
from tests.restore.conftest import take_backup
from tests.restore.test_restore_basics import outcomes, preview, restore
from tests.restore.test_restore_projects import demo_sites  # noqa: F401  (fixture)


def test_one_default_dashboard_after_a_restore_listed_once(app, demo_sites, fake_cloud) -> None:  # noqa: F811
    sites = demo_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run = restore(app, sites, preview(app, sites, snapshot), Selection(types=["dashboards"]), fallback="admin")
    assert run.status == "done", run.message
    row = outcomes(app, run.id)[("dashboards", "Default dashboard")]
    dest = export_site(sites.dest)
    system = [d for d in dest["dashboards"] if d["name"] == "Default dashboard"]
    assert [(str(d["id"]), d.get("systemDashboard")) for d in system] == [(row.dest_id, True)]
    assert row.outcome == "reused"

    with app.app_context():
        found = list(Dashboards().existing(jira_access(db.session.get(Tenant, sites.dest_tenant_id))))
        db.session.commit()
    listed = Counter((e.natural_key, e.dest_id) for e in found)
    assert [k for k, n in listed.items() if n > 1] == []
    keys = Counter(e.natural_key for e in found)
    assert keys["- / default dashboard"] == 1
    assert {e.dest_id for e in found} == {str(d["id"]) for d in dest["dashboards"]}
