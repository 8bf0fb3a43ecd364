"""Does the emulated Jira let a Connect app act as a user the way Atlassian's JWT-bearer grant does, and no further:
the assertion's every rule, a token that works as that user on that site only, for fifteen minutes?"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from fakejira import installer
from fakejira.client import GatewayClient
from fakejira.cloud import Cloud
from fakejira.impersonation import GRANT_TYPE, TOKEN_TTL, UNAUTHORIZED_CLIENT
from fakejira.resources.basics import admin_account_id
from fakejira.site import Site

APP = "com.example.impersonator"
PLAIN = "557058:plain-user"
GONE = "557058:inactive-user"
USERS = [{"accountId": PLAIN, "accountType": "atlassian", "displayName": "Plain User", "active": True},
         {"accountId": GONE, "accountType": "atlassian", "displayName": "Gone User", "active": False}]
CATEGORIES = "/rest/api/3/projectCategory"


@pytest.fixture
def site(fake_cloud: Cloud) -> Site:
    site = fake_cloud.add_site("acme", seed={"users": USERS})
    installer.install_direct(site, APP, ["READ", "WRITE", "ADMIN", "ACT_AS_USER"])
    return site


def _exchange(cloud: Cloud, assertion: str | None, *, scope: str | None = None,
              grant_type: str = GRANT_TYPE) -> requests.Response:
    form = {"grant_type": grant_type}
    if assertion is not None:
        form["assertion"] = assertion
    if scope is not None:
        form["scope"] = scope
    return requests.post(cloud.impersonation.token_url, data=form, headers={"Accept": "application/json"},
                         timeout=5)


def _as_user(site: Site, token: str, method: str, path: str, **kw: Any) -> requests.Response:
    return requests.request(method, site.base_url + path, headers={"Authorization": f"Bearer {token}"},
                            timeout=5, **kw)


def _token(cloud: Cloud, site: Site, account_id: str = PLAIN, **kw: Any) -> str:
    response = _exchange(cloud, cloud.impersonation.assertion(site, APP, account_id), **kw)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_the_grant_gives_a_token_that_acts_as_the_user(fake_cloud: Cloud, site: Site) -> None:
    """An assertion built as Atlassian documents it gets a 15-minute Bearer token; the site sees that user."""
    response = _exchange(fake_cloud, fake_cloud.impersonation.assertion(site, APP, PLAIN), scope="READ WRITE")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert (body["expires_in"], body["token_type"]) == (TOKEN_TTL, "Bearer") == (900, "Bearer")

    me = _as_user(site, body["access_token"], "GET", "/rest/api/3/myself")
    assert me.status_code == 200
    assert (me.json()["accountId"], me.json()["displayName"]) == (PLAIN, "Plain User")
    record = site.calls.records[-1]
    assert (record.auth_kind, record.principal, record.status) == ("impersonation", APP, 200)


def test_the_installation_has_an_oauth_client_id_distinct_per_site(fake_cloud: Cloud, site: Site) -> None:
    other = fake_cloud.add_site("other")
    installer.install_direct(other, APP, ["READ", "ACT_AS_USER"])
    ids = {site.installations[APP].oauth_client_id, other.installations[APP].oauth_client_id}
    assert len(ids) == 2 and all(ids)


def _assertion(cloud: Cloud, site: Site, case: str) -> tuple[str, str | None]:
    """(assertion, scope) for one refusal case."""
    imp = cloud.impersonation
    now = int(cloud.clock())
    if case == "wrong secret":
        return imp.assertion(site, APP, PLAIN, secret="not-the-shared-secret-of-this-installation"), None
    if case == "expired":
        return imp.assertion(site, APP, PLAIN, iat=now - 300, exp=now - 120), None
    if case == "exp too far ahead":
        return imp.assertion(site, APP, PLAIN, lifetime=120), None
    if case == "wrong audience":
        return imp.assertion(site, APP, PLAIN, aud="https://oauth-2-authorization-server.services.atlassian.com"), None
    if case == "other tenant":
        return imp.assertion(site, APP, PLAIN, tnt="https://someone-else.atlassian.net"), None
    if case == "unknown user":
        return imp.assertion(site, APP, "557058:nobody"), None
    if case == "inactive user":
        return imp.assertion(site, APP, GONE), None
    if case == "userkey subject":
        return imp.assertion(site, APP, PLAIN, sub="urn:atlassian:connect:userkey:admin"), None
    if case == "unknown client":
        return imp.assertion(site, APP, PLAIN, iss="urn:atlassian:connect:clientid:no-such-client"), None
    if case == "missing tnt":
        return imp.assertion(site, APP, PLAIN, tnt=None), None
    if case == "scope the app lacks":
        return imp.assertion(site, APP, PLAIN), "READ DELETE"
    raise AssertionError(case)


@pytest.mark.parametrize(("case", "error", "words"), [
    ("wrong secret", "invalid_grant", "signature does not match"),
    ("expired", "invalid_grant", "has expired"),
    ("exp too far ahead", "invalid_grant", "no later than 60 seconds"),
    ("wrong audience", "invalid_grant", "Expected claim 'aud'"),
    ("other tenant", "invalid_grant", "Expected claim 'tnt'"),
    ("unknown user", "invalid_grant", "No user with accountId '557058:nobody'"),
    ("inactive user", "invalid_grant", "inactive"),
    ("userkey subject", "invalid_grant", "User keys"),
    ("unknown client", "invalid_grant", "No installed app"),
    ("missing tnt", "invalid_grant", "tnt"),
    ("scope the app lacks", "invalid_scope", "DELETE"),
])
def test_a_bad_assertion_is_refused_with_oauth_errors(fake_cloud: Cloud, site: Site, case: str, error: str,
                                                      words: str) -> None:
    """Each rule of the assertion: 400 with the OAuth error shape, and no token comes into being."""
    before = len(fake_cloud.impersonation._tokens)
    assertion, scope = _assertion(fake_cloud, site, case)
    response = _exchange(fake_cloud, assertion, scope=scope)
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert words in body["error_description"]
    assert assertion not in body["error_description"]
    assert len(fake_cloud.impersonation._tokens) == before


def test_an_app_without_act_as_user_is_not_authorized_for_the_grant(fake_cloud: Cloud) -> None:
    site = fake_cloud.add_site("plain", seed={"users": USERS})
    installer.install_direct(site, APP, ["READ", "WRITE"])
    response = _exchange(fake_cloud, fake_cloud.impersonation.assertion(site, APP, PLAIN))
    assert response.status_code == 400
    assert response.json() == {"error": "unauthorized_client", "error_description": UNAUTHORIZED_CLIENT}


@pytest.mark.parametrize(("grant_type", "with_assertion", "error"), [
    ("authorization_code", True, "unsupported_grant_type"),
    (GRANT_TYPE, False, "invalid_request"),
])
def test_the_request_itself_must_be_a_jwt_bearer_grant(fake_cloud: Cloud, site: Site, grant_type: str,
                                                       with_assertion: bool, error: str) -> None:
    assertion = fake_cloud.impersonation.assertion(site, APP, PLAIN) if with_assertion else None
    response = _exchange(fake_cloud, assertion, grant_type=grant_type)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_the_token_works_on_its_own_site_only(fake_cloud: Cloud, site: Site) -> None:
    """Another site with the same app installed, and the OAuth gateway of the same site, both answer 401."""
    other = fake_cloud.add_site("other", seed={"users": USERS})
    installer.install_direct(other, APP, ["READ", "ACT_AS_USER"])
    token = _token(fake_cloud, site)
    assert _as_user(site, token, "GET", "/rest/api/3/myself").status_code == 200

    elsewhere = _as_user(other, token, "GET", "/rest/api/3/myself")
    assert elsewhere.status_code == 401
    assert "another site" in elsewhere.json()["errorMessages"][0]
    assert GatewayClient(fake_cloud, site, token).get("/rest/api/3/myself").status_code == 401


def test_expiry_and_a_new_installation_end_the_token(fake_cloud: Cloud, site: Site) -> None:
    token = _token(fake_cloud, site)
    fake_cloud.impersonation.expire_tokens()
    expired = _as_user(site, token, "GET", "/rest/api/3/myself")
    assert expired.status_code == 401
    assert "expired" in expired.json()["errorMessages"][0]

    token = _token(fake_cloud, site)
    installer.install_direct(site, APP, ["READ", "ACT_AS_USER"])  # a reinstall: a new shared secret
    assert _as_user(site, token, "GET", "/rest/api/3/myself").status_code == 401
    assert _as_user(site, "made-up", "GET", "/rest/api/3/myself").status_code == 401


def test_the_call_has_the_app_scopes_and_the_user_permissions(fake_cloud: Cloud, site: Site) -> None:
    """ADMIN-scoped calls need an administrator behind the token; a READ-only token cannot write."""
    plain = _token(fake_cloud, site)
    refused = _as_user(site, plain, "POST", CATEGORIES, json={"name": "By a plain user"})
    assert refused.status_code == 403
    assert site.store.find_name_ci("projectCategories", "By a plain user") is None

    admin = _token(fake_cloud, site, admin_account_id(site))
    created = _as_user(site, admin, "POST", CATEGORIES, json={"name": "By the admin"})
    assert created.status_code == 201

    read_only = _token(fake_cloud, site, admin_account_id(site), scope="READ")
    assert _as_user(site, read_only, "GET", CATEGORIES).status_code == 200
    assert _as_user(site, read_only, "POST", CATEGORIES, json={"name": "Read only"}).status_code == 403
    assert site.store.find_name_ci("projectCategories", "Read only") is None
