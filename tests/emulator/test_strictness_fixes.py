"""Emulator follow-ups: spec errata for Jira's correct answers, seeds never aliased, refused updates change nothing,
404s for unknown fields, task replies, project-scoped status seeds, and names trimmed the same way everywhere."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fakejira import seeding, spec
from fakejira.resources._common import SeedRefError
from fakejira.site import Site
from tests.emulator.helpers import call

DEMO = json.loads((Path(__file__).parents[2] / "fakejira" / "seeds" / "demo.json").read_text())
GADGETS = "/rest/api/3/dashboard/{dashboardId}/gadget"
DEFAULTS = "/rest/api/3/field/{fieldId}/context/defaultValue"


@pytest.fixture(scope="module")
def demo() -> Site:
    """The demo site, read only by the tests using it."""
    return seeding.new_site("demo", "http://127.0.0.1:9", copy.deepcopy(DEMO))


# -- (a) errata: gadget positions and default values ----------------------------------------------------------
def test_gadget_lists_of_the_demo_site_meet_the_corrected_spec(demo: Site) -> None:
    """Does every dashboard's gadget list, with {row, column} positions, pass the response check?"""
    for dashboard_id, gadgets in DEMO["dashboardGadgets"].items():
        code, body = call(demo, "GET", f"/dashboard/{dashboard_id}/gadget")  # call() asserts the spec check
        assert code == 200 and body["gadgets"] == gadgets


@pytest.mark.parametrize(("position", "complaint"), [
    ({"row": 0}, "'column' is a required property"),
    ({"row": 0, "column": "1"}, "'1' is not of type 'integer'"),
    ({"row": 0, "column": 1, "x": 2}, "Additional properties are not allowed"),
    ({"The row position of the gadget.": 0, "The column position of the gadget.": 0}, "required property"),
])
def test_gadget_position_is_still_checked(position: dict[str, Any], complaint: str) -> None:
    """Is the erratum strict: a wrong position is still refused, in answers and in requests?"""
    gadget = {"id": 1, "color": "blue", "title": "t", "position": position}
    assert any(complaint in p for p in spec.validate_response("GET", GADGETS, 200, {"gadgets": [gadget]}))
    assert any(complaint in p for p in spec.validate_request("POST", GADGETS, body={"moduleKey": "m",
                                                                                     "position": position}))


def test_default_values_of_the_demo_site_meet_the_corrected_spec(demo: Site) -> None:
    for field_id, values in DEMO["fieldContextDefaults"].items():
        code, body = call(demo, "GET", f"/field/{field_id}/context/defaultValue")
        assert code == 200 and body["values"] == values


@pytest.mark.parametrize("value", [
    {"type": "option.single", "contextId": "1"},  # optionId missing
    {"type": "option.cascading", "contextId": "1", "optionId": 2},  # optionId not a string
    {"type": "no.such.type", "contextId": "1"},
    {"contextId": "1", "optionId": "2"},  # no discriminator
])
def test_a_wrong_default_value_is_still_refused(value: dict[str, Any]) -> None:
    page = {"isLast": True, "maxResults": 50, "startAt": 0, "total": 1, "values": [value]}
    assert spec.validate_response("GET", DEFAULTS, 200, page)
    assert spec.validate_request("PUT", DEFAULTS, body={"defaultValues": [value]})


@pytest.mark.parametrize("value", [
    {"type": "option.single", "contextId": "1", "optionId": "2"},
    {"type": "option.cascading", "contextId": "1", "optionId": "2", "cascadingOptionId": "3"},
    {"type": "option.multiple", "contextId": "1", "optionIds": ["2", "3"]},
    {"type": "textfield", "contextId": "1", "text": "hello"},
])
def test_each_kind_of_default_value_validates(value: dict[str, Any]) -> None:
    assert spec.validate_request("PUT", DEFAULTS, body={"defaultValues": [value]}) == []
    assert spec.validate_response("GET", DEFAULTS, 200, {"values": [value]}) == []


# -- (b) projectKeys --------------------------------------------------------------------------------------------
def test_project_keys_expansion_is_in_the_schema_and_nothing_else_is(demo: Site) -> None:
    """expand=projectKeys passes the check; an unknown project member still fails it."""
    code, page = call(demo, "GET", "/project/search", query={"expand": "projectKeys"})
    assert code == 200 and all(p["projectKeys"] == [p["key"]] for p in page["values"])
    bad = dict(page["values"][0], projectKeyz=["X"])
    assert spec.validate_response("GET", "/rest/api/3/project/search", 200, {"values": [bad]})


# -- (c) seeds are copied --------------------------------------------------------------------------------------
def test_a_put_never_edits_the_callers_seed() -> None:
    seed = copy.deepcopy(DEMO)
    before = copy.deepcopy(seed)
    site = seeding.new_site("s", "http://127.0.0.1:9", seed)
    code, _ = call(site, "PUT", "/screenscheme/10001", body={"screens": {"edit": 10001, "view": None}})
    assert code == 204
    assert seed == before, "the seed document changed with the site"
    again = seeding.new_site("t", "http://127.0.0.1:9", seed)
    assert seeding.export_site(again)["screenSchemes"] == before["screenSchemes"]


