"""Do custom fields and their contexts (mappings, options — cascading too —, defaults) come back on a destination,
matched by name + type, without duplicates, with locked and app fields reported rather than attempted?"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.recovery.connections import activate, generate_token
from app.restore import service
from app.restore.models import RestoreRun
from app.restore.plan import Selection
from app.tenants import Tenant
from fakejira.resources.basics import admin_account_id
from fakejira.seeding import export_site, load_seed
from tests.restore.conftest import Sites, killed_then_resumed, take_backup
from tests.restore.test_restore_basics import outcomes, preview, restore

DEMO = Path(__file__).resolve().parents[2] / "fakejira" / "seeds" / "demo.json"
# What this module's restorers read and write, plus the basics they build on (no projects, workflows or sharing:
# those are another module's and would only slow the backup down).
KEEP = ("priorities", "issueTypes", "fields", "fieldContexts", "fieldContextIssueTypeMappings",
        "fieldContextProjectMappings", "fieldOptions", "fieldContextDefaults", "screens", "screenTabs",
        "screenTabFields", "fieldConfigurations", "fieldConfigurationItems", "fieldConfigurationSchemes",
        "fieldConfigurationSchemeMappings", "screenSchemes", "issueTypeScreenSchemes",
        "issueTypeScreenSchemeMappings", "issueTypeSchemes", "issueTypeSchemeMappings", "prioritySchemes",
        "prioritySchemePriorities")
PROJECT_CONTEXT = "10119"  # the demo's one project-scoped context (its project isn't in this seed)
HOSTILE_FIELD = '=HYPERLINK("x") <script>alert(1)</script> Ünïcode ✓'
HOSTILE_OPTIONS = ['"quoted", with comma', "=1+1", "<b>bold</b>", "Ünïcode ✓"]
CF_TYPES = "com.atlassian.jira.plugin.system.customfieldtypes:"




def demo_seed() -> dict[str, Any]:
    """The demo site's fields and screens, plus a field with hostile names, ready to load into a source."""
    seed = {k: v for k, v in json.loads(DEMO.read_text()).items() if k in KEEP}
    for key in ("fieldContexts", "fieldContextIssueTypeMappings", "fieldContextProjectMappings",
                "fieldContextDefaults"):
        seed[key] = {f: [c for c in cs if str(c.get("contextId", c.get("id"))) != PROJECT_CONTEXT]
                     for f, cs in seed[key].items()}
    seed["fieldOptions"].pop(PROJECT_CONTEXT, None)
    seed["fields"].append({"id": "customfield_10090", "name": HOSTILE_FIELD, "key": "customfield_10090",
                           "schema": {"type": "array", "items": "option", "custom": f"{CF_TYPES}multiselect",
                                      "customId": 10090}, "isLocked": False, "description": "<i>x</i>"})
    seed["fields"].append({"id": "customfield_10091", "name": "Tempo Account", "key": "customfield_10091",
                           "schema": {"type": "option2", "custom": "io.tempo.jira__account", "customId": 10091},
                           "isLocked": False})
    seed["fieldContexts"]["customfield_10090"] = [
        {"id": "10190", "name": "Bugs & <Incidents>", "description": "'; DROP TABLE", "isGlobalContext": True,
         "isAnyIssueType": False}]
    seed["fieldContextIssueTypeMappings"]["customfield_10090"] = [
        {"contextId": "10190", "issueTypeId": "10004"}, {"contextId": "10190", "issueTypeId": "10006"}]
    seed["fieldContextProjectMappings"]["customfield_10090"] = [{"contextId": "10190", "isGlobalContext": True}]
    seed["fieldOptions"]["10190"] = [{"id": str(10190 + n), "value": v, "disabled": n == 2}
                                     for n, v in enumerate(HOSTILE_OPTIONS)]
    seed["fieldContextDefaults"]["customfield_10090"] = [
        {"type": "option.multiple", "optionIds": ["10193", "10190"], "contextId": "10190"}]
    return seed


