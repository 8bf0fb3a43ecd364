"""Does the emulated Atlassian authorization server and API gateway behave like auth.atlassian.com and
api.atlassian.com: single-use codes, rotating refresh tokens, scope checks at the gateway?"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from fakejira.client import GatewayClient
from fakejira.cloud import Cloud
from fakejira.oauth import OAuthClient
from fakejira.site import Site

CALLBACK = "http://127.0.0.1:9/callback"
ADMIN, USER = "557058:admin-user", "557058:plain-user"
PATH = "/rest/api/3/projectCategory"
STATUSES = "/rest/api/3/statuses/search"
ALL_SCOPES = "read:jira-work manage:jira-project manage:jira-configuration offline_access"


@pytest.fixture
def oauth_client(fake_cloud: Cloud, bare_site: Site, category_handlers: Any, fakejira_handler: Any) -> OAuthClient:
    bare_site.admins.add(ADMIN)
    fakejira_handler("GET", STATUSES, lambda ctx: {"startAt": 0, "maxResults": 50, "total": 0, "isLast": True,
                                                   "values": []})
    return fake_cloud.oauth.register_client([CALLBACK], name="DR")


def _authorize(cloud: Cloud, client: OAuthClient, scope: str = ALL_SCOPES, **extra: str) -> requests.Response:
    params = {"audience": "api.atlassian.com", "client_id": client.client_id, "scope": scope,
              "redirect_uri": CALLBACK, "state": "st-1", "response_type": "code", "prompt": "consent", **extra}
    return requests.get(cloud.platform_url + "/authorize", params=params, allow_redirects=False, timeout=5)


def _code(cloud: Cloud, client: OAuthClient, scope: str = ALL_SCOPES) -> str:
    response = _authorize(cloud, client, scope)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def _token(cloud: Cloud, client: OAuthClient, **body: str) -> requests.Response:
    return requests.post(cloud.platform_url + "/oauth/token", timeout=5,
                         json={"client_id": client.client_id, "client_secret": client.secret, **body})


def _exchange(cloud: Cloud, client: OAuthClient, code: str, redirect_uri: str = CALLBACK) -> requests.Response:
    return _token(cloud, client, grant_type="authorization_code", code=code, redirect_uri=redirect_uri)


def _tokens(cloud: Cloud, client: OAuthClient, account: str = ADMIN, scope: str = ALL_SCOPES,
            site: Site | None = None) -> dict[str, Any]:
    cloud.oauth.consent_as(account, site or next(iter(cloud.sites.values())))
    response = _exchange(cloud, client, _code(cloud, client, scope))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_whole_flow_reaches_the_site_through_the_gateway(fake_cloud: Cloud, bare_site: Site,
                                                             oauth_client: OAuthClient) -> None:
    tokens = _tokens(fake_cloud, oauth_client)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600 and tokens["refresh_token"]
    response = GatewayClient(fake_cloud, bare_site, tokens["access_token"]).get(PATH)
    assert response.status_code == 200
    record = bare_site.calls.records[-1]
    assert (record.auth_kind, record.principal, record.template) == ("oauth", oauth_client.client_id, PATH)


def test_handlers_see_the_consenting_user(fake_cloud: Cloud, bare_site: Site, oauth_client: OAuthClient,
                                          fakejira_handler: Any) -> None:
    seen: list[Any] = []
    fakejira_handler("GET", "/rest/api/3/projectCategory/{id}", lambda ctx: seen.append(ctx) or {
        "id": "1", "name": "A", "self": "http://x"})
    tokens = _tokens(fake_cloud, oauth_client)
    GatewayClient(fake_cloud, bare_site, tokens["access_token"]).get("/rest/api/3/projectCategory/1")
    assert (seen[0].auth_kind, seen[0].account_id) == ("oauth", ADMIN)


def test_a_code_is_single_use(fake_cloud: Cloud, bare_site: Site, oauth_client: OAuthClient) -> None:
    fake_cloud.oauth.consent_as(ADMIN, bare_site)
    code = _code(fake_cloud, oauth_client)
    assert _exchange(fake_cloud, oauth_client, code).status_code == 200
    again = _exchange(fake_cloud, oauth_client, code)
    assert again.status_code == 403 and again.json()["error"] == "invalid_grant"


def test_a_code_is_bound_to_its_redirect_uri(fake_cloud: Cloud, bare_site: Site,
                                             oauth_client: OAuthClient) -> None:
    fake_cloud.oauth.consent_as(ADMIN, bare_site)
    code = _code(fake_cloud, oauth_client)
    assert _exchange(fake_cloud, oauth_client, code, "http://127.0.0.1:9/other").status_code == 403
    assert _exchange(fake_cloud, oauth_client, code).status_code == 403  # burnt by the failed attempt


def test_a_code_is_bound_to_its_client(fake_cloud: Cloud, bare_site: Site, oauth_client: OAuthClient) -> None:
    other = fake_cloud.oauth.register_client([CALLBACK])
    fake_cloud.oauth.consent_as(ADMIN, bare_site)
    assert _exchange(fake_cloud, other, _code(fake_cloud, oauth_client)).status_code == 403


@pytest.mark.parametrize(("change", "status"), [
    ({"redirect_uri": "http://127.0.0.1:9/elsewhere"}, 400), ({"client_id": "nobody"}, 400),
    ({"audience": "api.example.com"}, 400), ({"response_type": "token"}, 400), ({"scope": ""}, 400),
])
def test_bad_authorize_requests_never_redirect(fake_cloud: Cloud, bare_site: Site, oauth_client: OAuthClient,
                                               change: dict[str, str], status: int) -> None:
    fake_cloud.oauth.consent_as(ADMIN, bare_site)
    response = _authorize(fake_cloud, oauth_client, **change)
    assert response.status_code == status and "Location" not in response.headers


def test_a_denied_consent_redirects_with_access_denied(fake_cloud: Cloud, bare_site: Site,
                                                       oauth_client: OAuthClient) -> None:
    fake_cloud.oauth.consent_as(ADMIN, bare_site, deny=True)
    location = _authorize(fake_cloud, oauth_client).headers["Location"]
    assert parse_qs(urlsplit(location).query) == {"error": ["access_denied"], "state": ["st-1"]}


def test_consent_can_be_chosen_by_query_parameters(fake_cloud: Cloud, bare_site: Site,
                                                   oauth_client: OAuthClient) -> None:
    """Can a browser-driven test pick the consenting user and site without Python access?"""
    response = _authorize(fake_cloud, oauth_client, emulator_account_id=USER, emulator_site="bare")
    code = parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
    token = _exchange(fake_cloud, oauth_client, code).json()["access_token"]
    assert fake_cloud.oauth.lookup_access_token(token).account_id == USER


def test_a_wrong_client_secret_is_refused(fake_cloud: Cloud, bare_site: Site, oauth_client: OAuthClient) -> None:
    fake_cloud.oauth.consent_as(ADMIN, bare_site)
    code = _code(fake_cloud, oauth_client)
    response = requests.post(fake_cloud.platform_url + "/oauth/token", timeout=5, data={
        "grant_type": "authorization_code", "client_id": oauth_client.client_id, "client_secret": "nope",
        "code": code, "redirect_uri": CALLBACK})
    assert response.status_code == 401


def test_refresh_tokens_rotate(fake_cloud: Cloud, bare_site: Site, oauth_client: OAuthClient) -> None:
    """Does each refresh return a new refresh token and kill the old one?"""
    first = _tokens(fake_cloud, oauth_client)
    second = _token(fake_cloud, oauth_client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    fresh = second.json()
    assert fresh["refresh_token"] != first["refresh_token"]
    reused = _token(fake_cloud, oauth_client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 403 and reused.json()["error"] == "invalid_grant"
    third = _token(fake_cloud, oauth_client, grant_type="refresh_token", refresh_token=fresh["refresh_token"])
    assert third.status_code == 200
    assert GatewayClient(fake_cloud, bare_site, third.json()["access_token"]).get(PATH).status_code == 200


def test_no_offline_access_no_refresh_token(fake_cloud: Cloud, oauth_client: OAuthClient) -> None:
    assert "refresh_token" not in _tokens(fake_cloud, oauth_client, scope="read:jira-work")


def test_revoked_and_expired_tokens_are_401(fake_cloud: Cloud, bare_site: Site,
                                            oauth_client: OAuthClient) -> None:
    revoked = _tokens(fake_cloud, oauth_client)["access_token"]
    fake_cloud.oauth.revoke(revoked)
    response = GatewayClient(fake_cloud, bare_site, revoked).get(PATH)
    assert response.status_code == 401 and response.json() == {"code": 401, "message": "Unauthorized"}
    expired = _tokens(fake_cloud, oauth_client)["access_token"]
    fake_cloud.oauth.expire_access_tokens()
    assert GatewayClient(fake_cloud, bare_site, expired).get(PATH).status_code == 401


def test_revoking_the_grant_kills_refresh_tokens(fake_cloud: Cloud, oauth_client: OAuthClient) -> None:
    tokens = _tokens(fake_cloud, oauth_client)
    fake_cloud.oauth.revoke_grant(oauth_client.client_id, ADMIN)
    response = _token(fake_cloud, oauth_client, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert response.status_code == 403


def test_the_gateway_enforces_the_operation_scopes(fake_cloud: Cloud, bare_site: Site,
                                                   oauth_client: OAuthClient, category_handlers: list) -> None:
    """Is a token without manage:jira-project refused a category create, as the real gateway does (401)?"""
    token = _tokens(fake_cloud, oauth_client, scope="read:jira-work")["access_token"]
    gateway = GatewayClient(fake_cloud, bare_site, token)
    assert gateway.get(PATH).status_code == 200
    refused = gateway.post(PATH, json={"name": "X"})
    assert refused.status_code == 401
    assert refused.json() == {"code": 401, "message": "Unauthorized; scope does not match"}
    assert category_handlers == []


def test_admin_only_operations_need_a_jira_admin(fake_cloud: Cloud, bare_site: Site,
                                                 oauth_client: OAuthClient) -> None:
    """Connect can't read statuses/search; an admin's OAuth token can, a plain user's can't."""
    admin = _tokens(fake_cloud, oauth_client, account=ADMIN)["access_token"]
    user = _tokens(fake_cloud, oauth_client, account=USER)["access_token"]
    assert GatewayClient(fake_cloud, bare_site, admin).get(STATUSES).status_code == 200
    assert GatewayClient(fake_cloud, bare_site, user).get(STATUSES).status_code == 403


def test_a_token_works_only_on_the_consented_sites(fake_cloud: Cloud, bare_site: Site,
                                                   oauth_client: OAuthClient) -> None:
    other = fake_cloud.add_site("other", defaults=False)
    token = _tokens(fake_cloud, oauth_client, site=bare_site)["access_token"]
    assert GatewayClient(fake_cloud, other, token).get(PATH).status_code == 401
    unknown = requests.get(f"{fake_cloud.platform_url}/ex/jira/no-such-cloud{PATH}", timeout=5,
                           headers={"Authorization": f"Bearer {token}"})
    assert unknown.status_code == 404


def test_accessible_resources_lists_the_consented_sites(fake_cloud: Cloud, bare_site: Site,
                                                        oauth_client: OAuthClient) -> None:
    fake_cloud.add_site("other", defaults=False)
    token = _tokens(fake_cloud, oauth_client, site=bare_site)["access_token"]
    response = requests.get(fake_cloud.platform_url + "/oauth/token/accessible-resources", timeout=5,
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    (resource,) = response.json()
    assert (resource["id"], resource["url"], resource["name"]) == (bare_site.cloud_id, bare_site.base_url, "bare")
    assert set(resource["scopes"]) == set(ALL_SCOPES.split()) and resource["avatarUrl"]
    anonymous = requests.get(fake_cloud.platform_url + "/oauth/token/accessible-resources", timeout=5)
    assert anonymous.status_code == 401


def test_jwt_calls_are_not_accepted_at_the_gateway(fake_cloud: Cloud, bare_site: Site,
                                                   admin_app: Any) -> None:
    response = requests.get(fake_cloud.gateway_url(bare_site) + PATH, timeout=5,
                            headers={"Authorization": "JWT abc"})
    assert response.status_code == 401
