"""Emulator issues: create, read, edit, delete, transitions, changelog, properties and seeds, with Jira's refusals."""

from __future__ import annotations

from typing import Any

import pytest

from fakejira import seeding
from fakejira.site import Site
from tests.emulator import helpers
from tests.emulator.helpers import admin, make_project

call = helpers.call  # every successful answer is checked against the spec's response schema
TASK, SUBTASK, EPIC = "10001", "10002", "10000"
ADF = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hi"}]}]}


def create(site: Site, summary: str = "Work", *, project: str = "OPS", type_id: str = TASK,
           **fields: Any) -> tuple[int, Any]:
    body = {"fields": {"project": {"key": project}, "issuetype": {"id": type_id}, "summary": summary, **fields}}
    return call(site, "POST", "/issue", body=body)


def created(site: Site, summary: str = "Work", **kw: Any) -> dict[str, Any]:
    code, answer = create(site, summary, **kw)
    assert code == 201, answer
    return answer


@pytest.fixture
def ops(site: Site) -> Site:
    make_project(site, "OPS")
    return site


def test_keys_come_from_a_counter_that_never_goes_back(ops: Site) -> None:
    """Does deleting an issue leave a gap in its project's keys, even for the last key?"""
    keys = [created(ops, f"n{n}")["key"] for n in range(3)]
    assert keys == ["OPS-1", "OPS-2", "OPS-3"]
    assert call(ops, "DELETE", "/issue/OPS-3")[0] == 204
    assert call(ops, "DELETE", "/issue/OPS-2")[0] == 204
    assert created(ops)["key"] == "OPS-4"
    assert call(ops, "GET", "/issue/OPS-2")[1]["errorMessages"] == [
        "Issue does not exist or you do not have permission to see it."]


def test_server_owns_created_updated_and_creator(ops: Site) -> None:
    """Is setting created refused with Jira's text, and are created/updated/creator the server's?"""
    code, answer = create(ops, created="2020-01-01T00:00:00.000+0000")
    assert code == 400
    assert answer["errors"] == {"created": "Field 'created' cannot be set. It is not on the appropriate screen, "
                                           "or unknown."}
    assert ops.store.coll("issues") == {}
    issue = call(ops, "GET", f"/issue/{created(ops)['key']}")[1]["fields"]
    assert issue["created"] == issue["updated"] and not issue["created"].startswith("2020")
    assert issue["creator"]["accountId"] == admin(ops) and issue["reporter"]["accountId"] == admin(ops)
    assert issue["status"]["name"] == "Open"


@pytest.mark.parametrize(("fields", "field", "text"), [
    ({"summary": ""}, "summary", "You must specify a summary of the issue."),
    ({"summary": "x" * 256}, "summary", "Summary must be less than 255 characters."),
    ({"description": "plain text"}, "description", "Operation value must be an Atlassian Document"),
    ({"labels": ["two words"]}, "labels", "The label 'two words' contains spaces which is invalid."),
    ({"priority": {"id": "999"}}, "priority", "The priority selected is invalid."),
    ({"assignee": {"accountId": "ghost"}}, "assignee", "ghost"),
    ({"fixVersions": [{"id": "424242"}]}, "fixVersions", "424242"),
    ({"components": [{"id": "424242"}]}, "components", "424242"),
    ({"resolution": {"id": "10000"}}, "resolution", "cannot be set. It is not on the appropriate screen"),
    ({"status": {"id": "3"}}, "status", "cannot be set. It is not on the appropriate screen"),
    ({"customfield_99999": "x"}, "customfield_99999", "cannot be set. It is not on the appropriate screen"),
])
def test_create_refusals(ops: Site, fields: dict[str, Any], field: str, text: str) -> None:
    """Are bad values refused per field in Jira's words, with nothing stored?"""
    code, answer = create(ops, **{"summary": "ok", **fields})
    assert code == 400 and text in answer["errors"][field], answer
    assert ops.store.coll("issues") == {}


def test_project_and_issue_type_are_checked_first(ops: Site) -> None:
    """Do a missing project and an issue type outside the project's scheme get Jira's texts?"""
    code, answer = call(ops, "POST", "/issue", body={"fields": {"summary": "x", "issuetype": {"id": TASK}}})
    assert code == 400 and answer["errors"] == {"project": "Specify a valid project ID or key"}
    code, answer = call(ops, "POST", "/issue", body={"fields": {"summary": "x", "project": {"key": "OPS"}}})
    assert answer["errors"] == {"issuetype": "Specify an issue type"}
    code, answer = create(ops, type_id="424242")
    assert code == 400 and answer["errors"] == {"issuetype": "The issue type selected is invalid."}


