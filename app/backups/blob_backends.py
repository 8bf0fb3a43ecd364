"""Where sealed streamed blobs are kept: database rows, a directory or an S3 bucket, behind one small interface.

A backend stores opaque sealed objects under (tenant, random name) and knows nothing of keys or digests. Writing is
two steps: the sealed stream goes to a *spool* (a temporary file: the plaintext digest is only known at its end, and
an object already stored must not be uploaded again), then ``commit`` makes the spool the named object — a rename
for a directory, rows in the caller's transaction for the database, a (multipart) upload for S3. Memory stays
about one chunk (one part for S3) whatever the object's size.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from sqlalchemy import delete, select

from ..extensions import db
from .blob_codec import BlobNotFound, BlobStorageError
from .blob_models import StreamChunk
from .s3 import is_missing
from .storage import fsync_dir

_NAME = re.compile(r"^(\.tmp-)?[A-Za-z0-9_]{1,64}$")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def checked_name(name: str) -> str:
    """An object name, checked before it becomes a path or a key (names are ours, but never trust them blindly)."""
    if not _NAME.match(name):
        raise ValueError(f"not a blob object name: {name!r}")
    return name


@dataclass
class Spool:
    """A sealed stream on its way to a backend: a temporary file, named when the backend will rename it."""

    file: BinaryIO
    path: Path | None = None
    committed: bool = field(default=False)

    def discard(self) -> None:
        self.file.close()
        if self.path is not None and not self.committed:
            self.path.unlink(missing_ok=True)


class ObjectStore(Protocol):
    """A place for sealed objects: spool, commit under a name, read back in pieces, delete, list."""

    kind: str

    def spool(self, tenant_id: int) -> Spool: ...

    def commit(self, tenant_id: int, name: str, spool: Spool) -> None:
        """Make the spool's bytes the object ``name`` (whole, or not at all)."""
        ...

    def read(self, tenant_id: int, name: str) -> Iterator[bytes]:
        """The object's bytes in pieces; :raises BlobNotFound: at once when it isn't there."""
        ...

    def delete(self, tenant_id: int, names: Iterable[str]) -> None: ...

    def names(self, tenant_id: int) -> Iterator[tuple[str, datetime]]:
        """Every object (and leftover temporary object) of the tenant with its last-modified time."""
        ...

    def tenant_ids(self) -> set[int]:
        """The tenants holding any object here (a departed tenant's leftovers show up in it)."""
        ...

    def delete_tenant(self, tenant_id: int) -> int:
        """Delete every object of the tenant, temporary ones too (idempotent); returns how many went.

        :raises BlobStorageError: when the store refused or failed to delete some (nothing is assumed gone).
        """
        ...


def _anonymous_spool() -> Spool:
    return Spool(tempfile.TemporaryFile(prefix="jira-dr-spool-"))  # closed by Spool.discard


