"""Streamed blobs (attachments and other large content): put and read by stream, encrypted, stored once per tenant.

``put_stream(tenant_id, chunks)`` reads any iterable of byte chunks (or a file-like object), hashes the plaintext
while sealing it chunk by chunk (``blob_codec``) into a spool, and only then — the digest known — checks whether the
tenant already has that content: if so nothing is uploaded; if not the spool becomes an object of the configured
backend (``blob_backends``) and a metadata row names it. ``open_stream(tenant_id, digest)`` yields the plaintext
chunks, each checked before it is released. Memory stays about one chunk either way.

Addresses. A blob's address is the SHA-256 of its *plaintext*, scoped to its tenant: the same attachment in a
thousand snapshots is stored once, the address is stable across key rotations and re-encryption, and a restore can
compare Jira's bytes with the backup's by the same hash. A plaintext hash also confirms a guess (whoever can see it
and holds a candidate file learns whether the tenant has it), and equal hashes across tenants would reveal shared
files. So the address never leaves our database: backends store objects under random names, each tenant's blobs
are looked up only within that tenant, and each tenant's content is sealed under its own key (identical files of
two tenants are two unrelated objects).

Keys. Each tenant has a random 256-bit key (``backup_tenant_keys``) wrapped by the app's key ring; each blob's key is
derived from it and the blob's random salt. Rotating ENCRYPTION_KEYS therefore re-wraps one small value per tenant
(``keys_cli.rotate_column(TenantBlobKey.key_enc)``: ``keys rotate`` does it once ``encrypted_columns()`` lists that
column) and never rewrites blob bytes.
"""

from __future__ import annotations

import base64
import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from flask import current_app
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..crypto import keyring
from ..extensions import db
from .blob_backends import DatabaseObjects, FileObjects, ObjectStore, S3Objects
from .blob_codec import (
    FRAME_OVERHEAD,
    BlobCorrupt,
    BlobNotFound,
    BlobStorageError,
    SealedFacts,
    StreamSealer,
    open_frames,
)
from .blob_models import SnapshotStreamBlob, StreamBlob, TenantBlobKey
from .models import Snapshot
from .s3 import s3_client
from .storage_url import StorageKind, parse_storage_url

log = logging.getLogger(__name__)

DEFAULT_CHUNK_BYTES = 1024 * 1024
DEFAULT_PART_BYTES = 8 * 1024 * 1024
# An object without metadata younger than this may be an upload in progress; older ones are crash leftovers.
ORPHAN_GRACE = timedelta(hours=6)
SWEEP_BATCH = 500

__all__ = ["BadDigest", "BlobCorrupt", "BlobNotFound", "BlobRef", "BlobStorageError", "ForeignSnapshot",
           "object_store", "open_stream", "put_stream", "reference", "stat", "sweep_orphan_objects",
           "sweep_unreferenced"]


class BadDigest(BlobStorageError, ValueError):
    """A blob address that is not a lower-case SHA-256 hex digest."""


class ForeignSnapshot(BlobStorageError):
    """A snapshot of another tenant (or none) named as the holder of a tenant's blob."""


@dataclass(frozen=True)
class BlobRef:
    """A stored blob: the SHA-256 of its plaintext (its address within the tenant) and its plaintext size."""

    digest: str
    size: int


# -- the backend ---------------------------------------------------------------------------------------------------

def object_store() -> ObjectStore:
    """The app's streamed-blob backend, built once per app from BACKUP_STORAGE_URL and the S3 settings."""
    config = current_app.config
    settings = tuple(str(config.get(k) or "") for k in (
        "BACKUP_STORAGE_URL", "BACKUP_S3_ENDPOINT_URL", "BACKUP_S3_REGION", "BACKUP_S3_ACCESS_KEY_ID",
        "BACKUP_S3_SECRET_ACCESS_KEY", "BACKUP_S3_PART_BYTES", "BACKUP_BLOB_CHUNK_BYTES"))
    cached = current_app.extensions.get("backup_object_store")
    if cached is None or cached[0] != settings:  # tests may switch the URL on a live app
        cached = (settings, _build_object_store())
        current_app.extensions["backup_object_store"] = cached
    return cached[1]


def _chunk_bytes() -> int:
    return int(current_app.config.get("BACKUP_BLOB_CHUNK_BYTES") or DEFAULT_CHUNK_BYTES)


def _build_object_store() -> ObjectStore:
    config = current_app.config
    location = parse_storage_url(config.get("BACKUP_STORAGE_URL"))
    piece = _chunk_bytes() + FRAME_OVERHEAD
    if location.kind is StorageKind.FILE and location.path is not None:
        location.path.mkdir(parents=True, exist_ok=True)
        return FileObjects(location.path)
    if location.kind is StorageKind.S3:
        return S3Objects(s3_client(config), location.bucket, location.prefix,
                         int(config.get("BACKUP_S3_PART_BYTES") or DEFAULT_PART_BYTES), piece)
    return DatabaseObjects(piece)


