"""Fields emulation: system/custom fields, contexts, mappings, default values and options (via dispatch.call)."""

from __future__ import annotations

from typing import Any

import pytest

from fakejira import seeding
from fakejira.resources._common import SeedRefError
from fakejira.site import Site
from tests.emulator.helpers import api, error, export_part_b, make_site, messages, ok, round_trip

SELECT = "com.atlassian.jira.plugin.system.customfieldtypes:select"
CASCADE = "com.atlassian.jira.plugin.system.customfieldtypes:cascadingselect"
TEXT = "com.atlassian.jira.plugin.system.customfieldtypes:textfield"
F = "/rest/api/3/field"


@pytest.fixture
def site() -> Site:
    return make_site()


def new_field(site: Site, name: str = "Severity", type_: str = SELECT, **extra: Any) -> str:
    return ok(site, "POST", F, {"name": name, "type": type_, **extra})["id"]


def global_context(site: Site, field_id: str) -> str:
    return ok(site, "GET", f"{F}/{field_id}/context")["values"][0]["id"]


def test_new_site_has_system_and_locked_builtin_fields(site: Site) -> None:
    fields = {f["id"]: f for f in ok(site, "GET", F)}
    for system in ("summary", "description", "status", "priority", "resolution", "assignee", "labels"):
        assert fields[system]["custom"] is False
    names = {f["name"]: f for f in fields.values() if f["custom"]}
    assert {"Sprint", "Story point estimate", "Rank"} <= set(names)
    found = ok(site, "GET", f"{F}/search", query={"type": "custom", "expand": "isLocked,key"})
    assert all(v["isLocked"] for v in found["values"])


def test_create_custom_field_assigns_id_and_a_global_context(site: Site) -> None:
    first = new_field(site)
    second = new_field(site)  # names are not unique in Jira
    assert first.startswith("customfield_") and first != second
    contexts = ok(site, "GET", f"{F}/{first}/context")["values"]
    assert [(c["isGlobalContext"], c["isAnyIssueType"]) for c in contexts] == [(True, True)]
    assert contexts[0]["name"] == "Default Configuration Scheme for Severity"


@pytest.mark.parametrize("body, key", [
    ({"type": SELECT}, "name"),
    ({"name": "X"}, "type"),
    ({"name": "X", "type": "com.pyxis.greenhopper.jira:gh-sprint"}, "type"),
    ({"name": "X", "type": TEXT, "searcherKey": "com.atlassian.jira.plugin.system.customfieldtypes:daterange"},
     "searcherKey"),
])
def test_create_custom_field_rejects_bad_bodies(site: Site, body: dict[str, Any], key: str) -> None:
    assert key in error(site, "POST", F, body, status=400)["errors"]


def test_field_search_filters_and_pages(site: Site) -> None:
    for n in range(3):
        new_field(site, f"Alpha {n}", TEXT)
    page = ok(site, "GET", f"{F}/search", query={"type": "custom", "query": "alpha", "maxResults": "2"})
    assert (page["total"], len(page["values"]), page["isLast"]) == (3, 2, False)
    past = ok(site, "GET", f"{F}/search", query={"startAt": "500"})
    assert past["values"] == [] and past["isLast"] is True
    zero = ok(site, "GET", f"{F}/search", query={"maxResults": "0"})
    assert zero["values"] == [] and zero["maxResults"] == 0
    capped = ok(site, "GET", f"{F}/search", query={"maxResults": "5000"})
    assert capped["maxResults"] == 50
    system = ok(site, "GET", f"{F}/search", query={"type": "system", "id": "summary,labels"})
    assert [v["id"] for v in system["values"]] == ["summary", "labels"]
    error(site, "GET", f"{F}/search", query={"expand": "bogus"}, status=400)


def test_update_and_delete_custom_field(site: Site) -> None:
    fid = new_field(site)
    assert ok(site, "PUT", f"{F}/{fid}", {"name": "Renamed", "description": "d"}) is None
    assert {f["id"]: f["name"] for f in ok(site, "GET", F)}[fid] == "Renamed"
    status, _ = api(site, "DELETE", f"{F}/{fid}")
    assert status == 303
    assert fid not in {f["id"] for f in ok(site, "GET", F)}
    assert not [c for c in site.store.values("fieldContexts") if c["_fieldId"] == fid]