class DatabaseObjects:
    """Objects as rows of ``backup_stream_chunks`` of about one frame each, written in the caller's transaction."""

    kind = "db"

    def __init__(self, piece_bytes: int) -> None:
        self.piece_bytes = piece_bytes

    def spool(self, tenant_id: int) -> Spool:
        return _anonymous_spool()

    def commit(self, tenant_id: int, name: str, spool: Spool) -> None:
        spool.file.seek(0)
        table = StreamChunk.__table__
        connection = db.session.connection()
        for seq, piece in enumerate(iter(lambda: spool.file.read(self.piece_bytes), b"")):
            connection.execute(table.insert(), {"object_name": checked_name(name), "seq": seq,
                                                "tenant_id": tenant_id, "data": piece})
        spool.committed = True

    def read(self, tenant_id: int, name: str) -> Iterator[bytes]:
        first = self._piece(tenant_id, name, 0)
        if first is None:
            raise BlobNotFound(f"the database holds no object {name} of tenant {tenant_id}")
        return self._pieces(tenant_id, name, first)

    def _pieces(self, tenant_id: int, name: str, first: bytes) -> Iterator[bytes]:
        yield first
        seq = 1
        while (piece := self._piece(tenant_id, name, seq)) is not None:
            yield piece
            seq += 1

    def _piece(self, tenant_id: int, name: str, seq: int) -> bytes | None:
        data = db.session.execute(select(StreamChunk.data).where(
            StreamChunk.object_name == name, StreamChunk.seq == seq, StreamChunk.tenant_id == tenant_id)).scalar()
        return None if data is None else bytes(data)

    def delete(self, tenant_id: int, names: Iterable[str]) -> None:
        wanted = [checked_name(n) for n in names]
        if wanted:
            db.session.execute(delete(StreamChunk).where(StreamChunk.tenant_id == tenant_id,
                                                         StreamChunk.object_name.in_(wanted)))

    def names(self, tenant_id: int) -> Iterator[tuple[str, datetime]]:
        # Rows appear with their metadata in one transaction: none is ever "being written" as others see it.
        for name in db.session.scalars(select(StreamChunk.object_name).distinct()
                                       .where(StreamChunk.tenant_id == tenant_id)).all():
            yield name, EPOCH

    def tenant_ids(self) -> set[int]:
        return set(db.session.scalars(select(StreamChunk.tenant_id).distinct()))

    def delete_tenant(self, tenant_id: int) -> int:
        # The rows' foreign key cascades with the tenant; this is for a tenant still there (in the caller's commit).
        names = [name for name, _ in self.names(tenant_id)]
        self.delete(tenant_id, names)
        return len(names)


class FileObjects:
    """One file per object under ``root/streams/<tenant>/<name[:2]>/<name>``; spooled beside it, then renamed."""

    kind = "file"

    def __init__(self, root: Path) -> None:
        self.root = root

    def tenant_dir(self, tenant_id: int) -> Path:
        return self.root / "streams" / str(int(tenant_id))

    def path(self, tenant_id: int, name: str) -> Path:
        checked_name(name)
        if name.startswith(".tmp-"):
            return self.tenant_dir(tenant_id) / name
        return self.tenant_dir(tenant_id) / name[:2] / name

    def spool(self, tenant_id: int) -> Spool:
        directory = self.tenant_dir(tenant_id)
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        return Spool(os.fdopen(fd, "w+b"), Path(tmp))

    def commit(self, tenant_id: int, name: str, spool: Spool) -> None:
        if spool.path is None:
            raise ValueError("a file spool has a path")
        target = self.path(tenant_id, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        spool.file.flush()
        os.fsync(spool.file.fileno())
        os.replace(spool.path, target)  # atomic: readers see the whole object or none
        spool.committed = True
        fsync_dir(target.parent)

    def read(self, tenant_id: int, name: str) -> Iterator[bytes]:
        try:
            fh = self.path(tenant_id, name).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(f"the directory holds no object {name} of tenant {tenant_id}") from None
        return _file_pieces(fh)

    def delete(self, tenant_id: int, names: Iterable[str]) -> None:
        for name in names:
            self.path(tenant_id, name).unlink(missing_ok=True)

    def names(self, tenant_id: int) -> Iterator[tuple[str, datetime]]:
        directory = self.tenant_dir(tenant_id)
        if not directory.is_dir():
            return
        for path in [*directory.glob(".tmp-*"), *directory.glob("??/*")]:
            if _NAME.match(path.name):
                yield path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC)

    def tenant_ids(self) -> set[int]:
        return digit_dirs(self.root / "streams")

    def delete_tenant(self, tenant_id: int) -> int:
        names = [name for name, _ in self.names(tenant_id)]
        try:
            self.delete(tenant_id, names)
            remove_tree(self.tenant_dir(tenant_id))
        except OSError as exc:
            raise BlobStorageError(f"the directory kept objects of tenant {tenant_id}: expected to delete "
                                   f"{len(names)}, the file system refused ({type(exc).__name__})") from None
        return len(names)


def digit_dirs(parent: Path) -> set[int]:
    """The tenant ids named by the sub-directories of ``parent`` (only all-digit names are ours)."""
    if not parent.is_dir():
        return set()
    return {int(p.name) for p in parent.iterdir() if p.is_dir() and p.name.isascii() and p.name.isdigit()}


