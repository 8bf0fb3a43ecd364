"""Forge Invocation Token verification: every way a FIT can be wrong is a 401 that changes nothing in the database."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.forge.installations import ForgeInstallation
from app.forge.tokens import ForgeToken
from app.tenants import Tenant
from fakejira.cloud import Cloud
from fakejira.forge import DELETE, ForgeInstall

LIFECYCLE = "/forge/events/lifecycle"


def post(app: Flask, path: str, authorization: str | None, *, token: str | None = None,
         body: Any = None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    if token:
        headers["x-forge-oauth-system"] = token
    return requests.post(app.config["BASE_URL"] + path, data=json.dumps(body or {}), headers=headers, timeout=10)


def row_counts(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]
                     for model in (Tenant, ForgeInstallation, ForgeToken))


@pytest.fixture
def inst(forge_app: Flask, fake_cloud: Cloud) -> ForgeInstall:
    """An installation Forge knows of, whose events have not reached the app yet."""
    return fake_cloud.forge.install(fake_cloud.add_site("fit"))


BAD_KINDS = {
    "wrong-aud": "is for another app",
    "wrong-iss": "issuer is not 'forge/invocation-token'",
    "expired": "has expired",
    "not-yet-valid": "not valid yet",
    "unknown-kid": "is not one of Forge's keys",
    "other-key": "signature does not verify",
    "alg-none": "signed with RS256, got alg 'none'",
    "hs256": "signed with RS256, got alg 'HS256'",
}


@pytest.mark.parametrize("kind", sorted(BAD_KINDS))
def test_a_bad_fit_is_refused_with_401_and_changes_nothing(forge_app, fake_cloud, inst, kind) -> None:
    """Can a FIT that is wrong in one way (audience, issuer, time, key, algorithm) install anything?"""
    fit = fake_cloud.forge.bad_fit(inst, kind)
    response = post(forge_app, LIFECYCLE, f"Bearer {fit}", token=fake_cloud.forge.system_token(inst))
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid-invocation-token"
    assert BAD_KINDS[kind] in error["message"]
    assert row_counts(forge_app) == (0, 0, 0)


BAD_CLAIMS = [
    ({"app": DELETE}, "lacks the 'app' claim"),
    ({"app.installationId": 42}, "'app.installationId' claim must be a string"),
    ({"app.installationId": ""}, "'app.installationId' claim must be a string"),
    ({"app.installationId": "x" * 300}, "'app.installationId' claim must be a string"),
    ({"app.id": "ari:cloud:ecosystem::app/someone-else"}, "'app.id' is not"),
    ({"app.environment": DELETE}, "'app.environment.id' claim must be a string"),
    ({"app.environment.type": ["PRODUCTION"]}, "'app.environment.type' claim must be a string"),
    ({"app.apiBaseUrl": DELETE}, "'app.apiBaseUrl' claim must be a string"),
    ({"app.apiBaseUrl": "https://api.atlassian.com/ex/jira/0f4c"}, "'app.apiBaseUrl' must be"),
    ({"app.apiBaseUrl": "https://evil.example/ex/jira/0f4c"}, "'app.apiBaseUrl' must be"),
    ({"app.apiBaseUrl": "GATEWAY/ex/jira/../../steal"}, "'app.apiBaseUrl' must be"),
    ({"app.apiBaseUrl": "GATEWAY/ex/confluence/abc"}, "'app.apiBaseUrl' must be"),
    ({"context": "not an object"}, "'context' claim must be an object"),
    ({"context.cloudId": "another-cloud"}, "'context.cloudId' does not match"),
    ({"context.siteUrl": "javascript:alert(1)"}, "'context.siteUrl' must be an http(s) URL"),
    ({"principal": {"accountId": "x"}}, "'principal' claim must be an accountId"),
    ({"exp": DELETE}, "lacks the 'exp' claim"),
    ({"aud": DELETE}, "lacks the 'aud' claim"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_CLAIMS, ids=[next(iter(o)) + "-" + str(i)
                                                                     for i, (o, _m) in enumerate(BAD_CLAIMS)])
def test_a_validly_signed_fit_with_wrong_claims_is_refused(forge_app, fake_cloud, inst, overrides, message) -> None:
    """Does a correctly signed FIT whose claims are missing, mistyped or pointing elsewhere get through?"""
    gateway = fake_cloud.platform_url
    overrides = {k: (v.replace("GATEWAY", gateway) if isinstance(v, str) else v) for k, v in overrides.items()}
    fit = fake_cloud.forge.mint_fit(inst, **overrides)
    response = post(forge_app, LIFECYCLE, f"Bearer {fit}")
    assert response.status_code == 401, response.text
    assert message in response.json()["error"]["message"]
    assert row_counts(forge_app) == (0, 0, 0)


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer  ", "JWT abc.def.ghi", "Basic dXNlcjpwYXNz",
                                           "Bearer not-a-jwt", "Bearer " + "a" * 20000])
def test_missing_or_malformed_authorization_is_401(forge_app, inst, authorization) -> None:
    response = post(forge_app, LIFECYCLE, authorization)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid-invocation-token"
    assert row_counts(forge_app) == (0, 0, 0)


@pytest.mark.parametrize("kid", ["<script>", "k" * 129, "", "kid with spaces", "\u00e9t\u00e9"])
def test_a_badly_shaped_kid_is_refused_before_any_jwks_fetch(forge_app, fake_cloud, inst, kid) -> None:
    """Can a stranger make us fetch the JWKS (or anything) by putting junk in the kid?"""
    fit = fake_cloud.forge.mint_fit(inst, kid=kid, signing_key=fake_cloud.forge.keys[fake_cloud.forge.kid])
    response = post(forge_app, LIFECYCLE, f"Bearer {fit}")
    assert response.status_code == 401
    assert "no usable 'kid'" in response.json()["error"]["message"]
    assert fake_cloud.forge.jwks_fetches == 0


def test_unknown_kids_refetch_the_jwks_at_most_once_a_minute(forge_app, fake_cloud, inst) -> None:
    """Does a flood of FITs with unknown kids turn into a flood of JWKS fetches?"""
    forge = fake_cloud.forge
    assert post(forge_app, "/forge/events/hourly", f"Bearer {forge.mint_fit(inst)}").status_code == 200
    assert forge.jwks_fetches == 1
    for _ in range(5):
        assert post(forge_app, LIFECYCLE, f"Bearer {forge.bad_fit(inst, 'unknown-kid')}").status_code == 401
    assert forge.jwks_fetches == 1  # the first fetch was under a minute ago
    # Forge rotates its key: within the minute the new kid is unknown; after it, one refetch finds it.
    forge.rotate_key()
    assert post(forge_app, "/forge/events/hourly", f"Bearer {forge.mint_fit(inst)}").status_code == 401
    with forge_app.app_context():
        forge_app.extensions["forge_jwks"]._last_fetch -= 61
    assert post(forge_app, "/forge/events/hourly", f"Bearer {forge.mint_fit(inst)}").status_code == 200
    assert forge.jwks_fetches == 2


def test_a_jwks_outage_is_a_503_json_never_a_500(forge_app, fake_cloud, inst) -> None:
    """If Forge's key endpoint is down, does the caller get a retryable answer and the database stay untouched?"""
    fake_cloud.forge.jwks_failing = True
    response = post(forge_app, LIFECYCLE, f"Bearer {fake_cloud.forge.mint_fit(inst)}",
                    token=fake_cloud.forge.system_token(inst))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "jwks-unavailable"
    assert row_counts(forge_app) == (0, 0, 0)
    fake_cloud.forge.jwks_failing = False
    with forge_app.app_context():
        forge_app.extensions["forge_jwks"]._last_failure -= 10  # the short back-off after a failure has passed
    assert post(forge_app, LIFECYCLE, f"Bearer {fake_cloud.forge.mint_fit(inst)}").status_code == 200


