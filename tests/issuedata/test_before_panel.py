"""Does the "Before the restore" Connect web panel show a restored issue's original key, dates, creator and history
(by display name, markup escaped, paged without JavaScript) — and only to Jira-signed requests for an issue of the
token's own site, leaking nothing otherwise?"""

from __future__ import annotations

import copy
import json
import re
import time
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import jwt
import pytest
import requests

from app.admin.before_views import format_when
from app.issuedata.before import BEFORE_PROPERTY, HISTORY_PAGE_ROWS
from fakejira import installer
from fakejira.resources.basics import admin_account_id
from tests.conftest import REFERENCE_DIR
from tests.issuedata.before_support import (
    COMMENTS_TRIMMED,
    HOSTILE,
    LONG_HISTORY,
    restore_one_project,
    site_with_panel_properties,
)

PANEL = "/panels/before-the-restore"
ROW = re.compile(r'<tr data-testid="before-history-row">')


def _panel_url(app, site, issue_id: str, **extra: str) -> str:
    return installer.sign_iframe_url(site, app.config["APP_KEY"], PANEL, admin_account_id(site),
                                     {"issueId": issue_id, **extra})


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _testid(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', html, flags=re.S)
    assert match, f"no {testid} in the panel"
    return " ".join(_text(match.group(1)).split())


# -- the descriptor ------------------------------------------------------------------------------------------------

def test_the_descriptor_has_the_panel_shown_only_on_restored_issues(client, app) -> None:
    """Is there a web panel on the issue view's right column, loaded with the issue's id, shown only when the issue
    has the property the restore writes — and does the descriptor still validate against Atlassian's schema?"""
    descriptor = client.get("/atlassian-connect.json").get_json()
    (panel,) = [p for p in descriptor["modules"].get("webPanels", []) if p["key"] == "before-the-restore"]
    assert panel["name"]["value"] == "Before the restore"
    assert panel["location"] == "atl.jira.view.issue.right.context"
    assert panel["url"] == PANEL + "?issueId={issue.id}"
    assert {"condition": "entity_property_exists",
            "params": {"entity": "issue", "propertyKey": BEFORE_PROPERTY}} in panel["conditions"]
    app.url_map.bind("localhost").match(PANEL, method="GET")
    schema = copy.deepcopy(json.loads((REFERENCE_DIR / "jira-global-schema.json").read_text()))
    schema["properties"]["apiMigrations"]["properties"].update({"signed-install": {"type": "boolean"},
                                                                "context-qsh": {"type": "boolean"}})
    assert sorted(jsonschema.Draft4Validator(schema).iter_errors(descriptor), key=str) == []


# -- a real restore ------------------------------------------------------------------------------------------------

def test_a_restored_issue_shows_its_original_dates_people_and_history(live_app, fake_cloud, install_into) -> None:
    """After a real restore onto an emulated site, does the panel show the original key, created date, creator and
    every history row by display name, with markup in names escaped and no account id shown as a name?"""
    restored = restore_one_project(live_app, fake_cloud, install_into)
    record = restored.record_with_history()
    issue_id = _dest_id(restored.site, record.key)
    resp = requests.get(_panel_url(live_app, restored.site, issue_id), timeout=30)
    assert resp.status_code == 200, resp.text
    html = resp.text
    assert _testid(html, "before-key") == record.key
    assert _testid(html, "before-created") == format_when(record.fields["created"])
    assert _testid(html, "before-creator") == record.fields["creator"]["displayName"]
    items = [(e, item) for e in record.changelog for item in e["items"]]
    assert 0 < len(items) <= HISTORY_PAGE_ROWS
    assert len(ROW.findall(html)) == len(items)
    first_entry, first_item = items[0]
    first_row = _text(html.split('data-testid="before-history-row"', 1)[1].split("</tr>", 1)[0])
    assert format_when(first_entry["created"]) in first_row
    assert first_entry["author"]["displayName"] in first_row
    assert first_item["field"] in first_row and first_item["toString"] in first_row
    assert HOSTILE not in html and "&lt;script&gt;" in html  # a name with markup is text
    assert first_entry["author"]["accountId"] not in html
    assert resp.headers["Cache-Control"] == "no-store"


def _dest_id(site, key: str) -> str:
    from fakejira.client import ConnectClient

    installer.install_direct(site, "reader", ["READ"])
    return str(ConnectClient(site, "reader").get(f"/rest/api/3/issue/{key}").json()["id"])


# -- properties set through the emulator ---------------------------------------------------------------------------

@pytest.fixture
def marked(live_app, fake_cloud, install_into):
    """A site with the app whose first issue carries the panel's properties (a long history), the second none."""
    site, with_props, without = site_with_panel_properties(fake_cloud, "marked")
    site.client_key = install_into(site)
    return site, with_props, without


def test_a_long_history_is_paged_with_links_that_need_no_javascript(live_app, marked) -> None:
    """Is a long history split into pages whose Previous/Next links (each with its own URL-bound token) open the
    neighbouring page — and does a link edited to name another issue get refused?"""
    site, issue, _ = marked
    first = requests.get(_panel_url(live_app, site, issue["id"]), timeout=30)
    assert first.status_code == 200, first.text
    pages = -(-LONG_HISTORY // HISTORY_PAGE_ROWS)
    assert len(ROW.findall(first.text)) == HISTORY_PAGE_ROWS
    assert _testid(first.text, "before-page") == f"Page 1 of {pages} ({LONG_HISTORY} changes)"
    assert 'data-testid="before-previous"' not in first.text
    assert "take 0 → take 1" in _text(first.text) and "take 20 → take 21" not in _text(first.text)
    assert _testid(first.text, "before-sprint") == ("Sprint <1> (closed): 2020-03-02 09:00 UTC to 2020-03-16 09:00 UTC,"
                                                    " completed 2020-03-17 10:30 UTC")
    next_href = unescape(re.search(r'href="([^"]+)" data-testid="before-next"', first.text).group(1))
    second = requests.get(live_app.config["BASE_URL"] + next_href, timeout=30)
    assert second.status_code == 200, second.text
    assert _testid(second.text, "before-page").startswith(f"Page 2 of {pages}")
    assert "take 20 → take 21" in _text(second.text)
    assert 'data-testid="before-previous"' in second.text
    swapped = next_href.replace(f"issueId={issue['id']}", f"issueId={int(issue['id']) + 1}")
    assert swapped != next_href
    assert requests.get(live_app.config["BASE_URL"] + swapped, timeout=30).status_code == 401


def test_comments_and_worklogs_the_property_left_out_are_said_in_words(live_app, marked) -> None:
    """When the restore's property had no room for the newest comments and work logs, does the panel say how many
    of each it doesn't list, and that the backup still holds them?"""
    site, issue, _ = marked
    resp = requests.get(_panel_url(live_app, site, issue["id"]), timeout=30)
    assert resp.status_code == 200, resp.text
    assert _testid(resp.text, "before-comments-trimmed") == (
        f"The {COMMENTS_TRIMMED} newest comments didn't fit in what Jira lets the app keep on an issue, so their "
        "original date and author aren't listed here; the backup still holds them.")
    assert _testid(resp.text, "before-worklogs-trimmed").startswith("The 1 newest work log didn't fit")


def test_an_issue_without_the_property_says_so_briefly(live_app, marked) -> None:
    """An issue the app didn't restore: a short sentence, 404, nothing else of the issue."""
    site, _, without = marked
    resp = requests.get(_panel_url(live_app, site, without["id"]), timeout=30)
    assert resp.status_code == 404
    assert _testid(resp.text, "before-refusal") == "This issue wasn't restored by the app."
    assert without["key"] not in resp.text


@pytest.mark.parametrize("issue_id", ["", "abc", "1" * 19, "12;DROP", "-5"])
def test_a_malformed_issue_id_is_a_clear_400(live_app, marked, issue_id) -> None:
    site, _, _ = marked
    resp = requests.get(_panel_url(live_app, site, issue_id), timeout=30)
    assert resp.status_code == 400
    assert "issue id must be 1 to 18 digits" in _testid(resp.text, "before-refusal")


def test_a_bad_page_number_is_a_clear_400(live_app, marked) -> None:
    site, issue, _ = marked
    resp = requests.get(_panel_url(live_app, site, issue["id"], page="0"), timeout=30)
    assert resp.status_code == 400
    assert "history page must be a whole number" in _testid(resp.text, "before-refusal")


def test_forged_expired_and_unsigned_requests_get_401_and_no_data(live_app, marked) -> None:
    """A token signed with another secret, an expired one, one for another URL, or none: 401, nothing shown."""
    site, issue, _ = marked
    good = _panel_url(live_app, site, issue["id"])
    url, token = good.rsplit("&jwt=", 1)
    claims = jwt.decode(token, options={"verify_signature": False})
    now = int(time.time())
    bad = {
        "forged": jwt.encode(claims, "not-the-shared-secret-but-long-enough-32", algorithm="HS256"),
        "expired": jwt.encode(dict(claims, iat=now - 4000, exp=now - 3600),
                              site.installations[live_app.config["APP_KEY"]].shared_secret, algorithm="HS256"),
        "another URL": _panel_url(live_app, site, str(int(issue["id"]) + 1)).rsplit("&jwt=", 1)[1],
    }
    for name, forged in bad.items():
        resp = requests.get(f"{url}&jwt={forged}", timeout=30)
        assert resp.status_code == 401, name
        assert "Grace Hopper" not in resp.text and "OLD-7" not in resp.text, name
    assert requests.get(url, timeout=30).status_code == 401


def test_another_sites_issue_shows_nothing(live_app, fake_cloud, install_into, marked) -> None:
    """A user of another site (its own valid token) asking for this site's restored issue id gets the same 404:
    the tenant is the token's issuer, and that site's Jira has no such restored issue."""
    site, issue, _ = marked
    other = fake_cloud.add_site("other")
    other.client_key = install_into(other)
    resp = requests.get(_panel_url(live_app, other, issue["id"]), timeout=30)
    assert resp.status_code == 404
    assert _testid(resp.text, "before-refusal") == "This issue wasn't restored by the app."
    assert "Grace Hopper" not in resp.text and "OLD-7" not in resp.text
    query = dict(parse_qsl(urlsplit(_panel_url(live_app, site, issue["id"])).query))
    assert query["issueId"] == issue["id"]


# -- the backup's record: only from a snapshot this tenant restored from ------------------------------------------

def _snapshot_of_the_source_issue(app, tenant_id: int) -> int:
    from app.backups.snapshots import SnapshotWriter
    from app.issuedata.records import ISSUE_TYPE, IssueRecord

    record = IssueRecord(
        id="99999", key="OLD-7", project_key="OLD", project_id="10000",
        issue={"id": "99999", "key": "OLD-7", "fields": {
            "reporter": {"accountId": "557058:gone", "displayName": "Margaret <b>Hamilton</b>"}, "assignee": None}},
        comments=[{"id": "1", "author": {"accountId": "557058:c", "displayName": "Katherine Johnson"},
                   "created": "2019-05-06T07:08:09.000+0000", "body": None}],
        worklogs=[{"id": "2", "author": {"accountId": "557058:w", "displayName": "Dorothy Vaughan"},
                   "started": "2019-05-07T10:00:00.000+0000", "timeSpentSeconds": 60}])
    with app.app_context():
        writer = SnapshotWriter.begin(tenant_id, None, app_version="test", format_version=1)
        writer.put(ISSUE_TYPE, record.key, record.id, record.to_json())
        writer.flush()
        return writer.snapshot_id


def _restore_run(app, tenant_id: int, snapshot_id: int) -> None:
    from app.extensions import db
    from app.restore.models import RestoreRun

    with app.app_context():
        db.session.add(RestoreRun(tenant_id=tenant_id, snapshot_id=snapshot_id))
        db.session.commit()


def _tenant_id(app, site) -> int:
    from app.tenants import get_by_client_key

    with app.app_context():
        return get_by_client_key(site.client_key).id


def test_people_and_dates_come_from_the_backup_only_of_a_restore_this_site_ran(live_app, fake_cloud, install_into,
                                                                             marked) -> None:
    """The original reporter (replaced by the restore) and comments'/worklogs' original dates are read from the
    backup's record — but only once this site has run a restore from the snapshot the property names; a property
    naming a snapshot this site never restored from (another site's) reads nothing of it."""
    from fakejira.client import ConnectClient

    site, issue, _ = marked
    other = fake_cloud.add_site("other")
    other.client_key = install_into(other)
    snapshot = _snapshot_of_the_source_issue(live_app, _tenant_id(live_app, other))
    installer.install_direct(site, "writer", ["ADMIN"])
    put = ConnectClient(site, "writer").put(f"/rest/api/3/issue/{issue['id']}/properties/jiradr.source",
                                            json={"id": "99999", "key": "OLD-7", "snapshot": snapshot})
    assert put.status_code in (200, 201), put.text

    def panel() -> str:
        resp = requests.get(_panel_url(live_app, site, issue["id"]), timeout=30)
        assert resp.status_code == 200, resp.text
        return resp.text

    _restore_run(live_app, _tenant_id(live_app, other), snapshot)  # the other site's restore, not this one's
    html = panel()
    assert "Hamilton" not in html and "Katherine Johnson" not in html
    _restore_run(live_app, _tenant_id(live_app, site), snapshot)
    html = panel()
    assert _testid(html, "before-replaced").startswith("Margaret <b>Hamilton</b>")
    assert "&lt;b&gt;Hamilton" in html
    assert _testid(html, "before-comment") == "2019-05-06 07:08 UTC · Katherine Johnson"
    assert _testid(html, "before-worklog") == "2019-05-07 10:00 UTC · Dorothy Vaughan"
