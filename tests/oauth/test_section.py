"""Does the page section tell an administrator where OAuth access stands: not configured (and which settings are
missing), not authorised (and what consent unlocks), authorised (by whom, when, scopes, site), expired or revoked
(with the reason and a re-authorise button)?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import requests
from flask import render_template
from sqlalchemy import update

from app.admin.sections import page_sections
from app.clock import utcnow
from app.extensions import db
from app.oauth.flow import save_grant
from app.oauth.models import OAuthGrant
from app.oauth.tokens import REVOKED_REASON, GrantUnusable, TokenProvider, TokenSet
from app.oauth.views import UNLOCKS, section_context
from fakejira import installer
from fakejira.resources.basics import admin_account_id
from tests.oauth.conftest import stored_grant, tenant_of

VOID = {"input", "br", "img", "meta", "link", "hr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


class _Marked(HTMLParser):
    """Elements carrying ``data-testid`` (with their text), plus every tag name seen."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, list[Element]] = {}
        self.tags: list[str] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        element = Element(tag, {k: v or "" for k, v in attrs})
        if "data-testid" in element.attrs:
            self.found.setdefault(element.attrs["data-testid"], []).append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data


def _render(app, site, token: str | None = None) -> _Marked:
    with app.test_request_context():
        html = render_template("admin/_oauth.html", **section_context(tenant_of(site)),
                               context_token=token or "a-context-token")
    parsed = _Marked()
    parsed.feed(html)
    return parsed


def _one(page: _Marked, testid: str) -> Element:
    assert len(page.found.get(testid, [])) == 1, f"one {testid} expected, found {page.found.get(testid)}"
    return page.found[testid][0]


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_is_the_section_wired_into_the_page(app) -> None:
    with app.app_context():
        [section] = [s for s in page_sections() if s.key == "oauth"]
    assert section.template == "admin/_oauth.html" and section.context is section_context


def test_without_client_settings_it_names_what_is_missing(live_app, source_site) -> None:
    live_app.config.update(ATLASSIAN_OAUTH_CLIENT_ID="", ATLASSIAN_OAUTH_CLIENT_SECRET="")
    page = _render(live_app, source_site)
    assert _one(page, "oauth-section").attrs["data-oauth-status"] == "not-configured"
    assert [e.text for e in page.found["oauth-missing-setting"]] == [
        "ATLASSIAN_OAUTH_CLIENT_ID", "ATLASSIAN_OAUTH_CLIENT_SECRET"]
    assert "oauth-authorise" not in page.found


def test_not_authorised_offers_the_button_and_says_what_it_unlocks(live_app, source_site, oauth_client) -> None:
    page = _render(live_app, source_site, token="ctx-token-abc")
    assert _one(page, "oauth-section").attrs["data-oauth-status"] == "not-authorised"
    form = _one(page, "oauth-authorise-form")
    assert (form.attrs["method"], form.attrs["action"], form.attrs["target"]) == (
        "post", "/admin/oauth/start", "_blank")
    assert _squash(_one(page, "oauth-authorise").text) == "Authorise full backup and restore"
    hidden = _one(page, "oauth-context-token")  # iframes can't keep cookies: the form carries the context token
    assert (hidden.attrs["type"], hidden.attrs["name"], hidden.attrs["value"]) == ("hidden", "jwt", "ctx-token-abc")
    assert all(item in _one(page, "oauth-unlocks").text for item in UNLOCKS)


def test_authorised_shows_who_when_which_scopes_and_site(authorised, live_app, source_site) -> None:
    page = _render(live_app, source_site)
    assert _one(page, "oauth-section").attrs["data-oauth-status"] == "authorised"
    assert _one(page, "oauth-account").text == authorised.admin
    assert _one(page, "oauth-site").text == source_site.base_url
    assert "manage:jira-configuration" in _one(page, "oauth-scopes").text
    assert _one(page, "oauth-when").text.startswith(utcnow().strftime("%Y-%m-%d"))
    assert _one(page, "oauth-revoke-form").attrs["action"] == "/admin/oauth/revoke"
    assert "oauth-authorise" not in page.found


def test_revoked_shows_the_reason_and_a_re_authorise_button(authorised, live_app, fake_cloud, source_site) -> None:
    fake_cloud.oauth.revoke_grant(live_app.config["ATLASSIAN_OAUTH_CLIENT_ID"], authorised.admin)
    grant_id = stored_grant(live_app, source_site).id
    with live_app.app_context():
        db.session.execute(update(OAuthGrant).values(access_expires_at=utcnow()))
        db.session.commit()
        with pytest.raises(GrantUnusable):
            TokenProvider(grant_id).token()
    page = _render(live_app, source_site)
    assert _one(page, "oauth-section").attrs["data-oauth-status"] == "revoked"
    assert _squash(_one(page, "oauth-problem").text) == REVOKED_REASON
    assert _squash(_one(page, "oauth-authorise").text) == "Re-authorise full backup and restore"
    assert _one(page, "oauth-authorise-form").attrs["target"] == "_blank"


def test_an_access_token_past_expiry_without_refresh_token_shows_expired(live_app, fake_cloud, source_site,
                                                                        oauth_client) -> None:
    issued = fake_cloud.oauth.issue_tokens(oauth_client.client_id, "557058:admin", [source_site],
                                           ["manage:jira-configuration"])
    with live_app.app_context():
        save_grant(tenant_of(source_site), "557058:admin", source_site.cloud_id, source_site.base_url,
                   TokenSet(issued["access_token"], None, 3600, ("manage:jira-configuration",)))
        db.session.execute(update(OAuthGrant).values(access_expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    page = _render(live_app, source_site)
    assert _one(page, "oauth-section").attrs["data-oauth-status"] == "expired"
    assert _squash(_one(page, "oauth-authorise").text) == "Re-authorise full backup and restore"


def test_hostile_values_are_escaped(live_app, fake_cloud, source_site, oauth_client) -> None:
    hostile = '<script>alert("x")</script>'
    issued = fake_cloud.oauth.issue_tokens(oauth_client.client_id, "557058:admin", [source_site],
                                           ["manage:jira-configuration", "offline_access"])
    with live_app.app_context():
        save_grant(tenant_of(source_site), hostile, source_site.cloud_id, source_site.base_url + "/" + hostile,
                   TokenSet(issued["access_token"], issued["refresh_token"], 3600, (hostile,)))
    page = _render(live_app, source_site)
    assert _one(page, "oauth-account").text == hostile
    assert "script" not in page.tags


def test_the_disaster_recovery_page_includes_the_section(live_app, source_site, oauth_client) -> None:
    url = installer.sign_iframe_url(source_site, live_app.config["APP_KEY"], "/admin/recovery",
                                    admin_account_id(source_site))
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    page = _Marked()
    page.feed(response.text)
    assert _one(page, "oauth-section").attrs["data-oauth-status"] == "not-authorised"
    assert _one(page, "oauth-context-token").attrs["value"], "the page's context token reaches the section's form"
