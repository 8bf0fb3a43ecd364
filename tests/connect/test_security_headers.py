"""Are our pages kept out of caches and referrers, and framed only by the tenant's own Jira site?"""

from __future__ import annotations

import pytest

from tests.connect.test_page_auth import ADMIN, PAGE, jira, page_token  # noqa: F401  (jira: a fixture)
from tests.support.connect_jira import hs256_token

BASE = "https://dr-app.example.test"
CUSTOM_DOMAIN = "https://jira.acme.example"


@pytest.fixture
def tenant(app, install, jira):  # noqa: F811  (jira: the imported fixture)
    _, body = install(base_url=jira.base_url, displayUrl=CUSTOM_DOMAIN + "/")
    jira.secrets[app.config["APP_KEY"]] = body["sharedSecret"]
    return body


def _context_token(tenant) -> str:
    return hs256_token(tenant["sharedSecret"], iss=tenant["clientKey"], method="GET", url="", base_url=BASE,
                       sub=ADMIN, qsh="context-qsh")


def _frame_ancestors(resp) -> list[str]:
    policy = resp.headers.get("Content-Security-Policy", "")
    directive = next((d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors")), "")
    return directive.split()[1:]


def test_admin_pages_are_no_store_no_referrer_and_framed_by_the_tenant_only(client, tenant) -> None:
    """The iframe page and a page reached by context token: which sites may frame them, and are they cached?"""
    for resp in (client.get(f"{PAGE}?jwt={page_token(tenant)}"),
                 client.get(f"/admin/backups/view?jwt={_context_token(tenant)}")):
        assert resp.status_code == 200 and resp.mimetype == "text/html"
        assert resp.headers["Cache-Control"] == "no-store"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert sorted(_frame_ancestors(resp)) == sorted([tenant["baseUrl"], CUSTOM_DOMAIN])


def test_json_answers_are_no_store(client, tenant) -> None:
    """Browser calls (a fresh context token inside) and health answers must not be cached either."""
    session = client.get("/admin/api/session", headers={"Authorization": f"JWT {_context_token(tenant)}"})
    assert session.status_code == 200 and session.headers["Cache-Control"] == "no-store"
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"


def test_refusal_without_a_verified_tenant_may_only_be_framed_by_jira_cloud(client, tenant) -> None:
    """A 401 page: nobody's tenant is proven, so no tenant site is named; Jira Cloud may still show the words."""
    resp = client.get(PAGE, headers={"Accept": "text/html"})
    assert resp.status_code == 401
    assert resp.headers["Cache-Control"] == "no-store"
    assert set(_frame_ancestors(resp)) == {"https://*.atlassian.net", "https://*.jira.com"}
    forged = hs256_token("guessed-secret-of-sufficient-length-xx", iss=tenant["clientKey"], method="GET",
                         url=BASE + PAGE, base_url=BASE, sub=ADMIN)
    assert tenant["baseUrl"] not in _frame_ancestors(client.get(f"{PAGE}?jwt={forged}"))


def test_disabled_refusal_is_framed_by_the_tenant(app, client, tenant) -> None:
    """The 'app is disabled' words must show inside the tenant's Jira iframe (signature checked first)."""
    from app import tenants

    with app.app_context():
        tenants.set_enabled(tenants.get_by_client_key(tenant["clientKey"]), False)
    resp = client.get(f"{PAGE}?jwt={page_token(tenant)}", headers={"Accept": "text/html"})
    assert resp.status_code == 403
    assert tenant["baseUrl"] in _frame_ancestors(resp)


def test_descriptor_and_static_files_keep_their_caching(client) -> None:
    """Public, token-free answers are not forced to no-store (Jira and browsers may cache them)."""
    assert client.get("/atlassian-connect.json").headers.get("Cache-Control") != "no-store"
    static = client.get("/static/app.css")
    assert static.status_code == 200 and static.headers.get("Cache-Control") != "no-store"
    static.close()


def test_non_tenant_html_page_may_not_be_framed(app, client) -> None:
    """An HTML page that belongs to no tenant gets frame-ancestors 'none'."""
    from flask import render_template_string

    app.add_url_rule("/_probe", "probe", lambda: render_template_string("<p>probe</p>"))
    resp = client.get("/_probe")
    assert _frame_ancestors(resp) == ["'none'"]
