"""Does the ``jiradr.before`` property a restore writes carry the original people and the comments' and worklogs'
authors and dates, so the "Before the restore" panel shows them with no backup record to read (retention removed
it) — and does a huge issue's property still fit Jira's limit, saying what it left out?"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import requests

from app.admin.before_views import format_when
from app.issuedata.before import BEFORE_PROPERTY
from app.issuedata.records import IssueRecord
from app.restore.issues.restore import PROPERTY_MAX_BYTES, before_value
from fakejira import installer
from fakejira.client import ConnectClient
from fakejira.resources.basics import admin_account_id
from tests.issuedata.before_support import issues_seed, long_history, restore_one_project

PANEL = "/panels/before-the-restore"


def _panel(app: Any, site: Any, issue_id: str) -> str:
    url = installer.sign_iframe_url(site, app.config["APP_KEY"], PANEL, admin_account_id(site), {"issueId": issue_id})
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.text


def _all(html: str, testid: str) -> list[str]:
    found = re.findall(rf'data-testid="{testid}"[^>]*>(.*?)</(?:li|dd|p)>', html, flags=re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", f)).split()) for f in found]


def _reader(site: Any) -> ConnectClient:
    installer.install_direct(site, "reader", ["ADMIN"])
    return ConnectClient(site, "reader")


def test_the_panel_shows_comment_and_worklog_dates_from_the_property_alone(live_app, fake_cloud,
                                                                           install_into) -> None:
    """After a real restore, with no restore run (and so no backup record) the site could read, does the panel list
    every comment's and worklog's original date and author, read from the property, which also names the original
    reporter and assignee by account id and display name?"""
    restored = restore_one_project(live_app, fake_cloud, install_into)
    record = max(restored.records, key=lambda r: (len(r.comments) + len(r.worklogs), r.key))
    assert record.comments or record.worklogs
    reader = _reader(restored.site)
    dest = reader.get(f"/rest/api/3/issue/{record.key}").json()
    prop = reader.get(f"/rest/api/3/issue/{dest['id']}/properties/{BEFORE_PROPERTY}").json()["value"]
    for name in ("reporter", "assignee"):
        original = record.fields.get(name)
        expected = None if not original else {k: original.get(k) for k in ("accountId", "displayName")}
        assert prop[name] == expected
    html = _panel(live_app, restored.site, dest["id"])
    assert _all(html, "before-comment") == [f"{format_when(c['created'])} · {c['author']['displayName']}"
                                            for c in record.comments]
    assert _all(html, "before-worklog") == [f"{format_when(w['started'])} · {w['author']['displayName']}"
                                            for w in record.worklogs]


def test_a_replaced_reporter_is_named_from_the_property(live_app, fake_cloud, install_into) -> None:
    """Where the property's original reporter isn't the issue's reporter now, does the panel name the original one
    (by display name, never the account id) and who holds it now, without any backup record?"""
    seed = issues_seed()
    issue = seed["issues"][0]
    value = before_value(IssueRecord(id="99999", key="OLD-7", project_key="OLD", project_id=None, issue={
        "id": "99999", "key": "OLD-7", "fields": {
            "created": "2020-02-03T04:05:06.000+0000", "creator": {"accountId": "557058:gone", "displayName": "Gone"},
            "reporter": {"accountId": "557058:margaret", "displayName": "Margaret <b>Hamilton</b>"}}},
        comments=[{"id": "1", "created": "2019-05-06T07:08:00.000+0000",
                   "author": {"accountId": "557058:kj", "displayName": "Katherine Johnson"}}]))
    seed["issueProperties"] = {issue["id"]: [{"key": BEFORE_PROPERTY, "value": value}]}
    site = fake_cloud.add_site("replaced", seed=seed)
    site.client_key = install_into(site)
    html = _panel(live_app, site, issue["id"])
    (replaced,) = _all(html, "before-replaced")
    assert replaced.startswith("Margaret <b>Hamilton</b>") and "(now " in replaced
    assert "557058:margaret" not in html
    assert _all(html, "before-comment") == ["2019-05-06 07:08 UTC · Katherine Johnson"]


def _huge(history: int, comments: int) -> IssueRecord:
    author = {"accountId": "557058:someone", "displayName": "Ada Lovelace", "avatarUrls": {"48x48": "x" * 200}}
    return IssueRecord(
        id="1", key="BIG-1", project_key="BIG", project_id=None,
        issue={"id": "1", "key": "BIG-1", "fields": {"created": "2020-01-01T00:00:00.000+0000",
                                                      "reporter": author, "assignee": author}},
        comments=[{"id": str(n), "author": author, "created": "2020-01-02T00:00:00.000+0000",
                   "body": "b" * 500} for n in range(comments)],
        changelog=long_history(history))


def test_a_huge_issue_drops_the_oldest_history_first_and_says_so(live_app, fake_cloud, install_into) -> None:
    """Is a property that would pass Jira's 32 KB cut down to fit by dropping the oldest history entries (the
    comments' dates all kept), flagged, accepted by Jira — and does the panel say the oldest changes were left out?"""
    value = before_value(_huge(history=400, comments=60))
    assert len(json.dumps(value).encode()) <= PROPERTY_MAX_BYTES
    assert value["truncated"] is True and 0 < value["trimmed"] < 400
    assert value["changelog"][-1]["id"] == str(10000 + 399)  # the newest kept
    assert len(value["comments"]) == 60 and "commentsTrimmed" not in value
    assert value["comments"][0]["author"] == {"accountId": "557058:someone", "displayName": "Ada Lovelace"}

    seed = issues_seed()
    issue = seed["issues"][0]
    site = fake_cloud.add_site("huge", seed=seed)
    site.client_key = install_into(site)
    put = _reader(site).put(f"/rest/api/3/issue/{issue['id']}/properties/{BEFORE_PROPERTY}", json=value)
    assert put.status_code in (200, 201), put.text
    html = _panel(live_app, site, issue["id"])
    assert _all(html, "before-trimmed")[0].startswith(f"The {value['trimmed']} oldest changes")


def test_comments_go_only_once_no_history_is_left() -> None:
    """When even without any history the property is too big, are the newest comments left out, counted?"""
    value = before_value(_huge(history=5, comments=2000))
    assert len(json.dumps(value).encode()) <= PROPERTY_MAX_BYTES
    assert value["changelog"] == [] and value["trimmed"] == 5
    assert value["commentsTrimmed"] > 0 and len(value["comments"]) + value["commentsTrimmed"] == 2000
    assert value["comments"][0]["id"] == "0"  # the oldest kept
