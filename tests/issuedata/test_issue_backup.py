"""Does a backup hold every issue and what hangs off it, read the second time only what changed, and store
attachments once?"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from app.backups.blob_models import StreamBlob
from app.backups.capture import FORMAT_VERSION
from app.backups.snapshots import SnapshotWriter
from app.extensions import db
from app.issuedata.backup import IssuePass
from app.issuedata.records import IssueRecord, issue_counts, iter_issues
from app.tenant_access import jira_access
from fakejira import generator, installer, seeding
from fakejira.client import ConnectClient
from fakejira.site import Site
from tests.backups.capture_support import CaptureWorld, backup, capture_world, tenant_of

API = "/rest/api/3"
BULK = f"{API}/issue/bulkfetch"
CONTENT = f"{API}/attachment/content/{{id}}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str, fakejira_spec: None) -> Iterator[CaptureWorld]:
    with capture_world(tmp_path_factory.mktemp("issues"), worker_id) as built:
        built.app.config["ISSUE_IDSET_DAYS"] = 0  # every pass compares the id sets (webhooks aren't wired yet)
        yield built


_SEED: dict[str, Any] = {}


def issue_seed(name: str) -> dict[str, Any]:
    if not _SEED:
        _SEED.update(generator.generate_preset("issues-small", site_name="issues"))
    seed = dict(_SEED)
    return seed


def add_site(world: CaptureWorld, name: str) -> tuple[Site, ConnectClient]:
    site = world.cloud.add_site(name, seed=issue_seed(name))
    installation = installer.install_app(site, world.app.config["BASE_URL"] + "/atlassian-connect.json")
    site.client_key = installation.client_key
    return site, ConnectClient(site, installation.app_key)


def records(snapshot_id: int) -> dict[str, dict[str, Any]]:
    return {r.key: r.to_json() for r in iter_issues(snapshot_id)}


def emulator_issues(site: Site) -> dict[str, Any]:
    return seeding.export_site(site)


def full_snapshot(tenant_id: int) -> int:
    """A fresh full issue pass into a snapshot of its own (what an incremental one must equal)."""
    writer = SnapshotWriter.begin(tenant_id, None, app_version="test", format_version=FORMAT_VERSION)
    access = jira_access(db.session.get(__import__("app.tenants", fromlist=["Tenant"]).Tenant, tenant_id))
    IssuePass(writer, access, tenant_id, full=True).run()
    writer.finish(api_calls=access.calls, duration_seconds=0.0)
    return writer.snapshot_id


def test_full_backup_holds_every_issue_and_sub_object(world: CaptureWorld) -> None:
    """Does the first backup hold each issue with its comments, worklogs, attachments, links, watchers, votes,
    properties and history as the emulated Jira holds them?"""
    site, _ = add_site(world, "full")
    export = emulator_issues(site)
    with world.app.app_context():
        job = backup(tenant_of(site.client_key))
        assert job.state == "succeeded", job.message
        held = {r.key: r for r in iter_issues(job.result["snapshot_id"])}
        counts = issue_counts(job.result["snapshot_id"])
    by_id = {str(i["id"]): i for i in export["issues"]}
    assert {r.id for r in held.values()} == set(by_id)
    assert list(held) == sorted(held, key=lambda k: (k.split("-")[0], int(k.split("-")[1])))
    for record in held.values():
        source = by_id[record.id]
        assert record.key == source["key"]
        source_comments = export.get("issueComments", {}).get(record.id, [])
        # Comments restricted to a group the app's user isn't in are read as someone in it (impersonation).
        assert sorted(c["id"] for c in record.comments) == sorted(c["id"] for c in source_comments), record.key
        assert [c.get("visibility") for c in record.comments if c.get("visibility")] == \
            [c["visibility"] for c in source_comments if c.get("visibility")], record.key
        assert sorted(w["id"] for w in record.worklogs) == sorted(
            w["id"] for w in export.get("issueWorklogs", {}).get(record.id, []))
        assert sorted(a.id for a in record.attachments) == sorted(
            a["id"] for a in export.get("issueAttachments", {}).get(record.id, []))
        assert sorted(record.watchers) == sorted(export.get("issueWatchers", {}).get(record.id, []))
        assert sorted(record.votes.voters or []) == sorted(export.get("issueVoters", {}).get(record.id, []))
        assert {p["key"]: p["value"] for p in record.properties} == {
            p["key"]: p["value"] for p in export.get("issueProperties", {}).get(record.id, [])}
        assert len(record.changelog) == len(export.get("issueChangelogs", {}).get(record.id, []))
        assert all(a.sha256 for a in record.attachments)
    links = {str(link["id"]) for link in export.get("issueLinks", [])}
    assert {str(link["id"]) for r in held.values() for link in r.links} == links
    assert counts is not None and counts.issues == len(by_id)
    assert counts.comments == sum(len(v) for v in export.get("issueComments", {}).values())
    restricted = sum(1 for v in export.get("issueComments", {}).values() for c in v if c.get("visibility"))
    assert restricted > 0 and counts.restricted_read == restricted
    assert counts.restricted_reason is None and counts.restricted_words is None
    assert counts.attachments == sum(len(v) for v in export.get("issueAttachments", {}).values())


def _attachment_bytes_match(world: CaptureWorld, client: ConnectClient, record: IssueRecord) -> None:
    from app.backups.blobs import open_stream

    for attachment in record.attachments:
        answer = client.get(f"{API}/attachment/content/{attachment.id}", query={"redirect": "false"})
        assert answer.status_code == 200
        assert attachment.sha256 == hashlib.sha256(answer.content).hexdigest()
        assert hashlib.sha256(b"".join(open_stream(record_tenant(world), attachment.sha256))).hexdigest() == \
            attachment.sha256


def record_tenant(world: CaptureWorld) -> int:
    return _TENANT["id"]


_TENANT: dict[str, int] = {}


def change_site(client: ConnectClient, held: dict[str, IssueRecord]) -> dict[str, str]:
    """Edit one issue, comment another, delete a worklog, attach a file, delete an issue (its webhook lost)."""
    keys = sorted(held, key=lambda k: (k.split("-")[0], int(k.split("-")[1])))
    plain = [k for k in keys if not held[k].issue["fields"].get("subtasks")]
    edited, commented, attached, deleted = plain[0], plain[1], plain[2], plain[-1]
    with_worklog = next(k for k in keys if held[k].worklogs and k not in {edited, commented, attached, deleted})
    assert client.put(f"{API}/issue/{edited}", json={"fields": {"summary": "Changed by the test"}}).status_code == 204
    doc = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text",
                                                                                        "text": "new"}]}]}
    assert client.post(f"{API}/issue/{commented}/comment", json={"body": doc}).status_code == 201
    worklog = held[with_worklog].worklogs[0]["id"]
    assert client.delete(f"{API}/issue/{with_worklog}/worklog/{worklog}",
                         query={"adjustEstimate": "leave"}).status_code == 204
    files = {"file": ("added.txt", io.BytesIO(b"added by the test\n" * 100), "text/plain")}
    token = installer.app_token(client.site, client.app_key, "POST", f"{API}/issue/{attached}/attachments")
    answer = client.session.post(client.site.base_url + f"{API}/issue/{attached}/attachments", files=files,
                                 headers={"Authorization": f"JWT {token}", "X-Atlassian-Token": "no-check"})
    assert answer.status_code == 200, answer.text
    assert client.delete(f"{API}/issue/{deleted}", query={"deleteSubtasks": "true"}).status_code == 204
    return {"edited": edited, "commented": commented, "attached": attached, "deleted": deleted,
            "worklog": with_worklog}


def test_incremental_backup_reads_only_what_changed_and_equals_a_full_one(world: CaptureWorld) -> None:
    """After an edit, a comment, a worklog deletion, an attachment and a deleted issue (webhook lost), does the next
    backup read only those issues, download only the new attachment, and hold what a fresh full backup holds?"""
    site, client = add_site(world, "incremental")
    with world.app.app_context():
        tenant = tenant_of(site.client_key)
        _TENANT["id"] = tenant.id
        first = backup(tenant)
        assert first.state == "succeeded", first.message
        held = {r.key: r for r in iter_issues(first.result["snapshot_id"])}
        blobs_before = db.session.execute(select(func.count(StreamBlob.id))
                                          .where(StreamBlob.tenant_id == tenant.id)).scalar_one()
        changed = change_site(client, held)
        site.calls.clear()
        second = backup(tenant)
        assert second.state == "succeeded", second.message
        fetched = [r for r in site.calls.find(method="POST", template=BULK)]
        downloads = site.calls.find(method="GET", template=CONTENT)
        incremental = records(second.result["snapshot_id"])
        blobs_after = db.session.execute(select(func.count(StreamBlob.id))
                                         .where(StreamBlob.tenant_id == tenant.id)).scalar_one()
        fresh = records(full_snapshot(tenant.id))
    assert len(fetched) == 1  # the few changed issues fit one bulk fetch
    assert len(downloads) == 1  # only the new attachment's bytes
    assert blobs_after == blobs_before + 1  # unchanged attachments are stored once across snapshots
    assert changed["deleted"] not in incremental
    assert incremental[changed["edited"]]["issue"]["fields"]["summary"] == "Changed by the test"
    assert set(incremental) == set(fresh)
    for key in fresh:
        assert incremental[key] == fresh[key], key


def test_without_the_grant_to_act_as_users_the_snapshot_says_why(world: CaptureWorld) -> None:
    """An installation whose payload has no oauthClientId can't act as anyone: does the backup still finish, hold
    the comments the app's user reads, and say that restricted comments may be missing, why, and the fix?"""
    site, _ = add_site(world, "no-grant")
    with world.app.app_context():
        tenant = tenant_of(site.client_key)
        tenant.payload_json = json.dumps({k: v for k, v in tenant.payload.items() if k != "oauthClientId"})
        db.session.commit()
        job = backup(tenant)
        assert job.state == "succeeded", job.message
        counts = issue_counts(job.result["snapshot_id"])
    assert counts is not None and counts.restricted_read == 0 and counts.restricted_unread > 0
    assert counts.restricted_reason is not None and "oauthClientId" in counts.restricted_reason
    assert counts.restricted_words is not None and "Reinstall the app" in counts.restricted_words


def test_every_boards_sprints_are_kept_those_without_issues_too(world: CaptureWorld) -> None:
    """A future sprint nobody planned into holds no issue, so no record names it: does the snapshot keep each scrum
    board's sprints as the board lists them, that one included?"""
    from app.issuedata.sprints import snapshot_sprints

    site, client = add_site(world, "sprints")
    board = next(b for b in emulator_issues(site)["boards"] if b.get("type") == "scrum")
    created = client.post("/rest/agile/1.0/sprint", json={"name": "Nobody planned yet", "originBoardId": board["id"]})
    assert created.status_code == 201, created.text
    listed = client.get(f"/rest/agile/1.0/board/{board['id']}/sprint", query={"maxResults": 50}).json()["values"]
    with world.app.app_context():
        job = backup(tenant_of(site.client_key))
        assert job.state == "succeeded", job.message
        held = snapshot_sprints(job.result["snapshot_id"])
    assert {(s["id"], s["name"], s["state"]) for s in listed} <= {(s["id"], s["name"], s["state"]) for s in held}
    assert any(s["name"] == "Nobody planned yet" and s["state"] == "future" for s in held)