def remove_tree(top: Path) -> None:
    """Remove ``top`` and all under it (a departed tenant's directory: everything in it is ours); gone is fine."""
    if top.is_dir():
        shutil.rmtree(top)


def _file_pieces(fh: BinaryIO, piece_bytes: int = 1024 * 1024) -> Iterator[bytes]:
    with fh:
        yield from iter(lambda: fh.read(piece_bytes), b"")


class S3Objects:
    """Objects in a bucket under ``<prefix>/streams/<tenant>/<name>``: multipart upload, streamed download."""

    kind = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str, part_bytes: int, piece_bytes: int) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.part_bytes = part_bytes
        self.piece_bytes = piece_bytes

    def tenant_prefix(self, tenant_id: int) -> str:
        return "/".join(p for p in (self.prefix, "streams", str(int(tenant_id))) if p) + "/"

    def key(self, tenant_id: int, name: str) -> str:
        return self.tenant_prefix(tenant_id) + checked_name(name)

    def spool(self, tenant_id: int) -> Spool:
        return _anonymous_spool()

    def commit(self, tenant_id: int, name: str, spool: Spool) -> None:
        from boto3.s3.transfer import TransferConfig

        spool.file.seek(0)
        # One part in memory at a time (no threads): RSS stays near a part however large the object.
        transfer = TransferConfig(multipart_threshold=self.part_bytes, multipart_chunksize=self.part_bytes,
                                  use_threads=False)
        self.client.upload_fileobj(spool.file, self.bucket, self.key(tenant_id, name), Config=transfer)
        spool.committed = True

    def read(self, tenant_id: int, name: str) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(tenant_id, name))["Body"]
        except ClientError as exc:
            if is_missing(exc):
                raise BlobNotFound(f"bucket {self.bucket} holds no object {name} of tenant {tenant_id}") from None
            raise
        return self._pieces(body)

    def _pieces(self, body: Any) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(self.piece_bytes)
        finally:
            body.close()

    def delete(self, tenant_id: int, names: Iterable[str]) -> None:
        delete_keys(self.client, self.bucket, [self.key(tenant_id, n) for n in names])

    def names(self, tenant_id: int) -> Iterator[tuple[str, datetime]]:
        prefix = self.tenant_prefix(tenant_id)
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix):]
                if _NAME.match(name):
                    yield name, item["LastModified"]

    def tenant_ids(self) -> set[int]:
        return digit_prefixes(self.client, self.bucket, "/".join(p for p in (self.prefix, "streams") if p) + "/")

    def delete_tenant(self, tenant_id: int) -> int:
        keys = list_keys(self.client, self.bucket, self.tenant_prefix(tenant_id))
        delete_keys(self.client, self.bucket, keys)
        return len(keys)


def list_keys(client: Any, bucket: str, prefix: str) -> list[str]:
    """Every key under ``prefix`` (whatever its name: a departed tenant's leftovers are all to go)."""
    return [item["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])]


def digit_prefixes(client: Any, bucket: str, prefix: str) -> set[int]:
    """The tenant ids named by the "directories" right under ``prefix`` (only all-digit names are ours)."""
    found: set[int] = set()
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
    for page in pages:
        for common in page.get("CommonPrefixes", []):
            name = str(common["Prefix"])[len(prefix):].rstrip("/")
            if name.isascii() and name.isdigit():
                found.add(int(name))
    return found


def delete_keys(client: Any, bucket: str, keys: list[str]) -> None:
    """Delete the keys, 1,000 a call (DeleteObjects' limit); :raises BlobStorageError: when S3 kept some.

    Quiet mode answers only the failures, per key, with status 200: they must be read, or a refusal (access
    denied, say) would pass for a deletion.
    """
    for start in range(0, len(keys), 1000):
        answer = client.delete_objects(Bucket=bucket, Delete={
            "Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True}) or {}
        errors = answer.get("Errors") or []
        if errors:
            codes = sorted({str(e.get("Code")) for e in errors})
            raise BlobStorageError(f"bucket {bucket} kept {len(errors)} of {len(keys[start:start + 1000])} objects "
                                   f"it was asked to delete: expected none kept, received {', '.join(codes)}")
