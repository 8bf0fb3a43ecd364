"""Does the emulated site check a Connect app's JWT and scopes as strictly as Jira?"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests
from atlassian_jwt.url_utils import hash_url

from fakejira import auth, installer
from fakejira.client import ConnectClient
from fakejira.site import Site
from tests.emulator.helpers import APP_KEY

PATH = "/rest/api/3/projectCategory"
OTHER_SECRET = "x" * 40


def _token(claims: dict[str, Any], secret: str, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def _claims(qsh: str | None = None, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": APP_KEY, "iat": now, "exp": now + 180, "qsh": qsh or hash_url("GET", PATH)}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def test_a_well_signed_call_is_answered(admin_app: ConnectClient, bare_site: Site) -> None:
    """Can an installed app read with a correct JWT, and does the call log say who called?"""
    response = admin_app.get(PATH)
    assert response.status_code == 200
    assert response.json()[0]["name"] == "Ops"
    (record,) = bare_site.calls.find(template=PATH)
    assert (record.status, record.auth_kind, record.principal) == (200, "connect", APP_KEY)


def test_qsh_covers_a_messy_query(admin_app: ConnectClient) -> None:
    """Is the qsh recomputed from the query as sent (repeated values, spaces, reserved characters)?"""
    query = [("expand", "a b"), ("id", "2"), ("id", "1"), ("x", "*~+&")]
    assert admin_app.get(PATH, query=query).status_code == 200


def _bad_tokens(site: Site) -> dict[str, str]:
    secret = site.installations[APP_KEY].shared_secret
    now = int(time.time())
    return {
        "wrong secret": _token(_claims(), OTHER_SECRET),
        "HS512": _token(_claims(), secret + secret, "HS512"),
        "alg none": jwt.encode(_claims(), None, algorithm="none"),
        "expired": _token(_claims(iat=now - 600, exp=now - 120), secret),
        "wrong qsh": _token(_claims(qsh=hash_url("GET", "/rest/api/3/other")), secret),
        "qsh of another method": _token(_claims(qsh=hash_url("POST", PATH)), secret),
        "context qsh": _token(_claims(qsh="context-qsh"), secret),
        "unknown iss": _token(_claims(iss="someone.else"), secret),
        "no qsh": _token({k: v for k, v in _claims().items() if k != "qsh"}, secret),
        "no exp": _token({k: v for k, v in _claims().items() if k != "exp"}, secret),
        "garbage": "not.a.jwt",
    }


@pytest.mark.parametrize("case", ["wrong secret", "HS512", "alg none", "expired", "wrong qsh",
                                  "qsh of another method", "context qsh", "unknown iss", "no qsh", "no exp",
                                  "garbage"])
def test_bad_jwts_are_refused_with_401(admin_app: ConnectClient, bare_site: Site, case: str) -> None:
    """Is every kind of bad JWT answered 401 with a Jira error body, and never reaches the handler?"""
    response = admin_app.get(PATH, token=_bad_tokens(bare_site)[case])
    assert response.status_code == 401
    assert response.json()["errorMessages"]
    assert bare_site.calls.find(template=PATH)[0].status == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"},
                                     {"Authorization": "Bearer abc"}, {"Authorization": "JWT "}])
def test_calls_without_a_connect_jwt_are_401(bare_site: Site, category_handlers: Any,
                                             headers: dict[str, str]) -> None:
    """Are anonymous, basic-auth and bearer calls on the site's own URL refused?"""
    installer.install_direct(bare_site, APP_KEY, ["ADMIN"])
    response = requests.get(bare_site.base_url + PATH, headers=headers, timeout=5)
    assert response.status_code == 401


def test_a_disabled_app_is_refused(admin_app: ConnectClient, bare_site: Site) -> None:
    """Does disabling the app stop its calls?"""
    bare_site.installations[APP_KEY].enabled = False
    assert admin_app.get(PATH).status_code == 401


def test_a_reinstall_invalidates_the_old_secret(admin_app: ConnectClient, bare_site: Site) -> None:
    """After a reinstall (new shared secret), are tokens signed with the old one refused?"""
    old = bare_site.installations[APP_KEY].shared_secret
    installer.install_direct(bare_site, APP_KEY, ["ADMIN"])
    assert admin_app.get(PATH, secret=old).status_code == 401
    assert admin_app.get(PATH).status_code == 200


def test_the_jwt_query_parameter_is_accepted_and_left_out_of_the_qsh(admin_app: ConnectClient,
                                                                     bare_site: Site) -> None:
    """Does Jira's alternative ``?jwt=`` transport work (the jwt parameter is not part of the qsh)?"""
    token = installer.app_token(bare_site, APP_KEY, "GET", PATH)
    response = requests.get(f"{bare_site.base_url}{PATH}?jwt={token}", timeout=5)
    assert response.status_code == 200


def test_an_inaccessible_operation_is_403_even_for_admin_apps(admin_app: ConnectClient, fakejira_handler: Any,
                                                              bare_site: Site) -> None:
    """Is an operation marked INACCESSIBLE refused to a Connect app whatever its scopes?"""
    called = []
    fakejira_handler("GET", "/rest/api/3/statuses/search", lambda ctx: called.append(1))
    response = admin_app.get("/rest/api/3/statuses/search")
    assert response.status_code == 403
    assert "not available to Connect apps" in response.json()["errorMessages"][0]
    assert called == []


def test_an_operation_above_the_descriptor_scopes_is_403(bare_site: Site, category_handlers: Any) -> None:
    """Can a READ-only app create a project category (ADMIN)? It must not, and nothing is stored."""
    installer.install_direct(bare_site, APP_KEY, ["READ"])
    reader = ConnectClient(bare_site, APP_KEY)
    assert reader.get(PATH).status_code == 200
    response = reader.post(PATH, json={"name": "New"})
    assert response.status_code == 403
    assert "'ADMIN'" in response.json()["errorMessages"][0]
    assert category_handlers == []


@pytest.mark.parametrize(("granted", "required", "allowed"), [
    ({"READ"}, "READ", True), ({"READ"}, "WRITE", False), ({"WRITE"}, "READ", True),
    ({"WRITE"}, "DELETE", False), ({"DELETE"}, "WRITE", True), ({"PROJECT_ADMIN"}, "DELETE", True),
    ({"PROJECT_ADMIN"}, "ADMIN", False), ({"ADMIN"}, "PROJECT_ADMIN", True), ({"read"}, "READ", True),
    (set(), "NONE", True), (set(), "READ", False), ({"ADMIN"}, "ACT_AS_USER", False),
    ({"ACT_AS_USER"}, "ACT_AS_USER", True), ({"ADMIN"}, "ACCESS_EMAIL_ADDRESSES", False),
    ({"ACT_AS_USER"}, "READ", False), ({"ADMIN"}, "INACCESSIBLE", False), ({"ADMIN"}, None, False),
])
def test_connect_scope_ladder(granted: set[str], required: str | None, allowed: bool) -> None:
    """READ < WRITE < DELETE < PROJECT_ADMIN < ADMIN; ACT_AS_USER and ACCESS_EMAIL_ADDRESSES stand alone."""
    assert auth.connect_covers(frozenset(granted), required) is allowed


def test_qsh_is_relative_to_a_site_with_a_context_path() -> None:
    """Is the site's context path (e.g. ``/jira``) removed before hashing, as the qsh rules say?"""
    assert auth.relative_url("https://x.example/jira", "/jira/rest/api/3/field", "a=1") == "/rest/api/3/field?a=1"
    assert auth.relative_url("https://x.example", "/rest/api/3/field", "") == "/rest/api/3/field"
