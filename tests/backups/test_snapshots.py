"""Snapshots written and read back: round trips, deduplication, resume after a crash, corruption refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from app.backups.models import Blob, BlobData, Snapshot, SnapshotEntry
from app.backups.snapshots import (
    CorruptSnapshot,
    SnapshotNotFound,
    SnapshotReader,
    SnapshotStateError,
    SnapshotWriter,
    canonical_json,
    seal,
)
from app.backups.storage import FileBlobStore, blob_store
from app.connect.installs import save_installation
from app.extensions import db
from app.tenants import Tenant

BACKENDS = ["db", "file"]


@pytest.fixture(params=BACKENDS)
def app_config(app_config: dict, request: pytest.FixtureRequest, tmp_path: Path) -> dict:
    """Every test here runs against the database backend and the file backend."""
    if request.param == "file":
        app_config["BACKUP_STORAGE_URL"] = f"file://{tmp_path / 'blobs'}"
    app_config["BACKUP_WRITE_BATCH"] = 7  # small batches, so a handful of objects crosses batch boundaries
    app_config["BACKUP_READ_BATCH"] = 5
    return app_config


def make_tenant(client_key: str = "tenant-a") -> Tenant:
    return save_installation({"clientKey": client_key, "baseUrl": f"https://{client_key}.atlassian.net",
                              "sharedSecret": "s" * 32, "productType": "jira"})


@pytest.fixture
def ctx(app: Flask):
    with app.app_context():
        yield app


@pytest.fixture
def tenant(ctx: Flask) -> Tenant:
    return make_tenant()


def sample_objects() -> dict[str, list[tuple[str, str | None, dict]]]:
    """Objects shaped like Jira's, with the awkward bits: unicode, nulls, nesting, numbers, empty containers."""
    return {
        "projects": [(f"P{i}", str(10000 + i), {
            "key": f"P{i}", "name": f"Projekt Ü{i} «ß» 🚀", "lead": {"accountId": f"acc-{i}", "displayName": "Zoë"},
            "components": [{"name": f"c{j}", "lead": None} for j in range(i % 3)],
            "versions": [], "archived": False, "ratio": 0.25 * i}) for i in range(12)],
        "workflows": [(f"wf-{i}", None, {
            "name": f"wf-{i}", "transitions": [{"id": str(t), "rules": {"conditions": [], "validators": []}}
                                               for t in range(4)],
            "properties": {"jira.i18n": "x"}, "layout": {"statuses": [{"x": 1.5, "y": -2}]}}) for i in range(9)],
        "priorities": [("Highest", "1", {"name": "Highest", "iconUrl": "https://x/h.svg", "statusColor": "#d04437"})],
        "emptyType": [],
    }


def write_snapshot(tenant: Tenant, objects: dict | None = None) -> int:
    writer = SnapshotWriter.begin(tenant.id, None, app_version="0.1.0", format_version=1)
    for type_key, items in (objects or sample_objects()).items():
        for natural_key, source_id, obj in items:
            writer.put(type_key, natural_key, source_id, obj)
        writer.set_type_status(type_key, "complete", len(items), api_calls=2)
    writer.finish(api_calls=7, duration_seconds=1.5)
    return writer.snapshot_id


def test_does_every_object_come_back_unchanged_and_in_stored_order(tenant: Tenant) -> None:
    snapshot_id = write_snapshot(tenant)

    reader = SnapshotReader(snapshot_id)
    assert reader.snapshot.status == "complete"
    assert reader.snapshot.tenant_id == tenant.id
    assert (reader.snapshot.app_version, reader.snapshot.format_version) == ("0.1.0", 1)
    assert (reader.snapshot.api_calls, reader.snapshot.duration_seconds) == (7, 1.5)
    assert reader.snapshot.object_count == 22
    assert [(s.type_key, s.status, s.count, s.api_calls) for s in reader.type_summaries()] == [
        ("projects", "complete", 12, 2), ("workflows", "complete", 9, 2), ("priorities", "complete", 1, 2),
        ("emptyType", "complete", 0, 2)]
    for type_key, items in sample_objects().items():
        assert list(reader.objects(type_key)) == [obj for _, _, obj in items]
        assert [(e.natural_key, e.source_id) for e in reader.entries(type_key)] == [(n, s) for n, s, _ in items]
        assert [e.sha256 for e in reader.entries(type_key)] == [
            hashlib.sha256(canonical_json(obj)).hexdigest() for _, _, obj in items]
    reader.verify()


