"""Emulator part A: projects, components, versions, project role actors and their seeds."""

from __future__ import annotations

from typing import Any

import pytest

from fakejira import seeding
from fakejira.site import Site
from tests.emulator import helpers
from tests.emulator.helpers import admin

call = helpers.call  # every answer, projectKeys expansions included (spec erratum), is schema-checked


def create(site: Site, key: str = "OPS", name: str | None = None, **extra: Any) -> tuple[int, Any]:
    return call(site, "POST", "/project", body={"key": key, "name": name or f"Project {key}",
                                                 "projectTypeKey": "software", "leadAccountId": admin(site), **extra})


def test_create_without_template_and_read_back(site: Site) -> None:
    """Does a template-less create answer 201 with a numeric id and give a readable classic project?"""
    category = call(site, "POST", "/projectCategory", body={"name": "Ops"})[1]
    code, created = create(site, categoryId=int(category["id"]), assigneeType="PROJECT_LEAD", description="d")
    assert code == 201 and isinstance(created["id"], int) and created["key"] == "OPS"
    project = call(site, "GET", "/project/ops")[1]
    assert project["id"] == str(created["id"]) and project["style"] == "classic"
    assert project["projectCategory"]["name"] == "Ops" and project["assigneeType"] == "PROJECT_LEAD"
    assert project["lead"]["accountId"] == admin(site)
    assert set(project["roles"]) >= {"Administrators", "Member"}
    assert call(site, "GET", "/project/NOPE")[1]["errorMessages"] == ["No project could be found with key 'NOPE'."]


@pytest.mark.parametrize(("body", "field", "marker"), [
    ({"key": "ops"}, "projectKey", "Project keys must start with an uppercase letter"),
    ({"key": "1OPS"}, "projectKey", "Project keys must start with an uppercase letter"),
    ({"key": "O"}, "projectKey", "uppercase alphanumeric"),
    ({"key": "ABCDEFGHIJK"}, "projectKey", "must not exceed 10 characters"),
    ({"key": "DUP"}, "projectKey", "uses this project key"),
    ({"name": "project dup"}, "projectName", "A project with that name already exists."),
    ({"leadAccountId": None}, "projectLead", "You must specify a valid project lead."),
    ({"leadAccountId": "ghost"}, "projectLead", "does not exist"),
    ({"projectTypeKey": "rocket"}, "projectTypeKey", "project type"),
    ({"categoryId": 424242}, "categoryId", "424242"),
    ({"workflowScheme": 424242}, "workflowScheme", "424242"),
    ({"issueTypeScheme": 424242}, "issueTypeScheme", "424242"),
    ({"permissionScheme": 424242}, "permissionScheme", "424242"),
    ({"issueTypeScreenScheme": 424242}, "issueTypeScreenScheme", "424242"),
])
def test_create_refusals(site: Site, body: dict, field: str, marker: str) -> None:
    """Are bad keys, duplicate keys/names, missing leads and unknown scheme ids refused like Jira?"""
    assert create(site, "DUP", "Project Dup")[0] == 201
    payload = {"key": "NEW", "name": "New", "projectTypeKey": "software", "leadAccountId": admin(site), **body}
    code, answer = call(site, "POST", "/project", body=payload)
    assert code == 400 and marker in answer["errors"][field]
    assert len(site.store.coll("projects")) == 1


def test_template_create_is_refused(site: Site) -> None:
    code, _ = create(site, projectTemplateKey="com.pyxis.greenhopper.jira:gh-simplified-basic")
    assert code == 400


@pytest.mark.parametrize(("query", "count", "is_last"), [
    ({}, 50, False), ({"maxResults": "500"}, 100, False), ({"startAt": "100", "maxResults": "100"}, 20, True),
    ({"startAt": "200"}, 0, True), ({"maxResults": "0"}, 0, False),
])
def test_search_pages_with_cap_100(site: Site, query: dict, count: int, is_last: bool) -> None:
    """Does project search default to 50, cap at 100 and answer the edges like Jira?"""
    for n in range(120):
        assert create(site, f"P{n:03d}")[0] == 201
    page = call(site, "GET", "/project/search", query=query)[1]
    assert len(page["values"]) == count and page["isLast"] is is_last and page["total"] == 120


