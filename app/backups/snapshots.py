"""Writing and reading snapshots: canonical JSON, content-addressed, compressed then encrypted, checked on every read.

A snapshot is a list of entries (type, natural key, source id, blob). Blobs are keyed by the SHA-256 of the
object's canonical JSON within a tenant, so an object unchanged since the last snapshot is stored once; every
snapshot still names all of its objects and restores on its own. Writes are buffered and committed in batches, and
reads stream in batches, so memory stays flat however large the site.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..crypto import DecryptionError, keyring
from ..extensions import db
from .models import Blob, Snapshot, SnapshotEntry, SnapshotStatus, SnapshotType, TypeStatus
from .storage import blob_store, digests_in, insert_rows

CODEC = "zlib"
DEFAULT_WRITE_BATCH = 500
DEFAULT_READ_BATCH = 200


class SnapshotError(Exception):
    """Base of the snapshot errors."""


class SnapshotNotFound(SnapshotError, LookupError):
    """No snapshot with that id."""


class SnapshotStateError(SnapshotError):
    """The snapshot isn't in a state that allows the call (e.g. writing to a finished snapshot)."""


class CorruptSnapshot(SnapshotError):
    """A snapshot whose stored data fails its checks: it must never be restored. The message names type and entry."""


@dataclass(frozen=True)
class TypeSummary:
    type_key: str
    status: str
    count: int
    reason: str | None
    api_calls: int


@dataclass(frozen=True)
class Entry:
    type_key: str
    natural_key: str
    source_id: str | None
    sha256: str
    size: int  # canonical plaintext bytes


# -- encoding ----------------------------------------------------------------------------------------------------

def canonical_json(obj: Any) -> bytes:
    """The one byte form of an object that its checksum is taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def seal(plaintext: bytes) -> bytes:
    """Compress, then encrypt under the newest key (compressing ciphertext would gain nothing)."""
    return keyring().encrypt(zlib.compress(plaintext, 6))


def open_sealed(ciphertext: bytes, expected_sha256: str, what: str) -> bytes:
    """Decrypt, decompress and check the checksum; anything wrong raises CorruptSnapshot naming ``what``."""
    try:
        compressed = keyring().decrypt(ciphertext)
    except DecryptionError:
        raise CorruptSnapshot(f"{what}: the stored blob {expected_sha256[:12]} could not be decrypted with any "
                              "configured key (corrupted, tampered with, or its key was removed)") from None
    try:
        plaintext = zlib.decompress(compressed)
    except zlib.error:
        raise CorruptSnapshot(f"{what}: the stored blob {expected_sha256[:12]} does not decompress") from None
    actual = hashlib.sha256(plaintext).hexdigest()
    if actual != expected_sha256:
        raise CorruptSnapshot(f"{what}: checksum mismatch, expected sha256 {expected_sha256} but the stored "
                              f"content hashes to {actual}")
    return plaintext


def newest_key() -> str:
    """The newest configured encryption key (the one ``keyring()`` encrypts with)."""
    raw = current_app.config.get("ENCRYPTION_KEYS") or ""
    keys = [k for k in (p.strip() for p in raw.split(",")) if k]
    if keys:
        return keys[0]
    from ..crypto import _instance_key  # the generated instance key is the only key when none are configured

    return _instance_key(current_app.instance_path)


def current_key_id() -> str:
    """A short fingerprint of the newest encryption key, recorded per blob so rotation knows what's left to do."""
    ring = keyring()
    cached = current_app.extensions.get("backup_key_id")
    # Held with the ring itself (not its id()): a rebuilt ring (new ENCRYPTION_KEYS) must never reuse a stale id.
    if cached is None or cached[0] is not ring:
        # A truncated hash of a 256-bit random key reveals nothing usable about it.
        cached = (ring, hashlib.sha256(b"jira-dr key id:" + newest_key().encode()).hexdigest()[:16])
        current_app.extensions["backup_key_id"] = cached
    return cached[1]


