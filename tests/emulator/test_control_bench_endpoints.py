"""The control-API endpoints the benchmarks drive an out-of-process emulator with: OAuth tokens, quota points per
template, call-log counts and filters, the site admin in ``GET site``, and ``serve``'s generated sites."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from fakejira.__main__ import site_seed
from fakejira.cloud import Cloud
from fakejira.limits import Limits
from fakejira.resources.basics import admin_account_id
from fakejira.site import Site

PRIORITIES = "/rest/api/3/priority"
CATEGORIES = "/rest/api/3/projectCategory"


def control(site: Site, method: str, endpoint: str, **kw: Any) -> requests.Response:
    return requests.request(method, f"{site.base_url}/_emulator/{endpoint}", timeout=10, **kw)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def messages(response: requests.Response) -> str:
    assert response.status_code == 400, response.text
    return " ".join(response.json()["errorMessages"])


# -- GET site -----------------------------------------------------------------------------------------------------
def test_site_info_names_the_site_admin(fake_site: Site) -> None:
    """Can a bench in another process learn whom to act as (the admin its tokens and tenants need)?"""
    info = control(fake_site, "GET", "site").json()
    assert info["adminAccountId"] == admin_account_id(fake_site)
    assert info["admins"] == [admin_account_id(fake_site)]


# -- POST oauth-token ---------------------------------------------------------------------------------------------
def test_oauth_token_works_at_the_gateway_as_the_site_admin(fake_cloud: Cloud, fake_site: Site) -> None:
    """Does the token act as the admin, with exactly the scopes asked for, on this site's gateway?"""
    response = control(fake_site, "POST", "oauth-token", json={"scopes": ["read:jira-work"]})
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "read:jira-work"
    assert tokens["client_id"] and tokens["client_secret"] and "refresh_token" not in tokens
    gateway = fake_cloud.gateway_url(fake_site)
    assert requests.get(gateway + PRIORITIES, headers=bearer(tokens["access_token"]), timeout=10).status_code == 200
    refused = requests.post(gateway + CATEGORIES, json={"name": "Ops"}, headers=bearer(tokens["access_token"]),
                            timeout=10)
    assert (refused.status_code, refused.json()["message"]) == (401, "Unauthorized; scope does not match")
    me = requests.get(fake_cloud.platform_url + "/me", headers=bearer(tokens["access_token"]), timeout=10).json()
    assert me["account_id"] == admin_account_id(fake_site)


def test_oauth_token_is_for_its_site_only(fake_cloud: Cloud, fake_site: Site) -> None:
    other = fake_cloud.add_site("other")
    token = control(fake_site, "POST", "oauth-token", json={"scopes": ["read:jira-work"]}).json()["access_token"]
    response = requests.get(fake_cloud.gateway_url(other) + PRIORITIES, headers=bearer(token), timeout=10)
    assert response.status_code == 401


def test_oauth_token_with_offline_access_brings_a_refresh_token(fake_site: Site) -> None:
    body = {"scopes": ["read:jira-work", "offline_access"], "accountId": admin_account_id(fake_site)}
    assert "refresh_token" in control(fake_site, "POST", "oauth-token", json=body).json()


@pytest.mark.parametrize(("body", "expected"), [
    ({}, "scopes must be a non-empty list of scope names"),
    ({"scopes": []}, "scopes must be a non-empty list of scope names"),
    ({"scopes": "read:jira-work"}, "scopes must be a non-empty list of scope names"),
    ({"scopes": ["read:jira-work write:jira-work"]}, "scopes must be a non-empty list of scope names"),
    ({"scopes": [""]}, "scopes must be a non-empty list of scope names"),
    ({"scopes": ["read:jira-work"], "accountId": "557058:nobody"}, "no user with accountId '557058:nobody'"),
    ({"scopes": ["read:jira-work"], "accountId": 42}, "no user with accountId 42"),
])
def test_oauth_token_refuses_bad_requests(fake_site: Site, body: dict[str, Any], expected: str) -> None:
    assert expected in messages(control(fake_site, "POST", "oauth-token", json=body))


def test_a_body_that_is_not_an_object_is_refused(fake_site: Site) -> None:
    response = control(fake_site, "POST", "oauth-token", json=["read:jira-work"])
    assert "must be a JSON object" in messages(response)


