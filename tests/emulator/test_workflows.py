"""Emulator part A: workflows (new bulk API, classic search) and workflow schemes with drafts and assignment."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fakejira import seeding
from fakejira.site import Site
from tests.emulator.helpers import call, make_project

PAYLOAD = {
    "scope": {"type": "GLOBAL"},
    "statuses": [{"statusReference": "ref-triage", "name": "Triage", "statusCategory": "TODO"},
                 {"statusReference": "ref-done", "id": "10001", "name": "Done", "statusCategory": "DONE"}],
    "workflows": [{
        "name": "Support", "description": "support flow",
        "statuses": [{"statusReference": "ref-triage", "properties": {}},
                     {"statusReference": "ref-done", "properties": {}}],
        "transitions": [
            {"id": "1", "name": "Create", "type": "INITIAL", "toStatusReference": "ref-triage"},
            {"id": "11", "name": "Solve", "type": "DIRECTED", "toStatusReference": "ref-done",
             "links": [{"fromStatusReference": "ref-triage", "fromPort": 0, "toPort": 1}]},
        ]}],
}


def create_support(site: Site) -> dict[str, Any]:
    code, answer = call(site, "POST", "/workflows/create", body=copy.deepcopy(PAYLOAD))
    assert code == 200, answer
    return answer["workflows"][0]


def test_jira_workflow_is_a_read_only_default(site: Site) -> None:
    """Does a new site have the system ``jira`` workflow, which can be neither edited nor deleted?"""
    page = call(site, "GET", "/workflows/search", query={"expand": "values.transitions"})[1]
    jira = page["values"][0]
    assert jira["name"] == "jira" and jira["isEditable"] is False
    assert {s["name"] for s in page["statuses"]} == {"Open", "In Progress", "Reopened", "Resolved", "Closed"}
    assert any(t["type"] == "INITIAL" for t in jira["transitions"])
    assert call(site, "DELETE", f"/workflow/{jira['id']}")[0] == 400
    update = {"workflows": [{"id": jira["id"], "version": jira["version"], "statuses": jira["statuses"],
                             "transitions": jira["transitions"], "description": "mine"}]}
    assert call(site, "POST", "/workflows/update", body=update)[0] == 400


def test_create_links_and_creates_statuses(site: Site) -> None:
    """Does create make new statuses, link existing ones by id and answer the statuses' real ids?"""
    before = len(call(site, "GET", "/status")[1])
    created = create_support(site)
    statuses = call(site, "GET", "/status")[1]
    assert len(statuses) == before + 1
    triage = next(s for s in statuses if s["name"] == "Triage")
    assert [s["statusReference"] for s in created["statuses"]] == [triage["id"], "10001"]
    solve = next(t for t in created["transitions"] if t["name"] == "Solve")
    assert solve["links"][0]["fromStatusReference"] == triage["id"]
    read = call(site, "POST", "/workflows", body={"workflowNames": ["Support"]})[1]
    assert read["workflows"][0]["id"] == created["id"]
    assert {s["id"] for s in read["statuses"]} == {triage["id"], "10001"}


def _broken(change: str) -> dict[str, Any]:
    payload = copy.deepcopy(PAYLOAD)
    wf = payload["workflows"][0]
    if change == "no-initial":
        wf["transitions"] = wf["transitions"][1:]
    elif change == "unknown-target":
        wf["transitions"][1]["toStatusReference"] = "ref-nowhere"
    elif change == "unknown-status-id":
        payload["statuses"][1]["id"] = "424242"
    elif change == "undefined-layout":
        wf["statuses"].append({"statusReference": "ref-ghost", "properties": {}})
    elif change == "duplicate-name":
        wf["name"] = "JIRA"
    elif change == "clashing-status":
        payload["statuses"][0]["name"] = "in progress"
    elif change == "from-outside":
        wf["transitions"][1]["links"][0]["fromStatusReference"] = "3"
    return payload


@pytest.mark.parametrize("change", ["no-initial", "unknown-target", "unknown-status-id", "undefined-layout",
                                    "duplicate-name", "clashing-status", "from-outside"])
def test_create_refuses_broken_payloads(site: Site, change: str) -> None:
    """Are dangling references, name clashes and a missing initial transition refused, and reported by validation?"""
    payload = _broken(change)
    code, report = call(site, "POST", "/workflows/create/validation", body={"payload": payload})
    assert code == 200 and report["errors"] and all(e["level"] == "ERROR" for e in report["errors"])
    before = seeding.export_site(site)
    assert call(site, "POST", "/workflows/create", body=payload)[0] == 400
    assert seeding.export_site(site) == before  # nothing half-created


def test_validation_of_a_good_payload_is_clean(site: Site) -> None:
    assert call(site, "POST", "/workflows/create/validation", body={"payload": PAYLOAD})[1] == {"errors": []}