# -- writing -----------------------------------------------------------------------------------------------------

@dataclass
class _Pending:
    type_key: str
    natural_key: str
    source_id: str | None
    digest: str
    plaintext: bytes


class SnapshotWriter:
    """Writes one snapshot; ``put`` buffers, a full buffer (or any status call) commits a batch."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot_id: int = snapshot.id
        self.tenant_id: int = snapshot.tenant_id
        self._pending: list[_Pending] = []
        # Reused blobs checked during this run: each is decrypted and hashed once per backup, not once per entry.
        self._verified: set[str] = set()
        self._batch = int(current_app.config.get("BACKUP_WRITE_BATCH", DEFAULT_WRITE_BATCH))
        self._types: set[str] = set(db.session.scalars(
            select(SnapshotType.type_key).where(SnapshotType.snapshot_id == snapshot.id)))

    @classmethod
    def begin(cls, tenant_id: int, job_id: str | None, *, app_version: str, format_version: int) -> SnapshotWriter:
        """Start a new, running snapshot for the tenant."""
        snapshot = Snapshot(tenant_id=tenant_id, job_id=job_id, app_version=app_version,
                            format_version=format_version, status=SnapshotStatus.RUNNING.value, taken_at=utcnow())
        db.session.add(snapshot)
        db.session.commit()
        return cls(snapshot)

    @classmethod
    def resume(cls, snapshot_id: int) -> SnapshotWriter:
        """Carry on writing a running snapshot after a crash; what was committed stays, the lost buffer is gone."""
        return cls(_running(snapshot_id))

    # The public calls ------------------------------------------------------------------------------------------

    def put(self, type_key: str, natural_key: str, source_id: str | None, obj: dict) -> None:
        """Add one object to the snapshot (stored once per tenant whatever the number of snapshots naming it)."""
        plaintext = canonical_json(obj)
        self._pending.append(_Pending(type_key, natural_key, source_id,
                                      hashlib.sha256(plaintext).hexdigest(), plaintext))
        if len(self._pending) >= self._batch:
            self.flush()

    def carry_forward(self, type_key: str, from_snapshot_id: int, skip_source_ids: set[str]) -> int:
        """Name in this snapshot every entry of ``type_key`` of an earlier snapshot of the tenant whose source id is
        not in ``skip_source_ids`` (unchanged objects: by reference to the same blob, nothing read or stored again).

        Returns how many entries were carried. :raises SnapshotStateError: when the earlier one is another tenant's.
        """
        self.flush()
        _running(self.snapshot_id)
        earlier = db.session.get(Snapshot, from_snapshot_id)
        if earlier is None or earlier.tenant_id != self.tenant_id:
            raise SnapshotStateError(f"snapshot {from_snapshot_id} can't be carried into snapshot {self.snapshot_id}: "
                                     f"expected a snapshot of tenant {self.tenant_id}")
        rows = db.session.execute(
            select(SnapshotEntry.natural_key, SnapshotEntry.source_id, SnapshotEntry.blob_id, Blob.stored_size)
            .join(Blob, Blob.id == SnapshotEntry.blob_id)
            .where(SnapshotEntry.snapshot_id == from_snapshot_id, SnapshotEntry.type_key == type_key)
            .order_by(SnapshotEntry.id)).all()
        kept = [r for r in rows if r[1] not in skip_source_ids]
        self._ensure_type(type_key)
        for start in range(0, len(kept), self._batch):
            insert_rows(SnapshotEntry, [
                {"snapshot_id": self.snapshot_id, "type_key": type_key, "natural_key": r[0], "source_id": r[1],
                 "blob_id": r[2]} for r in kept[start:start + self._batch]])
        db.session.execute(update(Snapshot).where(Snapshot.id == self.snapshot_id).values(
            bytes_stored=Snapshot.bytes_stored + sum(int(r[3]) for r in kept)))
        db.session.commit()
        return len(kept)

    def source_ids(self, type_key: str) -> set[str]:
        """Source ids of the entries of a type committed so far (what a resumed run need not read again)."""
        self.flush()
        return {s for s in db.session.scalars(select(SnapshotEntry.source_id).where(
            SnapshotEntry.snapshot_id == self.snapshot_id, SnapshotEntry.type_key == type_key)) if s is not None}

    def reset_type(self, type_key: str) -> None:
        """Drop every entry of a type (half-written before a crash), so it can be written again from the start."""
        self._pending = [p for p in self._pending if p.type_key != type_key]
        self.flush()
        _running(self.snapshot_id)
        dropped = db.session.execute(
            select(func.coalesce(func.sum(Blob.stored_size), 0))
            .select_from(SnapshotEntry).join(Blob, Blob.id == SnapshotEntry.blob_id)
            .where(SnapshotEntry.snapshot_id == self.snapshot_id, SnapshotEntry.type_key == type_key)).scalar_one()
        db.session.execute(SnapshotEntry.__table__.delete().where(
            SnapshotEntry.snapshot_id == self.snapshot_id, SnapshotEntry.type_key == type_key))
        db.session.execute(update(Snapshot).where(Snapshot.id == self.snapshot_id)
                           .values(bytes_stored=Snapshot.bytes_stored - int(dropped)))
        db.session.execute(update(SnapshotType).where(
            SnapshotType.snapshot_id == self.snapshot_id, SnapshotType.type_key == type_key)
            .values(status=TypeStatus.WRITING.value, count=0, reason=None, api_calls=0))
        # Blobs only this type referenced are left for retention's sweep: it runs only with no snapshot running.
        db.session.commit()

    def set_type_status(self, type_key: str, status: str, count: int, reason: str | None = None,
                        api_calls: int = 0) -> None:
        """Record how a type was captured: ``complete``, ``partial`` (with reason) or ``unreadable`` (with reason)."""
        allowed = {TypeStatus.COMPLETE.value, TypeStatus.PARTIAL.value, TypeStatus.UNREADABLE.value}
        if status not in allowed:
            raise ValueError(f"type status must be one of {sorted(allowed)}, got {status!r}")
        if status != TypeStatus.COMPLETE.value and not reason:
            raise ValueError(f"a {status} type needs a reason (type {type_key!r})")
        self.flush()
        _running(self.snapshot_id)
        self._ensure_type(type_key)
        db.session.execute(update(SnapshotType).where(
            SnapshotType.snapshot_id == self.snapshot_id, SnapshotType.type_key == type_key)
            .values(status=status, count=count, reason=reason, api_calls=api_calls))
        db.session.commit()

    def finish(self, *, api_calls: int, duration_seconds: float) -> None:
        """Close the snapshot: complete when every type is complete, else partial with a message naming the rest."""
        self.flush()
        snapshot = _running(self.snapshot_id)
        types = db.session.scalars(select(SnapshotType).where(SnapshotType.snapshot_id == self.snapshot_id)
                                   .order_by(SnapshotType.position)).all()
        incomplete = [t for t in types if t.status != TypeStatus.COMPLETE.value]
        snapshot.status = (SnapshotStatus.PARTIAL if incomplete else SnapshotStatus.COMPLETE).value
        snapshot.message = ("Not complete: " + "; ".join(
            f"{t.type_key} ({'not finished' if t.status == TypeStatus.WRITING.value else t.status}"
            f"{': ' + t.reason if t.reason else ''})" for t in incomplete)) if incomplete else None
        snapshot.object_count = db.session.execute(select(func.count(SnapshotEntry.id)).where(
            SnapshotEntry.snapshot_id == self.snapshot_id)).scalar_one()
        snapshot.api_calls = api_calls
        snapshot.duration_seconds = duration_seconds
        snapshot.finished_at = utcnow()
        db.session.commit()

    def complete_types(self) -> int:
        """How many types of this snapshot were read whole so far."""
        self.flush()
        return db.session.execute(select(func.count(SnapshotType.id)).where(
            SnapshotType.snapshot_id == self.snapshot_id,
            SnapshotType.status == TypeStatus.COMPLETE.value)).scalar_one()

    def fail(self, message: str) -> None:
        """Mark the snapshot failed with a message people can read; what was written is kept until pruning."""
        self._pending.clear()
        db.session.rollback()  # the failure may have left the session unusable
        snapshot = db.session.get(Snapshot, self.snapshot_id)
        if snapshot is None:
            raise SnapshotNotFound(f"snapshot {self.snapshot_id} does not exist")
        snapshot.status = SnapshotStatus.FAILED.value
        snapshot.message = message
        snapshot.finished_at = utcnow()
        db.session.commit()

    def flush(self) -> None:
        """Store the buffered objects and commit their entries (retried once if another writer raced a blob in)."""
        if not self._pending:
            return
        _running(self.snapshot_id)  # a stale writer must not add to a snapshot that finished or failed
        try:
            self._flush_once()
        except IntegrityError:
            db.session.rollback()
            self._flush_once()
        self._pending.clear()

    # Internals -------------------------------------------------------------------------------------------------

    def _flush_once(self) -> None:
        pending = self._pending
        digests = list({p.digest for p in pending})
        known: dict[str, tuple[int, int]] = {
            sha: (blob_id, stored) for blob_id, sha, stored in db.session.execute(
                select(Blob.id, Blob.sha256, Blob.stored_size)
                .where(Blob.tenant_id == self.tenant_id, digests_in(Blob.sha256, digests)))}
        store = blob_store()
        key_id = current_key_id()
        self._repair_reused(known, pending)
        sealed: dict[str, bytes] = {}
        new_blobs: list[dict[str, Any]] = []
        now = utcnow()
        for p in pending:
            if p.digest in known or p.digest in sealed:
                continue
            sealed[p.digest] = seal(p.plaintext)
            new_blobs.append({"tenant_id": self.tenant_id, "sha256": p.digest, "codec": CODEC,
                              "size": len(p.plaintext), "stored_size": len(sealed[p.digest]), "key_id": key_id,
                              "created_at": now})
        new_bytes = sum(len(data) for data in sealed.values())
        # The payloads are written before their metadata commits: a Blob row never names a missing payload.
        store.put_many(self.tenant_id, sealed)
        if new_blobs:
            # Core inserts (one executemany) then one look-up of the ids: the ORM's per-row flush costs more here.
            insert_rows(Blob, new_blobs)
            known.update({sha: (blob_id, stored) for blob_id, sha, stored in db.session.execute(
                select(Blob.id, Blob.sha256, Blob.stored_size)
                .where(Blob.tenant_id == self.tenant_id, digests_in(Blob.sha256, sealed)))})
        for type_key in dict.fromkeys(p.type_key for p in pending):
            self._ensure_type(type_key)
        insert_rows(SnapshotEntry, [
            {"snapshot_id": self.snapshot_id, "type_key": p.type_key, "natural_key": p.natural_key,
             "source_id": p.source_id, "blob_id": known[p.digest][0]} for p in pending])
        db.session.execute(update(Snapshot).where(Snapshot.id == self.snapshot_id).values(
            bytes_stored=Snapshot.bytes_stored + sum(known[p.digest][1] for p in pending),
            bytes_new=Snapshot.bytes_new + new_bytes))
        db.session.commit()
        self._verified.update(known)  # only now: a rolled-back batch is checked again on its retry

    def _repair_reused(self, known: dict[str, tuple[int, int]], pending: list[_Pending]) -> None:
        """Check each stored blob this batch reuses (once per run) and rewrite any that fails its check.

        Content addressing means every later snapshot holding the same object names the same blob: reusing a
        corrupt one (damaged, truncated, swapped or missing payload) would poison each of them, so it is sealed
        again from the object just read, which hashes to the blob's address by construction.
        """
        unchecked = [digest for digest in known if digest not in self._verified]
        if not unchecked:
            return
        store = blob_store()
        payloads = store.get_many(self.tenant_id, unchecked)
        fresh = {p.digest: p.plaintext for p in pending}
        repaired: dict[str, bytes] = {}
        for digest in unchecked:
            problem = _blob_problem(payloads.get(digest), digest, f"backup of tenant {self.tenant_id}")
            if problem is None:
                continue
            current_app.logger.warning("%s; writing it again from the object just read", problem)
            repaired[digest] = seal(fresh[digest])
        if not repaired:
            return
        store.put_many(self.tenant_id, repaired)
        key_id = current_key_id()
        for digest, data in repaired.items():
            db.session.execute(update(Blob).where(Blob.id == known[digest][0]).values(
                codec=CODEC, size=len(fresh[digest]), stored_size=len(data), key_id=key_id))
            known[digest] = (known[digest][0], len(data))

    def _ensure_type(self, type_key: str) -> None:
        if type_key in self._types:
            return
        position = db.session.execute(select(func.count(SnapshotType.id)).where(
            SnapshotType.snapshot_id == self.snapshot_id)).scalar_one()
        db.session.add(SnapshotType(snapshot_id=self.snapshot_id, type_key=type_key, position=position,
                                    status=TypeStatus.WRITING.value))
        db.session.flush()
        self._types.add(type_key)


def _blob_problem(sealed: bytes | None, digest: str, what: str) -> str | None:
    """Why a stored blob can't be trusted to hold the object at ``digest``, or None when it opens and matches."""
    if sealed is None:
        return f"{what}: the stored blob {digest[:12]} is missing from storage"
    try:
        open_sealed(sealed, digest, what)
    except CorruptSnapshot as exc:
        return str(exc)
    return None


