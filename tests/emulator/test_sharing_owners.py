"""Does the emulator refuse what Jira refuses around owners of filters and dashboards, bulk-edit dashboards the spec's
way, keep gadget configuration in dashboard item properties, and answer ``loggedin`` for ``authenticated``?"""

from __future__ import annotations

from typing import Any

import pytest

from fakejira import dispatch, seeding
from fakejira.resources._common import SeedRefError
from fakejira.resources.sharing import CONFIG_NOT_FLAT
from fakejira.site import Site
from tests.emulator.helpers import error, export_part_b, make_site, messages, ok, round_trip

FL, D = "/rest/api/3/filter", "/rest/api/3/dashboard"
BULK = f"{D}/bulk/edit"
ANN, BEN, ADMIN = "acc-1", "acc-ben", "acc-admin"
SPEC_URI = "rest/gadgets/1.0/g/com.atlassian.jira.gadgets:filter-results-gadget/gadgets/filter-results-gadget.xml"


@pytest.fixture
def site() -> Site:
    made = make_site()
    for account, name in ((BEN, "Ben"), (ADMIN, "Admin")):
        made.store.put("users", account, {"accountId": account, "displayName": name, "active": True})
    made.admins.add(ADMIN)
    return made


def _dashboard(site: Site, name: str = "Team", account: str | None = ANN, **kw: Any) -> dict[str, Any]:
    return ok(site, "POST", D, {"name": name, "sharePermissions": [], "editPermissions": [], **kw},
              account_id=account)


def _stored(site: Site, collection: str, record_id: Any) -> dict[str, Any]:
    return dict(site.store.get(collection, str(record_id)))


# -- filters -------------------------------------------------------------------------------------------------


def test_only_its_owner_may_update_a_filter_not_even_an_administrator(site: Site) -> None:
    made = ok(site, "POST", FL, {"name": "Mine", "jql": "project = PRJ"}, account_id=ANN)
    before = _stored(site, "filters", made["id"])
    for caller in (BEN, ADMIN):
        error(site, "PUT", f"{FL}/{made['id']}", {"name": "Taken over", "jql": "order by key"}, status=400,
              account_id=caller)
    assert _stored(site, "filters", made["id"]) == before
    assert ok(site, "PUT", f"{FL}/{made['id']}", {"name": "Renamed"}, account_id=ANN)["name"] == "Renamed"


def test_only_the_owner_or_an_administrator_may_change_a_filters_owner(site: Site) -> None:
    made = ok(site, "POST", FL, {"name": "Mine"}, account_id=ANN)
    answer = error(site, "PUT", f"{FL}/{made['id']}/owner", {"accountId": BEN}, status=403, account_id=BEN)
    assert "owner" in messages(answer)
    assert _stored(site, "filters", made["id"])["_owner"] == ANN
    ok(site, "PUT", f"{FL}/{made['id']}/owner", {"accountId": BEN}, account_id=ADMIN)
    assert _stored(site, "filters", made["id"])["_owner"] == BEN
    ok(site, "PUT", f"{FL}/{made['id']}/owner", {"accountId": ANN}, account_id=BEN)  # the owner may
    assert _stored(site, "filters", made["id"])["_owner"] == ANN


def test_my_filters_are_the_callers_own(site: Site) -> None:
    ok(site, "POST", FL, {"name": "Ann's"}, account_id=ANN)
    ok(site, "POST", FL, {"name": "Ben's"}, account_id=BEN)
    assert [f["name"] for f in ok(site, "GET", f"{FL}/my", account_id=BEN)] == ["Ben's"]
    assert [f["name"] for f in ok(site, "GET", f"{FL}/my")] == []  # the app owns none


@pytest.mark.parametrize("path", [FL, D])
def test_authenticated_is_stored_and_answered_as_loggedin(site: Site, path: str) -> None:
    body: dict[str, Any] = {"name": "Everyone", "sharePermissions": [{"type": "authenticated"}], "editPermissions": []}
    made = ok(site, "POST", path, body, account_id=ANN)
    assert [s["type"] for s in made["sharePermissions"]] == ["loggedin"]
    collection = "filters" if path == FL else "dashboards"
    assert [s["type"] for s in _stored(site, collection, made["id"])["sharePermissions"]] == ["loggedin"]


# -- dashboards ----------------------------------------------------------------------------------------------


