"""Emulator loose ends of the issue model: the installed payload's oauthClientId, OAuth scopes of issue operations,
the calling app as the acting user, the per-issue write limit over the control API, and Jira's changelog times."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from fakejira import installer, spec
from fakejira.client import ConnectClient, GatewayClient
from fakejira.cloud import Cloud
from fakejira.impersonation import CLIENT_PREFIX, GRANT_TYPE
from fakejira.server import ServerThread
from fakejira.site import Site
from tests.emulator import helpers
from tests.emulator.helpers import make_project

KEY = "com.example.loose-ends"
TASK = "10001"


class InstalledReceiver:
    """A minimal Connect app: serves its descriptor and keeps the lifecycle bodies it receives (204 to each)."""

    def __init__(self, scopes: list[str]) -> None:
        self.scopes = scopes
        self.base_url = ""
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path.endswith("/atlassian-connect.json"):
            descriptor = {"key": KEY, "name": "Loose ends", "baseUrl": self.base_url,
                          "authentication": {"type": "jwt"}, "lifecycle": {"installed": "/installed"},
                          "apiMigrations": {"signed-install": True}, "scopes": self.scopes}
            return Response(json.dumps(descriptor), content_type="application/json")(environ, start_response)
        self.bodies.append(json.loads(request.get_data() or b"{}"))
        return Response(status=204)(environ, start_response)


@pytest.fixture
def receiver() -> Iterator[InstalledReceiver]:
    app = InstalledReceiver(["READ", "WRITE", "ACT_AS_USER"])
    server = ServerThread(app).start()
    app.base_url = server.url + "/app"
    yield app
    server.stop()


@pytest.fixture
def served(fake_cloud: Cloud) -> Site:
    site = fake_cloud.add_site("shop")
    make_project(site, "OPS")
    return site


def create_body(summary: str = "Work") -> dict[str, Any]:
    return {"fields": {"project": {"key": "OPS"}, "issuetype": {"id": TASK}, "summary": summary}}


# -- the installed payload ---------------------------------------------------------------------------------------


def test_the_installed_payload_carries_the_oauth_client_id_impersonation_needs(
        fake_cloud: Cloud, served: Site, receiver: InstalledReceiver) -> None:
    """Can an app impersonate a user with nothing but what the installed event told it (oauthClientId, secret)?"""
    inst = installer.install_app(served, receiver.base_url + "/atlassian-connect.json")
    (body,) = receiver.bodies
    assert body["oauthClientId"] == inst.oauth_client_id
    assertion = fake_cloud.impersonation.assertion(served, KEY, helpers.admin(served),
                                                   iss=CLIENT_PREFIX + body["oauthClientId"],
                                                   secret=body["sharedSecret"])
    answer = requests.post(fake_cloud.impersonation.token_url, data={"grant_type": GRANT_TYPE,
                                                                     "assertion": assertion}, timeout=10)
    assert answer.status_code == 200, answer.text
    installer.install_app(served, receiver.base_url + "/atlassian-connect.json")
    assert receiver.bodies[1]["oauthClientId"] == body["oauthClientId"], "stable per site and app, as the clientKey"


# -- OAuth scopes of issue operations -----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "template", "classic"), [
    ("GET", "/rest/api/3/issue/{issueIdOrKey}", "read:jira-work"),
    ("POST", "/rest/api/3/issue", "write:jira-work"),
    ("GET", "/rest/api/3/search/jql", "read:jira-work"),
    ("POST", "/rest/api/3/issue/{issueIdOrKey}/transitions", "write:jira-work"),
])
def test_issue_operations_need_their_classic_oauth_scope(method: str, template: str, classic: str) -> None:
    """Is the spec's anonymous alternative ({}) no free pass: does an OAuth token need the operation's scope?"""
    assert spec.oauth_scopes(method, template) == [frozenset({classic})]


def test_an_oauth_token_without_the_scope_is_refused_over_the_gateway(fake_cloud: Cloud, served: Site) -> None:
    """Does a token lacking read:/write:jira-work get the gateway's 401 on issue reads, searches and creates?"""
    code, made = helpers.call(served, "POST", "/issue", body=create_body())
    assert code == 201, made
    client = fake_cloud.oauth.register_client(["http://127.0.0.1:9/cb"])
    admin = helpers.admin(served)

    def gateway(scopes: list[str]) -> GatewayClient:
        token = fake_cloud.oauth.issue_tokens(client.client_id, admin, [served], scopes)["access_token"]
        return GatewayClient(fake_cloud, served, token)

    users_only = gateway(["read:jira-user"])
    for response in (users_only.get(f"/rest/api/3/issue/{made['key']}"),
                     users_only.get("/rest/api/3/search/jql", params={"jql": "project = OPS"}),
                     users_only.post("/rest/api/3/issue", json=create_body("refused"))):
        assert response.status_code == 401
        assert response.json() == {"code": 401, "message": "Unauthorized; scope does not match"}
    reader = gateway(["read:jira-work"])
    assert reader.get(f"/rest/api/3/issue/{made['key']}").status_code == 200
    assert reader.post("/rest/api/3/issue", json=create_body("refused")).status_code == 401
    writer = gateway(["write:jira-work"])
    assert writer.post("/rest/api/3/issue", json=create_body("allowed")).status_code == 201
    assert users_only.get("/rest/api/3/serverInfo").status_code == 200, "an explicit empty OAuth2 entry stays open"
    titles = sorted(i["fields"]["summary"] for i in served.store.values("issues"))
    assert titles == ["Work", "allowed"], "a refused create stores nothing"


