"""Does a restore of the site-wide basics bring them back on an empty destination, faithfully and only once?"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.models import Job
from app.jobs.runtime import run_job
from app.restore import service
from app.restore.models import RestoreItem, RestoreRun
from app.restore.plan import Selection
from app.tenants import Tenant
from fakejira.seeding import export_site


def _tenant(tenant_id: int) -> Tenant:
    return db.session.get(Tenant, tenant_id)


def preview(app, sites, snapshot_id: int) -> int:
    with app.app_context():
        run = service.start_preview(_tenant(sites.dest_tenant_id), snapshot_id, sites.admin)
        state = run_job(run.job_id)
        assert state == "succeeded", db.session.get(Job, run.job_id).message
        return run.id


def restore(app, sites, run_id: int, selection: Selection | None = None, fallback: str = "drop") -> RestoreRun:
    with app.app_context():
        run = service.start_restore(_tenant(sites.dest_tenant_id), run_id, selection or Selection(), fallback,
                                    sites.admin)
        state = run_job(run.job_id)
        for _ in range(10):  # a long rate-limit wait requeues the job (RetryLater): run it again at once
            if state != "queued":
                break
            db.session.execute(db.update(Job).where(Job.id == run.job_id).values(not_before=None))
            db.session.commit()
            state = run_job(run.job_id)
        assert state == "succeeded", db.session.get(Job, run.job_id).message
        run = db.session.get(RestoreRun, run_id, populate_existing=True)
        db.session.expunge(run)
        return run


def outcomes(app, run_id: int) -> dict[tuple[str, str], RestoreItem]:
    with app.app_context():
        rows = db.session.scalars(select(RestoreItem).where(RestoreItem.run_id == run_id)).all()
        for r in rows:
            db.session.expunge(r)
        return {(r.type_key, r.name): r for r in rows}


def by_name(export: dict[str, Any], type_key: str, *fields: str) -> dict[str, tuple]:
    return {o["name"].casefold(): tuple(o.get(f) for f in fields) for o in export[type_key]}


def test_basics_round_trip_into_an_empty_destination(app, sites, snapshot_id, oauth_grant) -> None:
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run_id = preview(app, sites, snapshot_id)
    run = restore(app, sites, run_id)
    assert run.status == "done", run.message
    src, dst = export_site(sites.source), export_site(sites.dest)
    for type_key, fields in {"projectCategories": ("description",), "issueLinkTypes": ("inward", "outward"),
                             "resolutions": ("description",), "statuses": ("statusCategory", "description"),
                             "priorities": ("statusColor", "description")}.items():
        assert by_name(src, type_key, *fields).items() <= by_name(dst, type_key, *fields).items(), type_key
    items = outcomes(app, run_id)
    assert items[("issueTypes", "Initiative")].outcome == "cannot"
    assert items[("groups", "qa-team")].outcome == "created"  # through the OAuth grant
    assert {"qa-team", "developers"} <= {g["name"] for g in dst["groups"]}
    print(run.summary, run.verification)


def _writes(site) -> list:
    return [c for c in site.calls.as_json() if c["method"] in ("POST", "PUT", "DELETE")
            and not c["path"].startswith("/_emulator")]


def test_restoring_the_same_snapshot_again_writes_nothing(app, sites, snapshot_id, oauth_grant) -> None:
    oauth_grant(sites.dest, sites.dest_tenant_id)
    restore(app, sites, preview(app, sites, snapshot_id))
    sites.dest.calls.clear()
    second = preview(app, sites, snapshot_id)
    run = restore(app, sites, second)
    assert run.status == "done"
    assert _writes(sites.dest) == []
    assert "created" not in run.summary["outcomes"]
    # the same run once more (the report's "run again") is idempotent too
    run = restore(app, sites, second)
    assert _writes(sites.dest) == [] and "created" not in run.summary["outcomes"]


def test_without_the_oauth_grant_connect_walls_are_reported_with_the_fix(app, sites, snapshot_id) -> None:
    from app.jira.access import AUTHORISE_FIX

    run = restore(app, sites, preview(app, sites, snapshot_id))
    items = outcomes(app, run.id)
    for key in [("resolutions", "Obsolete"), ("statuses", "In Review"), ("groups", "qa-team")]:
        assert items[key].outcome == "cannot" and items[key].fix == AUTHORISE_FIX, key
    assert items[("projectCategories", "Internal")].outcome == "created"  # Connect can do this one
    assert items[("issueTypes", "Incident")].outcome == "created"


def test_hierarchy_groups_and_read_only_roles_are_reported_not_attempted(app, sites, snapshot_id,
                                                                        oauth_grant) -> None:
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run = restore(app, sites, preview(app, sites, snapshot_id))
    items = outcomes(app, run.id)
    assert "Hierarchy level 2" in items[("issueTypes", "Initiative")].reason
    assert items[("projectRoles", "atlassian-addons-project-access")].outcome in ("reused", "cannot")
    assert not [c for c in _writes(sites.dest) if c["path"].endswith(("/group", "/issuetype"))
                and c["status"] >= 400]


def test_selecting_roles_pulls_in_the_groups_they_name(app, sites, snapshot_id, oauth_grant) -> None:
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run_id = preview(app, sites, snapshot_id)
    with app.app_context():
        stored = db.session.get(RestoreRun, run_id)
        chosen = Selection(types=["projectRoles"])
        pulled = [row for row, pulled_in in service.selected_rows(stored, chosen) if pulled_in]
        assert {p.type_key for p in pulled} <= {"groups"}
    run = restore(app, sites, run_id, Selection(types=["projectRoles"]))
    items = outcomes(app, run.id)
    assert all(i.selected == (i.type_key in ("projectRoles", "groups")) for i in items.values()
               if i.type_key != "groups")
    assert items[("projectCategories", "Internal")].outcome == "pending"
    assert not any(c["path"].endswith("/projectCategory") for c in _writes(sites.dest))


@pytest.mark.parametrize("when", ["before-send", "after-send"])
def test_a_worker_killed_mid_restore_resumes_without_duplicates(app, sites, snapshot_id, oauth_grant,
                                                               monkeypatch, when) -> None:
    """Kill the worker (SystemExit) on the second create, before or after Jira processed it; resume."""
    from datetime import timedelta

    from app.clock import utcnow
    from app.restore.types.simple import ProjectCategories

    oauth_grant(sites.dest, sites.dest_tenant_id)
    run_id = preview(app, sites, snapshot_id)
    original = ProjectCategories.create
    calls = {"n": 0}

    def dying_create(self, access, obj, ids):
        calls["n"] += 1
        if calls["n"] == 2:
            if when == "after-send":
                original(self, access, obj, ids)
            raise SystemExit("worker killed")
        return original(self, access, obj, ids)

    monkeypatch.setattr(ProjectCategories, "create", dying_create)
    with app.app_context():
        run = service.start_restore(_tenant(sites.dest_tenant_id), run_id, Selection(), "drop", sites.admin)
        job_id = run.job_id
        with pytest.raises(SystemExit):
            run_job(job_id)
        db.session.execute(db.update(Job).where(Job.id == job_id)
                           .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert run_job(job_id) == "succeeded", db.session.get(Job, job_id).message
    items = outcomes(app, run_id)
    assert items[("projectCategories", "Internal")].outcome == "created"
    assert items[("projectCategories", '=HYPERLINK("x") <b>Clients</b>')].outcome == "created"
    names = [c["name"] for c in export_site(sites.dest)["projectCategories"]]
    assert sorted(names) == sorted(c["name"] for c in export_site(sites.source)["projectCategories"])
    assert not [i for i in items.values() if i.outcome in ("failed", "pending", "creating")]


@pytest.mark.parametrize("fault", ["5xx", "timeouts", "429-storm"])
def test_faults_on_the_destination_end_in_the_same_state(app, sites, snapshot_id, oauth_grant, fault) -> None:
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run_id = preview(app, sites, snapshot_id)
    sites.dest.faults.seed(7)
    if fault == "5xx":
        sites.dest.faults.add(500, rate=0.3)
    elif fault == "timeouts":
        sites.dest.faults.add_timeout(0.05, drop=True, rate=0.2)
    else:
        sites.dest.limits.configure(burst_rate=20, burst_capacity=3)
    run = restore(app, sites, run_id)
    sites.dest.faults.clear()
    sites.dest.limits.configure(burst_rate=0, burst_capacity=0)
    assert run.status == "done"
    items = outcomes(app, run_id)
    assert not [i for i in items.values() if i.outcome in ("failed", "pending", "creating")], \
        [(i.name, i.reason) for i in items.values() if i.outcome == "failed"]
    src, dst = export_site(sites.source), export_site(sites.dest)
    for type_key in ("projectCategories", "issueLinkTypes", "resolutions", "priorities"):
        names = [o["name"] for o in dst[type_key]]
        assert {o["name"] for o in src[type_key]} <= set(names), type_key
        assert len(set(names)) == len(names), type_key  # nothing created twice
    assert len({o["name"] for o in dst["statuses"]}) == len(dst["statuses"])


def test_the_report_csv_neutralises_formulas(app, sites, snapshot_id, oauth_grant) -> None:
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run = restore(app, sites, preview(app, sites, snapshot_id))
    with app.app_context():
        text = service.report_csv(db.session.get(RestoreRun, run.id))
        data = service.report_json(db.session.get(RestoreRun, run.id))
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    assert data["verification"]["fidelity"] == round(run.fidelity, 4)
    assert {o["outcome"] for o in data["objects"]} >= {"created", "reused", "cannot"}
