"""The tables of streamed blobs: per-tenant keys, blob metadata, database-held chunks and snapshot references."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import Model


class TenantBlobKey(Model):
    """A tenant's 256-bit data key for streamed blobs, stored wrapped by the app's key ring (ENCRYPTION_KEYS).

    Rotating ENCRYPTION_KEYS re-wraps this one value (``keys rotate`` over ``key_enc``); the blobs themselves are
    sealed under keys derived from it and never need rewriting.
    """

    __tablename__ = "backup_tenant_keys"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    key_enc: Mapped[str] = mapped_column(Text)  # keyring().encrypt_text(urlsafe base64 of the 32 key bytes)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StreamBlob(Model):
    """One streamed blob of a tenant, addressed by the SHA-256 of its plaintext; the bytes live in an object store.

    The object's name is random (never the digest), so a bucket listing or a directory reveals no content address;
    the digest → object map lives here only. The row is written after the object, so a row never names a missing one.
    """

    __tablename__ = "backup_stream_blobs"
    __table_args__ = (UniqueConstraint("tenant_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)  # plaintext bytes
    stored_size: Mapped[int] = mapped_column(BigInteger)  # bytes of the sealed object (header, frames, tags)
    chunk_size: Mapped[int] = mapped_column(Integer)  # plaintext bytes per chunk (the last may be shorter)
    chunk_count: Mapped[int] = mapped_column(BigInteger)
    salt: Mapped[str] = mapped_column(String(32))  # hex; with the tenant key it derives this blob's key
    object_name: Mapped[str] = mapped_column(String(64), unique=True)
    backend: Mapped[str] = mapped_column(String(8))  # db, file or s3: where the object was written
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StreamChunk(Model):
    """The database backend's objects, cut into rows of about one chunk (never one row of the whole blob)."""

    __tablename__ = "backup_stream_chunks"

    object_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class SnapshotStreamBlob(Model):
    """A snapshot holds a streamed blob: the manifest retention's mark-and-sweep reads."""

    __tablename__ = "backup_snapshot_stream_blobs"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("backup_snapshots.id", ondelete="CASCADE"),
                                             primary_key=True)
    # NO ACTION, as for entries: deleting a tenant cascades to both sides within one statement.
    blob_id: Mapped[int] = mapped_column(ForeignKey("backup_stream_blobs.id"), primary_key=True, index=True)
