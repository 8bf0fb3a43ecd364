"""Emulator part A basics: categories, link types, priorities, resolutions, statuses, issue types, roles, users."""

from __future__ import annotations

from typing import Any

import pytest

from fakejira import seeding
from fakejira.site import Site
from tests.emulator.helpers import admin, call


def test_new_site_has_jira_defaults(site: Site) -> None:
    """Does a brand-new site carry the objects Jira Cloud creates for every site?"""
    names = lambda path: [x["name"] for x in call(site, "GET", path)[1]]  # noqa: E731
    assert names("/priority") == ["Highest", "High", "Medium", "Low", "Lowest"]
    assert {"Done", "Won't Do", "Duplicate", "Cannot Reproduce"} <= set(names("/resolution"))
    assert {"To Do", "In Progress", "Done"} <= set(names("/status"))
    assert {"Task", "Sub-task", "Epic", "Story", "Bug"} <= set(names("/issuetype"))
    assert {"Administrators", "Member", "atlassian-addons-project-access"} <= set(names("/role"))
    links = call(site, "GET", "/issueLinkType")[1]["issueLinkTypes"]
    assert [x["name"] for x in links] == ["Blocks", "Cloners", "Duplicate", "Relates"]
    epic = next(t for t in call(site, "GET", "/issuetype")[1] if t["name"] == "Epic")
    assert epic["hierarchyLevel"] == 1
    assert call(site, "GET", "/priority/search", query={"onlyDefault": "true"})[1]["values"][0]["name"] == "Medium"
    groups = [g["name"] for g in call(site, "GET", "/group/bulk")[1]["values"]]
    assert "jira-administrators" in groups and "jira-users-acme" in groups
    assert call(site, "GET", "/user", query={"accountId": admin(site)})[0] == 200
    assert call(site, "GET", "/serverInfo")[1]["baseUrl"] == "http://127.0.0.1:9"


@pytest.mark.parametrize("path", [
    "/projectCategory", "/issueLinkType", "/issueLinkType/10000", "/priority", "/priority/search", "/priority/1",
    "/resolution", "/resolution/search", "/resolution/10000", "/statuses/search", "/status", "/status/1",
    "/status/Open", "/statuscategory", "/statuscategory/done", "/issuetype", "/issuetype/10002", "/role",
    "/role/10002", "/role/10002/actors", "/group/bulk", "/users/search", "/serverInfo",
    "/configuration/timetracking", "/configuration/timetracking/options", "/configuration",
    "/application-properties/advanced-settings",
])
def test_reads_match_the_spec(site: Site, path: str) -> None:
    """Does every read answer 200 with a body the spec's schema accepts?"""
    assert call(site, "GET", path)[0] == 200


@pytest.mark.parametrize(("path", "body", "status", "marker"), [
    ("/projectCategory", {"name": "ops"}, 409, "already exists"),
    ("/issueLinkType", {"name": "blocks", "inward": "a", "outward": "b"}, 400, "already in use"),
    ("/priority", {"name": "HIGH", "statusColor": "#000000"}, 400, "must be unique"),
    ("/resolution", {"name": "done"}, 400, "already exists"),
    ("/issuetype", {"name": "bug"}, 409, "An issue type with this name already exists."),
    ("/role", {"name": "member"}, 409, "already exists"),
    ("/group", {"name": "JIRA-ADMINISTRATORS"}, 400, "A group with that name already exists."),
    ("/statuses", {"scope": {"type": "GLOBAL"}, "statuses": [{"name": "done", "statusCategory": "DONE"}]}, 409,
     "already exists"),
])
def test_names_are_unique_ignoring_case(site: Site, path: str, body: dict, status: int, marker: str) -> None:
    """Is a second object with an existing name (in another case) refused with Jira's status and words?"""
    call(site, "POST", "/projectCategory", body={"name": "Ops"})
    code, answer = call(site, "POST", path, body=body)
    assert code == status
    assert marker in str(answer)


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "Initiative", "hierarchyLevel": 1}, "hierarchyLevel"),
    ({"name": "Initiative", "hierarchyLevel": 2}, "hierarchyLevel"),
    ({"name": "Odd", "type": "subtask", "hierarchyLevel": 0}, "hierarchyLevel"),
    ({"name": "Odd", "type": "epic"}, "type"),
    ({"name": ""}, "name"),
])
def test_issue_type_create_only_at_base_levels(site: Site, body: dict, field: str) -> None:
    """Can an app create an issue type above level 0, or with contradicting type and level? (It can't.)"""
    code, answer = call(site, "POST", "/issuetype", body=body)
    assert code == 400
    assert field in answer["errors"]


def test_issue_type_create_subtask(site: Site) -> None:
    """Does ``type: subtask`` give a level -1 sub-task type with a fresh string id?"""
    code, created = call(site, "POST", "/issuetype", body={"name": "Checklist", "type": "subtask"})
    assert code == 201 and created["subtask"] is True and created["hierarchyLevel"] == -1
    assert int(created["id"]) > 10004


