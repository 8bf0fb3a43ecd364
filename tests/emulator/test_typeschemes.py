"""Emulator part A: issue type schemes and priority schemes (items, order, defaults, project assignment)."""

from __future__ import annotations

from typing import Any

import pytest

from fakejira import seeding
from fakejira.site import Site
from tests.emulator import helpers
from tests.emulator.helpers import make_project


def call(site: Site, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    """``helpers.call``, except that expanded answers aren't schema-checked (the spec's schemas omit them)."""
    return helpers.call(site, method, path, check_schema=not kw.get("query", {}).get("expand"), **kw)


def scheme_types(site: Site, sid: str) -> list[str]:
    rows = call(site, "GET", "/issuetypescheme/mapping", query={"issueTypeSchemeId": sid})[1]["values"]
    return [r["issueTypeId"] for r in rows]


def test_default_scheme_holds_every_issue_type(site: Site) -> None:
    """Does the Default Issue Type Scheme list every type, including one created later?"""
    default = call(site, "GET", "/issuetypescheme")[1]["values"][0]
    assert default["name"] == "Default Issue Type Scheme" and default["isDefault"] is True
    created = call(site, "POST", "/issuetype", body={"name": "Improvement"})[1]
    assert scheme_types(site, default["id"]) == ["10000", "10001", "10002", "10003", "10004", created["id"]]


def test_create_scheme_then_move_and_remove(site: Site) -> None:
    """Do create, move and remove keep the scheme's items in Jira's order?"""
    code, created = call(site, "POST", "/issuetypescheme", body={
        "name": "Dev", "issueTypeIds": ["10001", "10003", "10004"], "defaultIssueTypeId": "10003"})
    assert code == 201
    sid = created["issueTypeSchemeId"]
    assert call(site, "PUT", f"/issuetypescheme/{sid}/issuetype/move",
                body={"issueTypeIds": ["10004"], "position": "First"})[0] == 204
    assert scheme_types(site, sid) == ["10004", "10001", "10003"]
    assert call(site, "PUT", f"/issuetypescheme/{sid}/issuetype/move",
                body={"issueTypeIds": ["10004"], "after": "10003"})[0] == 204
    assert scheme_types(site, sid) == ["10001", "10003", "10004"]
    assert call(site, "PUT", f"/issuetypescheme/{sid}/issuetype", body={"issueTypeIds": ["10002"]})[0] == 204
    assert call(site, "DELETE", f"/issuetypescheme/{sid}/issuetype/10003")[0] == 204
    assert scheme_types(site, sid) == ["10001", "10004", "10002"]
    listed = call(site, "GET", "/issuetypescheme", query={"id": sid})[1]["values"][0]
    assert "defaultIssueTypeId" not in listed  # the removed type was the default


@pytest.mark.parametrize(("body", "status", "marker"), [
    ({"name": "Default issue type scheme", "issueTypeIds": ["10001"]}, 409, "The name is used by another scheme."),
    ({"name": "S", "issueTypeIds": ["10001"], "defaultIssueTypeId": "10004"}, 400,
     "The default issue type ID has to be present in issue type IDs list."),
    ({"name": "S", "issueTypeIds": ["99999"]}, 400, "99999"),
    ({"name": "S", "issueTypeIds": []}, 400, "issue type"),
    ({"name": "S", "issueTypeIds": ["10002"]}, 400, "standard issue type"),
    ({"issueTypeIds": ["10001"]}, 400, "name"),
])
def test_create_scheme_refusals(site: Site, body: dict, status: int, marker: str) -> None:
    """Are bad issue type schemes refused with Jira's status and words?"""
    code, answer = call(site, "POST", "/issuetypescheme", body=body)
    assert code == status and marker in str(answer)


def test_default_scheme_is_read_only(site: Site) -> None:
    """Can the default scheme lose a type or be deleted? (No.)"""
    assert call(site, "DELETE", "/issuetypescheme/10000")[1]["errorMessages"] == [
        "The default issue type scheme can't be removed."]
    assert call(site, "DELETE", "/issuetypescheme/10000/issuetype/10001")[0] == 400


def test_last_standard_type_stays(site: Site) -> None:
    """Is the last standard issue type of a scheme kept, with Jira's message?"""
    sid = call(site, "POST", "/issuetypescheme", body={"name": "S", "issueTypeIds": ["10001", "10002"]})[1][
        "issueTypeSchemeId"]
    assert call(site, "DELETE", f"/issuetypescheme/{sid}/issuetype/10001")[1]["errorMessages"] == [
        "Can't remove the last standard issue type from the issue type scheme."]
    assert call(site, "DELETE", f"/issuetypescheme/{sid}/issuetype/10004")[1]["errorMessages"] == [
        "The issue type was not found in the issue type scheme."]


def test_assignment_lookup_and_in_use_delete(site: Site) -> None:
    """Does assigning a scheme show in the project look-up, project issue types, and block deletion?"""
    sid = call(site, "POST", "/issuetypescheme", body={"name": "S", "issueTypeIds": ["10003", "10004"]})[1][
        "issueTypeSchemeId"]
    pid = make_project(site)
    other = make_project(site, "DEV", issueTypeScheme=int(sid))
    assert call(site, "PUT", "/issuetypescheme/project", body={"issueTypeSchemeId": sid, "projectId": pid})[0] == 204
    rows = call(site, "GET", "/issuetypescheme/project", query={"projectId": f"{pid},{other},424242"})[1]["values"]
    assert rows == [{"issueTypeScheme": rows[0]["issueTypeScheme"], "projectIds": [pid, other]}]
    assert [t["id"] for t in call(site, "GET", f"/project/{pid}")[1]["issueTypes"]] == ["10003", "10004"]
    assert call(site, "DELETE", f"/issuetypescheme/{sid}")[0] == 400
    expanded = call(site, "GET", "/issuetypescheme", query={"id": sid, "expand": "projects,issueTypes"})[1]
    assert expanded["values"][0]["projects"]["total"] == 2
    assert call(site, "PUT", "/issuetypescheme/project", body={"issueTypeSchemeId": "10000", "projectId": pid})[0] \
        == 204
    assert call(site, "PUT", "/issuetypescheme/project", body={"issueTypeSchemeId": "10000", "projectId": other})[0] \
        == 204
    assert call(site, "DELETE", f"/issuetypescheme/{sid}")[0] == 204


@pytest.mark.parametrize(("query", "count", "is_last"), [
    ({"startAt": "30"}, 0, True), ({"maxResults": "0"}, 0, False), ({"maxResults": "999"}, 26, True),
    ({"startAt": "5", "maxResults": "10"}, 10, False),
])
def test_scheme_list_pages(site: Site, query: dict, count: int, is_last: bool) -> None:
    """Does the issue type scheme list page like a Jira PageBean?"""
    for n in range(25):
        assert call(site, "POST", "/issuetypescheme", body={"name": f"S{n}", "issueTypeIds": ["10001"]})[0] == 201
    page = call(site, "GET", "/issuetypescheme", query=query)[1]
    assert len(page["values"]) == count and page["isLast"] is is_last and page["total"] == 26


# --------------------------------------------------------------------------- priority schemes


def test_default_priority_scheme_and_create(site: Site) -> None:
    """Is there a default priority scheme, and does a new one assign its projects?"""
    listed = call(site, "GET", "/priorityscheme")[1]["values"]
    assert [s["name"] for s in listed] == ["Default Priority Scheme"] and listed[0]["default"] is True
    pid = make_project(site)
    code, created = call(site, "POST", "/priorityscheme", body={
        "name": "Lean", "priorityIds": [1, 3], "defaultPriorityId": 3, "projectIds": [int(pid)]})
    assert code == 201
    priorities = call(site, "GET", f"/priorityscheme/{created['id']}/priorities")[1]["values"]
    assert [(p["id"], p["isDefault"], p["sequence"]) for p in priorities] == [("1", False, "1"), ("3", True, "2")]
    projects = call(site, "GET", f"/priorityscheme/{created['id']}/projects")[1]["values"]
    assert [p["id"] for p in projects] == [pid]
    assert [p["id"] for p in call(site, "GET", "/priority/search", query={"projectId": pid})[1]["values"]] == \
        ["1", "3"]
    assert call(site, "DELETE", f"/priorityscheme/{created['id']}")[0] == 400


@pytest.mark.parametrize(("body", "status"), [
    ({"name": "default priority scheme", "priorityIds": [1], "defaultPriorityId": 1}, 409),
    ({"name": "X", "priorityIds": [1, 99], "defaultPriorityId": 1}, 400),
    ({"name": "X", "priorityIds": [1], "defaultPriorityId": 2}, 400),
    ({"name": "X", "priorityIds": [1], "defaultPriorityId": 1, "projectIds": [424242]}, 400),
    ({"priorityIds": [1], "defaultPriorityId": 1}, 400),
])
def test_priority_scheme_refusals(site: Site, body: dict, status: int) -> None:
    """Are duplicate names and references to nothing refused?"""
    assert call(site, "POST", "/priorityscheme", body=body)[0] == status


def test_priority_scheme_update_and_default_read_only(site: Site) -> None:
    """Does an update answer 202 with the scheme, and is the default scheme read-only?"""
    sid = call(site, "POST", "/priorityscheme", body={"name": "Lean", "priorityIds": [1, 3],
                                                      "defaultPriorityId": 3})[1]["id"]
    code, answer = call(site, "PUT", f"/priorityscheme/{sid}", body={
        "name": "Leaner", "priorities": {"add": {"ids": [5]}, "remove": {"ids": [1]}}})
    assert code == 202 and answer["priorityScheme"]["name"] == "Leaner"
    assert [p["id"] for p in call(site, "GET", f"/priorityscheme/{sid}/priorities")[1]["values"]] == ["3", "5"]
    assert call(site, "PUT", f"/priorityscheme/{sid}", body={"priorities": {"remove": {"ids": [3]}}})[0] == 400
    assert call(site, "PUT", "/priorityscheme/1", body={"name": "Mine"})[0] == 400
    assert call(site, "DELETE", "/priorityscheme/1")[0] == 400
    assert call(site, "DELETE", f"/priorityscheme/{sid}")[0] == 204


def test_type_scheme_seed_round_trip() -> None:
    """Does a seed of schemes, items and project associations come back out of export unchanged?"""
    source = seeding.new_site("src", "http://127.0.0.1:9")
    sid = call(source, "POST", "/issuetypescheme", body={"name": "S", "issueTypeIds": ["10004", "10001"],
                                                         "defaultIssueTypeId": "10004"})[1]["issueTypeSchemeId"]
    psid = call(source, "POST", "/priorityscheme", body={"name": "P", "priorityIds": [2, 1],
                                                         "defaultPriorityId": 2})[1]["id"]
    make_project(source, issueTypeScheme=int(sid))
    pid = make_project(source, "DEV")
    call(source, "PUT", f"/priorityscheme/{psid}", body={"projects": {"add": {"ids": [int(pid)]}}})
    exported = seeding.export_site(source)
    assert exported["projectSchemeAssociations"][pid] == {"priorityScheme": psid}
    copy_site = seeding.new_site("src", "http://127.0.0.1:9", exported)
    assert seeding.export_site(copy_site) == exported
    assert scheme_types(copy_site, sid) == ["10004", "10001"]


@pytest.mark.parametrize(("key", "value"), [
    ("issueTypeSchemeMappings", [{"issueTypeSchemeId": "10000", "issueTypeId": "99999"}]),
    ("issueTypeSchemeMappings", [{"issueTypeSchemeId": "424242", "issueTypeId": "10001"}]),
    ("prioritySchemePriorities", {"1": [{"id": "99"}]}),
    ("prioritySchemes", [{"id": "2", "name": "P", "defaultPriorityId": "99"}]),
])
def test_type_scheme_seed_dangling_reference(key: str, value: Any) -> None:
    """Does a seed that names a missing issue type, priority or scheme fail loudly?"""
    with pytest.raises(ValueError, match="unknown"):
        seeding.new_site("src", "http://127.0.0.1:9", {key: value})