# -- GET/DELETE points --------------------------------------------------------------------------------------------
@pytest.fixture
def reader(fake_cloud: Cloud, fake_site: Site) -> Any:
    """GETs through the gateway with a read token, as the restore bench's OAuth client does."""
    token = control(fake_site, "POST", "oauth-token", json={"scopes": ["read:jira-work"]}).json()["access_token"]

    def get(path: str) -> requests.Response:
        return requests.get(fake_cloud.gateway_url(fake_site) + path, headers=bearer(token), timeout=10)

    return get


def test_points_are_counted_per_template_and_cleared(fake_site: Site, reader: Any) -> None:
    """Does the emulator say where the quota points went, as the bench's in-process wrapper did?"""
    priorities = len(reader(PRIORITIES).json())
    reader(PRIORITIES)
    reader(CATEGORIES)
    points = control(fake_site, "GET", "points").json()
    # base 1 + 1 per returned object on reads (the default cost rule); an empty list costs the base alone
    assert points["byTemplate"] == {f"GET {PRIORITIES}": 2 * (1 + priorities), f"GET {CATEGORIES}": 1}
    assert points["total"] == 2 * (1 + priorities) + 1
    top = control(fake_site, "GET", "points", params={"top": "1"}).json()
    assert top == {"total": points["total"], "byTemplate": {f"GET {PRIORITIES}": 2 * (1 + priorities)}}
    assert control(fake_site, "DELETE", "points").status_code == 204
    assert control(fake_site, "GET", "points").json() == {"total": 0, "byTemplate": {}}


def test_clearing_the_limits_clears_the_points(fake_site: Site, reader: Any) -> None:
    reader(PRIORITIES)
    assert control(fake_site, "DELETE", "limits").status_code == 204
    assert control(fake_site, "GET", "points").json()["total"] == 0


@pytest.mark.parametrize("top", ["0", "-1", "ten", "1.5"])
def test_points_refuse_a_bad_top(fake_site: Site, top: str) -> None:
    assert f"top must be a positive integer, not {top!r}" in messages(
        control(fake_site, "GET", "points", params={"top": top}))


def test_limits_count_points_without_changing_the_quota() -> None:
    limits = Limits()
    assert limits.charge("GET", "/x", [1, 2]) == 3 and limits.charge("POST", "/x", None) == 1
    assert limits.points() == {"GET /x": 3, "POST /x": 1} and limits.used() == 4
    limits.clear_points()
    assert limits.points() == {} and limits.used() == 4


# -- GET calls: filters and count ---------------------------------------------------------------------------------
def test_calls_can_be_counted_and_filtered(fake_site: Site, reader: Any) -> None:
    reader(PRIORITIES)
    reader(CATEGORIES)
    reader("/rest/api/3/nope")
    assert control(fake_site, "GET", "calls", params={"count": "true"}).json() == {"count": 3}
    assert control(fake_site, "GET", "calls", params={"count": "true", "status": "404"}).json() == {"count": 1}
    found = control(fake_site, "GET", "calls", params={"method": "get", "template": PRIORITIES}).json()
    assert [(c["path"], c["status"]) for c in found] == [(PRIORITIES, 200)]
    assert len(control(fake_site, "GET", "calls").json()) == 3


@pytest.mark.parametrize(("params", "expected"), [
    ({"status": "abc"}, "status must be an HTTP status code such as 429, not 'abc'"),
    ({"count": "yes"}, "count must be true or false, not 'yes'"),
])
def test_calls_refuse_bad_filters(fake_site: Site, params: dict[str, str], expected: str) -> None:
    assert expected in messages(control(fake_site, "GET", "calls", params=params))


# -- serve --site NAME=preset:NAME --------------------------------------------------------------------------------
def test_serve_generates_a_preset_site_as_a_capture_of_that_site() -> None:
    seed = site_seed("benchsrc", "preset:small")
    assert seed is not None and len(seed["projects"]) == 5
    assert any(g["name"] == "jira-users-benchsrc" for g in seed["groups"])
    assert site_seed("empty", "") is None


def test_serve_refuses_an_unknown_preset() -> None:
    with pytest.raises(SystemExit, match="site 'x': unknown preset 'huge'; known: small, medium, large"):
        site_seed("x", "preset:huge")