# -- the calling app is the acting user ---------------------------------------------------------------------------


def test_the_calling_app_is_the_acting_user_when_several_are_installed(served: Site) -> None:
    """With two apps installed, is the creator (and the changelog's author) the app that called?"""
    first = installer.install_direct(served, "first-app", ["READ", "WRITE"])
    second = installer.install_direct(served, "second-app", ["READ", "WRITE"])
    for inst in (first, second):
        served.store.put("users", inst.app_account_id, {"accountId": inst.app_account_id, "accountType": "app",
                                                        "displayName": inst.app_key, "active": True})
    answer = ConnectClient(served, "second-app").post("/rest/api/3/issue", json=create_body())
    assert answer.status_code == 201, answer.text
    key = answer.json()["key"]
    edited = ConnectClient(served, "first-app").put(f"/rest/api/3/issue/{key}", json={"fields": {"summary": "Two"}})
    assert edited.status_code == 204, edited.text
    issue = next(served.store.values("issues"))
    assert issue["fields"]["creator"] == second.app_account_id
    assert issue["fields"]["reporter"] == second.app_account_id
    assert issue["_changelog"][-1]["author"]["accountId"] == first.app_account_id


# -- the per-issue write limit through the control API -----------------------------------------------------------


def control(site: Site, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{site.base_url}/_emulator/{path}", json=body, timeout=10)


def test_the_control_api_sets_the_per_issue_write_limit(served: Site) -> None:
    """Do perIssueWrites/perIssueWindow turn the per-issue write limit on, and does a bad value change nothing?"""
    installer.install_direct(served, "writer", ["READ", "WRITE"])
    client = ConnectClient(served, "writer")
    key = client.post("/rest/api/3/issue", json=create_body()).json()["key"]
    for bad in ({"perIssueWrites": 0}, {"perIssueWrites": "2"}, {"perIssueWrites": True},
                {"perIssueWindow": -1}, {"perIssueWindow": "soon"}, {"perIssueWrites": 1, "perIssueWindow": 0}):
        refused = control(served, "POST", "limits", bad)
        assert refused.status_code == 400, bad
        assert next(iter(bad)) in refused.text or "perIssueWindow" in refused.text
    assert control(served, "GET", "limits").json()["perIssueWrites"] is None, "a refused setting changed nothing"
    answer = control(served, "POST", "limits", {"perIssueWrites": 1, "perIssueWindow": 60})
    assert answer.status_code == 200
    assert (answer.json()["perIssueWrites"], answer.json()["perIssueWindow"]) == (1, 60)
    assert client.put(f"/rest/api/3/issue/{key}", json={"fields": {"summary": "one"}}).status_code == 204
    limited = client.put(f"/rest/api/3/issue/{key}", json={"fields": {"summary": "two"}})
    assert limited.status_code == 429 and limited.headers["RateLimit-Reason"] == "jira-per-issue-on-write"
    assert control(served, "DELETE", "limits").status_code == 204
    assert client.put(f"/rest/api/3/issue/{key}", json={"fields": {"summary": "three"}}).status_code == 204


# -- changelog times as Jira writes them --------------------------------------------------------------------------


def test_changelog_times_are_written_as_jira_writes_them(served: Site) -> None:
    """Is a history entry's created written with +0000, and does the spec check accept exactly that shape?"""
    installer.install_direct(served, "writer", ["READ", "WRITE"])
    client = ConnectClient(served, "writer")
    key = client.post("/rest/api/3/issue", json=create_body()).json()["key"]
    assert client.put(f"/rest/api/3/issue/{key}", json={"fields": {"summary": "Changed"}}).status_code == 204
    answer = client.get(f"/rest/api/3/issue/{key}/changelog")
    assert answer.status_code == 200, answer.text
    (history,) = answer.json()["values"]
    assert spec.JIRA_DATE_TIME.match(history["created"]) and history["created"].endswith("+0000")
    assert served.cloud.violations == []


@pytest.mark.parametrize(("value", "accepted"), [
    ("2024-03-01T09:00:00.000+0000", True),  # Jira's form
    ("2024-03-01T09:00:00.000+00:00", True),  # RFC 3339
    ("2024-03-01T09:00:00Z", True),
    ("2024-13-01T09:00:00.000+0000", False),  # no 13th month
    ("2024-03-01T09:00:00+0000", False),  # Jira always writes milliseconds
    ("2024-03-01 09:00:00.000+0000", False),
    ("2024-03-01T09:00:00.000+000", False),
])
def test_the_date_time_erratum_is_narrow(value: str, accepted: bool) -> None:
    """Does the date-time format accept Jira's +0000 shape besides RFC 3339, and nothing looser?"""
    assert spec.FORMAT_CHECKER.conforms(value, "date-time") is accepted
