"""Does the Forge issue panel's remote call (``GET /forge/api/v1/issues/<id>/before``) answer what the Connect panel
shows, from the same domain function — and only to a verified invocation of a user Jira lets browse the issue, on
that installation's own site?"""

from __future__ import annotations

import pytest
import requests

from app.issuedata.before import HISTORY_PAGE_ROWS
from fakejira.resources.basics import admin_account_id
from tests.forge.api_fixtures import PREFIX, STRANGER, Api
from tests.issuedata.before_support import HOSTILE, LONG_HISTORY, site_with_panel_properties


@pytest.fixture
def marked(forge_app, fake_cloud, forge_install, invoker):
    """A Forge-installed site whose first issue carries the panel's properties, the second none."""
    site, with_props, without = site_with_panel_properties(fake_cloud, "forge-marked")
    inst = forge_install(site)
    return Api(invoker, inst, admin_account_id(site)), with_props, without


def test_the_panel_data_of_a_restored_issue(marked) -> None:
    """Original key, created, creator, one page of history rows by display name (markup kept as text for the UI
    to render as text), the page count — and the next page on asking."""
    api, issue, _ = marked
    data = api.ok("GET", f"/issues/{issue['id']}/before")
    assert (data["originalKey"], data["created"], data["creator"]) == ("OLD-7", "2020-02-03T04:05:06.000+0000",
                                                                       "Grace Hopper")
    assert data["sprints"] == [{"name": "Sprint <1>", "state": "closed", "startDate": "2020-03-02T09:00:00.000Z",
                                "endDate": "2020-03-16T09:00:00.000Z", "completeDate": "2020-03-17T10:30:00.000Z"}]
    assert data["historyRows"] == LONG_HISTORY and data["page"] == 1
    assert data["pages"] == -(-LONG_HISTORY // HISTORY_PAGE_ROWS)
    assert len(data["history"]) == HISTORY_PAGE_ROWS
    assert data["history"][0] == {"when": "2021-03-01T09:00:00.000+0000", "who": f"{HOSTILE} Ada Lovelace",
                                  "field": "summary", "from": "take 0", "to": "take 1"}
    second = api.ok("GET", f"/issues/{issue['id']}/before", page="2")
    assert second["page"] == 2 and second["history"][0]["from"] == f"take {HISTORY_PAGE_ROWS}"


def test_an_issue_the_app_did_not_restore_is_404(marked) -> None:
    api, _, without = marked
    status, body = api.get(f"/issues/{without['id']}/before")
    assert status == 404
    assert body["error"] == {"code": "not-restored", "message": "This issue wasn't restored by the app."}


@pytest.mark.parametrize(("path", "params", "code"), [
    ("/issues/abc/before", {}, "invalid-issue-id"),
    ("/issues/1234567890123456789/before", {}, "invalid-issue-id"),
    ("/issues/10001/before", {"page": "0"}, "invalid-page"),
    ("/issues/10001/before", {"page": "two"}, "invalid-page"),
])
def test_bad_input_is_a_clear_400(marked, path, params, code) -> None:
    api, _, _ = marked
    status, body = api.get(path, **params)
    assert status == 400 and body["error"]["code"] == code, body


def test_someone_jira_does_not_let_browse_the_issue_gets_the_same_404(marked, fake_cloud) -> None:
    """A user of the site who may not browse the issue (the emulator grants project permissions to admins only),
    or an account the site doesn't know: the same 404 as for an issue never restored, nothing of the data."""
    api, issue, _ = marked
    site = api.inst.site
    user = next(u["accountId"] for u in site.store.values("users") if u["accountId"] not in site.admins
                and u.get("accountType", "atlassian") == "atlassian")
    for who in (user, STRANGER):
        status, body = api.call("GET", f"/issues/{issue['id']}/before", principal=who)
        assert (status, body["error"]["code"]) == (404, "not-restored"), (who, body)
        assert "Grace Hopper" not in str(body)


def test_a_call_without_a_user_or_with_a_forged_token_gets_nothing(marked, fake_cloud, forge_app) -> None:
    api, issue, _ = marked
    status, body = api.call("GET", f"/issues/{issue['id']}/before", principal=None)
    assert status == 403 and "Grace Hopper" not in str(body)
    for kind in ("other-key", "expired", "wrong-aud"):
        fit = fake_cloud.forge.bad_fit(api.inst, kind, principal=api.principal)
        resp = requests.get(f"{forge_app.config['BASE_URL']}{PREFIX}/issues/{issue['id']}/before",
                            headers={"Authorization": f"Bearer {fit}"}, timeout=30)
        assert resp.status_code == 401, kind
        assert "Grace Hopper" not in resp.text


def test_another_installations_site_has_no_such_restored_issue(marked, fake_cloud, forge_install, invoker) -> None:
    """The tenant is the invoking installation's: asking another site's installation for this issue id finds
    nothing there."""
    _, issue, _ = marked
    other_site = fake_cloud.add_site("forge-other")
    other = Api(invoker, forge_install(other_site), admin_account_id(other_site))
    status, body = other.get(f"/issues/{issue['id']}/before")
    assert (status, body["error"]["code"]) == (404, "not-restored") and "Grace Hopper" not in str(body)