# -- tenant keys ---------------------------------------------------------------------------------------------------

def tenant_key(tenant_id: int) -> bytes:
    """The tenant's blob key, created on first use (two first uses at once agree on one)."""
    row = db.session.get(TenantBlobKey, tenant_id)
    if row is None:
        fresh = base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")
        try:
            db.session.add(TenantBlobKey(tenant_id=tenant_id, key_enc=keyring().encrypt_text(fresh)))
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # another writer created it first: use theirs
        row = db.session.get(TenantBlobKey, tenant_id)
        if row is None:
            raise BlobStorageError(f"tenant {tenant_id} has no blob key and none could be created")
    return base64.urlsafe_b64decode(keyring().decrypt_text(row.key_enc))


# -- writing -------------------------------------------------------------------------------------------------------

def put_stream(tenant_id: int, chunks: Iterable[bytes] | BinaryIO, *, snapshot_id: int | None = None) -> BlobRef:
    """Store a stream's bytes for the tenant (once, however often put) and return their address.

    With ``snapshot_id`` the snapshot is recorded as holding the blob in the same commit, so retention can never
    sweep it in between. Commits the session.
    """
    if snapshot_id is not None:
        _check_snapshot(tenant_id, snapshot_id)
    store = object_store()
    sealer = StreamSealer(tenant_key(tenant_id), tenant_id, _chunk_bytes())
    spool = store.spool(tenant_id)
    try:
        for frame in sealer.frames(chunks):
            spool.file.write(frame)
        facts = sealer.facts
        existing = _row(tenant_id, facts.digest)
        if existing is not None and existing.backend == store.kind:
            _hold(snapshot_id, existing.id)  # known content: nothing is uploaded
            db.session.commit()
            return BlobRef(existing.sha256, existing.size)
        name = uuid.uuid4().hex
        store.commit(tenant_id, name, spool)
        row = _record(store, tenant_id, name, facts, sealer.stored_size, existing, snapshot_id)
        return BlobRef(row.sha256, row.size)
    except BaseException:
        db.session.rollback()
        raise
    finally:
        spool.discard()


def _record(store: ObjectStore, tenant_id: int, name: str, facts: SealedFacts, stored_size: int,
            existing: StreamBlob | None, snapshot_id: int | None) -> StreamBlob:
    """Write the metadata naming a just-stored object (after it: a row never names a missing object)."""
    values = {"size": facts.size, "stored_size": stored_size, "chunk_size": facts.chunk_size,
              "chunk_count": facts.chunk_count, "salt": facts.salt.hex(), "object_name": name,
              "backend": store.kind, "created_at": utcnow()}
    try:
        if existing is None:
            row = StreamBlob(tenant_id=tenant_id, sha256=facts.digest, **values)
            db.session.add(row)
        else:
            # Stored under a backend no longer configured: this copy, in the current one, takes its place.
            row = existing
            for field, value in values.items():
                setattr(row, field, value)
        db.session.flush()
        _hold(snapshot_id, row.id)
        db.session.commit()
        return row
    except IntegrityError:
        db.session.rollback()  # another writer stored the same content at the same moment: keep theirs
        if store.kind != StorageKind.DATABASE.value:
            store.delete(tenant_id, [name])
        winner = _row(tenant_id, facts.digest)
        if winner is None:
            raise
        _hold(snapshot_id, winner.id)
        db.session.commit()
        return winner


def reference(tenant_id: int, snapshot_id: int, digest: str) -> BlobRef:
    """Record that a snapshot holds the tenant's blob (idempotent); :raises BlobNotFound: when it isn't stored."""
    _check_snapshot(tenant_id, snapshot_id)
    row = _row(tenant_id, _checked_digest(digest))
    if row is None:
        raise BlobNotFound(f"tenant {tenant_id} has no blob {digest[:12]}: put it again")
    _hold(snapshot_id, row.id)
    db.session.commit()
    return BlobRef(row.sha256, row.size)


def _hold(snapshot_id: int | None, blob_id: int) -> None:
    if snapshot_id is not None and db.session.get(SnapshotStreamBlob, (snapshot_id, blob_id)) is None:
        db.session.add(SnapshotStreamBlob(snapshot_id=snapshot_id, blob_id=blob_id))
        db.session.flush()


