"""Is a filter whose JQL names a select list's option by its value restored once the option exists, when the worker
was killed after the field's context was created but before its options were (the context's follow-up writes)?

The crash bench's miss (seed 201590977): on resume the filter went to Jira while the context it needs existed with no
options yet, and Jira refused its JQL ("The value 'Journey 0' does not exist for the field 'cf[10042]'"). A value
(like a project's key) is not an id, so nothing ordered the filter after the context that holds the option.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from app.clock import utcnow
from app.extensions import db
from app.jobs.models import Job
from app.jobs.runtime import run_job
from app.restore import service
from app.restore.plan import Action, Plan, PlannedItem, Selection
from app.restore.restorers import load
from app.restore.subobjects import SourceIndex, link_parents
from app.restore.types.fields import FieldContexts
from app.restore.types.sharing import Filters
from app.tenants import Tenant
from fakejira.seeding import export_site
from tests.restore.conftest import Sites, take_backup
from tests.restore.test_restore_basics import outcomes, preview
from tests.restore.test_restore_fields import connect_sites

SELECT = "com.atlassian.jira.plugin.system.customfieldtypes:select"
FIELD, CONTEXT = "customfield_10042", "10142"
OPTIONS = ["Journey 0", "Journey 1"]
JQL = 'cf[10042] = "Journey 0" ORDER BY created DESC'
OWNER = "557058:6a0f3c2e-4d1b-4c8e-9f7a-journey00001"
HOLD = 3.0  # seconds the resumed context's follow-up waits for the filter to be tried first


def journey_seed() -> dict[str, Any]:
    """A select list with one global context and its options, and a filter naming an option by its value."""
    return {
        "users": [{"accountId": OWNER, "accountType": "atlassian", "displayName": "Journey Owner", "active": True}],
        "fields": [{"id": FIELD, "key": FIELD, "name": "Journey", "isLocked": False, "description": "",
                    "schema": {"type": "option", "custom": SELECT, "customId": 10042}}],
        "fieldContexts": {FIELD: [{"id": CONTEXT, "name": "Journeys", "description": "",
                                   "isGlobalContext": True, "isAnyIssueType": True}]},
        "fieldContextIssueTypeMappings": {FIELD: [{"contextId": CONTEXT, "isAnyIssueType": True}]},
        "fieldContextProjectMappings": {FIELD: [{"contextId": CONTEXT, "isGlobalContext": True}]},
        "fieldOptions": {CONTEXT: [{"id": str(10300 + n), "value": v, "disabled": False}
                                   for n, v in enumerate(OPTIONS)]},
        "filters": [{"id": "10001", "name": "Journey zero", "description": "", "jql": JQL,
                     "owner": {"accountId": OWNER}, "sharePermissions": [], "editPermissions": []}],
    }


@pytest.fixture
def journey_sites(app, fake_cloud, install_into) -> Sites:
    return connect_sites(app, fake_cloud, install_into, journey_seed())


def _plant(monkeypatch, app) -> dict[str, Any]:
    """First attempt (one object at a time): kill the worker once the context exists, before its options are
    written. Resumed attempt (four at a time): the context's follow-up waits until the filter has been tried (or
    ``HOLD`` seconds, when the filter rightly waits for the context), so a filter sent too early meets no options."""
    after_create, create = FieldContexts.after_create, Filters.create
    seen: dict[str, Any] = {"killed": False, "held": False, "tried": threading.Event()}

    def dying_after_create(self, access, dest_id, obj, ids):
        if obj["name"] == "Journeys" and not seen["killed"]:
            seen["killed"] = True
            raise SystemExit("worker killed: the context exists, its options don't yet")
        if obj["name"] == "Journeys":
            seen["held"] = not seen["tried"].wait(HOLD)
        return after_create(self, access, dest_id, obj, ids)

    def noted_create(self, access, obj, ids):
        try:
            return create(self, access, obj, ids)
        finally:
            seen["tried"].set()

    monkeypatch.setattr(FieldContexts, "after_create", dying_after_create)
    monkeypatch.setattr(Filters, "create", noted_create)
    monkeypatch.setitem(app.config, "RESTORE_CONCURRENCY", 1)
    return seen


def _kill_then_resume(app, sites: Sites, run_id: int) -> None:
    with app.app_context():
        run = service.start_restore(db.session.get(Tenant, sites.dest_tenant_id), run_id, Selection(), "admin",
                                    sites.admin)
        with pytest.raises(SystemExit):
            run_job(run.job_id)
        app.config["RESTORE_CONCURRENCY"] = 4  # the new worker runs as a worker does
        db.session.execute(db.update(Job).where(Job.id == run.job_id)
                           .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert run_job(run.job_id) == "succeeded", db.session.get(Job, run.job_id).message


def test_a_filter_naming_an_option_by_value_waits_for_the_options_of_a_context_killed_before_them(
        app, journey_sites, fake_cloud, oauth_grant, monkeypatch) -> None:
    sites = journey_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run_id = preview(app, sites, snapshot)
    seen = _plant(monkeypatch, app)
    _kill_then_resume(app, sites, run_id)
    assert seen["killed"]

    dest = export_site(sites.dest)
    field = next(f for f in dest["fields"] if f["name"] == "Journey")
    context = next(c for c in dest["fieldContexts"][field["id"]] if c["name"] == "Journeys")
    assert [o["value"] for o in dest["fieldOptions"][str(context["id"])]] == OPTIONS  # once each, in order
    items = outcomes(app, run_id)
    row = items[("filters", "Journey zero")]
    assert row.outcome == "created", (row.outcome, row.reason)
    made = [f for f in dest["filters"] if f["name"] == "Journey zero"]
    assert [f["jql"] for f in made] == [JQL.replace("cf[10042]", f"cf[{field['id'].removeprefix('customfield_')}]")]
    assert str(made[0]["id"]) == row.dest_id
    assert not [(k, i.outcome, i.reason) for k, i in items.items()
                if i.selected and i.outcome in ("failed", "pending", "creating", "incomplete", "skipped")]
    assert seen["held"], "the filter was sent while its field's context had no options yet"


def _plan(objects: dict[tuple[str, str], dict[str, Any]]) -> Plan:
    items = {k: PlannedItem(k[0], k[1], k[1], k[1], Action.CREATE) for k in objects}
    return Plan(items, dict(objects), [])


def test_names_keys_and_values_in_jql_order_the_filter_after_what_holds_them() -> None:
    """Is a filter naming a project by key, a field by name, an option by value (cascading child too), a version
    by name and a status by name ordered after the project, field, context and status holding them, and one naming
    only ids, text or unknown names left as it was?"""
    project = {"key": "WEB", "name": "Web Platform", "versions": [{"id": "20001", "name": "1.0"}], "components": []}
    other = {"key": "OPS", "name": "Operations", "versions": [], "components": []}
    platform = {"id": "customfield_10032", "name": "Platform", "schema": {"type": "option-with-child"}}
    journey = {"id": FIELD, "name": "Journey", "schema": {"type": "option"}}
    options = [{"id": "1", "value": "Web"}, {"id": "2", "value": "Chrome", "optionId": "1"}]
    objects = {
        ("projects", "10000"): project, ("projects", "10001"): other,
        ("customFields", "customfield_10032"): platform, ("customFields", FIELD): journey,
        ("fieldContexts", "C1"): {"fieldId": "customfield_10032", "name": "Platforms", "options": options},
        ("fieldContexts", "C2"): {"fieldId": FIELD, "name": "Journeys",
                                  "options": [{"id": "3", "value": "Journey 0"}]},
        ("statuses", "10007"): {"name": "In Review"},
        ("filters", "F"): {"id": "F", "jql": 'project = web AND Platform in cascadeOption("Web", "chrome") AND '
                                            'fixVersion = "1.0" AND status WAS "In Review" ORDER BY Journey'},
        ("filters", "G"): {"id": "G", "jql": 'cf[10042] = "journey 0" AND summary ~ "OPS" AND project = 10001'},
        ("filters", "H"): {"id": "H", "jql": 'project = NOPE AND cf[10042] = "Journey 9" AND text ~ Web'},
    }
    plan = _plan(objects)
    link_parents(plan, SourceIndex.of(plan.objects), load())

    def refs(source_id: str) -> set[tuple[str, str]]:
        return {(r.type_key, r.source_id) for r in plan.items[("filters", source_id)].refs if r.optional}

    assert refs("F") == {("projects", "10000"), ("customFields", "customfield_10032"), ("fieldContexts", "C1"),
                         ("statuses", "10007"), ("customFields", FIELD)}
    assert refs("G") == {("fieldContexts", "C2"), ("customFields", FIELD), ("projects", "10001")}
    assert refs("H") == {("customFields", FIELD)}
    plan.order()  # no cycle