def test_reporter_only_where_the_create_screen_has_it(ops: Site) -> None:
    """Is reporter settable while on the create screen, and refused once the screen drops it?"""
    other = next(u["accountId"] for u in ops.store.values("users") if u["accountId"] != admin(ops)) \
        if len(ops.store.coll("users")) > 1 else admin(ops)
    key = created(ops, reporter={"accountId": other})["key"]
    assert call(ops, "GET", f"/issue/{key}")[1]["fields"]["reporter"]["accountId"] == other
    for tab_field in list(ops.store.values("screenTabFields")):
        if tab_field["id"] == "reporter":
            ops.store.delete("screenTabFields", tab_field["_key"])
    code, answer = create(ops, reporter={"accountId": other})
    assert code == 400 and "reporter" in answer["errors"]


def test_required_and_hidden_fields_follow_the_field_configuration(ops: Site) -> None:
    """Does a field configuration's required item refuse an empty create, and a hidden one refuse a value?"""
    code, fc = call(ops, "POST", "/fieldconfiguration", body={"name": "Strict"})
    call(ops, "PUT", f"/fieldconfiguration/{fc['id']}/fields", body={"fieldConfigurationItems": [
        {"id": "duedate", "isRequired": True}, {"id": "environment", "isHidden": True}]})
    scheme = call(ops, "POST", "/fieldconfigurationscheme", body={"name": "Strict scheme"})[1]
    call(ops, "PUT", f"/fieldconfigurationscheme/{scheme['id']}/mapping",
         body={"mappings": [{"issueTypeId": "default", "fieldConfigurationId": str(fc["id"])}]})
    project_id = ops.store.find("projects", key="OPS")["id"]
    assert call(ops, "PUT", "/fieldconfigurationscheme/project",
                body={"fieldConfigurationSchemeId": scheme["id"], "projectId": project_id})[0] == 204
    code, answer = create(ops, environment=ADF)
    assert code == 400 and answer["errors"]["duedate"] == "Due date is required."
    assert "cannot be set" in answer["errors"]["environment"]
    assert create(ops, duedate="2025-02-30")[0] == 400
    assert create(ops, duedate="2025-02-28")[0] == 201


def test_options_come_from_the_fields_context(ops: Site) -> None:
    """Is an option of the field's context accepted, and one of another field refused with Jira's text?"""
    field = call(ops, "POST", "/field", body={
        "name": "Tier", "type": "com.atlassian.jira.plugin.system.customfieldtypes:select",
        "searcherKey": "com.atlassian.jira.plugin.system.customfieldtypes:multiselectsearcher"})[1]
    context = call(ops, "GET", f"/field/{field['id']}/context")[1]["values"][0]
    options = call(ops, "POST", f"/field/{field['id']}/context/{context['id']}/option",
                   body={"options": [{"value": "Gold"}, {"value": "Silver"}]})[1]["options"]
    for screen_id in ("1",):
        tab = next(t for t in ops.store.values("screenTabs") if str(t["_screenId"]) == screen_id)
        call(ops, "POST", f"/screens/{screen_id}/tabs/{tab['id']}/fields", body={"fieldId": field["id"]})
    key = created(ops, **{field["id"]: {"id": options[0]["id"]}})["key"]
    shown = call(ops, "GET", f"/issue/{key}")[1]["fields"][field["id"]]
    assert shown["value"] == "Gold" and shown["id"] == options[0]["id"]
    code, answer = create(ops, **{field["id"]: {"id": "424242"}})
    assert code == 400 and answer["errors"][field["id"]] == "Option id '424242' is not valid"


def test_hierarchy_rules_for_subtasks_and_epics(ops: Site) -> None:
    """Does a sub-task need a level-0 parent, may a task sit under an epic, and may an epic have no parent?"""
    code, answer = create(ops, type_id=SUBTASK)
    assert code == 400 and answer["errors"]["parent"] == ("Issue type is a sub-task but parent issue key or id "
                                                          "not specified.")
    epic = created(ops, "Epic", type_id=EPIC)["key"]
    task = created(ops, "Task", parent={"key": epic})["key"]
    sub = created(ops, "Sub", type_id=SUBTASK, parent={"key": task})["key"]
    assert create(ops, type_id=SUBTASK, parent={"key": epic})[0] == 400
    assert create(ops, type_id=EPIC, parent={"key": epic})[0] == 400
    assert create(ops, parent={"key": "OPS-999"})[1]["errors"]["parent"] == "Could not find issue by id or key."
    subtasks = call(ops, "GET", f"/issue/{task}")[1]["fields"]["subtasks"]
    assert [s["key"] for s in subtasks] == [sub]
    assert call(ops, "DELETE", f"/issue/{task}")[0] == 400
    assert call(ops, "GET", f"/issue/{sub}")[0] == 200
    assert call(ops, "DELETE", f"/issue/{task}", query={"deleteSubtasks": "true"})[0] == 204
    assert call(ops, "GET", f"/issue/{sub}")[0] == 404


