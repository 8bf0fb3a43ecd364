"""Do access tokens renew themselves, do rotating refresh tokens survive two workers refreshing at once, and does a
grant Atlassian no longer honours end up marked revoked (or expired) with its reason?"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.clock import utcnow
from app.extensions import db
from app.jira.access import AUTHORISE_FIX
from app.jira.errors import NeedsAuthorisation
from app.jira.operations import operation
from app.oauth.flow import grant_for, save_grant
from app.oauth.models import GrantState, OAuthGrant
from app.oauth.tokens import (
    EXPIRED_REASON,
    REVOKED_REASON,
    AuthServerUnavailable,
    GrantNeedsReauthorisation,
    GrantUnusable,
    TokenProvider,
    TokenSet,
)
from app.tenant_access import jira_access
from tests.oauth.conftest import stored_grant, tenant_of

STATUSES = operation("GET", "/rest/api/3/statuses/search")


def _grant_id(app, site) -> int:
    return stored_grant(app, site).id


def _age_access_token(app, cloud) -> None:
    """As if an hour passed: our stored expiry and the emulator's tokens both run out."""
    cloud.oauth.expire_access_tokens()
    with app.app_context():
        db.session.execute(update(OAuthGrant).values(access_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def _token(app, grant_id: int) -> tuple[str, int]:
    with app.app_context():
        return TokenProvider(grant_id).token()


def test_a_valid_access_token_is_used_without_refreshing(authorised, live_app, fake_cloud, source_site) -> None:
    before = stored_grant(live_app, source_site)
    refresh_tokens = len(fake_cloud.oauth._refresh)
    token, version = _token(live_app, before.id)
    with live_app.app_context():
        assert token == db.session.get(OAuthGrant, before.id).access_token
    assert version == before.version and len(fake_cloud.oauth._refresh) == refresh_tokens


def test_an_expired_access_token_is_refreshed_and_the_refresh_token_rotates(authorised, live_app, fake_cloud,
                                                                            source_site) -> None:
    before = stored_grant(live_app, source_site)
    with live_app.app_context():
        old_refresh = db.session.get(OAuthGrant, before.id).refresh_token
    _age_access_token(live_app, fake_cloud)
    token, version = _token(live_app, before.id)
    assert version == before.version + 1 and fake_cloud.oauth.lookup_access_token(token) is not None
    with live_app.app_context():
        grant = db.session.get(OAuthGrant, before.id)
        assert grant.access_token == token and grant.refresh_token != old_refresh
        assert grant.refreshing_until is None and grant.refreshed_at is not None
    assert fake_cloud.oauth._refresh[old_refresh].revoked, "Atlassian killed the old refresh token"


@pytest.mark.parametrize("round_", range(3))
def test_two_workers_refreshing_at_once_keep_the_grant(authorised, live_app, fake_cloud, source_site,
                                                       round_) -> None:
    grant_id = _grant_id(live_app, source_site)
    version = stored_grant(live_app, source_site).version
    _age_access_token(live_app, fake_cloud)
    issued_before = len(fake_cloud.oauth._refresh)
    start = threading.Barrier(2)
    results: list[tuple[str, int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        with live_app.app_context():
            provider = TokenProvider(grant_id, poll=0.01)
            start.wait()
            try:
                results.append(provider.token())
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(results) == 2
    assert results[0] == results[1], "both workers use the one rotated token"
    assert len(fake_cloud.oauth._refresh) == issued_before + 1, "exactly one of them asked Atlassian"
    grant = stored_grant(live_app, source_site)
    assert grant.state == GrantState.ACTIVE and grant.version == version + 1 and grant.refreshing_until is None
    # The refresh token that was kept is the live one: the next refresh works.
    _age_access_token(live_app, fake_cloud)
    assert _token(live_app, grant_id)[1] == version + 2


def test_a_worker_that_finds_the_lease_taken_uses_the_winners_tokens(authorised, live_app, fake_cloud,
                                                                     source_site) -> None:
    grant_id = _grant_id(live_app, source_site)
    version = stored_grant(live_app, source_site).version
    _age_access_token(live_app, fake_cloud)
    with live_app.app_context():
        db.session.execute(update(OAuthGrant).values(refreshing_until=utcnow() + timedelta(seconds=30)))
        db.session.commit()
    waited: list[float] = []

    def winner_finishes(seconds: float) -> None:
        # The first time the loser waits, the winner (the real provider, lease-free) completes its refresh.
        waited.append(seconds)
        if len(waited) == 1:
            with live_app.app_context():
                db.session.execute(update(OAuthGrant).values(refreshing_until=None))
                db.session.commit()
                TokenProvider(grant_id).token()
                db.session.execute(update(OAuthGrant).values(refreshing_until=utcnow() + timedelta(seconds=30)))
                db.session.commit()

    with live_app.app_context():
        token, got = TokenProvider(grant_id, sleep=winner_finishes).token()
    assert waited and got == version + 1
    with live_app.app_context():
        assert db.session.get(OAuthGrant, grant_id).access_token == token


@pytest.mark.parametrize("noticed", ["at refresh time", "by the gateway's 401"])
def test_a_revoked_grant_is_marked_revoked_with_its_reason(authorised, live_app, fake_cloud, source_site,
                                                           noticed) -> None:
    grant_id = _grant_id(live_app, source_site)
    with live_app.app_context():
        built_before = jira_access(tenant_of(source_site))  # a job that started before the revocation
    fake_cloud.oauth.revoke_grant(live_app.config["ATLASSIAN_OAUTH_CLIENT_ID"], authorised.admin)
    if noticed == "at refresh time":
        _age_access_token(live_app, fake_cloud)
    with live_app.app_context(), pytest.raises(GrantNeedsReauthorisation) as raised:
        built_before.call(STATUSES)
    assert isinstance(raised.value, NeedsAuthorisation)
    assert (raised.value.method, raised.value.path) == ("GET", STATUSES.template)
    assert raised.value.fix == f"{AUTHORISE_FIX} ({REVOKED_REASON})"
    grant = stored_grant(live_app, source_site)
    assert (grant.state, grant.reason) == (GrantState.REVOKED, REVOKED_REASON)
    assert grant.access_token_enc is None and grant.refresh_token_enc is None
    with live_app.app_context(), pytest.raises(GrantUnusable):
        TokenProvider(grant_id).token()


def test_an_access_token_revoked_early_is_renewed_once_and_the_call_goes_through(authorised, live_app, fake_cloud,
                                                                                  source_site) -> None:
    with live_app.app_context():
        fake_cloud.oauth.revoke(db.session.get(OAuthGrant, _grant_id(live_app, source_site)).access_token)
        version = stored_grant(live_app, source_site).version
        source_site.calls.clear()
        page = jira_access(tenant_of(source_site)).call(STATUSES)
    assert page["values"]
    statuses = [c.status for c in source_site.calls.find(template=STATUSES.template)]
    assert statuses == [401, 200]
    assert stored_grant(live_app, source_site).version == version + 1


def test_a_grant_without_a_refresh_token_expires(live_app, fake_cloud, source_site, oauth_client) -> None:
    issued = fake_cloud.oauth.issue_tokens(oauth_client.client_id, "557058:admin", [source_site],
                                           ["manage:jira-configuration"])  # no offline_access: no refresh token
    with live_app.app_context():
        grant = save_grant(tenant_of(source_site), "557058:admin", source_site.cloud_id, source_site.base_url,
                           TokenSet(issued["access_token"], None, 3600, ("manage:jira-configuration",)))
        grant_id = grant.id
    _age_access_token(live_app, fake_cloud)
    with live_app.app_context(), pytest.raises(GrantUnusable) as raised:
        TokenProvider(grant_id).token()
    assert raised.value.reason == EXPIRED_REASON
    assert stored_grant(live_app, source_site).state == GrantState.EXPIRED
    with live_app.app_context(), pytest.raises(NeedsAuthorisation):
        jira_access(tenant_of(source_site)).call(STATUSES)


def test_an_unreachable_authorization_server_leaves_the_grant_usable_later(authorised, live_app, fake_cloud,
                                                                            source_site) -> None:
    grant_id = _grant_id(live_app, source_site)
    _age_access_token(live_app, fake_cloud)
    platform = live_app.config["ATLASSIAN_AUTH_URL"]
    live_app.config["ATLASSIAN_AUTH_URL"] = "http://127.0.0.1:9"
    with pytest.raises(AuthServerUnavailable):
        _token(live_app, grant_id)
    grant = stored_grant(live_app, source_site)
    assert grant.state == GrantState.ACTIVE and grant.refreshing_until is None, "the lease is released"
    live_app.config["ATLASSIAN_AUTH_URL"] = platform
    assert _token(live_app, grant_id)[1] == grant.version + 1


def test_a_re_authorisation_replaces_the_grant_in_place(authorised, live_app, source_site) -> None:
    first = stored_grant(live_app, source_site)
    response, _ = authorised.authorise()
    assert response.status_code == 200
    second = stored_grant(live_app, source_site)
    assert second.id == first.id and second.version == first.version + 1
    with live_app.app_context():
        assert grant_for(tenant_of(source_site)).refresh_token