@pytest.mark.parametrize(("seconds_ago", "status"), [(10, 200), (60, 401)])
def test_expiry_allows_the_configured_leeway(forge_app, fake_cloud, inst, seconds_ago, status) -> None:
    """A FIT that expired a few seconds ago (clock skew) passes; one past the 30 s leeway doesn't."""
    now = int(time.time())
    fit = fake_cloud.forge.mint_fit(inst, iat=now - 300, nbf=now - 300, exp=now - seconds_ago)
    assert post(forge_app, "/forge/events/hourly", f"Bearer {fit}").status_code == status


def test_the_forge_door_is_closed_without_an_app_id(forge_app, fake_cloud, inst) -> None:
    """With FORGE_APP_ID unset, does every /forge route answer 404 JSON, even with a valid FIT?"""
    forge_app.config["FORGE_APP_ID"] = ""
    for path in (LIFECYCLE, "/forge/events/hourly", "/forge/events/pre-uninstall", "/forge/api/v1/anything"):
        response = post(forge_app, path, f"Bearer {fake_cloud.forge.mint_fit(inst)}")
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "forge-not-configured", "message": "Forge is not configured"}}
    assert fake_cloud.forge.jwks_fetches == 0
    assert row_counts(forge_app) == (0, 0, 0)


def test_unknown_forge_paths_and_methods_answer_json(forge_app, fake_cloud, inst) -> None:
    response = requests.get(forge_app.config["BASE_URL"] + LIFECYCLE, timeout=10)
    assert response.status_code == 405 and response.json()["error"]["code"] == "method-not-allowed"
    response = requests.get(forge_app.config["BASE_URL"] + "/forge/nothing-here", timeout=10)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not-found"


def test_a_valid_fit_names_the_installation_environment_and_user(forge_app, fake_cloud, inst) -> None:
    """What the app reads from a verified FIT is exactly what Forge signed."""
    from app.forge.fit import verify_fit

    fit = fake_cloud.forge.mint_fit(inst, principal="557058:someone", module_key="admin-page")
    with forge_app.test_request_context():
        invocation = verify_fit(fit)
    assert (invocation.installation_id, invocation.app_id, invocation.environment_id,
            invocation.environment_type) == (inst.installation_id, fake_cloud.forge.app_id, inst.environment_id,
                                             "PRODUCTION")
    assert (invocation.api_base_url, invocation.cloud_id, invocation.module_key, invocation.site_url,
            invocation.principal) == (inst.api_base_url, inst.cloud_id, "admin-page", inst.site.base_url,
                                      "557058:someone")
