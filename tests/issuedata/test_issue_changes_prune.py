"""Are webhook rows a backup consumed pruned once (and only once) the snapshot that used them finished well?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from app.backups.models import Snapshot, SnapshotStatus
from app.backups.retention import prune
from app.extensions import db
from app.issuedata.changes import IssueChange
from app.issuedata.records import iter_issues
from fakejira import generator, installer
from fakejira.client import ConnectClient
from fakejira.site import Site
from tests.backups.capture_support import CaptureWorld, backup, capture_world, tenant_of

API = "/rest/api/3"
_SEED: dict[str, Any] = {}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str, fakejira_spec: None) -> Iterator[CaptureWorld]:
    with capture_world(tmp_path_factory.mktemp("changes-prune"), worker_id) as built:
        built.app.config["ISSUE_IDSET_DAYS"] = 365  # no id-set comparison: only webhooks can tell of a deletion
        yield built


def add_site(world: CaptureWorld, name: str) -> tuple[Site, ConnectClient]:
    if not _SEED:
        _SEED.update(generator.generate_preset("issues-small", site_name="issues"))
    site = world.cloud.add_site(name, seed=dict(_SEED))
    installation = installer.install_app(site, world.app.config["BASE_URL"] + "/atlassian-connect.json")
    site.client_key = installation.client_key
    return site, ConnectClient(site, installation.app_key)


def rows_of(world: CaptureWorld, site: Site) -> list[tuple[str, int | None]]:
    with world.app.app_context():
        tenant = tenant_of(site.client_key)
        rows = db.session.execute(select(IssueChange.kind, IssueChange.consumed_by)
                                  .where(IssueChange.tenant_id == tenant.id)).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def succeeded(world: CaptureWorld, site: Site) -> int:
    with world.app.app_context():
        job = backup(tenant_of(site.client_key))
        assert job.state == "succeeded", job.message
        return int(job.result["snapshot_id"])


def delete_an_issue(world: CaptureWorld, site: Site, client: ConnectClient, snapshot_id: int) -> str:
    with world.app.app_context():
        keys = [r.key for r in iter_issues(snapshot_id)
                if not r.fields.get("subtasks") and not r.fields.get("parent")]
    victim = keys[-1]
    assert client.delete(f"{API}/issue/{victim}").status_code == 204
    assert site.webhooks.wait_idle(20)
    return victim


def test_consumed_rows_go_once_their_snapshot_finished(world: CaptureWorld) -> None:
    """After a backup consumed a deletion's webhook rows, does the retention sweep delete them (they stay marked,
    not deleted, until then), leaving rows that arrived later alone?"""
    site, client = add_site(world, "pruned")
    first = succeeded(world, site)
    delete_an_issue(world, site, client, first)
    second = succeeded(world, site)
    assert rows_of(world, site) and all(by == second for _, by in rows_of(world, site))

    key = delete_an_issue(world, site, client, second)  # news no backup has read yet
    fresh = [r for r in rows_of(world, site) if r[1] is None]
    assert fresh
    with world.app.app_context():
        prune(tenant_of(site.client_key))
        db.session.remove()
    assert rows_of(world, site) == fresh

    third = succeeded(world, site)
    with world.app.app_context():
        assert key not in {r.key for r in iter_issues(third)}
    assert all(by == third for _, by in rows_of(world, site))  # the second's rows went at the third's start


def test_a_failed_backup_gives_its_rows_back(world: CaptureWorld) -> None:
    """When the snapshot whose pass consumed a deletion's rows fails afterwards, does the next backup still drop the
    deleted issue (the rows read again, not lost), and are the rows kept until a good snapshot used them?"""
    site, client = add_site(world, "failed")
    first = succeeded(world, site)
    victim = delete_an_issue(world, site, client, first)
    second = succeeded(world, site)
    with world.app.app_context():
        # The snapshot fails after its issue pass consumed the rows (a crash in its last step, say).
        db.session.execute(update(Snapshot).where(Snapshot.id == second).values(status=SnapshotStatus.FAILED.value))
        db.session.commit()
        prune(tenant_of(site.client_key))
        db.session.remove()
    assert rows_of(world, site) and all(by is None for _, by in rows_of(world, site))

    third = succeeded(world, site)
    with world.app.app_context():
        held = {r.key for r in iter_issues(third)}
    assert victim not in held
    assert rows_of(world, site) and all(by == third for _, by in rows_of(world, site))