@pytest.mark.parametrize("method, field_id, status", [
    ("PUT", "summary", 404), ("PUT", "customfield_10020", 400), ("PUT", "customfield_99999", 404),
    ("DELETE", "summary", 400), ("DELETE", "customfield_10019", 400), ("DELETE", "customfield_99999", 404),
])
def test_system_and_locked_fields_are_read_only(site: Site, method: str, field_id: str, status: int) -> None:
    error(site, method, f"{F}/{field_id}", {"name": "x"} if method == "PUT" else None, status=status)


def test_context_create_with_mappings_and_reference_checks(site: Site) -> None:
    fid = new_field(site)
    created = ok(site, "POST", f"{F}/{fid}/context",
                 {"name": "PRJ only", "projectIds": ["10000"], "issueTypeIds": ["10001"]})
    assert created["projectIds"] == ["10000"] and created["id"]
    types = ok(site, "GET", f"{F}/{fid}/context/issuetypemapping")["values"]
    assert {"contextId": created["id"], "issueTypeId": "10001"} in types
    projects = ok(site, "GET", f"{F}/{fid}/context/projectmapping")["values"]
    assert {"contextId": created["id"], "projectId": "10000"} in projects
    error(site, "POST", f"{F}/{fid}/context", {"name": "x", "projectIds": ["424242"]}, status=404)
    error(site, "POST", f"{F}/{fid}/context", {"name": "x", "issueTypeIds": ["424242"]}, status=404)
    error(site, "POST", f"{F}/{fid}/context", {"name": "again global"}, status=400)
    error(site, "POST", f"{F}/{fid}/context", {"name": "dup", "projectIds": ["10000"]}, status=400)


def test_context_update_members_and_delete(site: Site) -> None:
    fid = new_field(site)
    cid = ok(site, "POST", f"{F}/{fid}/context", {"name": "C", "projectIds": ["10000"]})["id"]
    assert ok(site, "PUT", f"{F}/{fid}/context/{cid}", {"name": "C2"}) is None
    ok(site, "PUT", f"{F}/{fid}/context/{cid}/project", {"projectIds": ["10001"]})
    ok(site, "PUT", f"{F}/{fid}/context/{cid}/issuetype", {"issueTypeIds": ["10001", "10003"]})
    ok(site, "POST", f"{F}/{fid}/context/{cid}/issuetype/remove", {"issueTypeIds": ["10003"]})
    ok(site, "POST", f"{F}/{fid}/context/{cid}/project/remove", {"projectIds": ["10000"]})
    view = ok(site, "GET", f"{F}/{fid}/context", query={"contextId": cid})["values"][0]
    assert (view["name"], view["isGlobalContext"], view["isAnyIssueType"]) == ("C2", False, False)
    error(site, "PUT", f"{F}/{fid}/context/{cid}/issuetype", {"issueTypeIds": ["999"]}, status=404)
    error(site, "POST", f"{F}/{fid}/context/{cid}/project/remove", {"projectIds": ["10001"]}, status=400)
    ok(site, "DELETE", f"{F}/{fid}/context/{cid}")
    error(site, "DELETE", f"{F}/{fid}/context/{cid}", status=404)


def test_options_unique_per_context_cascading_and_limits(site: Site) -> None:
    fid = new_field(site, "Region", CASCADE)
    cid = global_context(site, fid)
    path = f"{F}/{fid}/context/{cid}/option"
    made = ok(site, "POST", path, {"options": [{"value": "EU"}, {"value": "US"}]})["options"]
    eu = made[0]["id"]
    ok(site, "POST", path, {"options": [{"value": "Paris", "optionId": eu}, {"value": "US", "optionId": eu}]})
    assert "not unique" in messages(error(site, "POST", path, {"options": [{"value": "eu"}]}, status=400))
    error(site, "POST", path, {"options": [{"value": f"v{n}"} for n in range(1001)]}, status=400)
    error(site, "POST", path, {"options": [{"value": "x", "optionId": "999999"}]}, status=404)
    listed = ok(site, "GET", path)["values"]
    assert [o["value"] for o in listed] == ["EU", "US", "Paris", "US"]
    only = ok(site, "GET", path, query={"onlyOptions": "true"})["values"]
    assert [o["value"] for o in only] == ["EU", "US"]


