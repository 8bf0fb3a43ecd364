"""Permission, notification and issue security schemes: shapes, holders' references, defaults, projects."""

from __future__ import annotations

from typing import Any

import pytest

from fakejira import seeding
from fakejira.resources._common import SeedRefError
from fakejira.site import Site
from tests.emulator.helpers import api, error, make_site, ok, round_trip

P, N, SEC = "/rest/api/3/permissionscheme", "/rest/api/3/notificationscheme", "/rest/api/3/issuesecurityschemes"
GROUP = {"type": "group", "parameter": "jira-administrators"}


@pytest.fixture
def site() -> Site:
    return make_site()


def test_defaults_and_expand(site: Site) -> None:
    plain = ok(site, "GET", P)["permissionSchemes"]
    assert [s["name"] for s in plain] == ["Default Permission Scheme"] and "permissions" not in plain[0]
    full = ok(site, "GET", P, query={"expand": "all"})["permissionSchemes"][0]
    assert any(g["permission"] == "BROWSE_PROJECTS" for g in full["permissions"])
    schemes = ok(site, "GET", N, query={"expand": "all"})["values"]
    assert schemes[0]["name"] == "Default Notification Scheme" and schemes[0]["notificationSchemeEvents"]
    assert ok(site, "GET", SEC)["issueSecuritySchemes"] == []
    assert ok(site, "GET", "/rest/api/3/project/PRJ/permissionscheme")["name"] == "Default Permission Scheme"
    assert ok(site, "GET", "/rest/api/3/project/PRJ/notificationscheme")["id"] == 10000


def test_permission_scheme_crud_grants_and_project(site: Site) -> None:
    status, made = api(site, "POST", P, {"name": "Ops", "permissions": [
        {"permission": "BROWSE_PROJECTS", "holder": GROUP}]})
    assert status == 201 and made["permissions"][0]["holder"]["value"] == "g-1"
    error(site, "POST", P, {"name": "ops"}, status=400)
    grant = ok(site, "POST", f"{P}/{made['id']}/permission", {"permission": "EDIT_ISSUES",
                                                               "holder": {"type": "projectRole", "value": "10002"}})
    error(site, "POST", f"{P}/{made['id']}/permission", {"permission": "EDIT_ISSUES",
                                                          "holder": {"type": "projectRole", "value": "10002"}},
          status=400)
    assert len(ok(site, "GET", f"{P}/{made['id']}/permission")["permissions"]) == 2
    ok(site, "DELETE", f"{P}/{made['id']}/permission/{grant['id']}")
    error(site, "DELETE", f"{P}/{made['id']}/permission/{grant['id']}", status=400)
    updated = ok(site, "PUT", f"{P}/{made['id']}", {"name": "Ops 2", "permissions": []})
    assert updated["permissions"] == []
    ok(site, "PUT", "/rest/api/3/project/PRJ/permissionscheme", {"id": made["id"]})
    assert ok(site, "GET", "/rest/api/3/project/10000/permissionscheme")["id"] == made["id"]
    error(site, "DELETE", f"{P}/{made['id']}", status=400)  # in use
    error(site, "DELETE", f"{P}/0", status=400)  # the default
    round_trip(site)


@pytest.mark.parametrize("grant", [
    {"permission": "NOT_A_PERMISSION", "holder": {"type": "anyone"}},
    {"permission": "BROWSE_PROJECTS", "holder": {"type": "group", "parameter": "nobody"}},
    {"permission": "BROWSE_PROJECTS", "holder": {"type": "projectRole", "value": "999"}},
    {"permission": "BROWSE_PROJECTS", "holder": {"type": "user", "parameter": "ghost"}},
    {"permission": "BROWSE_PROJECTS", "holder": {"type": "userCustomField", "parameter": "customfield_404"}},
    {"permission": "BROWSE_PROJECTS", "holder": {"type": "wizard"}},
])
def test_permission_grants_check_their_holders(site: Site, grant: dict[str, Any]) -> None:
    error(site, "POST", P, {"name": "Bad", "permissions": [grant]}, status=400)


def test_notification_schemes(site: Site) -> None:
    body = {"name": "Quiet", "notificationSchemeEvents": [
        {"event": {"id": "1"}, "notifications": [{"notificationType": "Group", "parameter": "g-1"},
                                                 {"notificationType": "Reporter"}]}]}
    status, made = api(site, "POST", N, body)
    assert status == 201 and made["id"].isdigit()
    error(site, "POST", N, {**body, "name": "quiet"}, status=400)
    error(site, "POST", N, {"name": "X", "notificationSchemeEvents": [
        {"event": {"id": "999"}, "notifications": []}]}, status=400)
    error(site, "POST", N, {"name": "X", "notificationSchemeEvents": [
        {"event": {"id": "1"}, "notifications": [{"notificationType": "ProjectRole", "parameter": "9"}]}]},
          status=400)
    ok(site, "PUT", f"{N}/{made['id']}/notification", {"notificationSchemeEvents": [
        {"event": {"id": "2"}, "notifications": [{"notificationType": "AllWatchers"}]}]})
    error(site, "PUT", f"{N}/{made['id']}/notification", {"notificationSchemeEvents": [
        {"event": {"id": "2"}, "notifications": [{"notificationType": "AllWatchers"}]}]}, status=400)
    scheme = ok(site, "GET", f"{N}/{made['id']}", query={"expand": "all"})
    assert [e["event"]["id"] for e in scheme["notificationSchemeEvents"]] == [1, 2]
    mapping = ok(site, "GET", f"{N}/project")["values"]
    assert {"notificationSchemeId": "10000", "projectId": "10000"} in mapping
    error(site, "DELETE", f"{N}/10000", status=400)
    round_trip(site)
    nid = scheme["notificationSchemeEvents"][0]["notifications"][0]["id"]
    ok(site, "DELETE", f"{N}/{made['id']}/notification/{nid}")
    ok(site, "DELETE", f"{N}/{made['id']}")