# -- (d) a refused update changes nothing ----------------------------------------------------------------------
@pytest.mark.parametrize(("screens", "status"), [
    ({"default": 99999}, 404),
    ({"nonsense": 1}, 400),
    ({"default": None}, 400),
    ("not an object", 400),
])
def test_refused_screen_scheme_update_leaves_name_and_screens(screens: Any, status: int) -> None:
    site = seeding.new_site("s", "http://127.0.0.1:9", copy.deepcopy(DEMO))
    before = call(site, "GET", "/screenscheme", query={"id": "10001"})[1]["values"]
    code, _ = call(site, "PUT", "/screenscheme/10001", body={"name": "Renamed", "description": "d",
                                                              "screens": screens})
    assert code == status
    assert call(site, "GET", "/screenscheme", query={"id": "10001"})[1]["values"] == before


# -- (e) unknown field ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field_id", ["customfield_99999", "summary", "nonsense"])
def test_issue_type_mapping_of_an_unknown_field_is_404(site: Site, field_id: str) -> None:
    code, body = call(site, "GET", f"/field/{field_id}/context/issuetypemapping")
    assert (code, body["errorMessages"]) == (404, ["The custom field was not found."])


# -- (f) priority deletion answers with the common task ---------------------------------------------------------
def test_priority_delete_answers_a_finished_task(site: Site) -> None:
    pid = call(site, "POST", "/priority", body={"name": "Urgent", "statusColor": "#ff0000"})[1]["id"]
    code, task = call(site, "DELETE", f"/priority/{pid}")
    assert code == 303 and task["status"] == "COMPLETE" and task["progress"] == 100
    assert task["description"] == f"Delete priority {pid}" and task["finished"] >= task["submitted"] > 0
    assert task["self"].endswith(f"/rest/api/3/task/{task['id']}")
    assert pid not in {p["id"] for p in call(site, "GET", "/priority/search")[1]["values"]}


# -- (g) project-scoped statuses --------------------------------------------------------------------------------
def _scoped_status(project_id: str) -> dict[str, Any]:
    return {"id": "20000", "name": "Team review", "statusCategory": "IN_PROGRESS", "description": "",
            "scope": {"type": "PROJECT", "project": {"id": project_id}}}


def test_seed_status_scoped_to_an_unknown_project_is_refused() -> None:
    seed = copy.deepcopy(DEMO)
    seed["statuses"].append(_scoped_status("99999"))
    with pytest.raises(SeedRefError, match="unknown project '99999'"):
        seeding.new_site("s", "http://127.0.0.1:9", seed)


def test_seed_status_scoped_to_a_seeded_project_round_trips() -> None:
    seed = copy.deepcopy(DEMO)
    seed["statuses"].append(_scoped_status(DEMO["projects"][0]["id"]))
    site = seeding.new_site("s", "http://127.0.0.1:9", seed)
    assert seeding.export_site(site)["statuses"] == seed["statuses"]


# -- (h) names are trimmed everywhere; project roles refuse edge whitespace (as the spec says) -----------------------
@pytest.mark.parametrize(("path", "body"), [
    ("/projectCategory", {}),
    ("/priority", {"statusColor": "#ff0000"}),
    ("/resolution", {"description": ""}),
    ("/issuetypescheme", {"issueTypeIds": ["10001"]}),
    ("/screens", {}),
    ("/fieldconfiguration", {}),
    ("/fieldconfigurationscheme", {}),
    ("/screenscheme", {"screens": {"default": 1}}),
    ("/filter", {"jql": "ORDER BY created DESC"}),  # a site with no project WEB refuses "project = WEB"
    ("/field", {"type": "com.atlassian.jira.plugin.system.customfieldtypes:textfield"}),
])
def test_created_names_are_trimmed(site: Site, path: str, body: dict[str, Any]) -> None:
    code, created = call(site, "POST", path, body={"name": "  Padded name \t", **body})
    assert code in (200, 201), created
    assert created.get("name", "Padded name") == "Padded name"
    if path == "/issuetypescheme":
        stored = call(site, "GET", "/issuetypescheme", query={"id": created["issueTypeSchemeId"]})[1]["values"]
        assert stored[0]["name"] == "Padded name"


def test_screen_rename_is_trimmed_and_clashes_after_trimming(site: Site) -> None:
    first = call(site, "POST", "/screens", body={"name": "Alpha"})[1]
    second = call(site, "POST", "/screens", body={"name": "Beta"})[1]
    assert call(site, "PUT", f"/screens/{second['id']}", body={"name": " Gamma "})[1]["name"] == "Gamma"
    assert call(site, "PUT", f"/screens/{second['id']}", body={"name": " alpha "})[0] == 400
    assert call(site, "GET", "/screens", query={"id": str(second["id"])})[1]["values"][0]["name"] == "Gamma"
    assert first["name"] == "Alpha"


@pytest.mark.parametrize("name", [" Padded", "Padded ", "\tPadded"])
def test_project_role_name_with_edge_whitespace_is_refused(site: Site, name: str) -> None:
    code, body = call(site, "POST", "/role", body={"name": name})
    assert code == 400 and body["errorMessages"] == ["The project role name cannot start or end with whitespace."]
