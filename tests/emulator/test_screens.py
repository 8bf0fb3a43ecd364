"""Screens, tabs, tab fields, field configurations (+ schemes), screen schemes and issue type screen schemes."""

from __future__ import annotations

from typing import Any

import pytest

from fakejira import seeding
from fakejira.resources._common import SeedRefError
from fakejira.site import Site
from tests.emulator.helpers import api, error, make_site, messages, ok, round_trip

S = "/rest/api/3/screens"


@pytest.fixture
def site() -> Site:
    return make_site()


def test_new_site_has_default_screens_and_schemes(site: Site) -> None:
    names = {s["name"] for s in ok(site, "GET", S)["values"]}
    assert names == {"Default Screen", "Workflow Screen", "Resolve Issue Screen"}
    assert [s["name"] for s in ok(site, "GET", "/rest/api/3/screenscheme")["values"]] == ["Default Screen Scheme"]
    itss = ok(site, "GET", "/rest/api/3/issuetypescreenscheme")["values"]
    assert [s["name"] for s in itss] == ["Default Issue Type Screen Scheme"]
    fcs = ok(site, "GET", "/rest/api/3/fieldconfiguration")["values"]
    assert [(f["name"], f["isDefault"]) for f in fcs] == [("Default Field Configuration", True)]
    assert ok(site, "GET", "/rest/api/3/fieldconfigurationscheme")["values"] == []


def test_screen_create_unique_name_update_and_paging(site: Site) -> None:
    created = ok(site, "POST", S, {"name": "Bug Screen", "description": "d"})
    assert isinstance(created["id"], int)
    assert "screenName" in error(site, "POST", S, {"name": "bug screen"}, status=400)["errors"]
    error(site, "PUT", f"{S}/{created['id']}", {"name": "Default Screen"}, status=400)
    assert ok(site, "PUT", f"{S}/{created['id']}", {"name": "Bugs"})["name"] == "Bugs"
    assert ok(site, "GET", S, query={"queryString": "bug"})["total"] == 1
    page = ok(site, "GET", S, query={"maxResults": "1", "startAt": "1"})
    assert (len(page["values"]), page["isLast"]) == (1, False)
    assert ok(site, "GET", S, query={"maxResults": "1000"})["maxResults"] == 100
    assert [t["name"] for t in ok(site, "GET", f"{S}/{created['id']}/tabs")] == ["Field Tab"]


def test_tabs_and_fields(site: Site) -> None:
    sid = ok(site, "POST", S, {"name": "Work"})["id"]
    first = ok(site, "GET", f"{S}/{sid}/tabs")[0]["id"]
    second = ok(site, "POST", f"{S}/{sid}/tabs", {"name": "More"})["id"]
    error(site, "POST", f"{S}/{sid}/tabs", {"name": "more"}, status=400)
    ok(site, "POST", f"{S}/{sid}/tabs/{second}/move/0")
    assert [t["id"] for t in ok(site, "GET", f"{S}/{sid}/tabs")] == [second, first]
    error(site, "POST", f"{S}/{sid}/tabs/{second}/move/7", status=404)
    fields = f"{S}/{sid}/tabs/{first}/fields"
    for fid in ("summary", "description", "labels"):
        assert ok(site, "POST", fields, {"fieldId": fid})["id"] == fid
    error(site, "POST", f"{S}/{sid}/tabs/{second}/fields", {"fieldId": "summary"}, status=400)  # once a screen
    error(site, "POST", fields, {"fieldId": "customfield_424242"}, status=400)
    ok(site, "POST", f"{fields}/labels/move", {"position": "First"})
    ok(site, "POST", f"{fields}/summary/move", {"after": "description"})
    assert [f["id"] for f in ok(site, "GET", fields)] == ["labels", "description", "summary"]
    ok(site, "DELETE", f"{fields}/description")
    error(site, "DELETE", f"{fields}/description", status=404)
    ok(site, "PUT", f"{S}/{sid}/tabs/{first}", {"name": "Main"})
    ok(site, "DELETE", f"{S}/{sid}/tabs/{second}")
    error(site, "DELETE", f"{S}/{sid}/tabs/{first}", status=400)  # the last tab stays
    round_trip(site)


def test_screen_in_use_cannot_be_deleted(site: Site) -> None:
    sid = ok(site, "POST", S, {"name": "Used"})["id"]
    ok(site, "POST", "/rest/api/3/screenscheme", {"name": "SS", "screens": {"default": sid}})
    assert "screen scheme" in messages(error(site, "DELETE", f"{S}/{sid}", status=400))
    error(site, "DELETE", f"{S}/999", status=404)