def test_edit_checks_the_edit_screen_and_writes_history(ops: Site) -> None:
    """Does an edit change fields, refuse server fields, and write one history entry per change?"""
    key = created(ops, labels=["a"])["key"]
    assert call(ops, "PUT", f"/issue/{key}", body={"fields": {"summary": "Renamed", "description": ADF},
                                                    "update": {"labels": [{"add": "b"}, {"remove": "a"}]}})[0] == 204
    issue = call(ops, "GET", f"/issue/{key}", query={"expand": "changelog,renderedFields"})[1]
    assert issue["fields"]["summary"] == "Renamed" and issue["fields"]["labels"] == ["b"]
    assert issue["renderedFields"]["description"] == "<p>Hi</p>"
    items = {i["fieldId"]: i for i in issue["changelog"]["histories"][0]["items"]}
    assert items["summary"]["fromString"] == "Work" and items["summary"]["toString"] == "Renamed"
    assert items["labels"]["toString"] == "b"
    code, answer = call(ops, "PUT", f"/issue/{key}", body={"fields": {"created": "2020-01-01T00:00:00.000+0000"}})
    assert code == 400 and "created" in answer["errors"]
    assert call(ops, "PUT", f"/issue/{key}", body={"fields": {"summary": ""}})[1]["errors"] == {
        "summary": "You must specify a summary of the issue."}
    assert len(call(ops, "GET", f"/issue/{key}/changelog")[1]["values"]) == 1


def test_status_moves_only_along_the_workflow(ops: Site) -> None:
    """Is status refused in an edit, and does a transition move it, writing history, only where the workflow goes?"""
    key = created(ops)["key"]
    assert "status" in call(ops, "PUT", f"/issue/{key}", body={"fields": {"status": {"id": "3"}}})[1]["errors"]
    offered = {t["id"]: t["to"]["name"] for t in call(ops, "GET", f"/issue/{key}/transitions")[1]["transitions"]}
    assert offered == {"4": "In Progress", "5": "Resolved", "2": "Closed"}
    code, answer = call(ops, "POST", f"/issue/{key}/transitions", body={"transition": {"id": "3"}})
    assert code == 400 and answer["errorMessages"] == ["Transition id '3' is not valid for this issue."]
    assert call(ops, "POST", f"/issue/{key}/transitions", body={})[1]["errorMessages"] == [
        "Missing 'transition' identifier"]
    assert call(ops, "POST", f"/issue/{key}/transitions", body={"transition": {"id": "4"}})[0] == 204
    issue = call(ops, "GET", f"/issue/{key}")[1]["fields"]
    assert issue["status"]["name"] == "In Progress"
    history = call(ops, "GET", f"/issue/{key}/changelog")[1]["values"]
    assert history[-1]["items"][0] | {} == {"field": "status", "fieldtype": "jira", "fieldId": "status",
                                            "from": "1", "fromString": "Open", "to": "3",
                                            "toString": "In Progress"}


def test_workflow_sets_the_resolution_through_its_screen_and_post_functions(ops: Site) -> None:
    """Does a transition with the resolve screen take a resolution, and a post function set one?"""
    key = created(ops)["key"]
    workflow = next(w for w in ops.store.values("workflows") if w["name"] == "jira")
    resolve = next(t for t in workflow["transitions"] if t["id"] == "5")
    resolve["transitionScreen"] = {"ruleKey": "system:transition-screen", "parameters": {"screenId": "3"}}
    close = next(t for t in workflow["transitions"] if t["id"] == "2")
    close["actions"] = [{"ruleKey": "system:update-field", "parameters": {"field": "resolution", "value": "10001"}}]
    code, answer = call(ops, "POST", f"/issue/{key}/transitions",
                        body={"transition": {"id": "4"}, "fields": {"resolution": {"id": "10000"}}})
    assert code == 400 and "resolution" in answer["errors"]
    assert call(ops, "POST", f"/issue/{key}/transitions",
                body={"transition": {"id": "5"}, "fields": {"resolution": {"name": "Done"}}})[0] == 204
    fields = call(ops, "GET", f"/issue/{key}")[1]["fields"]
    assert fields["resolution"]["id"] == "10000" and fields["resolutiondate"]
    other = created(ops)["key"]
    call(ops, "POST", f"/issue/{other}/transitions", body={"transition": {"id": "2"}})
    assert call(ops, "GET", f"/issue/{other}")[1]["fields"]["resolution"]["id"] == "10001"


