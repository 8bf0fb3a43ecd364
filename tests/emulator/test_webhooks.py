"""Does the emulated Jira deliver an app's descriptor webhooks as Jira does — signed POSTs with a stable identifier,
retried on 5xx and timeouts, not on other refusals — and can a test make them late, doubled or lost, the same way
for the same seed?"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
import requests
from atlassian_jwt.url_utils import hash_url
from werkzeug.wrappers import Request, Response

from fakejira import installer
from fakejira.client import ConnectClient
from fakejira.cloud import Cloud
from fakejira.server import ServerThread
from fakejira.site import Installation, Site
from fakejira.webhooks import WebhookError

APP = "com.example.listener"
HOOKS = [{"event": "jira:issue_created", "url": "/hooks/issue-created"},
         {"event": "comment_deleted", "url": "/hooks/comment-deleted", "excludeBody": True},
         {"event": "sprint_started", "url": "/hooks/sprint"}]
ISSUE = {"id": "10001", "key": "OPS-1", "self": "https://acme.atlassian.net/rest/api/2/issue/10001",
         "fields": {"summary": "Disk full"}}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """The app's side: serves its descriptor, accepts the install, records webhooks, answers as scripted."""

    hooks: list[dict[str, Any]]
    scopes: list[str] = field(default_factory=lambda: ["READ"])
    script: list[int] = field(default_factory=list)  # statuses for the next webhooks, then 200
    hang: float = 0.0  # seconds to wait before answering a webhook
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def descriptor(self) -> dict[str, Any]:
        return {"key": APP, "name": "Listener", "baseUrl": self.url, "authentication": {"type": "jwt"},
                "lifecycle": {"installed": "/installed"}, "apiMigrations": {"signed-install": True},
                "scopes": self.scopes, "modules": {"webhooks": self.hooks}}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/atlassian-connect.json":
            response = Response(json.dumps(self.descriptor()), content_type="application/json")
        elif request.path == "/installed":
            response = Response(status=204)
        else:
            if self.hang:
                time.sleep(self.hang)
            with self.lock:
                self.received.append(Received(request.path, dict(request.headers), request.get_data()))
                status = self.script.pop(0) if self.script else 200
            response = Response(status=status)
        return response(environ, start_response)

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Receiver(hooks=list(HOOKS))
    server = ServerThread(app).start()
    app.url = server.url
    yield app
    server.stop()


@pytest.fixture
def site(fake_cloud: Cloud, receiver: Receiver) -> Site:
    site = fake_cloud.add_site("acme")
    installer.install_app(site, receiver.url + "/atlassian-connect.json")
    site.webhooks.configure(retry_delay=(0.01, 0.03), timeout=(1.0, 1.0))
    return site


def test_a_webhook_is_a_signed_post_in_atlassians_shape(site: Site, receiver: Receiver) -> None:
    """JWT verifiable with the shared secret (iss = clientKey, qsh of the POST), identifier and flow headers."""
    [identifier] = site.webhooks.emit("jira:issue_created", {"issue": ISSUE}, account_id="557058:someone")
    assert site.webhooks.wait_idle(5)
    [got] = receiver.received
    inst: Installation = site.installations[APP]
    token = got.headers["Authorization"].removeprefix("JWT ")
    claims = jwt.decode(token, inst.shared_secret, algorithms=["HS256"])
    assert claims["iss"] == inst.client_key and claims["sub"] == "557058:someone"
    assert claims["qsh"] == hash_url("POST", "/hooks/issue-created")
    assert got.headers["X-Atlassian-Webhook-Identifier"] == identifier
    assert got.headers["X-Atlassian-Webhook-Flow"] == "Primary"
    assert "X-Atlassian-Webhook-Retry" not in got.headers
    body = json.loads(got.body)
    assert body["webhookEvent"] == "jira:issue_created" and body["issue_event_type_name"] == "issue_created"
    assert isinstance(body["timestamp"], int) and body["issue"] == ISSUE
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-that-is-long-enough-for-hs256", algorithms=["HS256"])


def test_only_subscribed_events_go_out_and_exclude_body_sends_none(site: Site, receiver: Receiver) -> None:
    assert site.webhooks.emit("worklog_created", {"worklog": {"id": "1"}}) == []
    site.webhooks.emit("comment_deleted", {"comment": {"id": "5"}}, flow="Secondary")
    assert site.webhooks.wait_idle(5)
    [got] = receiver.received
    assert (got.path, got.body, got.headers["X-Atlassian-Webhook-Flow"]) == ("/hooks/comment-deleted", b"",
                                                                             "Secondary")