def test_is_a_second_unchanged_snapshot_nearly_free(tenant: Tenant) -> None:
    first = write_snapshot(tenant)
    blobs_after_first = db.session.execute(select(func.count(Blob.id))).scalar_one()
    second = write_snapshot(tenant)

    a, b = db.session.get(Snapshot, first), db.session.get(Snapshot, second)
    assert a.bytes_new > 0 and a.bytes_new == a.bytes_stored
    assert b.bytes_new == 0 and b.bytes_stored == a.bytes_stored
    assert b.bytes_new / a.bytes_new <= 0.05
    assert db.session.execute(select(func.count(Blob.id))).scalar_one() == blobs_after_first
    # Both snapshots still name all their objects and read back on their own.
    for snapshot_id in (first, second):
        assert list(SnapshotReader(snapshot_id).objects("projects")) == [o for _, _, o in sample_objects()["projects"]]


def test_does_a_changed_object_add_exactly_one_blob(tenant: Tenant) -> None:
    write_snapshot(tenant)
    before = db.session.execute(select(func.count(Blob.id))).scalar_one()
    changed = sample_objects()
    changed["projects"][3][2]["name"] = "renamed"
    second = write_snapshot(tenant, changed)

    assert db.session.execute(select(func.count(Blob.id))).scalar_one() == before + 1
    snap = db.session.get(Snapshot, second)
    assert 0 < snap.bytes_new < snap.bytes_stored
    assert list(SnapshotReader(second).objects("projects"))[3]["name"] == "renamed"


def test_are_identical_objects_of_two_tenants_stored_apart(tenant: Tenant) -> None:
    other = make_tenant("tenant-b")
    write_snapshot(tenant)
    theirs = write_snapshot(other)

    assert db.session.get(Snapshot, theirs).bytes_new > 0
    tenants_per_digest = db.session.execute(
        select(Blob.sha256, func.count(Blob.tenant_id)).group_by(Blob.sha256)).all()
    assert {count for _, count in tenants_per_digest} == {2}
    SnapshotReader(theirs).verify()


def test_does_a_resumed_snapshot_keep_finished_types_and_rewrite_the_half_written_one(tenant: Tenant) -> None:
    objects = sample_objects()
    writer = SnapshotWriter.begin(tenant.id, "job-1", app_version="0.1.0", format_version=1)
    for natural_key, source_id, obj in objects["projects"]:
        writer.put("projects", natural_key, source_id, obj)
    writer.set_type_status("projects", "complete", 12)
    for natural_key, source_id, obj in objects["workflows"][:8]:  # 7 committed in a batch, 1 still buffered
        writer.put("workflows", natural_key, source_id, obj)
    # The crash: the process dies, its buffer and open transaction with it.
    db.session.rollback()
    db.session.remove()
    del writer

    resumed = SnapshotWriter.resume(db.session.scalars(select(Snapshot.id).where(Snapshot.job_id == "job-1")).one())
    assert [(s.type_key, s.status) for s in SnapshotReader(resumed.snapshot_id).type_summaries()] == [
        ("projects", "complete"), ("workflows", "writing")]
    assert len(list(SnapshotReader(resumed.snapshot_id).entries("workflows"))) == 7
    resumed.reset_type("workflows")
    for natural_key, source_id, obj in objects["workflows"]:
        resumed.put("workflows", natural_key, source_id, obj)
    resumed.set_type_status("workflows", "complete", 9)
    resumed.finish(api_calls=3, duration_seconds=2.0)

    reader = SnapshotReader(resumed.snapshot_id)
    assert reader.snapshot.status == "complete"
    assert [e.natural_key for e in reader.entries("workflows")] == [n for n, _, _ in objects["workflows"]]
    assert list(reader.objects("projects")) == [o for _, _, o in objects["projects"]]
    assert reader.snapshot.object_count == 21
    reader.verify()
    # Byte accounting survives the reset: the same objects written once more count once.
    fresh = write_snapshot(db.session.get(Tenant, reader.snapshot.tenant_id),
                           {k: objects[k] for k in ("projects", "workflows")})
    assert db.session.get(Snapshot, fresh).bytes_stored == reader.snapshot.bytes_stored


