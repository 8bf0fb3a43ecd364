"""Retention of streamed blobs: a pruned snapshot takes only the blobs no other snapshot holds, and a crash at any
point of the sweep loses nothing still held."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.backups import blobs
from app.backups.blob_models import SnapshotStreamBlob, StreamBlob
from app.backups.blobs import BlobRef, object_store, open_stream, put_stream, stat, sweep_orphan_objects
from app.backups.models import Snapshot, SnapshotStatus
from app.backups.retention import collect_stream_garbage, prune
from app.clock import utcnow
from app.connect.installs import save_installation
from app.extensions import db
from app.tenants import Tenant


@pytest.fixture
def ctx(blob_backend: str, app: Flask) -> Iterator[Flask]:
    with app.app_context():
        app.config.update(BACKUP_RETENTION_DAILY=1, BACKUP_RETENTION_WEEKLY=0)
        yield app


@pytest.fixture
def tenant(ctx: Flask) -> Tenant:
    return save_installation({"clientKey": "site", "baseUrl": "https://site.atlassian.net", "sharedSecret": "s" * 32})


def snapshot(tenant: Tenant, days_ago: int, status: SnapshotStatus = SnapshotStatus.COMPLETE) -> int:
    row = Snapshot(tenant_id=tenant.id, app_version="t", format_version=1, status=status.value,
                   taken_at=utcnow() - timedelta(days=days_ago))
    db.session.add(row)
    db.session.commit()
    return row.id


def objects(tenant: Tenant) -> set[str]:
    return {name for name, _ in object_store().names(tenant.id)}


def readable(tenant: Tenant, ref: BlobRef, content: bytes) -> bool:
    return b"".join(open_stream(tenant.id, ref.digest)) == content


@pytest.fixture
def two_snapshots(tenant: Tenant) -> dict[str, BlobRef]:
    """An old snapshot holding ``shared`` and ``old_only``; yesterday's holding ``shared`` and ``new_only``."""
    old, new = snapshot(tenant, days_ago=5), snapshot(tenant, days_ago=1)
    refs = {"shared": put_stream(tenant.id, [b"shared" * 2000], snapshot_id=old),
            "old_only": put_stream(tenant.id, [b"old only" * 2000], snapshot_id=old),
            "new_only": put_stream(tenant.id, [b"new only" * 2000], snapshot_id=new)}
    put_stream(tenant.id, [b"shared" * 2000], snapshot_id=new)
    return refs


def test_does_pruning_a_snapshot_delete_only_the_blobs_no_other_snapshot_holds(
        tenant: Tenant, two_snapshots: dict[str, BlobRef]) -> None:
    assert len(objects(tenant)) == 3

    result = prune(tenant)

    assert len(result.deleted) == 1 and result.stream_blobs_deleted == 1
    assert stat(tenant.id, two_snapshots["old_only"].digest) is None
    assert len(objects(tenant)) == 2  # its object went with it
    assert readable(tenant, two_snapshots["shared"], b"shared" * 2000)
    assert readable(tenant, two_snapshots["new_only"], b"new only" * 2000)
    assert db.session.execute(select(func.count()).select_from(SnapshotStreamBlob)).scalar() == 2


def test_is_the_sweep_skipped_while_a_snapshot_runs(tenant: Tenant) -> None:
    """A running backup may have stored content it is about to record as held."""
    snapshot(tenant, days_ago=0, status=SnapshotStatus.RUNNING)
    ref = put_stream(tenant.id, [b"not yet held"])
    assert collect_stream_garbage(tenant.id) == 0
    assert stat(tenant.id, ref.digest) == ref


class Crash(Exception):
    """The process dies here."""


def test_does_a_crash_mid_sweep_lose_nothing_still_held(ctx: Flask, tenant: Tenant, two_snapshots: dict[str, BlobRef],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    store = object_store()
    before = objects(tenant)

    def crash(*_args: object, **_kwargs: object) -> None:
        raise Crash

    monkeypatch.setattr(store, "delete", crash)
    with pytest.raises(Crash):
        prune(tenant)
    db.session.rollback()  # what the retention loop does with a failed tenant
    monkeypatch.undo()

    assert readable(tenant, two_snapshots["shared"], b"shared" * 2000)
    assert readable(tenant, two_snapshots["new_only"], b"new only" * 2000)
    if store.kind == "db":  # the object rows go with their metadata in one transaction: both still there
        assert readable(tenant, two_snapshots["old_only"], b"old only" * 2000)
        assert collect_stream_garbage(tenant.id) == 1
        assert len(objects(tenant)) == 2
        return
    # Metadata was committed away before the objects were touched: the object is left, named by nothing...
    assert stat(tenant.id, two_snapshots["old_only"].digest) is None
    assert objects(tenant) == before
    # ...until the orphan sweep, once it is older than an upload in progress could be.
    assert sweep_orphan_objects(tenant.id) == 0
    assert sweep_orphan_objects(tenant.id, now=utcnow() + blobs.ORPHAN_GRACE + timedelta(minutes=1)) == 1
    assert len(objects(tenant)) == 2
    assert readable(tenant, two_snapshots["shared"], b"shared" * 2000)


def test_is_an_upload_that_crashed_before_its_metadata_swept_later(ctx: Flask, tenant: Tenant,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    kept = put_stream(tenant.id, [b"kept"], snapshot_id=snapshot(tenant, days_ago=0))

    def crash(*_args: object, **_kwargs: object) -> None:
        raise Crash

    monkeypatch.setattr(blobs, "_record", crash)
    with pytest.raises(Crash):
        put_stream(tenant.id, [b"uploaded, never recorded"])
    monkeypatch.undo()

    leftovers = len(objects(tenant)) - 1
    assert leftovers == (0 if object_store().kind == "db" else 1)  # the database rolls its rows back
    assert sweep_orphan_objects(tenant.id) == 0  # maybe still uploading
    later = utcnow() + blobs.ORPHAN_GRACE + timedelta(minutes=1)
    assert sweep_orphan_objects(tenant.id, now=later) == leftovers
    assert readable(tenant, kept, b"kept")
    assert db.session.execute(select(func.count()).select_from(StreamBlob)).scalar() == 1
