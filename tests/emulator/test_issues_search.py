"""Emulator issue search and the HTTP pipeline for issues: JQL, page tokens, scopes, points and write limits."""

from __future__ import annotations

from typing import Any

import pytest

from fakejira import installer
from fakejira.client import ConnectClient, GatewayClient
from fakejira.cloud import Cloud
from fakejira.limits import CostRule
from fakejira.site import Site
from tests.emulator import helpers
from tests.emulator.helpers import APP_KEY, make_project

call = helpers.call
SEARCH = "/search/jql"


def make_issues(site: Site, count: int, project: str = "OPS") -> list[str]:
    keys = []
    for n in range(count):
        fields = {"project": {"key": project}, "issuetype": {"id": "10001"}, "summary": f"Issue {n}",
                  "labels": [f"l{n % 2}"]}
        code, answer = call(site, "POST", "/issue", body={"fields": fields})
        assert code == 201, answer
        keys.append(answer["key"])
    return keys


@pytest.fixture
def ops(site: Site) -> Site:
    make_project(site, "OPS")
    make_project(site, "WEB")
    return site


def search(site: Site, jql: str, **query: Any) -> tuple[int, Any]:
    return call(site, "GET", SEARCH, query={"jql": jql, **query})


def keys_of(answer: dict[str, Any]) -> list[str]:
    return [i["key"] for i in answer["issues"]]


def test_pages_follow_next_page_tokens_without_start_at_or_total(ops: Site) -> None:
    """Does a search page through nextPageToken to the end, answering no startAt or total?"""
    make_issues(ops, 7)
    seen, token = [], None
    while True:
        query = {"fields": "key", "maxResults": "3", **({"nextPageToken": token} if token else {})}
        code, page = search(ops, "project = OPS ORDER BY key ASC", **query)
        assert code == 200 and "total" not in page and "startAt" not in page
        seen += keys_of(page)
        token = page.get("nextPageToken")
        if page["isLast"]:
            assert token is None
            break
    assert seen == [f"OPS-{n}" for n in range(1, 8)]
    code, answer = search(ops, "project = WEB", nextPageToken=search(ops, "project = OPS", maxResults="1")[1][
        "nextPageToken"])
    assert code == 400 and answer["errorMessages"] == ["The nextPageToken belongs to another query."]
    assert search(ops, "project = OPS", nextPageToken="garbage")[0] == 400


def test_default_answer_is_ids_and_page_size_depends_on_fields(ops: Site) -> None:
    """Are ids the default, up to 5000 of them a page, but at most 100 issues with fields?"""
    make_issues(ops, 3)
    page = search(ops, "project = OPS")[1]
    assert page["issues"] and all(set(i) == {"id"} for i in page["issues"])
    full = search(ops, "project = OPS", fields="summary,status", maxResults="1000")[1]
    assert {i["fields"]["summary"] for i in full["issues"]} == {"Issue 0", "Issue 1", "Issue 2"}
    from fakejira.resources.issue_search import FULL_MAX, ID_ONLY_MAX
    assert (FULL_MAX, ID_ONLY_MAX) == (100, 5000)


@pytest.mark.parametrize(("jql", "expected"), [
    ("project = OPS AND labels = l0 ORDER BY key", ["OPS-1", "OPS-3"]),
    ("project in (OPS, WEB) AND NOT labels = l1 ORDER BY key", ["OPS-1", "OPS-3", "WEB-1"]),
    ("key in (OPS-1, OPS-2) OR key = WEB-1 ORDER BY key DESC", ["WEB-1", "OPS-2", "OPS-1"]),
    ("key > OPS-1 AND project = OPS ORDER BY id", ["OPS-2", "OPS-3"]),
    ("issuetype = Task AND status = Open AND project = WEB", ["WEB-1"]),
    ("updated >= -15m AND project = WEB", ["WEB-1"]),
    ("created < -1d AND project = OPS", []),
    ("created >= \"2020/01/01 10:00\" AND summary ~ \"issue 2\"", ["OPS-3"]),
    ("resolution = Unresolved AND project = WEB", ["WEB-1"]),
    ("assignee is EMPTY AND reporter = currentUser() AND project = WEB", ["WEB-1"]),
])
def test_jql_evaluates_what_backups_use(ops: Site, jql: str, expected: list[str]) -> None:
    """Do project, key, id, type, status, dates, text, EMPTY and currentUser() select the right issues?"""
    make_issues(ops, 3)
    make_issues(ops, 1, "WEB")
    code, answer = search(ops, jql, fields="key")
    assert code == 200, answer
    assert keys_of(answer) == expected if "ORDER BY" in jql else sorted(keys_of(answer)) == sorted(expected)


