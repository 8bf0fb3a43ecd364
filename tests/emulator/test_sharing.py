"""Filters (owners, share permissions), dashboards (gadgets) and agile boards."""

from __future__ import annotations

from typing import Any

import pytest

from fakejira import seeding
from fakejira.resources._common import SeedRefError
from fakejira.resources.sharing import BOARD_NOT_FOUND, FILTER_NOT_FOUND
from fakejira.site import Site
from tests.emulator.helpers import api, error, make_site, messages, ok, round_trip

FL, D, B = "/rest/api/3/filter", "/rest/api/3/dashboard", "/rest/agile/1.0/board"


@pytest.fixture
def site() -> Site:
    return make_site()


def new_filter(site: Site, name: str = "Open", **kw: Any) -> dict[str, Any]:
    return ok(site, "POST", FL, {"name": name, "jql": "project = PRJ", **kw})


def test_filter_names_are_unique_per_owner(site: Site) -> None:
    made = new_filter(site, sharePermissions=[{"type": "group", "group": {"name": "jira-administrators"}},
                                              {"type": "project", "project": {"id": "10000"}}])
    assert made["owner"]["accountId"] and made["sharePermissions"][1]["project"]["key"] == "PRJ"
    answer = error(site, "POST", FL, {"name": "open"}, status=400)
    assert answer["errors"] == {"filterName": "Filter with same name already exists."}
    other = ok(site, "POST", FL, {"name": "Open"}, account_id="acc-1")  # another owner may
    assert other["owner"]["accountId"] == "acc-1"
    error(site, "PUT", f"{FL}/{other['id']}/owner", {"accountId": made["owner"]["accountId"]}, status=400,
          account_id="acc-1")
    error(site, "PUT", f"{FL}/{other['id']}/owner", {"accountId": "ghost"}, status=404, account_id="acc-1")


@pytest.mark.parametrize("share", [
    {"type": "group", "group": {"name": "ghosts"}},
    {"type": "project", "project": {"id": "424242"}},
    {"type": "projectRole", "project": {"id": "10000"}, "role": {"id": 999}},
    {"type": "projectRole", "role": {"id": 10002}},
    {"type": "user", "user": {"accountId": "ghost"}},
])
def test_filter_share_permissions_check_references(site: Site, share: dict[str, Any]) -> None:
    error(site, "POST", FL, {"name": "X", "sharePermissions": [share]}, status=400)


def test_filter_get_update_search_delete(site: Site) -> None:
    made = new_filter(site, description="mine")
    assert messages(error(site, "GET", f"{FL}/424242", status=400)) == FILTER_NOT_FOUND
    updated = ok(site, "PUT", f"{FL}/{made['id']}", {"name": "Renamed", "jql": "order by key"})
    assert (updated["name"], updated["jql"]) == ("Renamed", "order by key")
    shares = ok(site, "POST", f"{FL}/{made['id']}/permission", {"type": "group", "groupname": "jira-administrators"})
    assert [s["type"] for s in shares] == ["group"]
    assert ok(site, "GET", f"{FL}/{made['id']}/permission/{shares[0]['id']}")["group"]["groupId"] == "g-1"
    page = ok(site, "GET", f"{FL}/search", query={"expand": "description,jql,owner,sharePermissions"})
    assert page["values"][0]["description"] == "mine" and page["values"][0]["sharePermissions"]
    assert ok(site, "GET", f"{FL}/search", query={"filterName": "nomatch"})["total"] == 0
    error(site, "GET", f"{FL}/search", query={"expand": "bogus"}, status=400)
    ok(site, "DELETE", f"{FL}/{made['id']}/permission/{shares[0]['id']}")
    ok(site, "DELETE", f"{FL}/{made['id']}")
    error(site, "DELETE", f"{FL}/{made['id']}", status=400)


def test_system_dashboard_is_there_and_protected(site: Site) -> None:
    found = ok(site, "GET", f"{D}/search")["values"]
    assert [(d["id"], d["systemDashboard"]) for d in found] == [("10000", True)]
    error(site, "DELETE", f"{D}/10000", status=400)
    error(site, "PUT", f"{D}/10000", {"name": "x", "sharePermissions": [], "editPermissions": []}, status=400)
    assert ok(site, "GET", f"{D}/10000/gadget")["gadgets"]
    assert ok(site, "GET", D)["dashboards"][0]["id"] == "10000"