@pytest.mark.parametrize("status", ["complete", "partial", "failed"])
def test_is_writing_to_a_finished_snapshot_refused(tenant: Tenant, status: str) -> None:
    writer = SnapshotWriter.begin(tenant.id, None, app_version="0.1.0", format_version=1)
    stale = SnapshotWriter.resume(writer.snapshot_id)
    if status == "failed":
        writer.fail("boom")
    else:
        if status == "partial":
            writer.set_type_status("filters", "unreadable", 0, reason="Connect can't read them")
        writer.finish(api_calls=0, duration_seconds=0)
    assert db.session.get(Snapshot, writer.snapshot_id).status == status

    with pytest.raises(SnapshotStateError, match=f"is {status}, not running"):
        SnapshotWriter.resume(writer.snapshot_id)
    stale.put("projects", "P1", "1", {"key": "P1"})
    with pytest.raises(SnapshotStateError):
        stale.flush()
    assert db.session.execute(select(func.count(SnapshotEntry.id))).scalar_one() == 0


def test_is_a_snapshot_with_an_unreadable_type_partial_and_says_why(tenant: Tenant) -> None:
    writer = SnapshotWriter.begin(tenant.id, None, app_version="0.1.0", format_version=1)
    writer.put("projects", "P1", "1", {"key": "P1"})
    writer.set_type_status("projects", "complete", 1)
    writer.set_type_status("dashboards", "unreadable", 0, reason="Connect credentials can't read dashboards")
    writer.finish(api_calls=4, duration_seconds=0.5)

    reader = SnapshotReader(writer.snapshot_id)
    assert reader.snapshot.status == "partial"
    assert reader.snapshot.message == "Not complete: dashboards (unreadable: Connect credentials can't read dashboards)"
    assert reader.type_summaries()[1].reason == "Connect credentials can't read dashboards"
    reader.verify()


@pytest.mark.parametrize(("status", "reason", "error"), [
    ("done", None, "type status must be one of"),
    ("writing", None, "type status must be one of"),
    ("partial", None, "a partial type needs a reason"),
    ("unreadable", "", "a unreadable type needs a reason"),
])
def test_is_a_bad_type_status_refused(tenant: Tenant, status: str, reason: str | None, error: str) -> None:
    writer = SnapshotWriter.begin(tenant.id, None, app_version="0.1.0", format_version=1)
    with pytest.raises(ValueError, match=error):
        writer.set_type_status("projects", status, 0, reason=reason)


def test_does_a_failed_snapshot_keep_its_message(tenant: Tenant) -> None:
    writer = SnapshotWriter.begin(tenant.id, "job-9", app_version="0.1.0", format_version=1)
    writer.put("projects", "P1", "1", {"key": "P1"})
    writer.fail("Jira answered 503 for 10 minutes")

    snap = db.session.get(Snapshot, writer.snapshot_id)
    assert (snap.status, snap.message) == ("failed", "Jira answered 503 for 10 minutes")
    assert snap.finished_at is not None


def test_is_an_unknown_snapshot_reported(ctx: Flask) -> None:
    with pytest.raises(SnapshotNotFound, match="snapshot 4242 does not exist"):
        SnapshotReader(4242)
    with pytest.raises(SnapshotNotFound):
        SnapshotWriter.resume(4242)


# -- corruption ---------------------------------------------------------------------------------------------------

def _blob_of(snapshot_id: int, type_key: str, index: int) -> tuple[str, str]:
    entry = list(SnapshotReader(snapshot_id).entries(type_key))[index]
    return entry.natural_key, entry.sha256