def test_field_configurations_and_items(site: Site) -> None:
    fc = ok(site, "POST", "/rest/api/3/fieldconfiguration", {"name": "Strict", "description": ""})
    error(site, "POST", "/rest/api/3/fieldconfiguration", {"name": "strict"}, status=400)
    path = f"/rest/api/3/fieldconfiguration/{fc['id']}/fields"
    ok(site, "PUT", path, {"fieldConfigurationItems": [{"id": "labels", "isRequired": True, "description": "x"}]})
    items = {i["id"]: i for i in ok(site, "GET", path, query={"maxResults": "100"})["values"]}
    assert items["labels"]["isRequired"] is True and items["summary"]["isRequired"] is True
    error(site, "PUT", path, {"fieldConfigurationItems": [{"id": "nope"}]}, status=400)
    error(site, "PUT", path, {"fieldConfigurationItems": [{"id": "summary", "isHidden": True}]}, status=400)
    default = "/rest/api/3/fieldconfiguration/10000"
    error(site, "PUT", default, {"name": "x"}, status=400)
    error(site, "PUT", f"{default}/fields", {"fieldConfigurationItems": [{"id": "labels"}]}, status=400)
    error(site, "DELETE", default, status=400)
    ok(site, "PUT", f"/rest/api/3/fieldconfiguration/{fc['id']}", {"name": "Stricter"})
    round_trip(site)


def test_field_configuration_schemes_mappings_and_projects(site: Site) -> None:
    fc = ok(site, "POST", "/rest/api/3/fieldconfiguration", {"name": "Strict"})["id"]
    scheme = ok(site, "POST", "/rest/api/3/fieldconfigurationscheme", {"name": "FCS"})["id"]
    error(site, "POST", "/rest/api/3/fieldconfigurationscheme", {"name": "fcs"}, status=400)
    ok(site, "PUT", f"/rest/api/3/fieldconfigurationscheme/{scheme}/mapping",
       {"mappings": [{"issueTypeId": "10001", "fieldConfigurationId": str(fc)}]})
    error(site, "PUT", f"/rest/api/3/fieldconfigurationscheme/{scheme}/mapping",
          {"mappings": [{"issueTypeId": "999", "fieldConfigurationId": str(fc)}]}, status=404)
    error(site, "PUT", f"/rest/api/3/fieldconfigurationscheme/{scheme}/mapping",
          {"mappings": [{"issueTypeId": "10001", "fieldConfigurationId": "999"}]}, status=404)
    mappings = ok(site, "GET", "/rest/api/3/fieldconfigurationscheme/mapping",
                  query={"fieldConfigurationSchemeId": scheme})["values"]
    assert {(m["issueTypeId"], m["fieldConfigurationId"]) for m in mappings} == {("default", "10000"),
                                                                                  ("10001", str(fc))}
    error(site, "POST", f"/rest/api/3/fieldconfigurationscheme/{scheme}/mapping/delete",
          {"issueTypeIds": ["default"]}, status=400)
    ok(site, "PUT", "/rest/api/3/fieldconfigurationscheme/project", {"projectId": "10000",
                                                                    "fieldConfigurationSchemeId": scheme})
    groups = ok(site, "GET", "/rest/api/3/fieldconfigurationscheme/project",
                query={"projectId": ["10000", "10001"]})["values"]
    assert {"projectIds": ["10001"]} in groups  # the default scheme has no id: no fieldConfigurationScheme
    assert any(g.get("fieldConfigurationScheme", {}).get("id") == scheme for g in groups)
    error(site, "DELETE", f"/rest/api/3/fieldconfigurationscheme/{scheme}", status=400)
    error(site, "DELETE", f"/rest/api/3/fieldconfiguration/{fc}", status=400)
    round_trip(site)
    ok(site, "PUT", "/rest/api/3/fieldconfigurationscheme/project", {"projectId": "10000",
                                                                    "fieldConfigurationSchemeId": None})
    ok(site, "DELETE", f"/rest/api/3/fieldconfigurationscheme/{scheme}")


