"""Do Jira's issue webhooks, delivered for real on loopback, reach the next backup, once each, and only when signed?"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.issuedata.changes import IssueChange
from app.issuedata.records import iter_issues
from app.issuedata.webhooks import WEBHOOK_PATH
from fakejira import generator, installer
from fakejira.client import ConnectClient
from fakejira.site import Installation, Site
from fakejira.webhooks import sign
from tests.backups.capture_support import CaptureWorld, backup, capture_world, tenant_of

API = "/rest/api/3"
SEARCH = f"{API}/search/jql"
_SEED: dict[str, Any] = {}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str, fakejira_spec: None) -> Iterator[CaptureWorld]:
    with capture_world(tmp_path_factory.mktemp("webhooks"), worker_id) as built:
        built.app.config["ISSUE_IDSET_DAYS"] = 365  # no id-set comparison: only webhooks can tell of a deletion
        yield built


def add_site(world: CaptureWorld, name: str) -> tuple[Site, Installation, ConnectClient]:
    if not _SEED:
        _SEED.update(generator.generate_preset("issues-small", site_name="issues"))
    site = world.cloud.add_site(name, seed=dict(_SEED))
    installation = installer.install_app(site, world.app.config["BASE_URL"] + "/atlassian-connect.json")
    site.client_key = installation.client_key
    return site, installation, ConnectClient(site, installation.app_key)


def changes_of(world: CaptureWorld, site: Site) -> list[tuple[str, str, str]]:
    with world.app.app_context():
        tenant = tenant_of(site.client_key)
        rows = db.session.execute(select(IssueChange.identifier, IssueChange.issue_id, IssueChange.kind)
                                  .where(IssueChange.tenant_id == tenant.id)).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def plain_keys(world: CaptureWorld, snapshot_id: int) -> list[str]:
    with world.app.app_context():
        return [r.key for r in iter_issues(snapshot_id) if not r.fields.get("subtasks") and not r.fields.get("parent")]


def test_deleted_issue_leaves_the_next_backup_by_its_webhook(world: CaptureWorld) -> None:
    """With no id-set comparison due, does an issue deleted in Jira leave the next backup because its webhook
    arrived (and is the webhook's row consumed by that backup)?"""
    site, _, client = add_site(world, "deletes")
    with world.app.app_context():
        first = backup(tenant_of(site.client_key))
        assert first.state == "succeeded", first.message
    victim = plain_keys(world, first.result["snapshot_id"])[-1]
    assert client.delete(f"{API}/issue/{victim}").status_code == 204
    assert site.webhooks.wait_idle(20)
    recorded = changes_of(world, site)
    assert any(kind == "deleted" for _, _, kind in recorded)
    site.calls.clear()
    with world.app.app_context():
        second = backup(tenant_of(site.client_key))
        assert second.state == "succeeded", second.message
        held = {r.key for r in iter_issues(second.result["snapshot_id"])}
        pending = db.session.scalar(select(func.count(IssueChange.id)).where(IssueChange.consumed_by.is_(None)))
    assert victim not in held
    assert pending == 0
    assert len(site.calls.find(method="POST", template=SEARCH)) == 1  # the "updated" search; no id listing


def test_a_duplicated_delivery_records_once(world: CaptureWorld) -> None:
    """When Jira delivers every webhook twice with the same identifier, is each recorded once?"""
    site, _, client = add_site(world, "duplicates")
    site.webhooks.configure(seed=7, duplicate_rate=1.0)
    key = plain_keys_of_site(client)[0]
    assert client.put(f"{API}/issue/{key}", json={"fields": {"summary": "Twice told"}}).status_code == 204
    assert site.webhooks.wait_idle(20)
    delivered = [a for a in site.webhooks.log() if a["outcome"] == "delivered"]
    assert len(delivered) >= 2 and any(a["duplicate"] for a in delivered)
    identifiers = {a["identifier"] for a in delivered}
    recorded = changes_of(world, site)
    assert sorted(i for i, _, _ in recorded) == sorted(identifiers)


def plain_keys_of_site(client: ConnectClient) -> list[str]:
    answer = client.post(f"{API}/search/jql", json={"jql": "project IS NOT EMPTY ORDER BY key ASC",
                                                    "fields": ["id", "subtasks", "parent"], "maxResults": 50})
    assert answer.status_code == 200
    return [i["key"] for i in answer.json()["issues"]
            if not i["fields"].get("subtasks") and not i["fields"].get("parent")]


def _deletion(issue_id: str = "10001") -> dict[str, Any]:
    return {"timestamp": int(time.time() * 1000), "webhookEvent": "jira:issue_deleted",
            "issue": {"id": issue_id, "key": "X-1"}}


def _token(inst: Installation, url: str, *, secret: str | None = None, iss: str | None = None,
           exp_offset: int = 180, qsh_url: str | None = None) -> str:
    if secret is None and iss is None and exp_offset == 180 and qsh_url is None:
        return sign(inst, url)
    valid = jwt.decode(sign(inst, qsh_url or url), options={"verify_signature": False})
    now = int(time.time())
    claims = {**valid, "iss": iss or inst.client_key, "iat": now + min(0, exp_offset) - 10, "exp": now + exp_offset}
    return jwt.encode(claims, secret or inst.shared_secret, algorithm="HS256")


@pytest.mark.parametrize("case,expected", [
    ("unsigned", 401), ("forged", 401), ("expired", 401), ("other-tenant", 401), ("other-request", 401),
    ("no-identifier", 400), ("not-json", 400), ("unknown-event", 400), ("no-issue", 400), ("oversize", 413),
])
def test_bad_deliveries_are_refused_and_record_nothing(world: CaptureWorld, case: str, expected: int) -> None:
    """Is an unsigned, forged, expired, other tenant's, other request's, malformed or oversize delivery refused with
    its 4xx, recording nothing?"""
    site, inst, _ = add_site(world, f"bad-{case}")
    other_site, other, _ = add_site(world, f"bad-{case}-other")
    url = world.app.config["BASE_URL"] + WEBHOOK_PATH
    body: Any = _deletion()
    headers = {"X-Atlassian-Webhook-Identifier": f"id-{case}", "Content-Type": "application/json"}
    token = _token(inst, url)
    if case == "forged":
        token = _token(inst, url, secret="not-the-shared-secret-" * 2)
    elif case == "expired":
        token = _token(inst, url, exp_offset=-3600)
    elif case == "other-tenant":
        token = _token(inst, url, secret=other.shared_secret)  # names this tenant, signed with another's secret
    elif case == "other-request":
        token = _token(inst, url, qsh_url=world.app.config["BASE_URL"] + "/installed")
    elif case == "no-identifier":
        headers.pop("X-Atlassian-Webhook-Identifier")
    elif case == "unknown-event":
        body = {**body, "webhookEvent": "project_deleted"}
    elif case == "no-issue":
        body = {"timestamp": 1, "webhookEvent": "worklog_deleted", "worklog": {"id": "5"}}
    elif case == "oversize":
        body = {**body, "padding": "x" * (world.app.config["MAX_CONTENT_LENGTH"] + 10)}
    if case != "unsigned":
        headers["Authorization"] = f"JWT {token}"
    data = b"{not json" if case == "not-json" else json.dumps(body).encode()
    answer = requests.post(url, data=data, headers=headers, timeout=20)
    assert answer.status_code == expected, answer.text
    assert changes_of(world, site) == []
    assert changes_of(world, other_site) == []


def test_a_signed_delivery_records_once_by_identifier(world: CaptureWorld) -> None:
    """Does a well-signed delivery record the issue it names, and the same identifier again record nothing more?"""
    site, inst, _ = add_site(world, "signed")
    url = world.app.config["BASE_URL"] + WEBHOOK_PATH
    headers = {"X-Atlassian-Webhook-Identifier": "same-id", "Content-Type": "application/json"}
    for expected in (True, False):
        answer = requests.post(url, data=json.dumps(_deletion("424242")).encode(),
                               headers={**headers, "Authorization": f"JWT {_token(inst, url)}"}, timeout=20)
        assert answer.status_code == 200, answer.text
        assert answer.json()["recorded"] is expected
    assert changes_of(world, site) == [("same-id", "424242", "deleted")]