def test_search_filters_order_and_expand(site: Site) -> None:
    """Do keys/query filters, orderBy and the expand parameter shape the answer?"""
    create(site, "BBB", "Alpha")
    create(site, "AAA", "Beta", description="about beta")
    page = call(site, "GET", "/project/search")[1]["values"]
    assert [p["key"] for p in page] == ["AAA", "BBB"] and "description" not in page[0] and "lead" not in page[0]
    by_name = call(site, "GET", "/project/search", query={"orderBy": "-name"})[1]["values"]
    assert [p["name"] for p in by_name] == ["Beta", "Alpha"]
    expanded = call(site, "GET", "/project/search", query={"keys": "AAA", "expand": "description,lead,issueTypes"})[1]
    only = expanded["values"]
    assert len(only) == 1 and only[0]["description"] == "about beta" and only[0]["lead"]["accountId"] == admin(site)
    assert {t["name"] for t in only[0]["issueTypes"]} >= {"Task", "Bug"}
    assert call(site, "GET", "/project/search", query={"orderBy": "sideways"})[0] == 400
    keys = call(site, "GET", "/project/search", query={"expand": "projectKeys"})[1]["values"][0]["projectKeys"]
    assert keys == ["AAA"]


def test_update_and_delete(site: Site) -> None:
    """Does an update change key and name with the same checks, and does delete remove children?"""
    pid = str(create(site)[1]["id"])
    create(site, "DEV", "Development")
    assert call(site, "PUT", f"/project/{pid}", body={"name": "development"})[0] == 400
    code, updated = call(site, "PUT", f"/project/{pid}", body={"key": "OPZ", "name": "Operations"})
    assert code == 200 and updated["key"] == "OPZ"
    call(site, "POST", "/component", body={"name": "API", "project": "OPZ"})
    assert call(site, "DELETE", "/project/OPZ")[0] == 204
    assert call(site, "GET", f"/project/{pid}")[0] == 404
    assert site.store.coll("components") == {}


def test_components(site: Site) -> None:
    """Do components refuse a duplicate name per project and page with issue counts?"""
    create(site)
    create(site, "DEV")
    code, api = call(site, "POST", "/component", body={"name": "API", "project": "OPS", "leadAccountId": admin(site),
                                                       "assigneeType": "COMPONENT_LEAD"})
    assert code == 201 and api["realAssigneeType"] == "COMPONENT_LEAD" and api["isAssigneeTypeValid"] is True
    assert call(site, "POST", "/component", body={"name": "api", "project": "OPS"})[0] == 400
    assert call(site, "POST", "/component", body={"name": "API", "project": "DEV"})[0] == 201
    assert call(site, "POST", "/component", body={"name": "X", "project": "NOPE"})[0] == 404
    page = call(site, "GET", "/project/OPS/component")[1]
    assert [(c["name"], c["issueCount"]) for c in page["values"]] == [("API", 0)]
    assert call(site, "PUT", f"/component/{api['id']}", body={"description": "edge"})[1]["description"] == "edge"
    assert call(site, "DELETE", f"/component/{api['id']}")[0] == 204
    assert call(site, "GET", f"/component/{api['id']}")[0] == 404


def test_versions_and_move(site: Site) -> None:
    """Do versions refuse duplicate names and keep the order set by move?"""
    pid = create(site)[1]["id"]
    ids = [call(site, "POST", "/version", body={"name": n, "projectId": pid})[1]["id"] for n in ("1.0", "2.0", "3.0")]
    assert call(site, "POST", "/version", body={"name": "2.0", "projectId": pid})[1]["errors"] == {
        "name": "A version with this name already exists in this project."}
    assert call(site, "POST", "/version", body={"name": "4.0", "projectId": pid, "releaseDate": "soon"})[0] == 400
    names = lambda: [v["name"] for v in call(site, "GET", "/project/OPS/versions")[1]]  # noqa: E731
    assert call(site, "POST", f"/version/{ids[2]}/move", body={"position": "First"})[0] == 200
    assert names() == ["3.0", "1.0", "2.0"]
    assert call(site, "POST", f"/version/{ids[2]}/move",
                body={"after": f"http://127.0.0.1:9/rest/api/3/version/{ids[1]}"})[0] == 200
    assert names() == ["1.0", "2.0", "3.0"]
    assert call(site, "POST", f"/version/{ids[0]}/move", body={"position": "Later"})[0] == 200
    assert names() == ["2.0", "1.0", "3.0"]
    assert call(site, "PUT", f"/version/{ids[0]}", body={"released": True, "releaseDate": "2026-01-02"})[1][
        "released"] is True
    page = call(site, "GET", "/project/OPS/version", query={"status": "released"})[1]
    assert [v["name"] for v in page["values"]] == ["1.0"]