def test_screen_schemes(site: Site) -> None:
    sid = ok(site, "POST", S, {"name": "Edit"})["id"]
    status, made = api(site, "POST", "/rest/api/3/screenscheme",
                       {"name": "SS", "screens": {"default": 1, "edit": sid}})
    assert status == 201 and isinstance(made["id"], int)
    error(site, "POST", "/rest/api/3/screenscheme", {"name": "ss", "screens": {"default": 1}}, status=400)
    error(site, "POST", "/rest/api/3/screenscheme", {"name": "N", "screens": {"edit": 1}}, status=400)
    error(site, "POST", "/rest/api/3/screenscheme", {"name": "N", "screens": {"default": 999}}, status=404)
    ok(site, "PUT", f"/rest/api/3/screenscheme/{made['id']}", {"screens": {"edit": None, "view": str(sid)}})
    listed = ok(site, "GET", "/rest/api/3/screenscheme", query={"id": str(made["id"])})["values"][0]
    assert listed["screens"] == {"default": 1, "view": sid}
    error(site, "DELETE", "/rest/api/3/screenscheme/1", status=400)  # used by the default ITSS
    ok(site, "DELETE", f"/rest/api/3/screenscheme/{made['id']}")
    assert ok(site, "GET", "/rest/api/3/screenscheme", query={"maxResults": "500"})["maxResults"] == 100


def test_issue_type_screen_schemes(site: Site) -> None:
    ss = ok(site, "POST", "/rest/api/3/screenscheme", {"name": "SS", "screens": {"default": 1}})["id"]
    base = "/rest/api/3/issuetypescreenscheme"
    body = {"name": "ITSS", "issueTypeMappings": [{"issueTypeId": "default", "screenSchemeId": str(ss)},
                                                 {"issueTypeId": "10001", "screenSchemeId": "1"}]}
    status, made = api(site, "POST", base, body)
    assert status == 201 and isinstance(made["id"], str)
    error(site, "POST", base, {**body, "name": "itss"}, status=400)
    error(site, "POST", base, {"name": "N", "issueTypeMappings": [{"issueTypeId": "10001", "screenSchemeId": "1"}]},
          status=400)
    error(site, "POST", base, {"name": "N", "issueTypeMappings": [{"issueTypeId": "999", "screenSchemeId": "1"}]},
          status=404)
    ok(site, "PUT", f"{base}/{made['id']}/mapping", {"issueTypeMappings": [
        {"issueTypeId": "10003", "screenSchemeId": str(ss)}]})
    ok(site, "POST", f"{base}/{made['id']}/mapping/remove", {"issueTypeIds": ["10001"]})
    ok(site, "PUT", f"{base}/{made['id']}/mapping/default", {"screenSchemeId": "1"})
    mappings = ok(site, "GET", f"{base}/mapping", query={"issueTypeScreenSchemeId": made["id"]})["values"]
    assert {(m["issueTypeId"], m["screenSchemeId"]) for m in mappings} == {("default", "1"), ("10003", str(ss))}
    ok(site, "PUT", f"{base}/project", {"issueTypeScreenSchemeId": made["id"], "projectId": "10000"})
    groups = ok(site, "GET", f"{base}/project", query={"projectId": ["10000", "10001"]})["values"]
    assert {(g["issueTypeScreenScheme"]["id"], tuple(g["projectIds"])) for g in groups} == {
        (made["id"], ("10000",)), ("1", ("10001",))}
    error(site, "DELETE", f"{base}/{made['id']}", status=400)
    error(site, "DELETE", f"{base}/1", status=400)
    error(site, "DELETE", f"/rest/api/3/screenscheme/{ss}", status=400)
    round_trip(site)


@pytest.mark.parametrize("seed", [
    {"screenTabs": {"999": []}},
    {"screenTabFields": {"10000": [{"id": "customfield_424242", "name": "X"}]}},
    {"screenSchemes": [{"id": 5, "name": "X", "description": "", "screens": {"default": 999}}]},
    {"issueTypeScreenSchemeMappings": [{"issueTypeScreenSchemeId": "1", "issueTypeId": "999",
                                        "screenSchemeId": "1"}]},
    {"fieldConfigurationSchemeMappings": [{"fieldConfigurationSchemeId": "404", "issueTypeId": "default",
                                           "fieldConfigurationId": "10000"}]},
    {"projectIssueTypeScreenSchemes": [{"issueTypeScreenScheme": {"id": "1", "name": "x"},
                                        "projectIds": ["424242"]}]},
])
def test_seed_with_dangling_reference_fails(seed: dict[str, Any]) -> None:
    with pytest.raises(SeedRefError):
        seeding.load_seed(make_site(), seed)
