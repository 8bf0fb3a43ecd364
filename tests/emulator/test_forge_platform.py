"""Does the emulated Forge platform behave like Forge: a JWKS that verifies its FITs, installations whose reinstall
gets a new id, system tokens the gateway accepts with their scopes enforced and their site only, and an invoker that
keeps the remote contract (timeouts, retries, size limits, JSON)?"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from jwt import PyJWKClient
from werkzeug.wrappers import Request, Response

from fakejira.cloud import Cloud
from fakejira.forge import (
    FIT_ISSUER,
    MAX_REMOTE_REQUEST,
    MAX_REMOTE_RESPONSE,
    ForgeInstall,
    InvokeRemoteError,
)
from fakejira.loopback import serve
from fakejira.resources.basics import admin_account_id
from fakejira.site import Site

SCOPES = ("manage:jira-configuration", "read:jira-work", "read:jira-user")
STATUSES = "/rest/api/3/statuses/search"


@pytest.fixture
def inst(fake_cloud: Cloud, fake_site: Site) -> ForgeInstall:
    fake_cloud.forge.scopes = SCOPES
    return fake_cloud.forge.install(fake_site)


def gateway_get(cloud: Cloud, site: Site, path: str, token: str) -> requests.Response:
    return requests.get(cloud.gateway_url(site) + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_fits_verify_against_the_published_jwks(fake_cloud, inst) -> None:
    forge = fake_cloud.forge
    fit = forge.mint_fit(inst, principal="557058:u")
    key = PyJWKClient(forge.jwks_url).get_signing_key_from_jwt(fit).key
    claims = jwt.decode(fit, key, algorithms=["RS256"], audience=forge.app_id, issuer=FIT_ISSUER)
    assert claims["app"]["installationId"] == inst.installation_id
    assert claims["app"]["apiBaseUrl"] == fake_cloud.gateway_url(inst.site)
    assert claims["context"]["siteUrl"] == inst.site.base_url and claims["principal"] == "557058:u"
    assert forge.app_id.startswith("ari:cloud:ecosystem::app/")


@pytest.mark.parametrize("kind", ["wrong-aud", "wrong-iss", "expired", "unknown-kid", "other-key", "alg-none"])
def test_bad_fits_fail_standard_verification(fake_cloud, inst, kind) -> None:
    forge = fake_cloud.forge
    jwks = {k["kid"]: k for k in requests.get(forge.jwks_url, timeout=5).json()["keys"]}
    fit = forge.bad_fit(inst, kind)
    with pytest.raises(jwt.PyJWTError):
        header = jwt.get_unverified_header(fit)
        if header.get("kid") not in jwks:
            raise jwt.InvalidKeyError("unknown kid")
        key = jwt.PyJWK(jwks[header["kid"]]).key
        jwt.decode(fit, key, algorithms=["RS256"], audience=forge.app_id, issuer=FIT_ISSUER)


def test_a_reinstall_gets_a_new_installation_id_and_ends_the_old_one(fake_cloud, fake_site) -> None:
    forge = fake_cloud.forge
    first = forge.install(fake_site)
    token = forge.system_token(first)
    second = forge.install(fake_site)
    assert second.installation_id != first.installation_id and not first.active and second.active
    assert (second.cloud_id, second.environment_id) == (first.cloud_id, first.environment_id)
    assert gateway_get(fake_cloud, fake_site, "/rest/api/3/serverInfo", token).status_code == 401
    assert forge.install(fake_site, "staging").environment_type == "STAGING"


def test_system_tokens_pass_the_gateway_with_their_scopes(fake_cloud, inst) -> None:
    """A Forge token reads what its manifest scopes allow, admin-only operations included (the app is no user)."""
    token = fake_cloud.forge.system_token(inst)
    assert jwt.decode(token, options={"verify_signature": False})["exp"] - time.time() >= 2 * 3600 - 5
    response = gateway_get(fake_cloud, inst.site, STATUSES, token)
    assert response.status_code == 200 and response.json()["values"]
    record = inst.site.calls.records[-1]
    assert (record.auth_kind, record.principal) == ("forge", fake_cloud.forge.app_id)


def test_the_gateway_enforces_each_operations_scopes_for_forge_tokens(fake_cloud, inst) -> None:
    token = fake_cloud.forge.system_token(inst, scopes=("read:jira-work",))
    response = gateway_get(fake_cloud, inst.site, STATUSES, token)
    assert response.status_code == 401 and response.json()["message"] == "Unauthorized; scope does not match"


def test_a_forge_user_token_needs_an_admin_for_admin_only_operations(fake_cloud, inst) -> None:
    user = fake_cloud.forge.system_token(inst, account_id="557058:not-an-admin")
    assert gateway_get(fake_cloud, inst.site, STATUSES, user).status_code == 403
    admin = fake_cloud.forge.system_token(inst, account_id=admin_account_id(inst.site))
    assert gateway_get(fake_cloud, inst.site, STATUSES, admin).status_code == 200


@pytest.mark.parametrize("why", ["other-site", "expired", "uninstalled", "revoked", "unknown"])
def test_tokens_are_refused_off_their_site_or_past_their_life(fake_cloud, inst, why) -> None:
    """Tenant isolation: site A's token at site B's cloudId is 401, as are dead tokens."""
    forge = fake_cloud.forge
    token = forge.system_token(inst)
    target = inst.site
    if why == "other-site":
        target = fake_cloud.add_site("other")
    elif why == "expired":
        token = forge.system_token(inst, lifetime=-1)
    elif why == "uninstalled":
        forge.uninstall(inst)
    elif why == "revoked":
        forge.revoke_tokens(inst)
    else:
        token = token[:-4] + "abcd"
    response = gateway_get(fake_cloud, target, "/rest/api/3/serverInfo", token)
    assert response.status_code == 401 and response.json() == {"code": 401, "message": "Unauthorized"}


def test_expire_tokens_ends_them_at_the_gateway(fake_cloud, inst) -> None:
    token = fake_cloud.forge.system_token(inst)
    assert gateway_get(fake_cloud, inst.site, "/rest/api/3/serverInfo", token).status_code == 200
    fake_cloud.forge.expire_tokens(inst)
    assert gateway_get(fake_cloud, inst.site, "/rest/api/3/serverInfo", token).status_code == 401


def test_a_failing_jwks_answers_503(fake_cloud, inst) -> None:
    fake_cloud.forge.jwks_failing = True
    assert requests.get(fake_cloud.forge.jwks_url, timeout=5).status_code == 503


# -- the invoker ------------------------------------------------------------------------------------------------
class Remote:
    """A stand-in remote: answers from a script of (status, body, delay) and records what it received."""

    def __init__(self) -> None:
        self.script: list[tuple[int, Any, float]] = []
        self.default: tuple[int, Any, float] = (200, {"ok": True}, 0.0)
        self.received: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.received.append({"path": request.path, "method": request.method, "headers": dict(request.headers),
                              "body": request.get_data()})
        status, body, delay = self.script.pop(0) if self.script else self.default
        time.sleep(delay)
        if isinstance(body, bytes | str):
            response = Response(body, status=status, content_type="text/html")
        else:
            response = Response(json.dumps(body), status=status, content_type="application/json")
        return response(environ, start_response)


@pytest.fixture
def remote() -> Iterator[tuple[Remote, str]]:
    stand_in = Remote()
    with serve(stand_in) as url:
        yield stand_in, url


def test_events_are_posted_with_a_fit_and_a_system_token(fake_cloud, inst, remote) -> None:
    stand_in, url = remote
    attempts = fake_cloud.forge.invoker(url).lifecycle(inst, wrapped=False)
    assert [a.status for a in attempts] == [200]
    sent = stand_in.received[0]
    assert (sent["path"], sent["method"]) == ("/forge/events/lifecycle", "POST")
    fit = sent["headers"]["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(fit, options={"verify_signature": False})
    assert claims["app"]["installationId"] == inst.installation_id and "siteUrl" not in claims["context"]
    assert sent["headers"]["X-Forge-Oauth-System"] in fake_cloud.forge.issued_tokens()
    assert json.loads(sent["body"])["eventType"] == "avi:forge:installed:app"


def test_events_are_retried_four_times_on_errors_and_timeouts(fake_cloud, inst, remote) -> None:
    stand_in, url = remote
    stand_in.script = [(500, {"e": 1}, 0), (503, "down", 0), (200, {}, 0.6), (429, {}, 0)]
    stand_in.default = (502, {"e": 2}, 0)
    attempts = fake_cloud.forge.invoker(url, event_timeout=0.3).scheduled(inst)
    assert [a.status for a in attempts] == [500, 503, None, 429, 502]  # 1 + 4 retries, then Forge gives up
    assert attempts[2].error == "ReadTimeout"


def test_a_4xx_answer_is_not_retried(fake_cloud, inst, remote) -> None:
    stand_in, url = remote
    stand_in.default = (401, {"error": {"code": "invalid-invocation-token"}}, 0)
    assert [a.status for a in fake_cloud.forge.invoker(url).pre_uninstall(inst)] == [401]


def test_invoke_remote_sends_user_context_and_returns_json(fake_cloud, inst, remote) -> None:
    stand_in, url = remote
    stand_in.default = (201, {"created": 1}, 0)
    assert fake_cloud.forge.invoker(url).invoke_remote(inst, "/forge/api/v1/x", "POST", {"a": 1},
                                                       principal="557058:u") == (201, {"created": 1})
    headers = stand_in.received[0]["headers"]
    claims = jwt.decode(headers["Authorization"].removeprefix("Bearer "), options={"verify_signature": False})
    assert claims["principal"] == "557058:u" and claims["context"]["siteUrl"] == inst.site.base_url
    assert "X-Forge-Oauth-User" in headers and "X-Forge-Oauth-System" in headers


def test_invoke_remote_keeps_the_contracts_limits(fake_cloud, inst, remote) -> None:
    stand_in, url = remote
    invoker = fake_cloud.forge.invoker(url, remote_timeout=0.5)
    with pytest.raises(InvokeRemoteError, match="exceeds"):
        invoker.invoke_remote(inst, "/x", "POST", {"blob": "x" * MAX_REMOTE_REQUEST})
    assert stand_in.received == []  # refused before sending
    stand_in.script = [(200, "<html>not json</html>", 0), (200, {"big": "y" * MAX_REMOTE_RESPONSE}, 0),
                       (200, {}, 1.0)]
    with pytest.raises(InvokeRemoteError, match="not JSON"):
        invoker.invoke_remote(inst, "/x")
    with pytest.raises(InvokeRemoteError, match="larger than"):
        invoker.invoke_remote(inst, "/x")
    with pytest.raises(InvokeRemoteError, match="did not answer"):
        invoker.invoke_remote(inst, "/x")
