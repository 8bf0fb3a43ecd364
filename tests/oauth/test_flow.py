"""Can an administrator authorise the app through Atlassian's authorization-code flow, and does every way the
callback can be misused (wrong, replayed or expired state, a replayed code, another site, a declined or useless
consent) store nothing?"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from app.clock import utcnow
from app.extensions import db
from app.oauth.flow import FALLBACK_SCOPES, OFFLINE_ACCESS, grant_for, requested_scopes
from app.oauth.models import GrantState, OAuthGrant, OAuthPendingState
from app.oauth.tokens import GrantUnusable, TokenProvider
from app.tenant_access import jira_access
from fakejira import installer
from tests.oauth.conftest import outcome, query_of, stored_grant, tenant_of, with_query

STATUSES = "/rest/api/3/statuses/search"


def test_the_full_flow_stores_an_encrypted_grant_for_the_tenants_own_site(browser, live_app, fake_cloud,
                                                                        source_site) -> None:
    authorize_url = browser.authorize_url()
    query = query_of(authorize_url)
    assert authorize_url.startswith(fake_cloud.platform_url + "/authorize?")
    assert query["audience"] == "api.atlassian.com" and query["response_type"] == "code"
    assert query["prompt"] == "consent" and query["client_id"] == live_app.config["ATLASSIAN_OAUTH_CLIENT_ID"]
    assert query["redirect_uri"] == live_app.config["BASE_URL"] + "/oauth/callback"
    with live_app.app_context():
        assert query["scope"].split() == requested_scopes()
    assert OFFLINE_ACCESS in query["scope"].split()

    response = browser.callback(browser.consent(authorize_url))

    assert response.status_code == 200 and outcome(response) == "authorised"
    assert response.headers["Cache-Control"] == "no-store"
    with live_app.app_context():
        tenant = tenant_of(source_site)
        grant = grant_for(tenant)
        assert grant is not None and grant.grant_state is GrantState.ACTIVE
        assert (grant.cloud_id, grant.site_url, grant.account_id) == (
            source_site.cloud_id, source_site.base_url, browser.admin)
        assert grant.scope_set == set(query["scope"].split())
        access, refresh = grant.access_token, grant.refresh_token
        assert access and refresh
        # Encrypted at rest: the stored columns never hold the tokens themselves.
        assert access not in grant.access_token_enc and refresh not in (grant.refresh_token_enc or "")
        assert fake_cloud.oauth.lookup_access_token(access) is not None
        pending = db.session.scalars(select(OAuthPendingState)).one()
        assert pending.used_at is not None and pending.state_hash != query["state"]
        assert (pending.tenant_id, pending.account_id) == (tenant.id, browser.admin)


def test_the_requested_scopes_cover_every_declared_operation_connect_cannot_call(app) -> None:
    with app.app_context():
        requested = set(requested_scopes())
    inaccessible = [op for op in app.extensions["wiring"].operations if not op.connect_allowed]
    assert inaccessible, "the flow's own probe is declared"
    for op in inaccessible:
        assert op.oauth_scopes <= requested, f"{op.method} {op.template} needs {sorted(op.oauth_scopes)}"
    needed = set().union(*(op.oauth_scopes for op in inaccessible)) or set(FALLBACK_SCOPES)
    assert requested == needed | {OFFLINE_ACCESS}, "nothing beyond what those operations need"


def _expire_pending(live_app) -> None:
    with live_app.app_context():
        db.session.execute(update(OAuthPendingState).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


@pytest.mark.parametrize("tamper", ["missing", "unknown", "altered", "expired"])
def test_a_callback_whose_state_we_did_not_issue_stores_nothing(browser, live_app, source_site, tamper) -> None:
    location = browser.consent(browser.authorize_url())
    state = query_of(location)["state"]
    if tamper == "expired":
        _expire_pending(live_app)
    else:
        location = with_query(location, state={"missing": None, "unknown": "x" * 43,
                                               "altered": state[:-1] + ("A" if state[-1] != "A" else "B")}[tamper])
    response = browser.callback(location)
    assert response.status_code == 400 and outcome(response) == "state-invalid"
    assert stored_grant(live_app, source_site) is None


def test_a_replayed_callback_is_refused_and_changes_nothing(authorised, live_app, source_site) -> None:
    before = stored_grant(live_app, source_site)
    location = authorised.consent(authorised.authorize_url())
    assert outcome(authorised.callback(location)) == "authorised"
    after_first = stored_grant(live_app, source_site)
    again = authorised.callback(location)
    assert again.status_code == 400 and outcome(again) == "state-invalid"
    now = stored_grant(live_app, source_site)
    assert after_first.version == before.version + 1 and now.version == after_first.version
    assert now.access_token_enc == after_first.access_token_enc


def test_a_replayed_code_under_a_fresh_state_is_refused_and_changes_nothing(authorised, live_app,
                                                                           source_site) -> None:
    used = authorised.consent(authorised.authorize_url())
    assert outcome(authorised.callback(used)) == "authorised"
    before = stored_grant(live_app, source_site)
    fresh = authorised.consent(authorised.authorize_url())
    replay = with_query(fresh, code=query_of(used)["code"])
    response = authorised.callback(replay)
    assert response.status_code == 400 and outcome(response) == "code-refused"
    assert stored_grant(live_app, source_site).version == before.version


def test_consent_for_another_site_is_refused_with_a_clear_message(browser, live_app, fake_cloud,
                                                                  source_site) -> None:
    other = fake_cloud.add_site("other")
    response = browser.callback(browser.consent(browser.authorize_url(), None, other))
    assert response.status_code == 400 and outcome(response) == "wrong-site"
    assert f"Access was granted to {other.base_url}, not to {source_site.base_url}" in response.text
    assert stored_grant(live_app, source_site) is None
    assert not other.calls.find(template=STATUSES), "the other site's cloudId is never used"


@pytest.mark.parametrize(("consent", "expected"), [
    ({"deny": True}, "denied"),
    ({"account": "557058:not-an-admin"}, "not-admin"),
    ({"scopes": [OFFLINE_ACCESS]}, "scope-missing"),
])
def test_a_consent_that_cannot_do_the_job_stores_nothing(browser, live_app, source_site, consent, expected) -> None:
    location = browser.consent(browser.authorize_url(), consent.pop("account", None), **consent)
    response = browser.callback(location)
    assert response.status_code == 400 and outcome(response) == expected
    assert stored_grant(live_app, source_site) is None


@pytest.mark.parametrize(("who", "status"), [("nobody", 401), ("not-admin", 403)])
def test_only_an_administrator_with_a_context_token_can_start(browser, live_app, who, status) -> None:
    if who == "nobody":
        response = requests.post(live_app.config["BASE_URL"] + "/admin/oauth/start", allow_redirects=False,
                                 timeout=10)
    else:
        response = browser.start("557058:not-an-admin")
    assert response.status_code == status and "Location" not in response.headers
    with live_app.app_context():
        assert db.session.scalars(select(OAuthPendingState)).first() is None


def test_start_without_client_settings_names_what_is_missing(browser, live_app) -> None:
    live_app.config.update(ATLASSIAN_OAUTH_CLIENT_ID="", ATLASSIAN_OAUTH_CLIENT_SECRET="")
    response = browser.start()
    assert response.status_code == 409 and outcome(response) == "not-configured"
    assert "ATLASSIAN_OAUTH_CLIENT_ID, ATLASSIAN_OAUTH_CLIENT_SECRET" in response.text


def test_the_flow_also_answers_with_json_for_fetch_callers(browser, live_app, fake_cloud) -> None:
    token = installer.context_token(browser.site, live_app.config["APP_KEY"], browser.admin)
    response = requests.post(live_app.config["BASE_URL"] + "/admin/oauth/start", timeout=10,
                             headers={"Authorization": f"JWT {token}", "Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["authorizeUrl"].startswith(fake_cloud.platform_url + "/authorize?")


def test_tokens_never_reach_a_log_line_or_a_page(browser, live_app, fake_cloud, source_site, caplog) -> None:
    """Codes, access and refresh tokens and the client secret: in no log record of the app, its server, or its
    outgoing HTTP (only the browser stand-in's own urllib3 log may show the callback URL it opened)."""
    caplog.set_level(logging.DEBUG)
    pages = []
    response, location = browser.authorise()
    pages += [response.text, browser.callback(location).text]  # a replay's refusal too
    with live_app.app_context():
        tenant = tenant_of(source_site)
        grant_id = grant_for(tenant).id
        db.session.execute(update(OAuthGrant).values(access_expires_at=utcnow()))
        db.session.commit()
        jira_access(tenant).call(_statuses())  # refreshes (rotates) then calls through the gateway
        fake_cloud.oauth.revoke_grant(live_app.config["ATLASSIAN_OAUTH_CLIENT_ID"], browser.admin)
        db.session.execute(update(OAuthGrant).values(access_expires_at=utcnow()))
        db.session.commit()
        with pytest.raises(GrantUnusable) as refused:
            TokenProvider(grant_id).token()
        pages.append(str(refused.value))
    secrets_seen = [*fake_cloud.oauth._access, *fake_cloud.oauth._refresh, *fake_cloud.oauth._codes,
                    live_app.config["ATLASSIAN_OAUTH_CLIENT_SECRET"]]
    assert len(secrets_seen) >= 6
    browser_thread = threading.main_thread().name
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        if record.name.startswith("urllib3") and record.threadName == browser_thread and "/oauth/callback?" in text:
            continue
        leaked = [s for s in secrets_seen if s in text]
        assert not leaked, f"{record.name}: a secret in the log line"
    for page in pages:
        assert not [s for s in secrets_seen if s in page]


def _statuses():
    from app.jira.operations import operation

    return operation("GET", STATUSES)