def connect_sites(app, fake_cloud, install_into, seed: dict[str, Any],
                  dest_seed: dict[str, Any] | None = None) -> Sites:
    """A seeded source and a destination (empty unless ``dest_seed``), both with the app, connected (Active)."""
    source, dest = fake_cloud.add_site("source"), fake_cloud.add_site("dest")
    load_seed(source, seed)
    if dest_seed:
        load_seed(dest, dest_seed)
    source.client_key, dest.client_key = install_into(source), install_into(dest)
    admin = admin_account_id(dest)
    with app.app_context():
        src = db.session.scalars(select(Tenant).where(Tenant.client_key == source.client_key)).one()
        dst = db.session.scalars(select(Tenant).where(Tenant.client_key == dest.client_key)).one()
        activate(dst, admin, generate_token(src, admin_account_id(source)).token, src.base_url)
        return Sites(source, dest, src.id, dst.id, admin)


@pytest.fixture
def field_sites(app, fake_cloud, install_into) -> Sites:
    return connect_sites(app, fake_cloud, install_into, demo_seed())


def writes(site) -> list[dict[str, Any]]:
    return [c for c in site.calls.as_json() if c["method"] in ("POST", "PUT", "DELETE")
            and not c["path"].startswith("/_emulator")]


def fields_by_key(export: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["name"], f["schema"].get("custom")): f for f in export["fields"] if f["id"].startswith("customfield_")}


