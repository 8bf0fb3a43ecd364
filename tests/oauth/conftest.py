"""Fixtures for the OAuth tests: the app's OAuth client registered with the emulated authorization server, and a
browser stand-in that clicks through start -> consent -> callback over real HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from flask import Flask

from app import tenants
from app.oauth.flow import grant_for
from app.oauth.models import OAuthGrant
from fakejira import installer
from fakejira.cloud import Cloud
from fakejira.oauth import OAuthClient
from fakejira.resources.basics import admin_account_id
from fakejira.site import Site


@pytest.fixture
def oauth_client(live_app: Flask, fake_cloud: Cloud) -> OAuthClient:
    """The app's OAuth 2.0 integration, registered at the emulated Atlassian with the app's callback URL."""
    client = fake_cloud.oauth.register_client([live_app.config["BASE_URL"] + "/oauth/callback"], name="DR")
    live_app.config.update(ATLASSIAN_OAUTH_CLIENT_ID=client.client_id, ATLASSIAN_OAUTH_CLIENT_SECRET=client.secret,
                           ATLASSIAN_AUTH_URL=fake_cloud.platform_url, ATLASSIAN_API_URL=fake_cloud.platform_url)
    return client


@dataclass
class Browser:
    """An administrator's browser: opens our start URL, consents at Atlassian, follows the redirect back."""

    app: Flask
    cloud: Cloud
    site: Site

    @property
    def admin(self) -> str:
        return admin_account_id(self.site)

    def start(self, account: str | None = None) -> requests.Response:
        token = installer.context_token(self.site, self.app.config["APP_KEY"], account or self.admin)
        return requests.post(self.app.config["BASE_URL"] + "/admin/oauth/start", data={"jwt": token},
                             allow_redirects=False, timeout=10)

    def authorize_url(self) -> str:
        response = self.start()
        assert response.status_code == 303, response.text
        return response.headers["Location"]

    def consent(self, authorize_url: str, account: str | None = None, *sites: Site, scopes: list[str] | None = None,
                deny: bool = False) -> str:
        """Approve (or deny) at Atlassian; returns the callback URL Atlassian redirects to."""
        self.cloud.oauth.consent_as(account or self.admin, *(sites or (self.site,)), scopes=scopes, deny=deny)
        response = requests.get(authorize_url, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        location = response.headers["Location"]
        assert location.startswith(self.app.config["BASE_URL"] + "/oauth/callback?")
        return location

    def callback(self, location: str) -> requests.Response:
        return requests.get(location, allow_redirects=False, timeout=20)

    def authorise(self, **consent: Any) -> tuple[requests.Response, str]:
        """The whole dance; returns the callback's answer and the callback URL (to replay it)."""
        location = self.consent(self.authorize_url(), **consent)
        return self.callback(location), location


@pytest.fixture
def browser(live_app: Flask, fake_cloud: Cloud, source_site: Site, oauth_client: OAuthClient) -> Browser:
    return Browser(live_app, fake_cloud, source_site)


@pytest.fixture
def authorised(browser: Browser) -> Browser:
    """A tenant whose administrator has completed the flow."""
    response, _ = browser.authorise()
    assert outcome(response) == "authorised", response.text
    return browser


def outcome(response: requests.Response) -> str | None:
    """The result page's stable marker (``data-outcome``)."""
    found = re.search(r'data-outcome="([^"]+)"', response.text)
    return found.group(1) if found else None


def with_query(url: str, **changes: str | None) -> str:
    """``url`` with query parameters replaced (None removes one)."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def tenant_of(site: Site) -> tenants.Tenant:
    """Call inside an app context."""
    tenant = tenants.get_by_client_key(site.client_key)
    assert tenant is not None
    return tenant


def stored_grant(app: Flask, site: Site) -> OAuthGrant | None:
    """The tenant's grant as stored now (read in a fresh app context, detached)."""
    with app.app_context():
        grant = grant_for(tenant_of(site))
        if grant is not None:
            from app.extensions import db

            db.session.expunge(grant)
        return grant
