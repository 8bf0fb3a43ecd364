"""Do workflows, schemes and projects come back on an empty destination from a realistic site, faithfully, once?"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.recovery.connections import activate, generate_token
from app.tenants import Tenant
from fakejira.resources.basics import admin_account_id
from fakejira.seeding import export_site, load_seed
from tests.restore.conftest import Sites, killed_then_resumed, take_backup
from tests.restore.test_restore_basics import _writes, outcomes, preview, restore

DEMO = json.loads((Path(__file__).parents[2] / "fakejira" / "seeds" / "demo.json").read_text())


def demo_seed() -> dict[str, Any]:
    """The demo site, with one project's default assignee 'Unassigned' so both kinds go through a restore."""
    seed = copy.deepcopy(DEMO)
    seed["projects"][-1]["assigneeType"] = "UNASSIGNED"
    return seed


@pytest.fixture
def demo_sites(app, fake_cloud, install_into, oauth_grant) -> Sites:
    """The demo site as source (read with an OAuth grant, as workflows need) and an empty destination."""
    source, dest = fake_cloud.add_site("source"), fake_cloud.add_site("dest")
    load_seed(source, demo_seed())
    source.client_key, dest.client_key = install_into(source), install_into(dest)
    admin = admin_account_id(dest)
    with app.app_context():
        src = db.session.scalars(select(Tenant).where(Tenant.client_key == source.client_key)).one()
        dst = db.session.scalars(select(Tenant).where(Tenant.client_key == dest.client_key)).one()
        activate(dst, admin, generate_token(src, admin_account_id(source)).token, src.base_url)
        sites = Sites(source, dest, src.id, dst.id, admin)
    oauth_grant(source, sites.source_tenant_id)
    oauth_grant(dest, sites.dest_tenant_id)
    return sites


def _names(export: dict[str, Any], type_key: str) -> set[str]:
    return {o["name"] for o in export[type_key]}


def test_workflows_schemes_and_projects_round_trip_and_a_second_run_writes_nothing(app, demo_sites,
                                                                                    fake_cloud) -> None:
    sites = demo_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run = restore(app, sites, preview(app, sites, snapshot), fallback="admin")
    assert run.status == "done", run.message
    items = outcomes(app, run.id)
    failed = {k: (i.reason, i.fix) for k, i in items.items() if i.outcome in ("failed", "pending", "creating")}
    mine = {k: v for k, v in failed.items() if k[0] in ("workflows", "workflowSchemes", "permissionSchemes",
                                                        "notificationSchemes", "issueSecuritySchemes", "projects")}
    assert not mine, mine
    src, dst = export_site(sites.source), export_site(sites.dest)
    for type_key in ("workflows", "workflowSchemes", "permissionSchemes", "notificationSchemes",
                     "issueSecuritySchemes", "projects"):
        assert _names(src, type_key) <= _names(dst, type_key), type_key
    assert {p["key"] for p in src["projects"]} == {p["key"] for p in dst["projects"]}
    # the default assignee, read from each site (the project search leaves it out: a backup must read the project)
    assignees = {p["key"]: p.get("assigneeType") for p in src["projects"]}
    assert set(assignees.values()) == {"PROJECT_LEAD", "UNASSIGNED"}
    assert {p["key"]: p.get("assigneeType") for p in dst["projects"]} == assignees
    verification = run.verification or {}
    diffs = [d for d in verification.get("differences", []) if d["type"] in (
        "workflows", "workflowSchemes", "permissionSchemes", "notificationSchemes", "issueSecuritySchemes",
        "projects")]
    # The destination has only its admin: every remaining difference is a person without an account here (the
    # run's fallback stands in for them), named with the reason; nothing else differs.
    assert diffs, "the fallback admin replaced people: the verification must say so"
    unexplained = [d["words"] for d in diffs if not d["reason"]]
    assert not unexplained, unexplained[:10]
    # a second restore of the same snapshot: nothing to write
    sites.dest.calls.clear()
    again = restore(app, sites, preview(app, sites, snapshot), fallback="admin")
    assert again.status == "done"
    assert _writes(sites.dest) == []


def test_selecting_one_project_pulls_in_its_schemes_and_workflows_and_keeps_a_conflicting_workflow(
        app, demo_sites, fake_cloud) -> None:
    sites = demo_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    # the destination already has a workflow of the same name (different case and content): kept, flagged
    load_seed(sites.dest, {"workflows": [w for w in export_site(sites.dest)["workflows"]] + [dict(
        copy.deepcopy(next(w for w in DEMO["workflows"] if w["name"] == "Simple Review")),
        id="aaaaaaaa-0000-0000-0000-000000000001", name="SIMPLE review", description="<script>x</script>",
        statuses=[{"deprecated": False, "properties": {}, "statusReference": "1"}],
        transitions=[{"actions": [], "description": "", "id": "1", "links": [], "name": "Create", "properties": {},
                      "toStatusReference": "1", "triggers": [], "type": "INITIAL", "validators": []}])]})
    from app.restore.plan import Selection

    run_id = preview(app, sites, snapshot)
    run = restore(app, sites, run_id, Selection(projects=["WEB"]), fallback="admin")
    items = outcomes(app, run.id)
    selected = {k for k, i in items.items() if i.selected}
    assert ("projects", "WEB (Web Platform)") in selected
    assert not [k for k in selected if k[0] == "projects" and k[1] != "WEB (Web Platform)"]
    assert {("workflowSchemes", "Software Workflow Scheme"), ("workflows", "Simple Review"),
            ("permissionSchemes", "Engineering Permissions")} <= selected
    assert items[("projects", "WEB (Web Platform)")].outcome == "created"
    conflict = items[("workflows", "Simple Review")]
    assert conflict.outcome == "reused" and conflict.dest_id == "SIMPLE review"
    dst = export_site(sites.dest)
    assert [p["key"] for p in dst["projects"]] == ["WEB"]
    assert sum(w["name"].casefold() == "simple review" for w in dst["workflows"]) == 1