def test_priority_create_move_and_default(site: Site) -> None:
    """Do create, move and set-default change what the search answers?"""
    code, created = call(site, "POST", "/priority", body={"name": "Urgent", "statusColor": "#ff0000"})
    assert code == 201
    assert call(site, "PUT", "/priority/move", body={"ids": [created["id"]], "position": "First"})[0] == 204
    assert call(site, "PUT", "/priority/default", body={"id": created["id"]})[0] == 204
    values = call(site, "GET", "/priority/search")[1]["values"]
    assert values[0]["name"] == "Urgent" and values[0]["isDefault"] is True
    assert sum(v["isDefault"] for v in values) == 1
    assert call(site, "POST", "/priority", body={"name": "X", "statusColor": "red"})[0] == 400


@pytest.mark.parametrize(("query", "count", "is_last"), [
    ({"startAt": "100"}, 0, True), ({"maxResults": "0"}, 0, False), ({"maxResults": "500"}, 50, False),
    ({"startAt": "50", "maxResults": "50"}, 14, True),
])
def test_resolution_search_pages(site: Site, query: dict, count: int, is_last: bool) -> None:
    """Are page edges (past the end, zero, over the cap of 50) answered like Jira?"""
    for n in range(60):
        assert call(site, "POST", "/resolution", body={"name": f"R{n}"})[0] == 201
    code, page = call(site, "GET", "/resolution/search", query=query)
    assert code == 200 and len(page["values"]) == count and page["isLast"] is is_last and page["total"] == 64


def test_status_lifecycle_and_in_use_delete(site: Site) -> None:
    """Can a new status be renamed and deleted, while one used by a workflow can't be deleted?"""
    code, created = call(site, "POST", "/statuses", body={
        "scope": {"type": "GLOBAL"}, "statuses": [{"name": "Review", "statusCategory": "IN_PROGRESS"}]})
    assert code == 200 and created[0]["statusCategory"] == "IN_PROGRESS"
    sid = created[0]["id"]
    assert call(site, "PUT", "/statuses", body={"statuses": [
        {"id": sid, "name": "Peer review", "statusCategory": "IN_PROGRESS"}]})[0] == 204
    assert call(site, "GET", f"/status/{sid}")[1]["statusCategory"]["key"] == "indeterminate"
    assert call(site, "DELETE", "/statuses", query={"id": "1"})[0] == 400  # "Open" is in the jira workflow
    assert call(site, "DELETE", "/statuses", query={"id": sid})[0] == 204
    assert call(site, "GET", f"/status/{sid}")[0] == 404


def test_read_only_role_and_default_actors(site: Site) -> None:
    """Is atlassian-addons-project-access read-only, while other roles take default actors?"""
    assert call(site, "PUT", "/role/10003", body={"name": "x", "description": "y"})[0] == 400
    assert call(site, "DELETE", "/role/10003")[0] == 400
    code, role = call(site, "POST", "/role", body={"name": "Developers", "description": "devs"})
    assert code == 200 and isinstance(role["id"], int)
    code, actors = call(site, "POST", f"/role/{role['id']}/actors", body={"group": ["site-admins"]})
    assert code == 200 and actors["actors"][0]["actorGroup"]["name"] == "site-admins"
    assert call(site, "POST", f"/role/{role['id']}/actors", body={"group": ["nobody"]})[0] == 400
    assert call(site, "DELETE", f"/role/{role['id']}/actors", query={"group": "site-admins"})[1]["actors"] == []


def test_permission_check_grants_admin_only_to_admins(site: Site) -> None:
    """Does ADMINISTER come back for the site admin and not for an ordinary user?"""
    seeding.load_seed(site, {"users": [{"accountId": "u-1", "accountType": "atlassian", "displayName": "Una",
                                        "active": True}]})
    ask = {"globalPermissions": ["ADMINISTER"]}
    assert call(site, "POST", "/permissions/check", body={**ask, "accountId": admin(site)})[1][
        "globalPermissions"] == ["ADMINISTER"]
    assert call(site, "POST", "/permissions/check", body={**ask, "accountId": "u-1"})[1]["globalPermissions"] == []


def test_users_and_group_members(site: Site) -> None:
    """Do user look-ups answer Jira's 404 wording, and do group members list the admin?"""
    assert call(site, "GET", "/user", query={"accountId": "nobody"})[1]["errorMessages"] == [
        "Specified user does not exist or you do not have required permissions"]
    members = call(site, "GET", "/group/member", query={"groupname": "site-admins"})[1]["values"]
    assert [m["accountId"] for m in members] == [admin(site)]
    assert call(site, "GET", "/user/search")[0] == 400
    assert call(site, "GET", "/myself", account_id=admin(site))[1]["accountId"] == admin(site)