def _stored(tenant_id: int, digest: str) -> bytes:
    return blob_store().get_many(tenant_id, [digest])[digest]


def _overwrite(tenant_id: int, digest: str, data: bytes) -> None:
    """Change the bytes at rest behind the app's back (a disk error, or someone with database access)."""
    store = blob_store()
    if isinstance(store, FileBlobStore):
        store.path(tenant_id, digest).write_bytes(data)
    else:
        db.session.execute(update(BlobData).where(BlobData.tenant_id == tenant_id, BlobData.sha256 == digest)
                           .values(data=data))
        db.session.commit()


def _flip_byte(data: bytes, at: int) -> bytes:
    # Fernet tokens are base64 text; swap one character for another valid one so only the MAC can tell.
    swapped = b"A" if data[at:at + 1] != b"A" else b"B"
    return data[:at] + swapped + data[at + 1:]


@pytest.mark.parametrize("at", [10, 60, -5])
def test_is_a_blob_with_a_flipped_byte_refused(tenant: Tenant, at: int) -> None:
    snapshot_id = write_snapshot(tenant)
    natural_key, digest = _blob_of(snapshot_id, "workflows", 4)
    sealed = _stored(tenant.id, digest)
    _overwrite(tenant.id, digest, _flip_byte(sealed, at % len(sealed)))

    reader = SnapshotReader(snapshot_id)
    with pytest.raises(CorruptSnapshot, match=f"type 'workflows', entry '{natural_key}': the stored blob "
                                              f"{digest[:12]} could not be decrypted"):
        list(reader.objects("workflows"))
    with pytest.raises(CorruptSnapshot, match="wf-4"):
        reader.verify()
    assert list(reader.objects("projects"))  # the damage is reported where it is, other types still read


def test_is_a_validly_encrypted_but_different_payload_refused(tenant: Tenant) -> None:
    snapshot_id = write_snapshot(tenant)
    natural_key, digest = _blob_of(snapshot_id, "projects", 2)
    # Someone holding the key swaps in other content: the encryption is fine, the checksum is not.
    _overwrite(tenant.id, digest, seal(canonical_json({"key": natural_key, "name": "evil"})))

    with pytest.raises(CorruptSnapshot, match=f"entry '{natural_key}': checksum mismatch, expected sha256 {digest}"):
        list(SnapshotReader(snapshot_id).objects("projects"))
    with pytest.raises(CorruptSnapshot, match="checksum mismatch"):
        SnapshotReader(snapshot_id).verify()


def test_is_a_payload_that_does_not_decompress_refused(tenant: Tenant) -> None:
    snapshot_id = write_snapshot(tenant)
    natural_key, digest = _blob_of(snapshot_id, "priorities", 0)
    from app.crypto import keyring

    _overwrite(tenant.id, digest, keyring().encrypt(b"not zlib at all"))
    with pytest.raises(CorruptSnapshot, match=f"entry '{natural_key}': the stored blob {digest[:12]} does not "
                                              "decompress"):
        SnapshotReader(snapshot_id).verify()


def test_is_a_missing_blob_refused(tenant: Tenant) -> None:
    snapshot_id = write_snapshot(tenant)
    natural_key, digest = _blob_of(snapshot_id, "projects", 0)
    blob_store().delete(tenant.id, [digest])
    db.session.commit()

    with pytest.raises(CorruptSnapshot, match=f"entry '{natural_key}': the stored blob {digest[:12]} is missing"):
        SnapshotReader(snapshot_id).verify()


def test_does_verify_notice_a_lost_entry(tenant: Tenant) -> None:
    snapshot_id = write_snapshot(tenant)
    first = db.session.scalars(select(SnapshotEntry).where(SnapshotEntry.type_key == "workflows")
                               .order_by(SnapshotEntry.id)).first()
    db.session.delete(first)
    db.session.commit()

    with pytest.raises(CorruptSnapshot, match="type 'workflows': 9 objects recorded but 8 stored"):
        SnapshotReader(snapshot_id).verify()