def test_search_filters_and_expand(site: Site) -> None:
    """Do queryString, isActive and the transitions expand behave as documented?"""
    create_support(site)
    plain = call(site, "GET", "/workflows/search", query={"queryString": "supp"})[1]
    assert [w["name"] for w in plain["values"]] == ["Support"] and "transitions" not in plain["values"][0]
    assert call(site, "GET", "/workflows/search", query={"isActive": "true"})[1]["values"] == []
    make_project(site)  # a project on the default scheme makes "jira" active
    assert [w["name"] for w in call(site, "GET", "/workflows/search", query={"isActive": "true"})[1]["values"]] \
        == ["jira"]
    assert call(site, "GET", "/workflows/search", query={"maxResults": "1", "startAt": "1"})[1]["isLast"] is True
    classic = call(site, "GET", "/workflow/search", query={"expand": "statuses,transitions"})[1]["values"]
    assert {w["id"]["name"] for w in classic} == {"jira", "Support"}


def _update_body(wf: dict[str, Any], **changes: Any) -> dict[str, Any]:
    item = {"id": wf["id"], "version": wf["version"], "statuses": wf["statuses"], "transitions": wf["transitions"]}
    item.update(changes)
    return {"workflows": [item]}


def test_update_inactive_workflow_bumps_version(site: Site) -> None:
    """Can an inactive workflow change its structure, and is a stale version refused afterwards?"""
    wf = create_support(site)
    fewer = [t for t in wf["transitions"] if t["type"] == "INITIAL"]
    code, answer = call(site, "POST", "/workflows/update", body=_update_body(wf, transitions=fewer))
    assert code == 200 and answer["workflows"][0]["version"]["versionNumber"] == 1
    assert call(site, "POST", "/workflows/update", body=_update_body(wf, description="again"))[0] == 400


def test_active_workflow_structure_is_not_editable_in_place(site: Site) -> None:
    """Is an active workflow's structure frozen while its description may still change?"""
    wf = create_support(site)
    sid = call(site, "POST", "/workflowscheme", body={"name": "WS", "defaultWorkflow": "Support"})[1]["id"]
    make_project(site, workflowScheme=sid)
    fewer = [t for t in wf["transitions"] if t["type"] == "INITIAL"]
    report = call(site, "POST", "/workflows/update/validation",
                  body={"payload": _update_body(wf, transitions=fewer)})[1]
    assert [e["code"] for e in report["errors"]] == ["ACTIVE_WORKFLOW"]
    assert call(site, "POST", "/workflows/update", body=_update_body(wf, transitions=fewer))[0] == 400
    assert call(site, "POST", "/workflows/update", body=_update_body(wf, description="calmer"))[0] == 200
    assert call(site, "DELETE", f"/workflow/{wf['id']}")[0] == 400


def test_delete_workflow_used_by_an_inactive_scheme_is_refused(site: Site) -> None:
    wf = create_support(site)
    sid = call(site, "POST", "/workflowscheme", body={"name": "WS", "issueTypeMappings": {"10001": "Support"}})[1][
        "id"]
    assert call(site, "DELETE", f"/workflow/{wf['id']}")[0] == 400
    assert call(site, "DELETE", f"/workflowscheme/{sid}")[0] == 204
    assert call(site, "DELETE", f"/workflow/{wf['id']}")[0] == 204


# --------------------------------------------------------------------------- workflow schemes


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "WS", "defaultWorkflow": "Nope"}, "defaultWorkflow"),
    ({"name": "WS", "issueTypeMappings": {"10001": "Nope"}}, "issueTypeMappings"),
    ({"name": "WS", "issueTypeMappings": {"99999": "jira"}}, "issueTypeMappings"),
    ({"name": "Default Workflow Scheme"}, "name"),
    ({"description": "no name"}, "name"),
])
def test_scheme_create_refuses_unknown_references(site: Site, body: dict, field: str) -> None:
    """Is a scheme naming an unknown workflow or issue type refused with 400?"""
    code, answer = call(site, "POST", "/workflowscheme", body=body)
    assert code == 400 and field in answer["errors"]


def test_default_scheme_has_no_id_in_the_project_association(site: Site) -> None:
    """Is a project on the Default Workflow Scheme answered without a scheme id, as Jira does?"""
    pid = make_project(site)
    values = call(site, "GET", "/workflowscheme/project", query={"projectId": pid})[1]["values"]
    assert values[0]["projectIds"] == [pid] and "id" not in values[0]["workflowScheme"]
    assert values[0]["workflowScheme"]["defaultWorkflow"] == "jira"
    assert call(site, "GET", "/workflowscheme/project")[0] == 400