def test_without_oauth_on_the_destination_notification_and_security_schemes_are_reported_with_the_fix(
        app, fake_cloud, demo_sites) -> None:
    from app.jira.access import AUTHORISE_FIX

    sites = demo_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    sources = app.extensions["wiring"].credential_sources
    grants = sources[-1]
    sources[-1] = lambda tenant: None if tenant.id == sites.dest_tenant_id else grants(tenant)
    try:
        run = restore(app, sites, preview(app, sites, snapshot), fallback="admin")
    finally:
        sources[-1] = grants
    items = outcomes(app, run.id)
    for key in [("notificationSchemes", "Engineering Notifications"), ("issueSecuritySchemes", "Customer Data")]:
        assert items[key].outcome == "cannot" and items[key].fix == AUTHORISE_FIX, (key, items[key].reason)
    assert items[("permissionSchemes", "Engineering Permissions")].outcome == "created"


KILL_POINTS = {
    "workflow": ("app.restore.types.workflows", "Workflows"),
    "project": ("app.restore.types.projects", "Projects"),
}
MINE = ("workflows", "workflowSchemes", "permissionSchemes", "notificationSchemes", "issueSecuritySchemes",
        "projects")


def _no_duplicates(export: dict[str, Any]) -> None:
    for type_key in MINE:
        names = [str(o.get("key") or o["name"]).casefold() for o in export[type_key]]
        assert len(names) == len(set(names)), type_key


@pytest.mark.parametrize("point", list(KILL_POINTS))
@pytest.mark.parametrize("when", ["before-send", "after-send"])
def test_a_worker_killed_at_a_workflow_scheme_or_project_create_resumes_to_the_same_state(
        app, demo_sites, fake_cloud, monkeypatch, point, when) -> None:
    """Kill the worker (SystemExit) on the first create of the type, before or after Jira processed it; resume."""
    from importlib import import_module

    from app.restore import service
    from app.restore.plan import Selection

    sites = demo_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run_id = preview(app, sites, snapshot)
    module, name = KILL_POINTS[point]
    cls = getattr(import_module(module), name)
    original = cls.create
    calls = {"n": 0}

    def dying_create(self, access, obj, ids):
        calls["n"] += 1
        if calls["n"] == 1:
            if when == "after-send":
                original(self, access, obj, ids)
            raise SystemExit("worker killed")
        return original(self, access, obj, ids)

    monkeypatch.setattr(cls, "create", dying_create)
    with app.app_context():
        run = service.start_restore(db.session.get(Tenant, sites.dest_tenant_id), run_id, Selection(), "admin",
                                    sites.admin)
        killed_then_resumed(run.job_id)
    items = outcomes(app, run_id)
    stuck = {k: (i.outcome, i.reason) for k, i in items.items()
             if k[0] in MINE and i.outcome in ("failed", "pending", "creating", "incomplete")}
    assert not stuck, stuck
    src, dst = export_site(sites.source), export_site(sites.dest)
    _no_duplicates(dst)
    for type_key in MINE:
        assert _names(src, type_key) <= _names(dst, type_key), type_key


@pytest.mark.parametrize("fault", ["5xx", "timeouts"])
def test_faults_while_restoring_workflows_schemes_and_projects_end_in_the_same_state(
        app, demo_sites, fake_cloud, fault) -> None:
    sites = demo_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run_id = preview(app, sites, snapshot)
    sites.dest.faults.seed(11)
    if fault == "5xx":
        sites.dest.faults.add(500, rate=0.2)
    else:
        sites.dest.faults.add_timeout(0.05, drop=True, rate=0.1)
    run = restore(app, sites, run_id, fallback="admin")
    sites.dest.faults.clear()
    assert run.status == "done", run.message
    items = outcomes(app, run_id)
    stuck = {k: (i.outcome, i.reason) for k, i in items.items()
             if k[0] in MINE and i.outcome in ("failed", "pending", "creating", "incomplete")}
    assert not stuck, stuck
    src, dst = export_site(sites.source), export_site(sites.dest)
    _no_duplicates(dst)
    for type_key in MINE:
        assert _names(src, type_key) <= _names(dst, type_key), type_key


def test_restoring_one_project_brings_the_field_contexts_its_issues_need(app, demo_sites, fake_cloud) -> None:
    """A global context applies to every project's issues (its options are what they hold): restoring WEB alone
    restores the global contexts of the site's custom fields, and not a context limited to another project.
    (Before, no context came with a project: every issue create naming an option was refused.)"""
    from app.restore.plan import Selection

    sites = demo_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run = restore(app, sites, preview(app, sites, snapshot), Selection(projects=["WEB"]), fallback="admin")
    items = outcomes(app, run.id)
    contexts = {k[1]: i for k, i in items.items() if k[0] == "fieldContexts"}
    selected = {name for name, i in contexts.items() if i.selected}
    assert any("Default Configuration Scheme" in name for name in selected), sorted(contexts)
    assert not any("Mobile release trains" in name for name in selected), sorted(selected)
    assert all(contexts[name].outcome in ("created", "reused", "updated") for name in selected), [
        (name, contexts[name].outcome, contexts[name].reason) for name in selected
        if contexts[name].outcome not in ("created", "reused", "updated")]