def test_options_need_an_option_field(site: Site) -> None:
    fid = new_field(site, "Plain", TEXT)
    cid = global_context(site, fid)
    error(site, "POST", f"{F}/{fid}/context/{cid}/option", {"options": [{"value": "a"}]}, status=400)
    error(site, "GET", f"{F}/{fid}/context/999/option", status=404)


def test_options_update_delete_and_move(site: Site) -> None:
    fid = new_field(site)
    cid = global_context(site, fid)
    path = f"{F}/{fid}/context/{cid}/option"
    a, b, c = (o["id"] for o in ok(site, "POST", path, {"options": [{"value": v} for v in "abc"]})["options"])
    ok(site, "PUT", path, {"options": [{"id": a, "value": "A", "disabled": True}]})
    error(site, "PUT", path, {"options": [{"id": b, "value": "c"}]}, status=400)
    ok(site, "PUT", f"{path}/move", {"customFieldOptionIds": [c], "position": "First"})
    ok(site, "PUT", f"{path}/move", {"customFieldOptionIds": [a], "after": b})
    assert [o["id"] for o in ok(site, "GET", path)["values"]] == [c, b, a]
    error(site, "PUT", f"{path}/move", {"customFieldOptionIds": ["404404"], "position": "Last"}, status=404)
    ok(site, "DELETE", f"{path}/{b}")
    error(site, "DELETE", f"{path}/{b}", status=404)
    assert [o["value"] for o in ok(site, "GET", path)["values"]] == ["c", "A"]


def test_default_values_checked_against_options(site: Site) -> None:
    fid = new_field(site)
    cid = global_context(site, fid)
    option = ok(site, "POST", f"{F}/{fid}/context/{cid}/option", {"options": [{"value": "x"}]})["options"][0]
    path = f"{F}/{fid}/context/defaultValue"
    ok(site, "PUT", path, {"defaultValues": [{"type": "option.single", "contextId": cid, "optionId": option["id"]}]})
    assert ok(site, "GET", path)["values"] == [{"type": "option.single", "contextId": cid, "optionId": option["id"]}]
    error(site, "PUT", path, {"defaultValues": [{"type": "option.single", "contextId": cid, "optionId": "1"}]},
          status=404)
    error(site, "PUT", path, {"defaultValues": [{"type": "option.single", "contextId": "1", "optionId": "1"}]},
          status=404)


def _rich_fields(site: Site) -> None:
    fid = new_field(site, "Region", CASCADE)
    cid = global_context(site, fid)
    path = f"{F}/{fid}/context/{cid}/option"
    eu = ok(site, "POST", path, {"options": [{"value": "EU"}, {"value": "US", "disabled": True}]})["options"][0]
    ok(site, "POST", path, {"options": [{"value": "Paris", "optionId": eu["id"]}]})
    ok(site, "PUT", f"{F}/{fid}/context/defaultValue", {"defaultValues": [
        {"type": "option.cascading", "contextId": cid, "optionId": eu["id"]}]})
    other = new_field(site, "Notes", TEXT, description="free text")
    ok(site, "POST", f"{F}/{other}/context", {"name": "Scoped", "projectIds": ["10001"], "issueTypeIds": ["10001"]})


def test_seed_export_round_trip(site: Site) -> None:
    _rich_fields(site)
    round_trip(site)


def test_seeded_ids_keep_later_ids_unique(site: Site) -> None:
    _rich_fields(site)
    exported = export_part_b(site)
    copy = make_site("copy")
    seeding.load_seed(copy, exported)
    new_id = new_field(copy, "Fresh")
    assert new_id not in {f["id"] for f in exported["fields"]}


@pytest.mark.parametrize("seed", [
    {"fieldContexts": {"customfield_424242": []}},
    {"fieldContextProjectMappings": {"customfield_10020": [{"contextId": "1", "projectId": "10000"}]}},
    {"fieldOptions": {"424242": [{"id": "1", "value": "x", "disabled": False}]}},
])
def test_seed_with_dangling_reference_fails(seed: dict[str, Any]) -> None:
    with pytest.raises(SeedRefError):
        seeding.load_seed(make_site(), seed)


def test_seed_context_naming_unknown_project_fails(site: Site) -> None:
    fid = new_field(site)
    cid = global_context(site, fid)
    with pytest.raises(SeedRefError):
        seeding.load_seed(site, {"fieldContextProjectMappings": {fid: [{"contextId": cid, "projectId": "9"}]}})