def contexts_view(export: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every context by (field name, context name), with ids replaced by names so two sites compare."""
    names = {f["id"]: f["name"] for f in export["fields"]}
    types = {t["id"]: t["name"] for t in export["issueTypes"]}
    out = {}
    for field_id, contexts in export["fieldContexts"].items():
        mappings = export["fieldContextIssueTypeMappings"].get(field_id, [])
        defaults = {d["contextId"]: d for d in export["fieldContextDefaults"].get(field_id, [])}
        for ctx in contexts:
            options = export["fieldOptions"].get(ctx["id"], [])
            value = {o["id"]: o["value"] for o in options}
            default = dict(defaults.get(ctx["id"]) or {})
            default.pop("contextId", None)
            for key in ("optionId", "cascadingOptionId"):
                if key in default:
                    default[key] = value[default[key]]
            if "optionIds" in default:
                default["optionIds"] = [value[i] for i in default["optionIds"]]
            out[(names[field_id], ctx["name"])] = {
                "description": ctx.get("description", ""), "global": ctx["isGlobalContext"],
                "types": sorted(types[m["issueTypeId"]] for m in mappings
                                if m["contextId"] == ctx["id"] and m.get("issueTypeId")),
                "options": [(value.get(o.get("optionId")), o["value"], o["disabled"]) for o in options],
                "default": default}
    return out


def test_fields_and_contexts_round_trip_into_an_empty_destination(app, field_sites, fake_cloud,
                                                                   oauth_grant) -> None:
    """Fields, contexts, options (cascading, disabled, hostile) and defaults equal the source's after id mapping;
    locked fields map onto the destination's, app field types missing there are reported; fidelity is 1 for
    everything restorable of these types."""
    sites = field_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run = restore(app, sites, preview(app, sites, snapshot), Selection(types=["customFields", "fieldContexts"]))
    assert run.status == "done", run.message
    src, dst = export_site(sites.source), export_site(sites.dest)
    items = outcomes(app, run.id)
    cannot = {name for (t, name), i in items.items() if t == "customFields" and i.outcome == "cannot"}
    for key, field in fields_by_key(src).items():
        name = f"{key[0]} ({key[1].rsplit(':', 1)[-1]})"
        if name in cannot:
            assert key not in fields_by_key(dst) and items[("customFields", name)].fix, name
            continue
        assert key in fields_by_key(dst), name
        assert fields_by_key(dst)[key].get("description") == field.get("description"), name
    assert cannot == {"Tempo Account (io.tempo.jira__account)"}  # an app's field type: reported, not attempted
    assert "app" in items[("customFields", "Tempo Account (io.tempo.jira__account)")].reason
    wanted = {k: v for k, v in contexts_view(src).items()
              if k[0] != "Tempo Account"}
    assert wanted == {k: v for k, v in contexts_view(dst).items() if k in wanted}
    hostile = contexts_view(dst)[(HOSTILE_FIELD, "Bugs & <Incidents>")]
    assert hostile["types"] == ["Bug", "Incident"]
    assert hostile["default"]["optionIds"] == ["Ünïcode ✓", HOSTILE_OPTIONS[0]]
    platform = contexts_view(dst)[("Platform", "Default Configuration Scheme for Platform")]
    assert ("Web", "Chrome", False) in platform["options"]
    # no duplicates: one global context per field, each created field once
    assert len(dst["fields"]) == len({f["id"] for f in dst["fields"]})
    for field_id, contexts in dst["fieldContexts"].items():
        assert sum(c["isGlobalContext"] for c in contexts) <= 1, field_id
    diffs = [d for d in run.verification["differences"] if d["type"] in ("customFields", "fieldContexts")
             and not any(d["name"].startswith(c.split(" (")[0]) for c in cannot)]
    assert diffs == []
    assert not [c for c in writes(sites.dest) if c["status"] >= 400]


def test_restoring_fields_again_writes_nothing(app, field_sites, fake_cloud, oauth_grant) -> None:
    sites = field_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    oauth_grant(sites.dest, sites.dest_tenant_id)
    selection = Selection(types=["customFields", "fieldContexts"])
    restore(app, sites, preview(app, sites, snapshot), selection)
    sites.dest.calls.clear()
    run = restore(app, sites, preview(app, sites, snapshot), selection)
    assert run.status == "done"
    assert writes(sites.dest) == []
    assert not {"created", "updated"} & set(run.summary["outcomes"])


def test_a_destination_holding_a_field_gets_it_reused_and_completed(app, fake_cloud, install_into,
                                                                   oauth_grant) -> None:
    """The destination already has "Customer Tier" (another case, one option of its own): the field is reused,
    its context completed with the missing options in the source's order, the default set; nothing duplicated."""
    seed = demo_seed()
    dest_seed = {
        "fields": [{"id": "customfield_10050", "name": "customer tier", "key": "customfield_10050",
                    "schema": {"type": "option", "custom": f"{CF_TYPES}select", "customId": 10050},
                    "isLocked": False, "description": "Customer Tier."}],
        "fieldContexts": {"customfield_10050": [
            {"id": "10300", "name": "Default Configuration Scheme for Customer Tier", "description": "",
             "isGlobalContext": True, "isAnyIssueType": True}]},
        "fieldContextIssueTypeMappings": {"customfield_10050": [{"contextId": "10300", "isAnyIssueType": True}]},
        "fieldContextProjectMappings": {"customfield_10050": [{"contextId": "10300", "isGlobalContext": True}]},
        "fieldOptions": {"10300": [{"id": "10400", "value": "Platinum", "disabled": False},
                                   {"id": "10401", "value": "silver", "disabled": False}]},
    }
    sites = connect_sites(app, fake_cloud, install_into, seed, dest_seed)
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run = restore(app, sites, preview(app, sites, snapshot), Selection(types=["customFields", "fieldContexts"]))
    items = outcomes(app, run.id)
    assert items[("customFields", "Customer Tier (select)")].outcome == "reused"
    assert items[("customFields", "Customer Tier (select)")].dest_id == "customfield_10050"
    ctx = items[("fieldContexts", "Customer Tier (com.atlassian.jira.plugin.system.customfieldtypes:select) / "
                                  "Default Configuration Scheme for Customer Tier")]
    assert (ctx.outcome, ctx.dest_id) == ("updated", "10300"), ctx.reason
    dst = export_site(sites.dest)
    assert [o["value"] for o in dst["fieldOptions"]["10300"]] == ["Gold", "silver", "Bronze", "Platinum"]
    assert [f["name"].casefold() for f in dst["fields"]].count("customer tier") == 1
    default = dst["fieldContextDefaults"]["customfield_10050"][0]
    assert default["optionId"] == "10401"  # the source's default "Silver" is the destination's "silver"


def test_selecting_contexts_pulls_in_their_fields_and_issue_types_only(app, field_sites, fake_cloud,
                                                                      oauth_grant) -> None:
    sites = field_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run_id = preview(app, sites, snapshot)
    with app.app_context():
        stored = db.session.get(RestoreRun, run_id)
        chosen = Selection(types=["fieldContexts"])
        pulled = [row for row, pulled_in in service.selected_rows(stored, chosen) if pulled_in]
        assert {p.type_key for p in pulled} == {"customFields", "issueTypes"}
    restore(app, sites, run_id, Selection(types=["fieldContexts"]))
    touched = {c["path"].split("/rest/api/3/")[-1].split("/")[0] for c in writes(sites.dest)}
    assert touched <= {"field", "issuetype"}
    assert "screens" not in touched


def test_without_the_oauth_grant_fields_still_come_back_over_connect(app, field_sites, fake_cloud) -> None:
    """Creating fields, contexts and options is open to Connect apps (ADMIN scope): no OAuth grant needed."""
    sites = field_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    run = restore(app, sites, preview(app, sites, snapshot), Selection(types=["fieldContexts"]))
    items = outcomes(app, run.id)
    assert items[("customFields", "Platform (cascadingselect)")].outcome == "created"
    assert {i.outcome for (t, _), i in items.items() if t == "fieldContexts" and i.selected} <= {
        "created", "reused", "updated", "skipped"}


@pytest.mark.parametrize("step", ["after-options", "after-context"])
def test_a_worker_killed_mid_context_resumes_without_duplicate_options(app, field_sites, fake_cloud, oauth_grant,
                                                                      monkeypatch, step) -> None:
    """Kill the worker (SystemExit) once a context exists, before or after its options were written; resume:
    the same options, once each, in order."""

    from app.restore.types.fields import FieldContexts

    sites = field_sites
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run_id = preview(app, sites, snapshot)
    original = FieldContexts.after_create
    state = {"killed": False}

    def dying(self, access, dest_id, obj, ids):
        if not state["killed"] and obj["name"] == "Default Configuration Scheme for Platform":
            state["killed"] = True
            if step == "after-options":
                original(self, access, dest_id, obj, ids)
            raise SystemExit("worker killed")
        return original(self, access, dest_id, obj, ids)

    monkeypatch.setattr(FieldContexts, "after_create", dying)
    with app.app_context():
        run = service.start_restore(db.session.get(Tenant, sites.dest_tenant_id), run_id,
                                    Selection(types=["fieldContexts"]), "drop", sites.admin)
        killed_then_resumed(run.job_id)
    assert state["killed"]
    src, dst = contexts_view(export_site(sites.source)), contexts_view(export_site(sites.dest))
    key = ("Platform", "Default Configuration Scheme for Platform")
    assert dst[key] == src[key]
    assert not [(i.name, i.outcome, i.reason) for i in outcomes(app, run_id).values()
                if i.outcome in ("failed", "pending", "creating") and i.selected]


def test_hostile_seed_is_copied_not_mutated() -> None:
    """The seed builder hands out fresh copies (tests load it into several sites)."""
    first = demo_seed()
    second = copy.deepcopy(first)
    first["fields"].clear()
    assert second["fields"] and demo_seed()["fields"]


def test_a_global_context_holding_options_keeps_every_issue_type_and_says_so(app, fake_cloud, install_into,
                                                                           oauth_grant) -> None:
    """Jira refuses issue types added to a global context (CHANGE-3019). The destination's field already has a
    global context with an option of its own: it can't be replaced without losing that, so it takes the source's
    name, options and default, keeps applying to every issue type, and the outcome says what to do by hand."""
    seed = demo_seed()
    dest_seed = {
        "fields": [{"id": "customfield_10090", "name": HOSTILE_FIELD, "key": "customfield_10090",
                    "schema": {"type": "array", "items": "option", "custom": f"{CF_TYPES}multiselect",
                               "customId": 10090}, "isLocked": False}],
        "fieldContexts": {"customfield_10090": [{"id": "10300", "name": "Ours", "description": "",
                                                 "isGlobalContext": True, "isAnyIssueType": True}]},
        "fieldContextIssueTypeMappings": {"customfield_10090": [{"contextId": "10300", "isAnyIssueType": True}]},
        "fieldContextProjectMappings": {"customfield_10090": [{"contextId": "10300", "isGlobalContext": True}]},
        "fieldOptions": {"10300": [{"id": "10400", "value": "Kept", "disabled": False}]},
    }
    sites = connect_sites(app, fake_cloud, install_into, seed, dest_seed)
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    oauth_grant(sites.dest, sites.dest_tenant_id)
    run = restore(app, sites, preview(app, sites, snapshot), Selection(types=["customFields", "fieldContexts"]))
    item = outcomes(app, run.id)[("fieldContexts", f"{HOSTILE_FIELD} (com.atlassian.jira.plugin.system."
                                                   "customfieldtypes:multiselect) / Bugs & <Incidents>")]
    assert item.dest_id == "10300", (item.outcome, item.reason)  # the destination's own, renamed
    assert "CHANGE-3019" in " ".join(json.loads(item.notes_json or "[]"))
    context = contexts_view(export_site(sites.dest))[(HOSTILE_FIELD, "Bugs & <Incidents>")]
    assert context["types"] == [] and ("<b>bold</b>" in [o[1] for o in context["options"]])
    assert context["default"]["optionIds"] == ["Ünïcode ✓", HOSTILE_OPTIONS[0]]
    assert not [c for c in writes(sites.dest) if c["status"] >= 400]


def test_a_global_context_as_jira_made_it_gives_way_to_the_source_s_with_its_issue_types(
        app, fake_cloud, install_into, oauth_grant) -> None:
    """The destination's field has only the empty global context Jira gives every new field: it is replaced by the
    source's, created with its issue types (Jira won't add them to a global context afterwards)."""
    seed = demo_seed()
    dest_seed = {
        "fields": [{"id": "customfield_10090", "name": HOSTILE_FIELD, "key": "customfield_10090",
                    "schema": {"type": "array", "items": "option", "custom": f"{CF_TYPES}multiselect",
                               "customId": 10090}, "isLocked": False}],
        "fieldContexts": {"customfield_10090": [{"id": "10300", "name": f"Default Configuration Scheme for "
                                                                        f"{HOSTILE_FIELD}", "description": "",
                                                 "isGlobalContext": True, "isAnyIssueType": True}]},
        "fieldContextIssueTypeMappings": {"customfield_10090": [{"contextId": "10300", "isAnyIssueType": True}]},
        "fieldContextProjectMappings": {"customfield_10090": [{"contextId": "10300", "isGlobalContext": True}]},
    }
    sites = connect_sites(app, fake_cloud, install_into, seed, dest_seed)
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    oauth_grant(sites.dest, sites.dest_tenant_id)
    restore(app, sites, preview(app, sites, snapshot), Selection(types=["customFields", "fieldContexts"]))
    dst = contexts_view(export_site(sites.dest))
    assert dst[(HOSTILE_FIELD, "Bugs & <Incidents>")] == contexts_view(export_site(sites.source))[
        (HOSTILE_FIELD, "Bugs & <Incidents>")]
    assert [name for field, name in dst if field == HOSTILE_FIELD] == ["Bugs & <Incidents>"]
    assert not [c for c in writes(sites.dest) if c["status"] >= 400]
