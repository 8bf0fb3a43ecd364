"""Blob backends behind one small interface, chosen by BACKUP_STORAGE_URL: database rows (default), a directory
or an S3-compatible bucket.

A backend stores opaque ciphertext under (tenant id, sha256); it knows nothing of snapshots, keys or JSON. These are
the configuration snapshots' small blobs, whole in memory; large content goes by stream through ``blobs``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import bindparam, delete, select, tuple_

from ..extensions import db
from .models import BlobData
from .s3 import is_missing, s3_client
from .storage_url import StorageKind, parse_storage_url


class BlobStore(Protocol):
    """Where ciphertext lives. ``put`` is idempotent (same digest, same meaning) and may overwrite (key rotation)."""

    def put(self, tenant_id: int, digest: str, data: bytes) -> None: ...

    def put_many(self, tenant_id: int, blobs: dict[str, bytes]) -> None:
        """``put`` for a batch (one round trip where the backend allows it)."""
        ...

    def get_many(self, tenant_id: int, digests: Iterable[str]) -> dict[str, bytes]:
        """The blobs found; missing digests are simply absent from the result."""
        ...

    def delete(self, tenant_id: int, digests: Iterable[str]) -> None: ...


def digests_in(column: Any, digests: Iterable[str]) -> Any:
    """``column IN (digests)`` with the digests inlined: a prepared generic plan can't hash a parameter list, and
    then checks each row against every digest. Safe to inline: they are hex digests we computed (checked here)."""
    values = list(digests)
    if not all(len(d) == 64 and all(c in "0123456789abcdef" for c in d) for d in values):
        raise ValueError("not a list of sha256 hex digests")
    return column.in_(bindparam("digests", values, expanding=True, literal_execute=True))


def insert_rows(model: type, rows: list[dict]) -> None:
    """Insert many rows in one Core executemany (the ORM's per-row bookkeeping costs more than the database here)."""
    if rows:
        db.session.connection().execute(model.__table__.insert(), rows)  # type: ignore[attr-defined]


class DatabaseBlobStore:
    """Payloads in ``backup_blob_data``, written in the caller's transaction (so blob and metadata commit together)."""

    name = "db"

    def put(self, tenant_id: int, digest: str, data: bytes) -> None:
        row = db.session.get(BlobData, (tenant_id, digest))
        if row is None:
            db.session.add(BlobData(tenant_id=tenant_id, sha256=digest, data=data))
        else:
            row.data = data

    def put_many(self, tenant_id: int, blobs: dict[str, bytes]) -> None:
        if not blobs:
            return
        present = set(db.session.scalars(select(BlobData.sha256).where(
            BlobData.tenant_id == tenant_id, digests_in(BlobData.sha256, blobs))))
        for digest in present:
            self.put(tenant_id, digest, blobs[digest])
        fresh = [{"tenant_id": tenant_id, "sha256": d, "data": data} for d, data in blobs.items() if d not in present]
        if fresh:
            insert_rows(BlobData, fresh)

    def get_many(self, tenant_id: int, digests: Iterable[str]) -> dict[str, bytes]:
        wanted = list(dict.fromkeys(digests))
        if not wanted:
            return {}
        rows = db.session.execute(select(BlobData.sha256, BlobData.data).where(
            BlobData.tenant_id == tenant_id, digests_in(BlobData.sha256, wanted))).all()
        return {sha: bytes(data) for sha, data in rows}

    def delete(self, tenant_id: int, digests: Iterable[str]) -> None:
        keys = [(tenant_id, d) for d in digests]
        if keys:
            db.session.execute(delete(BlobData).where(tuple_(BlobData.tenant_id, BlobData.sha256).in_(keys)))


class _PutOneByOne:
    """``put_many`` for backends without a batch write: one ``put`` per blob."""

    def put(self, tenant_id: int, digest: str, data: bytes) -> None:
        raise NotImplementedError

    def put_many(self, tenant_id: int, blobs: dict[str, bytes]) -> None:
        for digest, data in blobs.items():
            self.put(tenant_id, digest, data)


class FileBlobStore(_PutOneByOne):
    """One file per blob under ``root/<tenant>/<sha[:2]>/<sha>``, written atomically (temp file, fsync, rename)."""

    name = "file"

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, tenant_id: int, digest: str) -> Path:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a sha256 hex digest: {digest!r}")  # it becomes a path: never trust it blindly
        return self.root / str(int(tenant_id)) / digest[:2] / digest

    def put(self, tenant_id: int, digest: str, data: bytes) -> None:
        target = self.path(tenant_id, digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_dir(target.parent)  # the rename itself must survive a power cut

    def get_many(self, tenant_id: int, digests: Iterable[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for digest in dict.fromkeys(digests):
            try:
                found[digest] = self.path(tenant_id, digest).read_bytes()
            except FileNotFoundError:
                continue
        return found

    def delete(self, tenant_id: int, digests: Iterable[str]) -> None:
        for digest in digests:
            self.path(tenant_id, digest).unlink(missing_ok=True)


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` survive a power cut (where the filesystem allows fsync on a directory)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on directories; the data itself is already synced
        pass
    finally:
        os.close(fd)


class S3BlobStore(_PutOneByOne):
    """One object per blob under ``<prefix>/<tenant>/<sha[:2]>/<sha>`` in an S3-compatible bucket."""

    name = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def key(self, tenant_id: int, digest: str) -> str:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a sha256 hex digest: {digest!r}")  # it becomes a key: never trust it blindly
        return "/".join(p for p in (self.prefix, str(int(tenant_id)), digest[:2], digest) if p)

    def put(self, tenant_id: int, digest: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key(tenant_id, digest), Body=data)

    def get_many(self, tenant_id: int, digests: Iterable[str]) -> dict[str, bytes]:
        from botocore.exceptions import ClientError

        found: dict[str, bytes] = {}
        for digest in dict.fromkeys(digests):
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=self.key(tenant_id, digest))["Body"]
            except ClientError as exc:
                if is_missing(exc):
                    continue
                raise
            with body:
                found[digest] = body.read()
        return found

    def delete(self, tenant_id: int, digests: Iterable[str]) -> None:
        keys = [{"Key": self.key(tenant_id, d)} for d in digests]
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys[start:start + 1000],
                                                                   "Quiet": True})


def store_from_url(url: str | None, config: Any = None) -> BlobStore:
    """The backend a BACKUP_STORAGE_URL names: empty or ``db`` → database; ``file:///path``; ``s3://bucket/prefix``.

    ``config`` supplies the S3 settings (BACKUP_S3_*); :raises StorageUrlError: (a ValueError) for a bad URL.
    """
    location = parse_storage_url(url)
    if location.kind is StorageKind.FILE and location.path is not None:
        location.path.mkdir(parents=True, exist_ok=True)
        return FileBlobStore(location.path)
    if location.kind is StorageKind.S3:
        return S3BlobStore(s3_client(config or {}), location.bucket, location.prefix)
    return DatabaseBlobStore()


def blob_store() -> BlobStore:
    """The app's backend, built once per app from BACKUP_STORAGE_URL."""
    ext = current_app.extensions
    config = current_app.config
    url = config.get("BACKUP_STORAGE_URL") or ""
    settings = (url, *(str(config.get(k) or "") for k in (
        "BACKUP_S3_ENDPOINT_URL", "BACKUP_S3_REGION", "BACKUP_S3_ACCESS_KEY_ID", "BACKUP_S3_SECRET_ACCESS_KEY")))
    cached = ext.get("backup_blob_store")
    if cached is None or cached[0] != settings:  # tests may switch the URL on a live app
        cached = (settings, store_from_url(url, config))
        ext["backup_blob_store"] = cached
    return cached[1]