def test_5xx_is_retried_with_the_same_identifier_and_a_retry_count(site: Site, receiver: Receiver) -> None:
    receiver.script = [503, 500]
    [identifier] = site.webhooks.emit("jira:issue_created", {"issue": ISSUE})
    assert site.webhooks.wait_idle(5)
    assert [r.headers["X-Atlassian-Webhook-Identifier"] for r in receiver.received] == [identifier] * 3
    assert [r.headers.get("X-Atlassian-Webhook-Retry") for r in receiver.received] == [None, "1", "2"]
    assert [a.outcome for a in site.webhooks.attempts] == ["retrying", "retrying", "delivered"]


@pytest.mark.parametrize("status", [400, 401, 404])
def test_other_refusals_are_final(site: Site, receiver: Receiver, status: int) -> None:
    receiver.script = [status]
    site.webhooks.emit("jira:issue_created", {"issue": ISSUE})
    assert site.webhooks.wait_idle(5)
    assert len(receiver.received) == 1
    assert [(a.status, a.outcome) for a in site.webhooks.attempts] == [(status, "failed")]


def test_a_timeout_is_retried_until_the_retries_run_out(site: Site, receiver: Receiver) -> None:
    receiver.hang = 0.4
    site.webhooks.configure(timeout=(1.0, 0.1), max_retries=2)
    site.webhooks.emit("jira:issue_created", {"issue": ISSUE})
    assert site.webhooks.wait_idle(10)
    assert [(a.status, a.outcome) for a in site.webhooks.attempts] == [
        (None, "retrying"), (None, "retrying"), (None, "gave-up")]
    assert all(a.error == "ReadTimeout" for a in site.webhooks.attempts)


def _fault_run(site: Site, receiver: Receiver, seed: int) -> tuple[list[str], list[str], list[str], list[str]]:
    """Emit 30 webhooks under the fault knobs; (lost, doubled, late, received) identifiers."""
    site.webhooks.reset()
    site.webhooks.configure(seed=seed, lose_rate=0.2, duplicate_rate=0.2, delay_rate=0.3, delay_seconds=0.2,
                            retry_delay=(0.01, 0.02))
    with receiver.lock:
        receiver.received.clear()
    order = [site.webhooks.emit("jira:issue_created", {"issue": ISSUE})[0] for _ in range(30)]
    assert site.webhooks.wait_idle(10)
    attempts = site.webhooks.attempts
    index = {identifier: n for n, identifier in enumerate(order)}

    def which(pick: Any) -> list[str]:
        return sorted({str(index[a.identifier]) for a in attempts if pick(a)}, key=int)

    got = [str(index[r.headers["X-Atlassian-Webhook-Identifier"]]) for r in receiver.received]
    return which(lambda a: a.outcome == "lost"), which(lambda a: a.duplicate), which(lambda a: a.delayed), got


def test_lost_doubled_and_late_webhooks_follow_the_seed(site: Site, receiver: Receiver) -> None:
    lost, doubled, late, got = _fault_run(site, receiver, seed=7)
    assert lost and doubled and late  # the rates did something
    assert not set(lost) & set(got)  # a lost webhook never arrives
    assert all(got.count(n) == 2 for n in doubled)  # a doubled one arrives twice, with one identifier
    assert len(got) == 30 - len(lost) + len(doubled)
    assert got.index(late[0]) > got.index(next(n for n in got if n not in late))  # late ones come after
    assert _fault_run(site, receiver, seed=7)[:3] == (lost, doubled, late)  # same seed, same faults
    assert _fault_run(site, receiver, seed=8)[:3] != (lost, doubled, late)


def test_no_webhooks_for_a_disabled_or_uninstalled_app_or_one_that_cannot_read(
        fake_cloud: Cloud, site: Site, receiver: Receiver) -> None:
    site.installations[APP].enabled = False
    assert site.webhooks.emit("jira:issue_created", {"issue": ISSUE}) == []
    installer.uninstall_app(site, APP)
    assert site.webhooks.emit("jira:issue_created", {"issue": ISSUE}) == []
    receiver.scopes = ["NONE"]
    other = fake_cloud.add_site("other")
    installer.install_app(other, receiver.url + "/atlassian-connect.json")
    assert other.webhooks.emit("jira:issue_created", {"issue": ISSUE}) == []
    assert receiver.received == []


def test_an_unknown_event_or_bad_knob_is_refused(site: Site) -> None:
    with pytest.raises(WebhookError, match="unknown webhook event"):
        site.webhooks.emit("jira:issue_exploded", {})
    before = site.webhooks.knobs.describe()
    with pytest.raises(WebhookError, match="retry_delay"):
        site.webhooks.configure(lose_rate=0.5, retry_delay=(2, 1))
    assert site.webhooks.knobs.describe() == before