def test_only_the_owner_may_update_a_dashboard_unless_an_administrator_extends_admin_permissions(site: Site) -> None:
    made = _dashboard(site)
    body = {"name": "Renamed", "sharePermissions": [], "editPermissions": []}
    error(site, "PUT", f"{D}/{made['id']}", body, status=404, account_id=BEN)
    error(site, "PUT", f"{D}/{made['id']}", body, status=404, account_id=ADMIN)  # without the flag
    error(site, "PUT", f"{D}/{made['id']}", body, status=404, account_id=BEN,
          query={"extendAdminPermissions": "true"})  # the flag needs Administer Jira
    assert _stored(site, "dashboards", made["id"])["name"] == "Team"
    renamed = ok(site, "PUT", f"{D}/{made['id']}", body, account_id=ADMIN, query={"extendAdminPermissions": "true"})
    assert renamed["name"] == "Renamed" and renamed["owner"]["accountId"] == ANN


def test_bulk_change_owner_gives_dashboards_to_their_owner(site: Site) -> None:
    first, second = _dashboard(site, "Team", None), _dashboard(site, "Ops", None)  # made by the app
    answer = ok(site, "PUT", BULK, {"action": "changeOwner", "entityIds": [int(first["id"]), int(second["id"])],
                                    "changeOwnerDetails": {"newOwner": ANN, "autofixName": False}})
    assert answer == {"action": "changeOwner"}
    assert {_stored(site, "dashboards", d["id"])["_owner"] for d in (first, second)} == {ANN}


def test_bulk_change_owner_refuses_per_dashboard_what_the_caller_may_not_do(site: Site) -> None:
    ben_s = _dashboard(site, "Ben's", BEN)
    mine = _dashboard(site, "Team", None)
    ann_team = _dashboard(site, "team", ANN)
    body = {"action": "changeOwner", "entityIds": [int(ben_s["id"]), 424242, 10000, int(mine["id"])],
            "changeOwnerDetails": {"newOwner": ANN, "autofixName": False}}
    answer = ok(site, "PUT", BULK, body)
    errors = answer["entityErrors"]
    assert set(errors) == {ben_s["id"], "424242", "10000", mine["id"]}, errors
    assert all(set(e) == {"errorMessages", "errors"} and e["errorMessages"] for e in errors.values())
    assert "already has a dashboard" in errors[mine["id"]]["errorMessages"][0]  # Ann owns a "team" already
    assert _stored(site, "dashboards", ben_s["id"])["_owner"] == BEN
    assert _stored(site, "dashboards", mine["id"])["_owner"] != ANN
    # an administrator may, with extendAdminPermissions; autofixName renames a duplicate instead of refusing
    fixed = ok(site, "PUT", BULK, dict(body, entityIds=[int(ben_s["id"]), int(mine["id"])], extendAdminPermissions=True,
                                       changeOwnerDetails={"newOwner": ANN, "autofixName": True}), account_id=ADMIN)
    assert "entityErrors" not in fixed
    names = sorted(_stored(site, "dashboards", d["id"])["name"] for d in (ben_s, mine, ann_team))
    assert names == ["Ben's", "Team (1)", "team"]


@pytest.mark.parametrize("body", [
    {"action": "changeOwner", "entityIds": list(range(1, 102)), "changeOwnerDetails": {"newOwner": ANN,
                                                                                        "autofixName": False}},
    {"action": "changeOwner", "entityIds": []},
    {"action": "changeOwner", "entityIds": [1]},
    {"action": "changeOwner", "entityIds": [1], "changeOwnerDetails": {"newOwner": "ghost", "autofixName": False}},
    {"action": "rename", "entityIds": [1]},
    {"action": "changePermission", "entityIds": [1]},
    {"action": "changePermission", "entityIds": [1], "permissionDetails": {
        "sharePermissions": [{"type": "group", "group": {"name": "ghosts"}}], "editPermissions": []}},
])
def test_bulk_edit_refuses_a_bad_request_whole_and_changes_nothing(site: Site, body: dict[str, Any]) -> None:
    made = _dashboard(site, "Team", None)
    body = dict(body, entityIds=[int(made["id"]) if i == 1 else i for i in body["entityIds"]])
    before = _stored(site, "dashboards", made["id"])
    error(site, "PUT", BULK, body, status=400)
    assert _stored(site, "dashboards", made["id"]) == before


