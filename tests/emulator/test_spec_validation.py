"""Does the emulator hold requests and its own responses to the published Jira spec?"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from fakejira import spec
from fakejira.client import ConnectClient
from fakejira.cloud import Cloud
from fakejira.registry import Reply
from fakejira.site import Site

PATH = "/rest/api/3/projectCategory"


@pytest.mark.parametrize(("method", "template", "scope"), [
    ("GET", "/rest/api/3/projectCategory", "READ"),
    ("POST", "/rest/api/3/projectCategory", "ADMIN"),
    ("POST", "/rest/api/3/statuses", "INACCESSIBLE"),
    ("GET", "/rest/api/3/field/search", "NONE"),
    ("GET", "/rest/agile/1.0/board", "READ"),
    ("GET", "/rest/api/3/no/such/thing", None),
])
def test_connect_scope_comes_from_the_spec(method: str, template: str, scope: str | None) -> None:
    assert spec.connect_scope(method, template) == scope


def test_oauth_scopes_are_the_classic_current_ones() -> None:
    """Current classic scopes count; Beta granular ones don't; `{}` security means no scope is needed."""
    assert spec.oauth_scopes("POST", "/rest/api/3/statuses") == [frozenset({"manage:jira-configuration"})]
    assert spec.oauth_scopes("GET", "/rest/api/3/serverInfo") == [frozenset()]
    assert frozenset({"read:jira-work"}) in spec.oauth_scopes("GET", "/rest/agile/1.0/board")


@pytest.mark.parametrize(("body", "expected"), [
    ({"name": 5}, "body.name: 5 is not of type 'string'"),
    ({"name": "A", "id": "1"}, "body.id: Tried to write read-only property with 1"),
    ({"name": "A", "description": None}, "body.description: None for not nullable"),
    ([], "body: [] is not of type 'object'"),
])
def test_request_bodies_are_checked(body: Any, expected: str) -> None:
    assert expected in spec.validate_request("POST", PATH, {}, body)


def test_a_required_body_must_be_sent() -> None:
    assert spec.validate_request("POST", PATH, {}, None) == ["body: the request body is required"]


def test_missing_required_property_is_reported() -> None:
    problems = spec.validate_request("POST", "/rest/api/3/screens", {}, {"description": "no name"})
    assert problems == ["body: 'name' is a required property"]


@pytest.mark.parametrize(("query", "expected"), [
    ({"startAt": "ten"}, "query.startAt: 'ten' is not a valid integer"),
    ({"type": "customx"}, "query.type: 'customx' is not one of ['custom', 'system']"),
    ({"type": "custom,bogus"}, "query.type: 'bogus' is not one of ['custom', 'system']"),
])
def test_query_parameters_are_checked(query: dict[str, str], expected: str) -> None:
    assert spec.validate_request("GET", "/rest/api/3/field/search", query, None) == [expected]


def test_a_required_query_parameter_must_be_sent() -> None:
    problems = spec.validate_request("GET", "/rest/api/3/fieldconfigurationscheme/project", {}, None)
    assert problems == ["query.projectId: required parameter is missing"]


def test_valid_requests_pass() -> None:
    assert spec.validate_request("GET", "/rest/api/3/field/search", {"type": "custom", "startAt": "0"}, None) == []
    assert spec.validate_request("POST", PATH, {}, {"name": "A", "description": "d"}) == []


def test_responses_are_checked() -> None:
    good = {"id": "1", "name": "A", "description": "", "self": "http://x/1"}
    assert spec.validate_response("POST", PATH, 201, good) == []
    assert spec.validate_response("POST", PATH, 201, {**good, "id": 1}) == ["response.id: 1 is not of type 'string'"]
    assert spec.validate_response("POST", PATH, 200, good)[0].startswith("status 200 is not documented")
    assert spec.validate_response("POST", PATH, 409, {"errorMessages": ["x"]}) == []