def test_role_actors(site: Site) -> None:
    """Do project role actors start from the defaults and follow add, replace and remove?"""
    create(site)
    admins = call(site, "GET", "/project/OPS/role/10002")[1]["actors"]
    assert [a["actorGroup"]["name"] for a in admins] == ["jira-administrators"]
    code, member = call(site, "POST", "/project/OPS/role/10004", body={"user": [admin(site)], "group": ["site-admins"]})
    assert code == 200 and len(member["actors"]) == 2
    assert call(site, "POST", "/project/OPS/role/10004", body={"group": ["ghosts"]})[0] == 400
    replaced = call(site, "PUT", "/project/OPS/role/10004", body={
        "categorisedActors": {"atlassian-group-role-actor": ["jira-software-users"]}})[1]
    assert [a["name"] for a in replaced["actors"]] == ["jira-software-users"]
    assert call(site, "DELETE", "/project/OPS/role/10004", query={"group": "jira-software-users"})[0] == 204
    assert call(site, "GET", "/project/OPS/role/10004")[1]["actors"] == []
    assert call(site, "POST", "/project/OPS/role/10003", body={"user": [admin(site)]})[0] == 400


def test_project_seed_round_trip() -> None:
    """Do projects, components, versions, role actors and associations survive export and load unchanged?"""
    source = seeding.new_site("src", "http://127.0.0.1:9")
    category = call(source, "POST", "/projectCategory", body={"name": "Ops"})[1]
    pid = create(source, categoryId=int(category["id"]), url="https://ops.example")[1]["id"]
    call(source, "POST", "/component", body={"name": "API", "project": "OPS", "leadAccountId": admin(source)})
    for name in ("1.0", "2.0"):
        call(source, "POST", "/version", body={"name": name, "projectId": pid})
    call(source, "POST", "/project/OPS/role/10004", body={"user": [admin(source)]})
    exported = seeding.export_site(source)
    assert exported["projects"][0]["key"] == "OPS" and exported["projects"][0]["projectCategory"]["name"] == "Ops"
    assert [v["name"] for v in exported["projectVersions"][str(pid)]] == ["1.0", "2.0"]
    again = seeding.new_site("src", "http://127.0.0.1:9", exported)
    assert seeding.export_site(again) == exported
    assert create(again, "NEW")[1]["id"] > pid


@pytest.mark.parametrize(("key", "value"), [
    ("projects", [{"id": "1", "key": "X", "name": "X", "projectCategory": {"id": "424242"}}]),
    ("projects", [{"id": "1", "key": "X", "name": "X", "lead": {"accountId": "ghost"}}]),
    ("projectComponents", {"424242": [{"id": "1", "name": "C", "projectId": 424242}]}),
    ("projectVersions", {"10000": [{"id": "1", "name": "V", "projectId": 424242}]}),
    ("projectRoleActors", {"10000": {"424242": []}}),
    ("projectSchemeAssociations", {"10000": {"workflowScheme": "424242"}}),
])
def test_project_seed_dangling_reference(key: str, value: Any) -> None:
    """Does a seed naming a missing project, category, user, role or scheme fail loudly?"""
    seed: dict[str, Any] = {"projects": [{"id": "10000", "key": "OPS", "name": "Ops", "projectTypeKey": "software"}]}
    seed[key] = value
    with pytest.raises(ValueError, match=r"unknown|names project"):
        seeding.new_site("src", "http://127.0.0.1:9", seed)