def _check_snapshot(tenant_id: int, snapshot_id: int) -> None:
    owner = db.session.execute(select(Snapshot.tenant_id).where(Snapshot.id == snapshot_id)).scalar()
    if owner != tenant_id:
        raise ForeignSnapshot(f"snapshot {snapshot_id} can't hold a blob of tenant {tenant_id}: expected a snapshot "
                              f"of tenant {tenant_id}, found {'none' if owner is None else f'one of tenant {owner}'}")


# -- reading -------------------------------------------------------------------------------------------------------

def stat(tenant_id: int, digest: str) -> BlobRef | None:
    """The tenant's blob at ``digest`` if stored (what to check before fetching content that may be known)."""
    row = _row(tenant_id, _checked_digest(digest))
    return None if row is None else BlobRef(row.sha256, row.size)


def open_stream(tenant_id: int, digest: str) -> Iterator[bytes]:
    """The plaintext chunks of the tenant's blob, each released only after it verifies.

    A chunk that fails raises BlobCorrupt before any of its bytes; the chunks already yielded were authentic, but a
    consumer must treat the whole blob as failed (discard what it wrote).
    :raises BlobNotFound: at once when the tenant has no such blob or its object is gone.
    """
    row = _row(tenant_id, _checked_digest(digest))
    what = f"blob {digest[:12]} of tenant {tenant_id}"
    if row is None:
        raise BlobNotFound(f"tenant {tenant_id} has no blob {digest[:12]}")
    store = object_store()
    if row.backend != store.kind:
        raise BlobNotFound(f"{what} was stored in the {row.backend} backend, but BACKUP_STORAGE_URL now names "
                           f"the {store.kind} backend")
    facts = SealedFacts(row.sha256, row.size, row.chunk_size, row.chunk_count, bytes.fromhex(row.salt))
    key = tenant_key(tenant_id)
    pieces = store.read(tenant_id, row.object_name)
    return open_frames(pieces, key, tenant_id, facts, what)


def _row(tenant_id: int, digest: str) -> StreamBlob | None:
    return db.session.scalars(select(StreamBlob).where(StreamBlob.tenant_id == tenant_id,
                                                       StreamBlob.sha256 == digest)).first()


def _checked_digest(digest: str) -> str:
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise BadDigest(f"a blob address is a lower-case sha256 hex digest (64 characters), got {digest!r:.80}")
    return digest


# -- retention -------------------------------------------------------------------------------------------------------

def sweep_unreferenced(tenant_id: int, batch: int = SWEEP_BATCH) -> int:
    """Delete the tenant's streamed blobs no snapshot holds; returns how many.

    Crash-safe: each batch deletes the metadata (re-checking "held by none" in the same statement, and with it the
    database backend's rows) and commits *before* the objects elsewhere go. A crash after the commit leaves objects
    nothing names, which ``sweep_orphan_objects`` removes later; a crash before it changes nothing.
    """
    store = object_store()
    held = exists().where(SnapshotStreamBlob.blob_id == StreamBlob.id)
    total = 0
    while True:
        ids = db.session.scalars(select(StreamBlob.id).where(StreamBlob.tenant_id == tenant_id, ~held)
                                 .order_by(StreamBlob.id).limit(batch)).all()
        if not ids:
            return total
        gone = db.session.execute(delete(StreamBlob).where(StreamBlob.id.in_(ids), ~held)
                                  .returning(StreamBlob.object_name, StreamBlob.backend)).all()
        names = [name for name, backend in gone if backend == store.kind]
        stranded = len(gone) - len(names)
        if stranded:
            log.warning("tenant %s: %d unreferenced blob(s) were stored in a backend no longer configured; their "
                        "objects are left there", tenant_id, stranded)
        if store.kind == StorageKind.DATABASE.value:
            store.delete(tenant_id, names)  # in the same transaction as their metadata
        db.session.commit()
        if store.kind != StorageKind.DATABASE.value:
            store.delete(tenant_id, names)  # after the commit: a metadata row never names a deleted object
        total += len(gone)


def sweep_orphan_objects(tenant_id: int, now: datetime | None = None, grace: timedelta = ORPHAN_GRACE) -> int:
    """Delete objects of the tenant that no metadata names (crash leftovers), older than ``grace``; returns how many."""
    store = object_store()
    cutoff = (now or utcnow()) - grace
    known = set(db.session.scalars(select(StreamBlob.object_name).where(StreamBlob.tenant_id == tenant_id)))
    orphans = [name for name, modified in store.names(tenant_id)
               if name not in known and _naive(modified) <= cutoff]
    if orphans:
        store.delete(tenant_id, orphans)
        db.session.commit()
    return len(orphans)


def _naive(moment: datetime) -> datetime:
    """As ``utcnow()`` gives it: naive UTC."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
