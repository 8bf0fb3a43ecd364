"""Who may open the admin page or call its browser endpoints? Only Jira-signed, request-bound, unexpired tokens
of an installed tenant, from a user Jira confirms is an administrator."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.support.connect_jira import hs256_token
from tests.support.jira_stub import jira_stub

BASE = "https://dr-app.example.test"
PAGE = "/admin/recovery"
API = "/admin/api/session"
ADMIN = "5b10a2844c20165700ede21g"
PERM = "/rest/api/3/permissions/check"


@pytest.fixture
def jira():
    with jira_stub() as stub:
        stub.on("POST", PERM, (200, lambda req: {
            "globalPermissions": ["ADMINISTER"] if req.get_json()["accountId"] == ADMIN else [],
            "projectPermissions": []}))
        yield stub


@pytest.fixture
def tenant(app, install, jira):
    _, body = install(base_url=jira.base_url)
    jira.secrets[app.config["APP_KEY"]] = body["sharedSecret"]
    return body


def page_token(tenant, path=PAGE, query="", **kw):
    url = BASE + path + (f"?{query}" if query else "")
    kw.setdefault("sub", ADMIN)
    return hs256_token(tenant["sharedSecret"], iss=tenant["clientKey"], method="GET", url=url, base_url=BASE, **kw)


def test_valid_page_load_renders_and_mints_context_token(client, tenant) -> None:
    query = "xdm_e=https%3A%2F%2Facme.atlassian.net&cp=&lic=none&cv=1001.0.0"
    token = page_token(tenant, query=query)
    resp = client.get(f"{PAGE}?{query}&jwt={token}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Disaster recovery connections" in html


def test_context_token_from_page_works_on_browser_endpoint(app, client, tenant) -> None:
    from app.connect import tenants
    from app.connect.auth import ConnectContext, mint_context_token

    with app.app_context():
        ctx = ConnectContext(tenants.get_by_client_key(tenant["clientKey"]), ADMIN, "request", {})
        token = mint_context_token(ctx)
    resp = client.get(API, headers={"Authorization": f"JWT {token}"})
    assert resp.status_code == 200
    assert resp.get_json()["accountId"] == ADMIN
    # Jira's own AP.context.getToken() tokens are accepted too.
    jira_ctx = hs256_token(tenant["sharedSecret"], iss=tenant["clientKey"], method="GET", url="", base_url=BASE,
                           sub=ADMIN, qsh="context-qsh")
    assert client.get(API, headers={"Authorization": f"JWT {jira_ctx}"}).status_code == 200


def _bad_page_tokens(tenant):
    now = int(time.time())
    claims = {"iss": tenant["clientKey"], "iat": now, "exp": now + 60, "sub": ADMIN,
              "qsh": jwt.decode(page_token(tenant), options={"verify_signature": False})["qsh"]}
    good = page_token(tenant)
    head, body, sig = good.split(".")
    return {
        "wrong qsh": page_token(tenant, path="/admin/other"),
        "expired": page_token(tenant, now=now - 3600),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "HS512": jwt.encode(claims, tenant["sharedSecret"], algorithm="HS512"),
        "unknown clientKey": jwt.encode(dict(claims, iss="not-installed"), tenant["sharedSecret"],
                                        algorithm="HS256"),
        "tampered signature": f"{head}.{body}.{sig[:-4]}AAAA",
        "tampered claims": jwt.encode(dict(claims, sub="attacker"), "guessed-secret-of-sufficient-length!",
                                      algorithm="HS256"),
        "context token on a page": hs256_token(tenant["sharedSecret"], iss=tenant["clientKey"], method="GET",
                                               url="", base_url=BASE, sub=ADMIN, qsh="context-qsh"),
        "no exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, tenant["sharedSecret"],
                             algorithm="HS256"),
        "garbage": "abc.def",
    }


@pytest.mark.filterwarnings("ignore:The HMAC key")
@pytest.mark.parametrize("case", ["wrong qsh", "expired", "alg none", "HS512", "unknown clientKey",
                                  "tampered signature", "tampered claims", "context token on a page", "no exp",
                                  "garbage"])
def test_bad_page_token_is_401(client, tenant, case) -> None:
    token = _bad_page_tokens(tenant)[case]
    resp = client.get(f"{PAGE}?jwt={token}", headers={"Accept": "text/html"})
    assert resp.status_code == 401
    assert b"couldn't open this page" in resp.data


def test_no_token_is_401(client, tenant) -> None:
    assert client.get(PAGE).status_code == 401


def test_request_bound_token_is_refused_on_browser_endpoint(client, tenant) -> None:
    """The reverse trap: a page-load JWT (real qsh) is not a context token."""
    token = page_token(tenant, path=API)
    assert client.get(API, headers={"Authorization": f"JWT {token}"}).status_code == 401


def test_non_admin_is_403_and_admin_answer_is_cached(client, tenant, jira) -> None:
    resp = client.get(f"{PAGE}?jwt={page_token(tenant, sub='someone-else')}")
    assert resp.status_code == 403
    for _ in range(3):
        assert client.get(f"{PAGE}?jwt={page_token(tenant)}").status_code == 200
    checks = [r for r in jira.received if r.path == PERM]
    assert len(checks) == 2  # one per user; the admin's answer was cached
    assert all(r.auth_error is None for r in checks)  # our calls to Jira verified independently
    assert checks[-1].body == {"accountId": ADMIN, "globalPermissions": ["ADMINISTER"]}


def test_page_without_user_is_403(client, tenant) -> None:
    token = hs256_token(tenant["sharedSecret"], iss=tenant["clientKey"], method="GET", url=BASE + PAGE,
                        base_url=BASE)
    assert client.get(f"{PAGE}?jwt={token}").status_code == 403


def test_admin_check_failing_refuses(client, tenant, jira) -> None:
    jira.on("POST", PERM, (500, {"errorMessages": ["boom"]}))
    resp = client.get(f"{PAGE}?jwt={page_token(tenant)}")
    assert resp.status_code == 403
    assert b"Could not confirm" in resp.data


def test_uninstalled_tenant_tokens_are_refused(app, client, tenant) -> None:
    from app.connect import tenants

    with app.app_context():
        tenants.mark_uninstalled(tenants.get_by_client_key(tenant["clientKey"]))
    assert client.get(f"{PAGE}?jwt={page_token(tenant)}").status_code == 401
