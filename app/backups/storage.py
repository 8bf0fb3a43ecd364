"""Blob backends behind one small interface, chosen by BACKUP_STORAGE_URL: database rows (default) or a directory.

A backend stores opaque ciphertext under (tenant id, sha256); it knows nothing of snapshots, keys or JSON. An
S3-compatible bucket fits the same interface later (object key ``<prefix>/<tenant>/<sha[:2]>/<sha>``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from flask import current_app
from sqlalchemy import bindparam, delete, select, tuple_

from ..extensions import db
from .models import BlobData


class BlobMissing(Exception):
    """A blob the metadata names is not in the store."""


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


class FileBlobStore:
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
        _fsync_dir(target.parent)  # the rename itself must survive a power cut

    def put_many(self, tenant_id: int, blobs: dict[str, bytes]) -> None:
        for digest, data in blobs.items():
            self.put(tenant_id, digest, data)

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


def _fsync_dir(path: Path) -> None:
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


def store_from_url(url: str | None) -> BlobStore:
    """The backend a BACKUP_STORAGE_URL names: empty or ``db`` → database; ``file:///path`` → a directory."""
    if not url or url in {"db", "database", "db://"}:
        return DatabaseBlobStore()
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"BACKUP_STORAGE_URL file URLs name a local directory (file:///path), got {url!r}")
        root = Path(unquote(parsed.path))
        root.mkdir(parents=True, exist_ok=True)
        return FileBlobStore(root)
    raise ValueError(f"BACKUP_STORAGE_URL must be 'db' or file:///path, got scheme {parsed.scheme!r}")


def blob_store() -> BlobStore:
    """The app's backend, built once per app from BACKUP_STORAGE_URL."""
    ext = current_app.extensions
    url = current_app.config.get("BACKUP_STORAGE_URL") or ""
    cached = ext.get("backup_blob_store")
    if cached is None or cached[0] != url:  # tests may switch the URL on a live app
        cached = (url, store_from_url(url))
        ext["backup_blob_store"] = cached
    return cached[1]