def test_validation_is_fast_after_warm_up() -> None:
    """Is a typical request validated well under 10 ms?"""
    body = {"name": "A", "description": "d"}
    spec.validate_request("POST", PATH, {}, body)
    started = time.perf_counter()
    for _ in range(200):
        spec.validate_request("POST", PATH, {}, body)
    assert (time.perf_counter() - started) / 200 < 0.010


def test_a_bad_body_is_400_and_recorded(admin_app: ConnectClient, fake_cloud: Cloud,
                                        category_handlers: list[Any]) -> None:
    """Is a spec-violating body refused before the handler, and recorded as a violation?"""
    with fake_cloud.expect_violations() as seen:
        response = admin_app.post(PATH, json={"name": 42})
    assert response.status_code == 400
    assert response.json()["errorMessages"] == ["body.name: 42 is not of type 'string'"]
    assert category_handlers == []
    assert [(v.kind, v.template) for v in seen] == [("request", PATH)]


def test_a_bad_answer_from_a_handler_is_500_and_recorded(admin_app: ConnectClient, fake_cloud: Cloud,
                                                         fakejira_handler: Any) -> None:
    """Does an emulator handler returning an off-spec body fail loudly instead of lying to the app?"""
    fakejira_handler("POST", PATH, lambda ctx: Reply(201, {"id": 7, "name": ctx.body["name"]}))
    with fake_cloud.expect_violations() as seen:
        response = admin_app.post(PATH, json={"name": "A"})
    assert response.status_code == 500
    assert "response.id: 7 is not of type 'string'" in response.json()["errorMessages"]
    assert [v.kind for v in seen] == ["response"]


def test_an_undocumented_success_status_is_a_violation(admin_app: ConnectClient, fake_cloud: Cloud,
                                                       fakejira_handler: Any) -> None:
    fakejira_handler("POST", PATH, lambda ctx: {"id": "1", "name": "A"})  # 200, but the spec says 201
    with fake_cloud.expect_violations() as seen:
        assert admin_app.post(PATH, json={"name": "A"}).status_code == 500
    assert seen[0].messages[0].startswith("status 200 is not documented")


def test_a_crashing_handler_is_500_and_recorded(admin_app: ConnectClient, fake_cloud: Cloud,
                                                fakejira_handler: Any, bare_site: Site) -> None:
    fakejira_handler("GET", PATH, lambda ctx: 1 / 0)
    with fake_cloud.expect_violations() as seen:
        assert admin_app.get(PATH).status_code == 500
    assert seen[0].kind == "crash" and "ZeroDivisionError" in seen[0].messages[0]


def test_write_only_is_not_an_error_in_responses() -> None:
    """Jira returns ScreenTypes in GET /screenscheme although the spec marks it writeOnly."""
    page = {"isLast": True, "maxResults": 50, "startAt": 0, "total": 1,
            "values": [{"id": 1, "name": "S", "screens": {"default": 1}}]}
    assert spec.validate_response("GET", "/rest/api/3/screenscheme", 200, page) == []


def test_a_response_erratum_replaces_a_wrong_schema_but_stays_strict() -> None:
    """GET /fieldconfiguration is checked against FieldConfiguration, as its example and Jira answer."""
    page = {"isLast": True, "maxResults": 50, "startAt": 0, "total": 1,
            "values": [{"id": 10000, "name": "Default Field Configuration", "description": "", "isDefault": True}]}
    assert spec.validate_response("GET", "/rest/api/3/fieldconfiguration", 200, page) == []
    page["values"][0]["id"] = "10000"
    assert spec.validate_response("GET", "/rest/api/3/fieldconfiguration", 200, page) == [
        "response.values[0].id: '10000' is not of type 'integer'"]


def test_fake_site_is_served_on_loopback(fake_site: Site, fake_cloud: Cloud) -> None:
    """Does the fake_site fixture give a served site with its own loopback server and defaults loaded?"""
    assert fake_site.base_url.startswith("http://127.0.0.1:") and fake_site.cloud is fake_cloud
    assert any(fake_site.store.collections.values())
    response = requests.get(fake_site.base_url + "/rest/api/3/projectCategory", timeout=5)
    assert response.status_code == 401
