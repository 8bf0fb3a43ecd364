"""Does ``jira_access(tenant)`` pick, per operation, the Connect JWT where Connect may call it and the OAuth grant
where it can't, and give callers a typed 'needs authorisation' error with its fix when neither can?"""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
import requests

from app.jira.access import AUTHORISE_FIX
from app.jira.errors import NeedsAuthorisation
from app.jira.operations import operation
from app.oauth.models import GrantState
from app.tenant_access import jira_access
from fakejira import installer
from tests.oauth.conftest import stored_grant, tenant_of

STATUSES = operation("GET", "/rest/api/3/statuses/search")  # INACCESSIBLE to Connect
PRIORITIES = operation("GET", "/rest/api/3/priority/search")  # READ


def _auth_kinds(site) -> dict[str, set[str]]:
    return {template: {c.auth_kind for c in site.calls.find(template=template) if c.status == 200}
            for template in (STATUSES.template, PRIORITIES.template)}


def test_with_a_grant_each_operation_goes_through_the_credential_allowed_to_call_it(authorised, live_app,
                                                                                     source_site) -> None:
    source_site.calls.clear()
    with live_app.app_context():
        access = jira_access(tenant_of(source_site))
        assert [c.name for c in access.credentials] == ["connect", "oauth"]
        statuses = access.call(STATUSES)
        priorities = access.call(PRIORITIES)
    assert statuses["values"] and priorities["values"]
    assert _auth_kinds(source_site) == {STATUSES.template: {"oauth"}, PRIORITIES.template: {"connect"}}


def test_without_a_grant_connect_still_works_and_the_rest_needs_authorisation(live_app, source_site) -> None:
    with live_app.app_context():
        access = jira_access(tenant_of(source_site))
        assert access.call(PRIORITIES)["values"]
        assert not access.can_call(STATUSES)
        with pytest.raises(NeedsAuthorisation) as raised:
            access.call(STATUSES)
    assert (raised.value.method, raised.value.path, raised.value.fix) == ("GET", STATUSES.template, AUTHORISE_FIX)
    assert not source_site.calls.find(template=STATUSES.template), "nothing was sent that Jira would refuse"


def test_a_grant_is_unused_while_the_oauth_client_is_not_configured(authorised, live_app, source_site) -> None:
    live_app.config["ATLASSIAN_OAUTH_CLIENT_SECRET"] = ""
    with live_app.app_context():
        access = jira_access(tenant_of(source_site))
        assert [c.name for c in access.credentials] == ["connect"]
        with pytest.raises(NeedsAuthorisation):
            access.call(STATUSES)


def test_removing_access_from_the_page_erases_the_tokens_and_stops_oauth_calls(authorised, live_app,
                                                                               source_site) -> None:
    token = installer.context_token(source_site, live_app.config["APP_KEY"], authorised.admin)
    response = requests.post(live_app.config["BASE_URL"] + "/admin/oauth/revoke", data={"jwt": token},
                             allow_redirects=False, timeout=10)
    assert response.status_code == 303
    # Back on the page (PRG), as the iframe would be.
    page = requests.get(urljoin(response.url, response.headers["Location"]), timeout=10)
    assert page.status_code == 200 and 'data-oauth-status="revoked"' in page.text
    assert 'data-testid="oauth-authorise"' in page.text, "the page offers to authorise again"
    grant = stored_grant(live_app, source_site)
    assert grant.state == GrantState.REVOKED and grant.access_token_enc is None and grant.refresh_token_enc is None
    assert "removed from the Disaster recovery page" in grant.reason
    with live_app.app_context(), pytest.raises(NeedsAuthorisation):
        jira_access(tenant_of(source_site)).call(STATUSES)


@pytest.mark.parametrize(("who", "status"), [("nobody", 401), ("not-admin", 403)])
def test_only_an_administrator_can_remove_access(authorised, live_app, source_site, who, status) -> None:
    data = {} if who == "nobody" else {
        "jwt": installer.context_token(source_site, live_app.config["APP_KEY"], "557058:not-an-admin")}
    response = requests.post(live_app.config["BASE_URL"] + "/admin/oauth/revoke", data=data,
                             allow_redirects=False, timeout=10)
    assert response.status_code == status
    assert stored_grant(live_app, source_site).state == GrantState.ACTIVE