@pytest.mark.parametrize("body", [
    {"workingHoursPerDay": 25, "workingDaysPerWeek": 5, "timeFormat": "pretty", "defaultUnit": "minute"},
    {"workingHoursPerDay": 8, "workingDaysPerWeek": 5, "timeFormat": "weird", "defaultUnit": "minute"},
    {"workingHoursPerDay": 8, "workingDaysPerWeek": 5, "timeFormat": "pretty", "defaultUnit": "year"},
])
def test_timetracking_options_are_checked(site: Site, body: dict) -> None:
    """Are impossible time tracking options refused?"""
    assert call(site, "PUT", "/configuration/timetracking/options", body=body)[0] == 400


def test_settings_change_and_round_trip(site: Site) -> None:
    """Do setting changes show in the export, and does that export load back unchanged?"""
    call(site, "PUT", "/application-properties/jira.clone.prefix", body={"id": "jira.clone.prefix", "value": "C:"})
    assert call(site, "PUT", "/configuration/timetracking/options", body={
        "workingHoursPerDay": 7.5, "workingDaysPerWeek": 4, "timeFormat": "hours", "defaultUnit": "hour"})[0] == 200
    exported = seeding.export_site(site)
    assert exported["settings"]["timetrackingOptions"]["workingHoursPerDay"] == 7.5
    again = seeding.new_site("acme", "http://127.0.0.1:9", exported)
    assert seeding.export_site(again) == exported


BASIC_SEED = {
    "projectCategories": [{"self": "http://src/rest/api/3/projectCategory/10400", "id": "10400", "name": "Ops",
                           "description": "operations"}],
    "issueLinkTypes": [{"id": "10500", "name": "Causes", "inward": "is caused by", "outward": "causes",
                        "self": "http://src/rest/api/3/issueLinkType/10500"}],
    "priorities": [{"self": "http://src/rest/api/3/priority/1", "statusColor": "#d04437", "description": "",
                    "iconUrl": "http://src/p.svg", "name": "Blocker", "id": "1", "isDefault": True}],
    "resolutions": [{"self": "http://src/rest/api/3/resolution/10000", "id": "10000", "description": "",
                     "name": "Fixed", "default": True}],
    "statuses": [{"id": "10000", "name": "Open", "statusCategory": "TODO", "scope": {"type": "GLOBAL"},
                  "description": ""}],
    "issueTypes": [{"self": "http://src/rest/api/3/issuetype/10100", "id": "10100", "description": "",
                    "iconUrl": "http://src/i.png", "name": "Task", "subtask": False, "avatarId": 1,
                    "hierarchyLevel": 0}],
    "users": [{"accountId": "u-1", "accountType": "atlassian", "displayName": "Una", "active": True}],
    "groups": [{"name": "devs", "groupId": "g-1"}],
    "groupMembers": {"g-1": [{"accountId": "u-1"}]},
    "projectRoles": [{"self": "http://src/rest/api/3/role/10002", "name": "Administrators", "id": 10002,
                      "description": "", "actors": [{"id": 1, "displayName": "devs",
                                                     "type": "atlassian-group-role-actor", "name": "devs",
                                                     "actorGroup": {"name": "devs", "displayName": "devs",
                                                                    "groupId": "g-1"}}]}],
}


def test_basic_seed_round_trip() -> None:
    """Does a seed of every basic type come back out of export exactly as it went in?"""
    site = seeding.new_site("src", "http://127.0.0.1:9", {**BASIC_SEED, "workflows": [], "issueTypeSchemes": [],
                                                          "prioritySchemes": []})
    exported = seeding.export_site(site)
    for key in ("projectCategories", "issueLinkTypes", "priorities", "resolutions", "statuses", "issueTypes",
                "projectRoles"):
        assert exported[key] == BASIC_SEED[key], key
    assert {"accountId": "u-1"} in exported["groupMembers"]["g-1"]
    assert call(site, "POST", "/projectCategory", body={"name": "New"})[1]["id"] == "10401"


@pytest.mark.parametrize(("key", "value"), [
    ("groupMembers", {"g-404": [{"accountId": "u-1"}]}),
    ("groupMembers", {"g-1": [{"accountId": "u-404"}]}),
    ("projectRoles", [{"name": "R", "id": 10009, "actors": [{"actorGroup": {"groupId": "g-404"}}]}]),
    ("statuses", [{"id": "1", "name": "Odd", "statusCategory": "MAYBE"}]),
])
def test_seed_with_dangling_reference_fails(key: str, value: Any) -> None:
    """Does a seed naming something that doesn't exist fail loudly instead of loading?"""
    seed = {"users": BASIC_SEED["users"], "groups": BASIC_SEED["groups"], key: value}
    with pytest.raises(ValueError, match=r"unknown|bad"):
        seeding.new_site("src", "http://127.0.0.1:9", seed)
