"""Does the app work with a Jira as strict as the real one: installed by a signed install, opened through a signed
iframe URL, and its calls accepted (JWT, qsh, scope, body checked against Atlassian's spec)?"""

from __future__ import annotations

import requests

from app import tenants
from fakejira import installer
from fakejira.resources.basics import admin_account_id


def test_signed_install_from_emulated_jira_creates_the_tenant(live_app, source_site) -> None:
    with live_app.app_context():
        tenant = tenants.get_by_client_key(source_site.client_key)
        assert tenant is not None and tenant.base_url == source_site.base_url
        inst = source_site.installations[live_app.config["APP_KEY"]]
        assert tenant.shared_secret == inst.shared_secret


def test_reinstall_from_jira_rotates_the_secret(live_app, source_site, install_into) -> None:
    first = source_site.installations[live_app.config["APP_KEY"]].shared_secret
    install_into(source_site)
    second = source_site.installations[live_app.config["APP_KEY"]].shared_secret
    assert first != second
    with live_app.app_context():
        assert tenants.get_by_client_key(source_site.client_key).shared_secret == second


def test_admin_opens_the_page_through_a_signed_iframe_url(live_app, source_site) -> None:
    admin = admin_account_id(source_site)
    url = installer.sign_iframe_url(source_site, live_app.config["APP_KEY"], "/admin/recovery", admin)
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200, resp.text
    assert "Disaster recovery connections" in resp.text
    # The admin check went to Jira, signed by the app, and Jira accepted it.
    checks = [c for c in source_site.calls.find("POST", "/rest/api/3/permissions/check")]
    assert checks and all(c.status == 200 and c.auth_kind == "connect" for c in checks)


def test_non_admin_is_refused_by_the_server(live_app, source_site) -> None:
    url = installer.sign_iframe_url(source_site, live_app.config["APP_KEY"], "/admin/recovery", "some-user")
    assert requests.get(url, timeout=10).status_code == 403


def test_uninstall_from_jira_keeps_the_tenant(live_app, source_site) -> None:
    installer.uninstall_app(source_site, live_app.config["APP_KEY"])
    with live_app.app_context():
        tenant = tenants.get_by_client_key(source_site.client_key)
        assert tenant is not None and not tenant.is_installed