@pytest.mark.parametrize(("jql", "text"), [
    ("order by key", "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."),
    ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
    ("nosuchfield = 1", "Field 'nosuchfield' does not exist or you do not have permission to view it."),
    ("key = OPS-99", "An issue with key 'OPS-99' does not exist for field 'key'."),
    ("updated > yesterday", "Date value 'yesterday' for field 'updated' is invalid."),
    ("project OPS", "Error in the JQL Query: Expecting operator but got 'OPS'."),
    ("project = OPS AND status was Open", "does not evaluate 'WAS'"),
    ("project ~ OPS", "The operator '~' is not supported by the 'project' field."),
    ("project = OPS ORDER BY description", "Field 'description' does not support sorting."),
    ("issue.property[backup].run = 1", "Field 'issue.property[backup].run' does not exist"),
])
def test_jql_refusals_use_jiras_texts(ops: Site, jql: str, text: str) -> None:
    """Are unbounded, unknown and unreadable queries 400s worded as Jira words them?"""
    make_issues(ops, 1)
    code, answer = search(ops, jql)
    assert code == 400 and any(text in m for m in answer["errorMessages"]), answer


def test_indexed_issue_properties_are_searchable(ops: Site) -> None:
    """Can a property an installed app indexes be searched by path and alias, and ordered by?"""
    installation = installer.install_direct(ops, APP_KEY, ["READ", "WRITE"])
    installation.descriptor["modules"] = {"jiraEntityProperties": [{"key": "idx", "entityType": "issue",
        "name": {"value": "Backup"}, "keyConfigurations": [{"propertyKey": "backup", "extractions": [
            {"objectName": "run", "type": "number", "alias": "backupRun"}]}]}]}
    keys = make_issues(ops, 3)
    for n, key in enumerate(keys):
        call(ops, "PUT", f"/issue/{key}/properties/backup", body={"run": n * 10})
    assert keys_of(search(ops, "issue.property[backup].run >= 10 ORDER BY key", fields="key")[1]) == keys[1:]
    assert keys_of(search(ops, "backupRun = 0", fields="key")[1]) == keys[:1]
    assert keys_of(search(ops, "backupRun is EMPTY", fields="key")[1]) == []


def test_approximate_count_and_bulk_fetch(ops: Site) -> None:
    """Does the count match the search, and does bulk fetch answer in id order with errors for the unknown?"""
    keys = make_issues(ops, 3)
    assert call(ops, "POST", "/search/approximate-count", body={"jql": "project = OPS"})[1] == {"count": 3}
    assert call(ops, "POST", "/search/approximate-count", body={"jql": ""})[0] == 400
    code, answer = call(ops, "POST", "/issue/bulkfetch", body={"issueIdsOrKeys": [keys[2], "OPS-77", keys[0]],
                                                               "fields": ["summary"]})
    assert code == 200 and [i["key"] for i in answer["issues"]] == [keys[0], keys[2]]
    assert answer["issueErrors"] == [{"id": "OPS-77", "errorMessage":
                                      "Issue does not exist or you do not have permission to see it."}]
    assert call(ops, "POST", "/issue/bulkfetch", body={"issueIdsOrKeys": ["OPS-1"] * 101})[0] == 400


def test_changelog_bulkfetch_pages_and_filters(ops: Site) -> None:
    """Does the bulk changelog filter by field and page with a token?"""
    key = make_issues(ops, 1)[0]
    for summary in ("a", "b", "c"):
        call(ops, "PUT", f"/issue/{key}", body={"fields": {"summary": summary}})
    call(ops, "POST", f"/issue/{key}/transitions", body={"transition": {"id": "4"}})
    first = call(ops, "POST", "/changelog/bulkfetch", body={"issueIdsOrKeys": [key], "fieldIds": ["summary"],
                                                            "maxResults": 2})[1]
    assert [len(c["changeHistories"]) for c in first["issueChangeLogs"]] == [2] and first["nextPageToken"]
    rest = call(ops, "POST", "/changelog/bulkfetch", body={"issueIdsOrKeys": [key], "fieldIds": ["summary"],
                                                           "maxResults": 2, "nextPageToken": first["nextPageToken"]})[1]
    assert [len(c["changeHistories"]) for c in rest["issueChangeLogs"]] == [1] and "nextPageToken" not in rest