def test_scheme_assignment_drafts_and_publish(site: Site) -> None:
    """Does an active scheme refuse direct edits, take them as a draft, and apply them on publish?"""
    create_support(site)
    code, scheme = call(site, "POST", "/workflowscheme", body={"name": "WS", "issueTypeMappings": {"10004": "jira"}})
    assert code == 201 and isinstance(scheme["id"], int)
    sid = scheme["id"]
    pid = make_project(site)
    assert call(site, "PUT", "/workflowscheme/project", body={"projectId": pid, "workflowSchemeId": str(sid)})[0] \
        == 204
    assert call(site, "GET", "/workflowscheme/project", query={"projectId": pid})[1]["values"][0][
        "workflowScheme"]["id"] == sid
    assert call(site, "DELETE", f"/workflowscheme/{sid}")[0] == 400
    assert call(site, "PUT", f"/workflowscheme/{sid}", body={"defaultWorkflow": "Support"})[0] == 400
    code, draft = call(site, "PUT", f"/workflowscheme/{sid}",
                       body={"defaultWorkflow": "Support", "updateDraftIfNeeded": True})
    assert code == 200 and draft["draft"] is True and draft["originalDefaultWorkflow"] == "jira"
    assert call(site, "GET", f"/workflowscheme/{sid}")[1]["defaultWorkflow"] == "jira"
    assert call(site, "POST", f"/workflowscheme/{sid}/draft/publish", body={})[0] == 204
    assert call(site, "GET", f"/workflowscheme/{sid}")[1]["defaultWorkflow"] == "Support"
    assert call(site, "PUT", f"/workflowscheme/{sid}", body={"name": "Renamed"})[1]["name"] == "Renamed"


def test_scheme_mapping_sub_resources(site: Site) -> None:
    """Do the default, per-issue-type and per-workflow sub-resources edit an inactive scheme in place?"""
    create_support(site)
    sid = call(site, "POST", "/workflowscheme", body={"name": "WS"})[1]["id"]
    assert call(site, "PUT", f"/workflowscheme/{sid}/issuetype/10004", body={"workflow": "Support"})[1][
        "issueTypeMappings"] == {"10004": "Support"}
    assert call(site, "PUT", f"/workflowscheme/{sid}/default", body={"workflow": "Support"})[0] == 200
    assert call(site, "GET", f"/workflowscheme/{sid}/default")[1] == {"workflow": "Support"}
    assert call(site, "PUT", f"/workflowscheme/{sid}/workflow", query={"workflowName": "jira"},
                body={"issueTypes": ["10001"]})[1]["issueTypeMappings"] == {"10004": "Support", "10001": "jira"}
    assert call(site, "GET", f"/workflowscheme/{sid}/workflow")[1] == {
        "workflow": "Support", "issueTypes": ["10004"], "defaultMapping": True}
    assert call(site, "GET", f"/workflowscheme/{sid}/workflow", query={"workflowName": "jira"})[1][
        "issueTypes"] == ["10001"]
    assert call(site, "PUT", f"/workflowscheme/{sid}/issuetype/10004", body={"workflow": "Nope"})[0] == 400
    assert call(site, "DELETE", f"/workflowscheme/{sid}/issuetype/10004")[1]["issueTypeMappings"] == {"10001": "jira"}
    assert call(site, "DELETE", f"/workflowscheme/{sid}/default")[1]["defaultWorkflow"] == "jira"


def test_workflow_seed_round_trip() -> None:
    """Do workflows, their new statuses and schemes survive export and load unchanged?"""
    source = seeding.new_site("src", "http://127.0.0.1:9")
    create_support(source)
    sid = call(source, "POST", "/workflowscheme", body={"name": "WS", "defaultWorkflow": "Support"})[1]["id"]
    make_project(source, workflowScheme=sid)
    exported = seeding.export_site(source)
    assert [w["name"] for w in exported["workflows"]] == ["jira", "Support"]
    assert exported["projectSchemeAssociations"] == {next(iter(source.store.coll("projects"))): {
        "workflowScheme": str(sid)}}
    again = seeding.new_site("src", "http://127.0.0.1:9", exported)
    assert seeding.export_site(again) == exported
    assert call(again, "GET", "/workflows/search", query={"isActive": "true"})[1]["values"][0]["name"] == "Support"


@pytest.mark.parametrize(("key", "value"), [
    ("workflows", [{"id": "w1", "name": "W", "statuses": [{"statusReference": "424242"}], "transitions": []}]),
    ("workflowSchemes", [{"id": 10100, "name": "WS", "defaultWorkflow": "Nope", "issueTypeMappings": {}}]),
    ("workflowSchemes", [{"id": 10100, "name": "WS", "defaultWorkflow": "jira", "issueTypeMappings": {"9": "jira"}}]),
])
def test_workflow_seed_dangling_reference(key: str, value: Any) -> None:
    """Does a seed naming a missing status, workflow or issue type fail loudly?"""
    with pytest.raises(ValueError, match="unknown"):
        seeding.new_site("src", "http://127.0.0.1:9", {key: value})