def test_dashboards_and_gadgets(site: Site) -> None:
    made = ok(site, "POST", D, {"name": "Ops", "sharePermissions": [{"type": "global"}], "editPermissions": []})
    error(site, "POST", D, {"name": "ops", "sharePermissions": [], "editPermissions": []}, status=400)
    error(site, "POST", D, {"name": "No shares"}, status=400)
    path = f"{D}/{made['id']}/gadget"
    gadget = ok(site, "POST", path, {"moduleKey": "com.x:filter-results", "title": "Open", "color": "red",
                                     "position": {"row": 0, "column": 1}})
    error(site, "POST", path, {"uri": "rest/gadgets/1.0/g/x.xml", "position": {"row": 0, "column": 1}}, status=400)
    error(site, "POST", path, {"title": "neither"}, status=400)
    error(site, "POST", path, {"moduleKey": "m", "color": "pink"}, status=400)
    ok(site, "PUT", f"{path}/{gadget['id']}", {"title": "Renamed", "position": {"row": 2, "column": 0}})
    assert ok(site, "GET", path)["gadgets"][0]["title"] == "Renamed"
    round_trip(site)
    ok(site, "DELETE", f"{path}/{gadget['id']}")
    error(site, "DELETE", f"{path}/{gadget['id']}", status=404)
    ok(site, "DELETE", f"{D}/{made['id']}")
    error(site, "GET", f"{D}/{made['id']}", status=404)


def test_boards_need_a_filter_and_page_the_agile_way(site: Site) -> None:
    flt = new_filter(site)
    status, board = api(site, "POST", B, {"name": "Team", "type": "scrum", "filterId": int(flt["id"]),
                                          "location": {"type": "project", "projectKeyOrId": "PRJ"}})
    assert status == 201 and board["location"]["projectKey"] == "PRJ"
    ok(site, "POST", B, {"name": "Flow", "type": "kanban", "filterId": int(flt["id"])})
    error(site, "POST", B, {"name": "X", "type": "scrum", "filterId": 424242}, status=400)
    error(site, "POST", B, {"name": "X", "type": "agility", "filterId": int(flt["id"])}, status=400)
    page = ok(site, "GET", B, query={"maxResults": "1"})
    assert set(page) == {"maxResults", "startAt", "total", "isLast", "values"}
    assert (page["total"], page["isLast"], len(page["values"])) == (2, False, 1)
    assert ok(site, "GET", B, query={"type": "kanban"})["values"][0]["name"] == "Flow"
    assert ok(site, "GET", B, query={"projectKeyOrId": "PRJ"})["total"] == 1
    config = ok(site, "GET", f"{B}/{board['id']}/configuration")
    assert config["filter"]["id"] == flt["id"] and [c["name"] for c in config["columnConfig"]["columns"]] == [
        "To Do", "In Progress", "Done"]
    assert config["columnConfig"]["columns"][0]["statuses"][0]["id"] == "1"
    error(site, "DELETE", f"{FL}/{flt['id']}", status=400)  # used by boards
    round_trip(site)
    ok(site, "DELETE", f"{B}/{board['id']}")
    assert messages(error(site, "GET", f"{B}/{board['id']}", status=404)) == BOARD_NOT_FOUND


@pytest.mark.parametrize("seed", [
    {"filters": [{"id": "1", "name": "X", "jql": "", "owner": {"accountId": "ghost"}}]},
    {"filters": [{"id": "1", "name": "X", "jql": "", "sharePermissions": [{"type": "group",
                                                                            "group": {"name": "ghosts"}}]}]},
    {"dashboardGadgets": {"424242": []}},
    {"boardConfigurations": {"424242": {"filter": {"id": "1"}}}},
    {"boards": [{"id": 1, "name": "B", "type": "scrum", "location": {"projectId": 424242}}]},
])
def test_seed_with_dangling_reference_fails(seed: dict[str, Any]) -> None:
    with pytest.raises(SeedRefError):
        seeding.load_seed(make_site(), seed)
