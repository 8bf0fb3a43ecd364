"""Does a Forge installation get Jira's issue events as a Connect one does: a trigger in the manifest for the same
events, routed to a remote endpoint that records them through the Connect webhook's own domain entry — once per
event, and only for a verified invocation of a live installation about its own site?"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.forge.issue_events import EVENT_PATH, FORGE_EVENTS
from app.issuedata import webhooks
from app.issuedata.changes import IssueChange
from fakejira.forge import ForgeInstall
from tests.forge.test_manifest import MANIFEST, VALIDATOR, _node

TRIGGER_KEY = "dr-issue-data-events"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    """The manifest as @forge/manifest's own YAML parser reads it."""
    done = subprocess.run([_node(), str(VALIDATOR), "--print-json", str(MANIFEST)], capture_output=True, text=True,
                          timeout=60, cwd=MANIFEST.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_manifest_subscribes_a_trigger_to_the_issue_events(manifest: dict[str, Any], app) -> None:
    """Is there a trigger for Forge's twin of every issue event the Connect descriptor subscribes to (but comment
    updates, which Forge hasn't), POSTed with the system token alone to a route the app serves?"""
    (trigger,) = [t for t in manifest["modules"]["trigger"] if t["key"] == TRIGGER_KEY]
    assert sorted(trigger["events"]) == sorted(FORGE_EVENTS)
    assert set(FORGE_EVENTS.values()) <= webhooks.EVENTS
    assert webhooks.EVENTS - set(FORGE_EVENTS.values()) == {"comment_updated"}
    (endpoint,) = [e for e in manifest["modules"]["endpoint"] if e["key"] == trigger["endpoint"]]
    assert endpoint["route"]["path"] == EVENT_PATH
    assert endpoint["auth"] == {"appSystemToken": {"enabled": True}}, "events carry no user session"
    app.url_map.bind("localhost").match(EVENT_PATH, method="POST")


def _deletion(issue_id: str = "10042") -> dict[str, Any]:
    return {"eventType": "avi:jira:deleted:issue", "atlassianId": "557058:someone",
            "issue": {"id": issue_id, "key": "DR-42", "fields": {"summary": "Gone"}}}


def deliver(fake_cloud, forge_app, inst: ForgeInstall, payload: Any, *, fit: str | None = None,
            unsigned: bool = False, cloud_id: str | None = None, raw: bytes | None = None) -> requests.Response:
    """POST one event as Forge delivers a trigger's event to a remote endpoint (wrapped, FIT and system token)."""
    platform = fake_cloud.forge
    body = {"payload": payload, "context": {"cloudId": cloud_id or inst.cloud_id, "moduleKey": TRIGGER_KEY}}
    headers = {"Content-Type": "application/json", "x-forge-oauth-system": platform.system_token(inst)}
    if not unsigned:
        token = fit or platform.mint_fit(inst, module_key=TRIGGER_KEY, site_url=False)
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(forge_app.config["BASE_URL"] + EVENT_PATH, data=raw or json.dumps(body).encode(),
                         headers=headers, timeout=20)


def rows(forge_app) -> list[tuple[int, str, str, str]]:
    with forge_app.app_context():
        found = db.session.execute(select(IssueChange.tenant_id, IssueChange.event, IssueChange.issue_id,
                                          IssueChange.kind).order_by(IssueChange.id)).all()
        db.session.remove()
    return [tuple(r) for r in found]


def _tenant_id(forge_app, inst: ForgeInstall) -> int:
    from tests.forge.conftest import forge_tenant

    with forge_app.app_context():
        return forge_tenant(forge_app, inst).id


def test_a_valid_event_records_a_change_once(forge_app, fake_cloud, forge_install) -> None:
    """Does a verified deletion event record the issue as deleted for the installation's tenant, in the Connect
    webhook's words — and its retries (the same event, a retryContext added) record nothing more?"""
    inst = forge_install(fake_cloud.add_site("forge-events"))
    first = deliver(fake_cloud, forge_app, inst, _deletion())
    assert first.status_code == 200, first.text
    assert first.json() == {"status": "ok", "recorded": True, "issues": 1}
    for retry in range(1, 3):
        again = deliver(fake_cloud, forge_app, inst, {**_deletion(), "retryContext": {"retryCount": retry}})
        assert again.status_code == 200 and again.json()["recorded"] is False, again.text
    assert rows(forge_app) == [(_tenant_id(forge_app, inst), webhooks.DELETION, "10042", "deleted")]

    link = {"eventType": "avi:jira:created:issuelink",
            "issueLink": {"id": 7, "sourceIssueId": 10001, "destinationIssueId": 10002}}
    assert deliver(fake_cloud, forge_app, inst, link).json() == {"status": "ok", "recorded": True, "issues": 2}
    assert [r[1:] for r in rows(forge_app)[1:]] == [("issuelink_created", "10001", "changed"),
                                                    ("issuelink_created", "10002", "changed")]


@pytest.mark.parametrize("case,status,code", [
    ("unsigned", 401, "invalid-invocation-token"),
    ("forged", 401, "invalid-invocation-token"),
    ("another-app", 401, "invalid-invocation-token"),
    ("expired", 401, "invalid-invocation-token"),
    ("another-site", 403, "installation-mismatch"),
    ("uninstalled", 403, "installation-uninstalled"),
    ("unknown-event", 400, "unsupported-event"),
    ("no-issue", 400, None),
    ("not-json", 400, "bad-event"),
])
def test_bad_calls_are_refused_and_record_nothing(forge_app, fake_cloud, forge_install, invoker, case: str,
                                                  status: int, code: str | None) -> None:
    """Is an unsigned, forged, other app's, expired, other installation's, uninstalled or malformed call refused
    with its 4xx and a JSON error, recording nothing for any tenant?"""
    inst = forge_install(fake_cloud.add_site(f"ev-{case}"))
    other = forge_install(fake_cloud.add_site(f"ev-{case}-other"))
    platform = fake_cloud.forge
    kwargs: dict[str, Any] = {}
    payload: Any = _deletion()
    if case == "unsigned":
        kwargs["unsigned"] = True
    elif case == "forged":
        kwargs["fit"] = platform.bad_fit(inst, "other-key")
    elif case == "another-app":
        kwargs["fit"] = platform.bad_fit(inst, "wrong-aud")
    elif case == "expired":
        kwargs["fit"] = platform.bad_fit(inst, "expired")
    elif case == "another-site":
        kwargs["cloud_id"] = other.cloud_id  # this installation's token, the other site's event
    elif case == "uninstalled":
        assert invoker.pre_uninstall(inst)[-1].ok
    elif case == "unknown-event":
        payload = {**payload, "eventType": "avi:jira:created:project"}
    elif case == "no-issue":
        payload = {"eventType": "avi:jira:deleted:worklog", "worklog": {"id": "5"}}
    elif case == "not-json":
        kwargs["raw"] = b"{not json"
    answer = deliver(fake_cloud, forge_app, inst, payload, **kwargs)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    assert rows(forge_app) == []