def test_issue_security_schemes(site: Site) -> None:
    body = {"name": "Secret", "levels": [
        {"name": "Staff", "isDefault": True, "members": [{"type": "reporter"}, GROUP]},
        {"name": "Board", "members": [{"type": "user", "parameter": "acc-1"}]}]}
    status, made = api(site, "POST", SEC, body)
    assert status == 201
    error(site, "POST", SEC, {**body, "name": "secret"}, status=400)
    error(site, "POST", SEC, {"name": "X" * 61}, status=400)
    error(site, "POST", SEC, {"name": "Y", "levels": [{"name": "L", "members": [{"type": "group",
                                                                             "parameter": "ghosts"}]}]}, status=400)
    scheme = ok(site, "GET", f"{SEC}/{made['id']}")
    assert [lv["name"] for lv in scheme["levels"]] == ["Staff", "Board"]
    assert scheme["defaultSecurityLevelId"] == int(scheme["levels"][0]["id"])
    levels = ok(site, "GET", f"{SEC}/level", query={"schemeId": made["id"]})["values"]
    members = ok(site, "GET", f"{SEC}/level/member", query={"levelId": levels[0]["id"]})["values"]
    assert [m["holder"]["type"] for m in members] == ["reporter", "group"]
    ok(site, "PUT", f"{SEC}/{made['id']}/level", {"levels": [{"name": "Execs"}]})
    error(site, "PUT", f"{SEC}/{made['id']}/level", {"levels": [{"name": "execs"}]}, status=400)
    status, _ = api(site, "PUT", f"{SEC}/project", {"projectId": "10000", "schemeId": made["id"]})
    assert status == 303
    assert ok(site, "GET", f"{SEC}/project")["values"] == [{"issueSecuritySchemeId": made["id"], "projectId": "10000"}]
    assert ok(site, "GET", "/rest/api/3/project/PRJ/issuesecuritylevelscheme")["name"] == "Secret"
    error(site, "GET", "/rest/api/3/project/OTH/issuesecuritylevelscheme", status=404)
    found = ok(site, "GET", f"{SEC}/search", query={"projectId": "10000"})["values"]
    assert [(s["name"], s["projectIds"]) for s in found] == [("Secret", [10000])]
    error(site, "DELETE", f"{SEC}/{made['id']}", status=400)
    round_trip(site)


@pytest.mark.parametrize("seed", [
    {"permissionSchemes": [{"id": 5, "name": "X", "permissions": [
        {"id": 1, "permission": "BROWSE_PROJECTS", "holder": {"type": "group", "parameter": "ghosts"}}]}]},
    {"projectPermissionSchemes": {"10000": "404"}},
    {"issueSecurityLevels": [{"id": "1", "name": "L", "description": "", "isDefault": False,
                              "issueSecuritySchemeId": "404"}]},
    {"projectIssueSecuritySchemes": [{"issueSecuritySchemeId": "404", "projectId": "10000"}]},
])
def test_seed_with_dangling_reference_fails(seed: dict[str, Any]) -> None:
    with pytest.raises(SeedRefError):
        seeding.load_seed(make_site(), seed)


@pytest.mark.parametrize("kind, field_type, status", [
    ("userCustomField", "userpicker", 201), ("userCustomField", "textfield", 400),
    ("groupCustomField", "multigrouppicker", 201), ("groupCustomField", "userpicker", 400),
])
def test_a_field_holder_must_be_a_picker_of_its_kind(site: Site, kind: str, field_type: str, status: int) -> None:
    """Jira offers only user pickers for a user-field holder and group pickers for a group-field holder."""
    seeding.load_seed(site, {"fields": [{
        "id": "customfield_10900", "key": "customfield_10900", "name": "Holder field", "isLocked": False,
        "schema": {"type": "any", "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{field_type}",
                   "customId": 10900}}]})
    grant = {"permission": "BROWSE_PROJECTS", "holder": {"type": kind, "parameter": "customfield_10900"}}
    got, _body = api(site, "POST", P, {"name": f"Field holders {kind} {field_type}", "permissions": [grant]})
    assert got == status
