"""Does purging a tenant delete its objects in a directory or a real S3-compatible bucket (not only its rows), leave
other tenants' alone, do nothing more the second time — and does a failed deletion get logged and finished by the
retention sweep rather than forgotten?"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from app.backups.blob_backends import list_keys
from app.backups.blob_models import StreamBlob
from app.backups.blobs import object_store, open_stream, put_stream
from app.backups.models import Snapshot
from app.backups.purge import delete_tenant_objects, departed_tenant_ids
from app.backups.retention import run_retention
from app.backups.snapshots import SnapshotReader, SnapshotWriter
from app.backups.storage import FileBlobStore, S3BlobStore, blob_store
from app.connect.installs import mark_uninstalled, save_installation
from app.extensions import db
from app.tenants import Tenant, purge_uninstalled
from tests.backups.conftest import SMALL_CHUNK, s3_settings

DEAD_ENDPOINT = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused at once


@pytest.fixture(params=["file", "s3"])
def backend(request: pytest.FixtureRequest, app_config: dict, tmp_path: Path) -> str:
    """The two backends that keep objects outside the database, configured as an operator would."""
    kind = str(request.param)
    if kind == "file":
        app_config["BACKUP_STORAGE_URL"] = f"file://{tmp_path}/blobs"
    else:
        app_config.update(s3_settings(request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket")))
    app_config["BACKUP_BLOB_CHUNK_BYTES"] = SMALL_CHUNK
    return kind


@pytest.fixture
def ctx(backend: str, app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


def backed_up(name: str) -> Tenant:
    """A tenant with a finished snapshot (configuration objects) holding a streamed blob (an attachment's object)."""
    tenant = save_installation({"clientKey": name, "baseUrl": f"https://{name}.atlassian.net",
                                "sharedSecret": "s" * 32})
    writer = SnapshotWriter.begin(tenant.id, None, app_version="t", format_version=1)
    for n in range(3):
        writer.put("projects", f"P{n}", str(n), {"key": f"P{n}", "name": f"{name} project {n}"})
    writer.set_type_status("projects", "complete", 3)
    put_stream(tenant.id, [f"{name} attachment ".encode() * 3000], snapshot_id=writer.snapshot_id)
    writer.finish(api_calls=1, duration_seconds=0.1)
    return tenant


def held_objects(tenant_id: int) -> int:
    """Objects of the tenant in the configured store, counted from the store itself (not our rows)."""
    streamed = sum(1 for _ in object_store().names(tenant_id))
    store = blob_store()
    if isinstance(store, FileBlobStore):
        top = store.root / str(tenant_id)
        return streamed + (sum(1 for p in top.rglob("*") if p.is_file()) if top.exists() else 0)
    assert isinstance(store, S3BlobStore)
    return streamed + len(list_keys(store.client, store.bucket, f"{store.prefix}/{tenant_id}/"))


def purge(tenant: Tenant) -> int:
    tenant_id = tenant.id
    mark_uninstalled(tenant)
    assert purge_uninstalled(0, now=datetime.now() + timedelta(days=1)) == [tenant.client_key]
    assert db.session.get(Tenant, tenant_id) is None
    return tenant_id


def intact(tenant: Tenant) -> bool:
    """The tenant's snapshot verifies (every blob's checksum) and its attachment reads back."""
    snapshot = db.session.query(Snapshot).filter_by(tenant_id=tenant.id).one()
    SnapshotReader(snapshot.id).verify()
    digest = db.session.query(StreamBlob.sha256).filter_by(tenant_id=tenant.id).scalar()
    return b"".join(open_stream(tenant.id, digest)).startswith(tenant.client_key.encode())


def test_purging_a_tenant_deletes_its_objects_and_only_its(ctx: Flask) -> None:
    """After the purge, does the store hold nothing of the purged tenant, while the other tenant's snapshot and
    attachment still read back whole — and is a second deletion a quiet no-op?"""
    gone, stays = backed_up("gone"), backed_up("stays")
    assert held_objects(gone.id) >= 4 and held_objects(stays.id) >= 4
    gone_id = purge(gone)
    assert held_objects(gone_id) == 0
    assert departed_tenant_ids() == []
    assert intact(stays)
    assert delete_tenant_objects(gone_id) == 0  # idempotent


def _break_deletion(app: Flask, backend: str, tenant_id: int) -> Path | None:
    """Make the next deletion of the tenant's objects fail as a real store would: S3 unreachable, or (as root
    ignores permissions) an object's path turned into a non-empty directory the file system won't unlink."""
    if backend == "s3":
        app.config["BACKUP_S3_ENDPOINT_URL"] = DEAD_ENDPOINT
        return None
    store = object_store()
    name = next(n for n, _ in store.names(tenant_id) if not n.startswith(".tmp-"))
    path = store.path(tenant_id, name)  # type: ignore[attr-defined]
    path.unlink()
    path.mkdir()
    (path / "keep").write_bytes(b"x")
    return path


def test_a_failed_deletion_is_logged_and_finished_by_the_retention_sweep(
        ctx: Flask, backend: str, caplog: pytest.LogCaptureFixture) -> None:
    """When the store fails during the purge, are the rows still gone, the failure logged, the objects kept track
    of (the sweep lists them as a purged tenant's) — and does the next retention sweep delete them?"""
    gone, stays = backed_up("flaky"), backed_up("steady")
    endpoint = ctx.config.get("BACKUP_S3_ENDPOINT_URL")
    obstacle = _break_deletion(ctx, backend, gone.id)
    with caplog.at_level(logging.WARNING, logger="app.backups.purge"):
        gone_id = purge(gone)
    assert any("purged tenant" in r.getMessage() and "retention sweep retries" in r.getMessage()
               for r in caplog.records)
    if backend == "s3":
        ctx.config["BACKUP_S3_ENDPOINT_URL"] = endpoint  # S3 is back
    else:
        assert obstacle is not None
        obstacle.joinpath("keep").unlink()  # the file system lets go
        obstacle.rmdir()
    assert held_objects(gone_id) > 0
    assert departed_tenant_ids() == [gone_id]

    run_retention(datetime.now())
    assert held_objects(gone_id) == 0
    assert departed_tenant_ids() == []
    assert intact(stays)