def test_the_control_api_sets_knobs_emits_drains_and_shows_the_log(site: Site, receiver: Receiver) -> None:
    control = site.base_url + "/_emulator/webhooks"
    bad = requests.post(control, json={"loseRate": 2, "seed": 3}, timeout=5)
    assert bad.status_code == 400 and "lose_rate" in bad.json()["errorMessages"][0]
    assert requests.post(control, json={"colour": "red"}, timeout=5).status_code == 400
    assert requests.get(control, timeout=5).json()["knobs"]["seed"] == 0  # nothing changed

    knobs = requests.post(control, json={"seed": 3, "duplicateRate": 1, "retryDelay": [0.01, 0.02]}, timeout=5)
    assert knobs.status_code == 200 and knobs.json()["duplicateRate"] == 1.0
    emitted = requests.post(control + "/emit", json={"event": "jira:issue_created", "payload": {"issue": ISSUE}},
                            timeout=5)
    assert emitted.status_code == 202 and len(emitted.json()["identifiers"]) == 1
    assert requests.post(control + "/emit", json={"event": "nope"}, timeout=5).status_code == 400
    drained = requests.post(control + "/drain", json={"timeout": 5}, timeout=10)
    assert drained.json() == {"drained": True, "pending": 0}
    log = requests.get(control, timeout=5).json()["attempts"]
    assert [a["outcome"] for a in log] == ["delivered", "delivered"] and log[1]["duplicate"] is True
    assert requests.delete(control, timeout=5).status_code == 204
    assert requests.get(control, timeout=5).json()["attempts"] == []


def test_starting_a_sprint_sends_sprint_started(fake_cloud: Cloud, receiver: Receiver) -> None:
    """The sprint resource emits its events through the same queue (a real change, not a direct emit)."""
    receiver.scopes = ["READ", "WRITE"]
    site = fake_cloud.add_site("agile", seed={"filters": [], "boards": []})
    installer.install_app(site, receiver.url + "/atlassian-connect.json")
    client = ConnectClient(site, APP)
    site.store.put("filters", "10000", {"id": "10000", "name": "All", "jql": "project = OPS"})
    board = client.post("/rest/agile/1.0/board", json={"name": "B", "type": "scrum", "filterId": 10000})
    assert board.status_code == 201, board.text
    sprint = client.post("/rest/agile/1.0/sprint", json={"name": "S", "originBoardId": board.json()["id"],
                                                         "startDate": "2026-03-02T09:00:00.000Z",
                                                         "endDate": "2026-03-16T09:00:00.000Z"}).json()
    assert client.post(f"/rest/agile/1.0/sprint/{sprint['id']}", json={"state": "active"}).status_code == 200
    assert site.webhooks.wait_idle(5)
    [got] = receiver.received
    body = json.loads(got.body)
    assert (got.path, body["webhookEvent"], body["sprint"]["state"]) == ("/hooks/sprint", "sprint_started", "active")


def test_creating_and_deleting_an_issue_sends_their_webhooks(fake_cloud: Cloud, receiver: Receiver) -> None:
    """A real issue create through the REST API (issue events, events.py) reaches the subscribed app."""
    receiver.hooks = [{"event": "jira:issue_created", "url": "/hooks/created"},
                      {"event": "jira:issue_deleted", "url": "/hooks/deleted"}]
    receiver.scopes = ["READ", "WRITE", "DELETE", "ADMIN"]
    site = fake_cloud.add_site("issues")
    installer.install_app(site, receiver.url + "/atlassian-connect.json")
    client = ConnectClient(site, APP)
    admin = next(iter(site.admins))
    project = client.post("/rest/api/3/project", json={"key": "OPS", "name": "Ops", "projectTypeKey": "software",
                                                       "leadAccountId": admin})
    assert project.status_code == 201, project.text
    issue = client.post("/rest/api/3/issue", json={"fields": {"project": {"key": "OPS"}, "issuetype": {"id": "10001"},
                                                              "summary": "Disk full"}})
    assert issue.status_code == 201, issue.text
    assert client.delete(f"/rest/api/3/issue/{issue.json()['key']}").status_code == 204
    assert site.webhooks.wait_idle(5)
    assert receiver.paths() == ["/hooks/created", "/hooks/deleted"]
    created = json.loads(receiver.received[0].body)
    assert (created["webhookEvent"], created["issue_event_type_name"]) == ("jira:issue_created", "issue_created")
    assert created["issue"]["key"] == "OPS-1" and created["issue"]["fields"]["summary"] == "Disk full"
    assert created["issue"]["self"] == f"{site.base_url}/rest/api/2/issue/{issue.json()['id']}"
    assert created["user"]["accountId"]