def _running(snapshot_id: int) -> Snapshot:
    snapshot = db.session.get(Snapshot, snapshot_id)
    if snapshot is None:
        raise SnapshotNotFound(f"snapshot {snapshot_id} does not exist")
    if snapshot.status != SnapshotStatus.RUNNING.value:
        raise SnapshotStateError(f"snapshot {snapshot_id} is {snapshot.status}, not running: it can't be written to")
    return snapshot


# -- reading -----------------------------------------------------------------------------------------------------

class SnapshotReader:
    """Reads one snapshot; every object is decrypted and checked against its checksum as it is read."""

    def __init__(self, snapshot_id: int) -> None:
        snapshot = db.session.get(Snapshot, snapshot_id)
        if snapshot is None:
            raise SnapshotNotFound(f"snapshot {snapshot_id} does not exist")
        self.snapshot: Snapshot = snapshot
        self._batch = int(current_app.config.get("BACKUP_READ_BATCH", DEFAULT_READ_BATCH))

    def type_summaries(self) -> list[TypeSummary]:
        """Each type the snapshot holds, in the order it was written."""
        rows = db.session.scalars(select(SnapshotType).where(SnapshotType.snapshot_id == self.snapshot.id)
                                  .order_by(SnapshotType.position, SnapshotType.id)).all()
        return [TypeSummary(r.type_key, r.status, r.count, r.reason, r.api_calls) for r in rows]

    def entries(self, type_key: str) -> Iterator[Entry]:
        """The entries of a type in stored order, without payloads."""
        for batch in self._batches(type_key):
            for _row_id, entry in batch:
                yield entry

    def objects(self, type_key: str) -> Iterator[dict]:
        """The objects of a type in stored order; a corrupted or tampered one raises CorruptSnapshot."""
        for _entry, obj in self._entries_with_objects(type_key):
            yield obj

    def items(self, type_key: str) -> Iterator[tuple[Entry, dict]]:
        """Entries with their objects (what a restore needs: natural key, source id and content together)."""
        yield from self._entries_with_objects(type_key)

    def objects_of(self, entries: list[Entry]) -> Iterator[dict]:
        """The objects of the given entries (of this snapshot) in the order given, read and checked a batch at a
        time (a caller sorts entries its own way, e.g. issues by key, without holding their payloads)."""
        store = blob_store()
        tenant_id = self.snapshot.tenant_id
        for start in range(0, len(entries), self._batch):
            batch = entries[start:start + self._batch]
            payloads = store.get_many(tenant_id, (e.sha256 for e in batch))
            for entry in batch:
                what = f"snapshot {self.snapshot.id}, type {entry.type_key!r}, entry {entry.natural_key!r}"
                sealed = payloads.get(entry.sha256)
                if sealed is None:
                    raise CorruptSnapshot(f"{what}: the stored blob {entry.sha256[:12]} is missing from storage")
                yield json.loads(open_sealed(sealed, entry.sha256, what))

    def verify(self) -> None:
        """Check the whole snapshot (every blob's checksum, every type's count); raises CorruptSnapshot."""
        summaries = {s.type_key: s for s in self.type_summaries()}
        entry_types = set(db.session.scalars(select(SnapshotEntry.type_key).distinct()
                                             .where(SnapshotEntry.snapshot_id == self.snapshot.id)))
        for type_key in [*summaries, *sorted(entry_types - set(summaries))]:
            seen = sum(1 for _ in self._entries_with_objects(type_key))
            summary = summaries.get(type_key)
            if summary is None:
                raise CorruptSnapshot(f"snapshot {self.snapshot.id}: entries of type {type_key!r} have no summary")
            if summary.status != TypeStatus.WRITING.value and seen != summary.count:
                raise CorruptSnapshot(f"snapshot {self.snapshot.id}, type {type_key!r}: {summary.count} objects "
                                      f"recorded but {seen} stored")

    # Internals -------------------------------------------------------------------------------------------------

    def _batches(self, type_key: str) -> Iterator[list[tuple[int, Entry]]]:
        last_id = 0
        while True:
            rows = db.session.execute(
                select(SnapshotEntry.id, SnapshotEntry.natural_key, SnapshotEntry.source_id, Blob.sha256, Blob.size,
                       Blob.tenant_id)
                .join(Blob, Blob.id == SnapshotEntry.blob_id)
                .where(SnapshotEntry.snapshot_id == self.snapshot.id, SnapshotEntry.type_key == type_key,
                       SnapshotEntry.id > last_id)
                .order_by(SnapshotEntry.id).limit(self._batch)).all()
            if not rows:
                return
            last_id = rows[-1][0]
            for row in rows:
                # An entry is bound to its tenant's blobs: one naming another tenant's is an error, never skipped.
                if row[5] != self.snapshot.tenant_id:
                    raise CorruptSnapshot(f"snapshot {self.snapshot.id}, type {type_key!r}, entry {row[1]!r}: the "
                                          f"entry names a blob of another tenant (expected tenant "
                                          f"{self.snapshot.tenant_id}, the blob belongs to tenant {row[5]})")
            yield [(r[0], Entry(type_key, r[1], r[2], r[3], r[4])) for r in rows]
            if len(rows) < self._batch:
                return

    def _entries_with_objects(self, type_key: str) -> Iterator[tuple[Entry, dict]]:
        store = blob_store()
        tenant_id = self.snapshot.tenant_id
        for batch in self._batches(type_key):
            payloads = store.get_many(tenant_id, (e.sha256 for _, e in batch))
            for _row_id, entry in batch:
                what = f"snapshot {self.snapshot.id}, type {type_key!r}, entry {entry.natural_key!r}"
                sealed = payloads.get(entry.sha256)
                if sealed is None:
                    raise CorruptSnapshot(f"{what}: the stored blob {entry.sha256[:12]} is missing from storage")
                plaintext = open_sealed(sealed, entry.sha256, what)
                yield entry, json.loads(plaintext)
