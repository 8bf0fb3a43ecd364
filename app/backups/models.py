"""The backup tables: snapshots, their per-type summaries and entries, and the content-addressed blobs they share."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import Model


class SnapshotStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"


class TypeStatus(enum.StrEnum):
    WRITING = "writing"  # entries are arriving; set_type_status has not been called yet
    COMPLETE = "complete"
    PARTIAL = "partial"
    UNREADABLE = "unreadable"


class Snapshot(Model):
    """One capture of a tenant's configuration; restores on its own although its blobs are shared."""

    __tablename__ = "backup_snapshots"
    __table_args__ = (Index("ix_backup_snapshots_tenant_taken", "tenant_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(16), default=SnapshotStatus.RUNNING.value, index=True)
    message: Mapped[str | None] = mapped_column(Text)  # why it failed or is partial
    app_version: Mapped[str] = mapped_column(String(32))
    format_version: Mapped[int] = mapped_column()
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    api_calls: Mapped[int] = mapped_column(default=0)
    duration_seconds: Mapped[float | None] = mapped_column()
    object_count: Mapped[int] = mapped_column(default=0)
    # Bytes of stored (compressed, encrypted) blobs this snapshot's entries reference, counted per entry, and the
    # bytes this snapshot added to storage (blobs no earlier snapshot had): "second ÷ first" is one query.
    bytes_stored: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_new: Mapped[int] = mapped_column(BigInteger, default=0)


class SnapshotType(Model):
    """What a snapshot holds of one object type: its status, count and the reason when not complete."""

    __tablename__ = "backup_snapshot_types"
    __table_args__ = (UniqueConstraint("snapshot_id", "type_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("backup_snapshots.id", ondelete="CASCADE"), index=True)
    type_key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)  # the order types were first written in
    status: Mapped[str] = mapped_column(String(16), default=TypeStatus.WRITING.value)
    count: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    api_calls: Mapped[int] = mapped_column(default=0)


class Blob(Model):
    """One stored object, keyed by the SHA-256 of its canonical JSON within a tenant; the bytes live in a BlobStore."""

    __tablename__ = "backup_blobs"
    __table_args__ = (UniqueConstraint("tenant_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique (tenant_id, sha256) index serves tenant look-ups, and a second one lures
    # the planner (before statistics exist) into filtering a tenant's every blob against a batch of digests.
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    codec: Mapped[str] = mapped_column(String(16), default="zlib")  # compression applied before encryption
    size: Mapped[int] = mapped_column(BigInteger)  # canonical plaintext bytes
    stored_size: Mapped[int] = mapped_column(BigInteger)  # ciphertext bytes in the store
    key_id: Mapped[str] = mapped_column(String(16), index=True)  # fingerprint of the key that encrypted it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SnapshotEntry(Model):
    """One object of one type in one snapshot; ``id`` order is the stored order."""

    __tablename__ = "backup_snapshot_entries"
    __table_args__ = (Index("ix_backup_entries_snapshot_type", "snapshot_id", "type_key", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("backup_snapshots.id", ondelete="CASCADE"))
    type_key: Mapped[str] = mapped_column(String(64))
    natural_key: Mapped[str] = mapped_column(Text)
    source_id: Mapped[str | None] = mapped_column(String(255))
    # NO ACTION, not RESTRICT: deleting a tenant cascades to entries and blobs within one statement.
    blob_id: Mapped[int] = mapped_column(ForeignKey("backup_blobs.id"), index=True)


class BlobData(Model):
    """The database blob backend's payloads (ciphertext), apart from Blob so other backends share the metadata."""

    __tablename__ = "backup_blob_data"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RetentionRun(Model):
    """When a tenant's snapshots were last pruned: an atomic claim so several clocks prune once a day."""

    __tablename__ = "backup_retention_runs"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column()