def test_bulk_edit_permissions_are_open_to_editors(site: Site) -> None:
    made = _dashboard(site, "Team", ANN, editPermissions=[{"type": "user", "user": {"accountId": BEN}}])
    body = {"action": "addPermission", "entityIds": [int(made["id"])],
            "permissionDetails": {"sharePermissions": [{"type": "authenticated"}], "editPermissions": []}}
    assert "entityErrors" not in ok(site, "PUT", BULK, body, account_id=BEN)
    assert [s["type"] for s in _stored(site, "dashboards", made["id"])["sharePermissions"]] == ["loggedin"]
    refused = ok(site, "PUT", BULK, dict(body, action="removePermission"), account_id=ADMIN)  # no flag, no edit right
    assert list(refused["entityErrors"]) == [made["id"]]


# -- dashboard item properties -------------------------------------------------------------------------------


def _gadget(site: Site, dashboard: dict[str, Any], account: str | None = ANN, **body: Any) -> str:
    body = body or {"moduleKey": "com.atlassian.jira.gadgets:filter-results-gadget"}
    made = ok(site, "POST", f"{D}/{dashboard['id']}/gadget", body, account_id=account)
    return f"{D}/{dashboard['id']}/items/{made['id']}/properties"


def test_item_properties_list_get_put_and_delete(site: Site) -> None:
    path = _gadget(site, _dashboard(site))
    assert ok(site, "GET", path, account_id=ANN) == {"keys": []}
    status, _answer, _ = dispatch.call(site, "PUT", f"{path}/config", body={"filterId": "filter-10001"},
                                       account_id=ANN)
    assert status == 201
    status, _answer, _ = dispatch.call(site, "PUT", f"{path}/config", body={"filterId": "filter-10002", "num": 5},
                                       account_id=ANN)
    assert status == 200  # replaced; a module-key gadget may hold any JSON
    assert [k["key"] for k in ok(site, "GET", path)["keys"]] == ["config"]
    assert ok(site, "GET", f"{path}/config") == {"key": "config", "value": {"filterId": "filter-10002", "num": 5}}
    round_trip(site)
    ok(site, "DELETE", f"{path}/config", account_id=ANN)
    error(site, "GET", f"{path}/config", status=404)
    error(site, "DELETE", f"{path}/config", status=404, account_id=ANN)
    error(site, "GET", f"{D}/10000/items/{path.split('/')[-2]}/properties", status=404)  # item of another dashboard


def test_item_properties_are_written_only_by_those_who_may_edit_the_dashboard(site: Site) -> None:
    path = _gadget(site, _dashboard(site))
    error(site, "PUT", f"{path}/config", {"filterId": "1"}, status=403, account_id=BEN)
    ok(site, "PUT", f"{path}/config", {"filterId": "1"}, account_id=ANN)
    error(site, "DELETE", f"{path}/config", status=403, account_id=BEN)
    assert ok(site, "GET", f"{path}/config")["value"] == {"filterId": "1"}


@pytest.mark.parametrize("value", [{"filterId": 10001}, {"nested": {"a": "b"}}, ["filter-1"], "filter-1"])
def test_config_of_a_spec_uri_gadget_must_be_an_object_of_strings(site: Site, value: Any) -> None:
    path = _gadget(site, _dashboard(site), uri=SPEC_URI)
    answer = error(site, "PUT", f"{path}/config", value, status=400, account_id=ANN)
    assert messages(answer) == CONFIG_NOT_FLAT
    assert ok(site, "GET", path) == {"keys": []}
    ok(site, "PUT", f"{path}/other", value, account_id=ANN)  # only "config" is held to strings
    ok(site, "PUT", f"{path}/config", {"filterId": "filter-10001", "num": "10"}, account_id=ANN)


def test_a_seeded_gadget_configuration_is_checked_and_exported() -> None:
    made = make_site()
    seeding.load_seed(made, {"dashboards": [{"id": "10100", "name": "Team", "sharePermissions": [],
                                             "editPermissions": [], "owner": {"accountId": ANN}}],
                             "dashboardGadgets": {"10100": [{"id": 10200, "uri": SPEC_URI, "color": "blue",
                                                             "position": {"row": 0, "column": 0}, "title": "Open",
                                                             "properties": {"config": {"filterId": "filter-1"}}}]}})
    exported = export_part_b(made)["dashboardGadgets"]["10100"]
    assert exported[0]["properties"] == {"config": {"filterId": "filter-1"}}
    assert "properties" not in ok(made, "GET", f"{D}/10100/gadget")["gadgets"][0]
    bad = {"dashboardGadgets": {"10100": [dict(exported[0], properties={"config": {"filterId": 1}})]}}
    with pytest.raises(SeedRefError):
        seeding.load_seed(made, bad)