def test_bulk_create_reports_each_failure_in_jiras_shape(ops: Site) -> None:
    """Does a bulk create make the good items and report each bad one by its position?"""
    good = {"fields": {"project": {"key": "OPS"}, "issuetype": {"id": TASK}, "summary": "ok"}}
    bad = {"fields": {"project": {"key": "OPS"}, "issuetype": {"id": TASK}}}
    code, answer = call(ops, "POST", "/issue/bulk", body={"issueUpdates": [good, bad, good]})
    assert code == 201 and [i["key"] for i in answer["issues"]] == ["OPS-1", "OPS-2"]
    assert answer["errors"] == [{"status": 400, "failedElementNumber": 1, "elementErrors": {
        "errorMessages": [], "errors": {"summary": "You must specify a summary of the issue."}}}]
    code, answer = call(ops, "POST", "/issue/bulk", body={"issueUpdates": [bad]})
    assert code == 400 and answer["issues"] == []
    assert call(ops, "POST", "/issue/bulk", body={"issueUpdates": [good] * 51})[0] == 400
    assert len(ops.store.coll("issues")) == 2


def test_properties_round_trip(ops: Site) -> None:
    """Can issue properties be set (201 then 200), listed, read, deleted, and do missing ones 404?"""
    key = created(ops)["key"]
    assert call(ops, "PUT", f"/issue/{key}/properties/backup", body={"run": 1})[0] == 201
    assert call(ops, "PUT", f"/issue/{key}/properties/backup", body={"run": 2})[0] == 200
    assert [k["key"] for k in call(ops, "GET", f"/issue/{key}/properties")[1]["keys"]] == ["backup"]
    assert call(ops, "GET", f"/issue/{key}/properties/backup")[1] == {"key": "backup", "value": {"run": 2}}
    assert call(ops, "PUT", f"/issue/{key}/properties/{'k' * 256}", body=1)[0] == 400
    assert call(ops, "DELETE", f"/issue/{key}/properties/backup")[0] == 204
    assert call(ops, "GET", f"/issue/{key}/properties/backup")[1]["errorMessages"] == [
        "The property with key 'backup' does not exist."]


def test_events_announce_every_change(ops: Site) -> None:
    """Does every create, edit, transition and delete reach the site's issue event subscribers once?"""
    seen: list[tuple[str, str]] = []
    ops.issue_events.subscribe(lambda event: seen.append((event.kind, event.issue["key"])))
    key = created(ops)["key"]
    call(ops, "PUT", f"/issue/{key}", body={"fields": {"summary": "again"}})
    call(ops, "POST", f"/issue/{key}/transitions", body={"transition": {"id": "4"}})
    call(ops, "DELETE", f"/issue/{key}")
    assert seen == [("issue_created", key), ("issue_updated", key), ("issue_updated", key), ("issue_deleted", key)]


def test_seed_round_trip_keeps_ids_keys_dates_and_gaps(ops: Site) -> None:
    """Does export(load(seed)) == seed hold with issues, history, properties and a deleted tail key?"""
    epic = created(ops, "Epic", type_id=EPIC)["key"]
    key = created(ops, "Task", parent={"key": epic}, labels=["x"], description=ADF)["key"]
    call(ops, "POST", f"/issue/{key}/transitions", body={"transition": {"id": "4"}})
    call(ops, "PUT", f"/issue/{key}/properties/p", body={"a": [1, 2]})
    call(ops, "DELETE", f"/issue/{created(ops)['key']}")
    seed = seeding.export_site(ops)
    assert seed["issueKeyCounters"] == {ops.store.find("projects", key="OPS")["id"]: 3}
    copy = seeding.new_site("acme", "http://127.0.0.1:9", defaults=False)
    seeding.load_seed(copy, seed)
    assert seeding.export_site(copy) == seed
    assert call(copy, "GET", f"/issue/{key}")[1]["fields"]["created"] == \
        call(ops, "GET", f"/issue/{key}")[1]["fields"]["created"]
    assert created(copy)["key"] == "OPS-4"