# -- a corrupt blob is never reused ------------------------------------------------------------------------------

def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _other_content(data: bytes) -> bytes:
    return seal(canonical_json({"name": "someone else's content"}))


def _garbage(data: bytes) -> bytes:
    return b"\x00not a fernet token at all"


CORRUPTIONS = {"flipped byte": lambda data: _flip_byte(data, 60), "truncated": _truncate,
               "other content": _other_content, "garbage": _garbage}


@pytest.mark.parametrize("damage", sorted(CORRUPTIONS))
def test_does_a_new_backup_rewrite_a_corrupt_blob_instead_of_reusing_it(tenant: Tenant, damage: str) -> None:
    """Does one corrupt blob poison every later backup holding the same content? No: the next backup repairs it."""
    first = write_snapshot(tenant)
    natural_key, digest = _blob_of(first, "workflows", 4)
    _overwrite(tenant.id, digest, CORRUPTIONS[damage](_stored(tenant.id, digest)))
    with pytest.raises(CorruptSnapshot, match=natural_key):
        SnapshotReader(first).verify()

    second = write_snapshot(tenant)

    SnapshotReader(second).verify()  # the new backup restores whole
    assert list(SnapshotReader(second).objects("workflows")) == [o for _, _, o in sample_objects()["workflows"]]
    SnapshotReader(first).verify()  # the content is the same, so the older snapshot is healed too
    blob = db.session.scalars(select(Blob).where(Blob.tenant_id == tenant.id, Blob.sha256 == digest)).one()
    assert blob.stored_size == len(_stored(tenant.id, digest))


def test_is_a_blob_missing_from_storage_written_again_by_the_next_backup(tenant: Tenant) -> None:
    first = write_snapshot(tenant)
    _natural_key, digest = _blob_of(first, "projects", 0)
    blob_store().delete(tenant.id, [digest])
    db.session.commit()

    second = write_snapshot(tenant)

    SnapshotReader(second).verify()
    SnapshotReader(first).verify()


def test_does_a_backup_read_each_reused_blob_once(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check costs one read per reused blob per backup, not one per entry naming it."""
    objects = sample_objects()
    objects["copies"] = [(f"copy-{i}", None, {"same": True}) for i in range(20)]  # 20 entries, one blob
    write_snapshot(tenant, objects)
    store = blob_store()
    asked: list[str] = []
    real_get_many = store.get_many

    def counting_get_many(tenant_id: int, digests):
        wanted = list(digests)
        asked.extend(wanted)
        return real_get_many(tenant_id, wanted)

    monkeypatch.setattr(store, "get_many", counting_get_many)
    write_snapshot(tenant, objects)

    assert len(asked) == len(set(asked)) == 23  # 12 projects, 9 workflows, 1 priority, 1 copy: none twice


def test_is_an_entry_pointing_at_another_tenants_blob_refused(tenant: Tenant) -> None:
    """Is an entry bound to its own tenant's content? One re-pointed at another tenant's blob is an integrity
    error naming snapshot and type, never silently left out of the restore."""
    snapshot_id = write_snapshot(tenant)
    other = make_tenant("tenant-b")
    write_snapshot(other, {"projects": [("X1", "1", {"key": "X1", "name": "theirs"})]})
    theirs = db.session.scalars(select(Blob.id).where(Blob.tenant_id == other.id)).one()
    first = db.session.scalars(select(SnapshotEntry).where(SnapshotEntry.snapshot_id == snapshot_id,
                                                           SnapshotEntry.type_key == "projects")
                               .order_by(SnapshotEntry.id)).first()
    first.blob_id = theirs
    db.session.commit()

    with pytest.raises(CorruptSnapshot, match=f"snapshot {snapshot_id}, type 'projects', entry 'P0': the entry "
                                              "names a blob of another tenant"):
        list(SnapshotReader(snapshot_id).objects("projects"))
    with pytest.raises(CorruptSnapshot, match="another tenant"):
        SnapshotReader(snapshot_id).verify()