# -------------------------------------------------------------------------------------------- over HTTP


@pytest.fixture
def served(fake_cloud: Cloud) -> Site:
    site = fake_cloud.add_site("shop")
    make_project(site, "OPS")
    return site


def test_connect_scopes_per_operation(served: Site) -> None:
    """Does a READ app read issues but get 403 on writes, and is the changelog bulk fetch closed to Connect?"""
    make_issues(served, 1)
    installer.install_direct(served, "reader", ["READ"])
    reader = ConnectClient(served, "reader")
    assert reader.get("/rest/api/3/issue/OPS-1").status_code == 200
    assert reader.get("/rest/api/3/search/jql", query={"jql": "project = OPS"}).status_code == 200
    assert reader.post("/rest/api/3/issue", json={"fields": {}}).status_code == 403
    installer.install_direct(served, "writer", ["READ", "WRITE", "DELETE", "ADMIN"])
    writer = ConnectClient(served, "writer")
    assert writer.post("/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": ["OPS-1"]}).status_code == 403
    created = writer.post("/rest/api/3/issue", json={"fields": {
        "project": {"key": "OPS"}, "issuetype": {"id": "10001"}, "summary": "over http"}})
    assert created.status_code == 201, created.text
    assert served.cloud.violations == []


def test_oauth_scopes_and_the_bulk_changelog(fake_cloud: Cloud, served: Site) -> None:
    """Does an OAuth token need read:jira-work for the changelog bulk fetch, which answers only through OAuth?"""
    make_issues(served, 1)
    client = fake_cloud.oauth.register_client(["http://127.0.0.1:9/cb"])
    admin = helpers.admin(served)
    readonly = fake_cloud.oauth.issue_tokens(client.client_id, admin, [served], ["read:jira-user"])
    response = GatewayClient(fake_cloud, served, readonly["access_token"]).post(
        "/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": ["OPS-1"]})
    assert response.status_code == 401
    work = fake_cloud.oauth.issue_tokens(client.client_id, admin, [served], ["read:jira-work"])
    response = GatewayClient(fake_cloud, served, work["access_token"]).post(
        "/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": ["OPS-1"]})
    assert response.status_code == 200 and response.json() == {"issueChangeLogs": []}


def test_points_per_issue_and_the_per_issue_write_limit(served: Site) -> None:
    """Are searches charged per returned issue, and is a fast second write to one issue a 429 with its reason?"""
    make_issues(served, 4)
    installer.install_direct(served, "writer", ["READ", "WRITE"])
    client = ConnectClient(served, "writer")
    served.limits.configure(cost_rule=CostRule(base=1, per_object=1))
    served.limits.clear_points()
    assert client.post("/rest/api/3/search/jql", json={"jql": "project = OPS"}).status_code == 200
    assert served.limits.points()["POST /rest/api/3/search/jql"] == 5
    served.limits.configure(per_issue_writes=1, per_issue_window=60)
    assert client.put("/rest/api/3/issue/OPS-1", json={"fields": {"summary": "one"}}).status_code == 204
    refused = client.put("/rest/api/3/issue/OPS-1", json={"fields": {"summary": "two"}})
    assert refused.status_code == 429 and refused.headers["RateLimit-Reason"] == "jira-per-issue-on-write"
    assert int(refused.headers["Retry-After"]) >= 1
    assert client.put("/rest/api/3/issue/OPS-2", json={"fields": {"summary": "other"}}).status_code == 204
    assert served.store.get("issues", "10001")["fields"]["summary"] == "one"


def test_burst_limit_per_issue_endpoint(served: Site) -> None:
    """Is the burst bucket per endpoint: a burst on GET issue leaves search untouched?"""
    make_issues(served, 1)
    installer.install_direct(served, "reader", ["READ"])
    client = ConnectClient(served, "reader")
    served.limits.configure(burst_rate=0.001, burst_capacity=1)
    assert client.get("/rest/api/3/issue/OPS-1").status_code == 200
    refused = client.get("/rest/api/3/issue/OPS-1")
    assert refused.status_code == 429 and refused.headers["RateLimit-Reason"] == "jira-burst-based"
    assert client.get("/rest/api/3/search/jql", query={"jql": "project = OPS"}).status_code == 200
