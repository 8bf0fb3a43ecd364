"""Streamed blobs on each backend (database, directory, S3 server on loopback): round trips, tampering, dedupe,
isolation between tenants, and the storage settings."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import crypto
from app.backups import blobs
from app.backups.blob_codec import HEADER, LAST_FLAG, PREFIX
from app.backups.blob_models import StreamBlob, StreamChunk
from app.backups.blobs import (
    BadDigest,
    BlobCorrupt,
    BlobNotFound,
    BlobRef,
    ForeignSnapshot,
    object_store,
    open_stream,
    put_stream,
    stat,
)
from app.backups.models import Snapshot
from app.backups.snapshots import SnapshotReader, SnapshotWriter
from app.backups.storage import S3BlobStore, blob_store
from app.connect.installs import save_installation
from app.extensions import db

from .conftest import SMALL_CHUNK

CHUNK = SMALL_CHUNK


def install(client_key: str) -> int:
    return save_installation({"clientKey": client_key, "baseUrl": f"https://{client_key}.atlassian.net",
                              "sharedSecret": "s" * 32}).id


@pytest.fixture
def ctx(blob_backend: str, app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def tenant(ctx: Flask) -> int:
    return install("site-a")


@pytest.fixture
def other_tenant(ctx: Flask) -> int:
    return install("site-b")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_all(tenant_id: int, digest: str) -> bytes:
    return b"".join(open_stream(tenant_id, digest))


def read_until_error(tenant_id: int, digest: str) -> tuple[bytes, BlobCorrupt | None]:
    """What a consumer receives before the reader stops it."""
    received = bytearray()
    try:
        for chunk in open_stream(tenant_id, digest):
            received += chunk
    except BlobCorrupt as exc:
        return bytes(received), exc
    return bytes(received), None


def stored_object(tenant_id: int, digest: str) -> tuple[str, bytes]:
    row = db.session.scalars(select(StreamBlob).where(StreamBlob.tenant_id == tenant_id,
                                                      StreamBlob.sha256 == digest)).one()
    return row.object_name, b"".join(object_store().read(tenant_id, row.object_name))


def overwrite_object(tenant_id: int, name: str, data: bytes) -> None:
    """Replace a stored object's bytes behind the app's back (what an attacker or a bad disk does)."""
    store = object_store()
    store.delete(tenant_id, [name])
    spool = store.spool(tenant_id)
    spool.file.write(data)
    store.commit(tenant_id, name, spool)
    spool.discard()
    db.session.commit()


def object_count(tenant_id: int) -> int:
    return len(list(object_store().names(tenant_id)))


# -- round trips -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
def test_does_a_blob_of_any_size_read_back_as_it_was_put(tenant: int, size: int) -> None:
    data = os.urandom(size)
    pieces = [data[i:i + 1000] for i in range(0, len(data), 1000)]  # the caller's pieces need not be chunks

    ref = put_stream(tenant, pieces)

    assert ref == BlobRef(sha(data), size)
    chunks = list(open_stream(tenant, ref.digest))
    assert b"".join(chunks) == data
    assert all(len(c) <= CHUNK for c in chunks)
    row = db.session.scalars(select(StreamBlob).where(StreamBlob.tenant_id == tenant)).one()
    assert row.chunk_count == max(1, -(-size // CHUNK))  # an empty blob is one (empty, last) chunk


def test_does_a_file_like_source_stream_in(tenant: int) -> None:
    data = os.urandom(5 * CHUNK + 3)
    ref = put_stream(tenant, io.BytesIO(data))
    assert read_all(tenant, ref.digest) == data


def test_is_plaintext_absent_from_what_is_stored(tenant: int) -> None:
    data = b"confidential attachment text " * 500
    ref = put_stream(tenant, [data])
    _name, sealed = stored_object(tenant, ref.digest)
    assert b"confidential" not in sealed
    assert ref.digest not in _name  # the object's name reveals no content address


def test_does_a_50_mb_blob_round_trip_in_one_megabyte_chunks(ctx: Flask, tenant: int) -> None:
    ctx.config["BACKUP_BLOB_CHUNK_BYTES"] = 1024 * 1024
    written = hashlib.sha256()
    block = os.urandom(1024 * 1024)

    def source() -> Iterator[bytes]:
        for i in range(50):
            piece = i.to_bytes(4, "big") + block[4:]
            written.update(piece)
            yield piece

    ref = put_stream(tenant, source())

    assert ref == BlobRef(written.hexdigest(), 50 * 1024 * 1024)
    read = hashlib.sha256()
    largest = 0
    for chunk in open_stream(tenant, ref.digest):
        read.update(chunk)
        largest = max(largest, len(chunk))
    assert read.hexdigest() == ref.digest
    assert largest == 1024 * 1024
    if object_store().kind == "db":  # rows of about a chunk, never one row of the whole blob
        biggest_row = db.session.execute(select(func.max(func.length(StreamChunk.data)))).scalar_one()
        assert biggest_row <= 1024 * 1024 + 64


# -- tampering ---------------------------------------------------------------------------------------------------------

def split_frames(sealed: bytes) -> tuple[bytes, list[bytes]]:
    """A sealed object's header and its frames as stored, read by the format's own sizes (to damage one)."""
    header, rest, frames = sealed[:HEADER.size], sealed[HEADER.size:], []
    while rest:
        (word,) = PREFIX.unpack(rest[:PREFIX.size])
        end = PREFIX.size + (word & ~LAST_FLAG)
        frames.append(rest[:end])
        rest = rest[end:]
    return header, frames


def four_chunk_blob(tenant_id: int) -> tuple[bytes, BlobRef, str, bytes, list[bytes]]:
    data = os.urandom(3 * CHUNK + 100)
    ref = put_stream(tenant_id, [data])
    name, sealed = stored_object(tenant_id, ref.digest)
    header, frames = split_frames(sealed)
    assert len(frames) == 4
    return data, ref, name, header, frames


def test_is_a_flipped_byte_in_a_stored_chunk_refused_before_its_plaintext(tenant: int) -> None:
    data, ref, name, header, frames = four_chunk_blob(tenant)
    damaged = bytearray(frames[1])
    damaged[PREFIX.size + 10] ^= 0x01
    overwrite_object(tenant, name, header + frames[0] + bytes(damaged) + frames[2] + frames[3])

    received, error = read_until_error(tenant, ref.digest)

    assert error is not None and "chunk 2 of 4 failed authentication" in str(error)
    assert received == data[:CHUNK]  # only the chunk before it, which was authentic


def test_is_a_flipped_byte_in_a_single_chunk_blob_refused_with_no_plaintext(tenant: int) -> None:
    ref = put_stream(tenant, [b"short secret"])
    name, sealed = stored_object(tenant, ref.digest)
    damaged = bytearray(sealed)
    damaged[-1] ^= 0x80
    overwrite_object(tenant, name, bytes(damaged))

    received, error = read_until_error(tenant, ref.digest)
    assert error is not None and received == b""


def test_is_a_blob_without_its_last_chunk_refused(tenant: int) -> None:
    data, ref, name, header, frames = four_chunk_blob(tenant)
    overwrite_object(tenant, name, header + b"".join(frames[:3]))

    received, error = read_until_error(tenant, ref.digest)

    assert error is not None and "ends after 3 of 4 chunks (truncated)" in str(error)
    assert received != data and len(received) < len(data)


def test_is_a_chunk_relabelled_as_last_refused(tenant: int) -> None:
    """Truncating and flagging the new end as last: the flag is authenticated, so it fails."""
    _data, ref, name, header, frames = four_chunk_blob(tenant)
    (word,) = PREFIX.unpack(frames[2][:PREFIX.size])
    relabelled = PREFIX.pack(word | LAST_FLAG) + frames[2][PREFIX.size:]
    overwrite_object(tenant, name, header + frames[0] + frames[1] + relabelled)

    _received, error = read_until_error(tenant, ref.digest)
    assert error is not None and "chunk 3 of 4 failed authentication" in str(error)


def test_are_reordered_chunks_refused_with_no_plaintext(tenant: int) -> None:
    _data, ref, name, header, frames = four_chunk_blob(tenant)
    overwrite_object(tenant, name, header + frames[1] + frames[0] + frames[2] + frames[3])

    received, error = read_until_error(tenant, ref.digest)

    assert error is not None and "chunk 1 of 4 failed authentication" in str(error)
    assert received == b""


def test_are_bytes_after_the_last_chunk_refused(tenant: int) -> None:
    data, ref, name, _header, _frames = four_chunk_blob(tenant)
    _name, sealed = stored_object(tenant, ref.digest)
    overwrite_object(tenant, name, sealed + b"\x00" * 40)

    received, error = read_until_error(tenant, ref.digest)
    assert error is not None and "bytes follow the last" in str(error)
    assert received == data[:3 * CHUNK]  # the last chunk is never released


def test_is_another_blobs_object_swapped_in_refused(tenant: int) -> None:
    ref_a = put_stream(tenant, [b"A" * 100])
    ref_b = put_stream(tenant, [b"B" * 100])
    name_a, _ = stored_object(tenant, ref_a.digest)
    _, sealed_b = stored_object(tenant, ref_b.digest)
    overwrite_object(tenant, name_a, sealed_b)

    received, error = read_until_error(tenant, ref_a.digest)
    assert error is not None and "header does not match" in str(error)
    assert received == b""


def test_is_a_missing_object_reported_as_not_found(tenant: int) -> None:
    ref = put_stream(tenant, [b"soon gone"])
    name, _ = stored_object(tenant, ref.digest)
    object_store().delete(tenant, [name])
    db.session.commit()
    with pytest.raises(BlobNotFound, match=f"no object {name}"):
        open_stream(tenant, ref.digest)


# -- stored once -----------------------------------------------------------------------------------------------------

class RequestCounter:
    """Counts the HTTP requests the app's S3 client sends, by method."""

    def __init__(self) -> None:
        self.methods: list[str] = []

    def __call__(self, request: Any, **_kwargs: Any) -> None:
        self.methods.append(request.method)

    @property
    def writes(self) -> int:
        return sum(1 for m in self.methods if m in ("PUT", "POST"))


def test_does_a_second_put_of_the_same_content_upload_nothing(tenant: int, blob_backend: str) -> None:
    data = os.urandom(6 * CHUNK)
    first = put_stream(tenant, [data])
    objects, rows = object_count(tenant), db.session.execute(select(func.count()).select_from(StreamChunk)).scalar()
    counter = RequestCounter()
    if blob_backend == "s3":
        object_store().client.meta.events.register("before-send.s3", counter)  # type: ignore[attr-defined]

    second = put_stream(tenant, [data[:10], data[10:]])

    assert second == first
    assert object_count(tenant) == objects == 1
    assert db.session.execute(select(func.count()).select_from(StreamChunk)).scalar() == rows
    assert db.session.execute(select(func.count()).select_from(StreamBlob)).scalar() == 1
    if blob_backend == "s3":
        assert counter.writes == 0


def test_does_a_snapshot_that_puts_a_known_blob_hold_it(tenant: int) -> None:
    snapshot = SnapshotWriter.begin(tenant, None, app_version="t", format_version=1)
    ref = put_stream(tenant, [b"attachment"])
    again = put_stream(tenant, [b"attachment"], snapshot_id=snapshot.snapshot_id)
    assert again == ref
    assert blobs.reference(tenant, snapshot.snapshot_id, ref.digest) == ref  # idempotent
    held = db.session.execute(select(func.count()).select_from(blobs.SnapshotStreamBlob)).scalar()
    assert held == 1


# -- tenants apart -----------------------------------------------------------------------------------------------------

def test_can_another_tenant_not_read_a_tenants_blob(tenant: int, other_tenant: int) -> None:
    ref = put_stream(tenant, [b"site A's attachment"])

    with pytest.raises(BlobNotFound, match=f"tenant {other_tenant} has no blob"):
        open_stream(other_tenant, ref.digest)
    assert stat(other_tenant, ref.digest) is None
    assert stat(tenant, ref.digest) == ref


def test_are_two_tenants_copies_of_one_file_unrelated_objects(tenant: int, other_tenant: int) -> None:
    data = os.urandom(2 * CHUNK)
    ref_a, ref_b = put_stream(tenant, [data]), put_stream(other_tenant, [data])
    assert ref_a == ref_b  # the same address, each within its own tenant
    name_a, sealed_a = stored_object(tenant, ref_a.digest)
    name_b, sealed_b = stored_object(other_tenant, ref_b.digest)
    assert name_a != name_b and sealed_a[32:] != sealed_b[32:]
    assert read_all(tenant, ref_a.digest) == read_all(other_tenant, ref_b.digest) == data


def test_is_a_tenants_object_refused_under_another_tenants_key(tenant: int, other_tenant: int) -> None:
    """Even metadata forged to point tenant B at tenant A's sealed bytes yields no plaintext."""
    ref = put_stream(tenant, [b"A's secret"])
    put_stream(other_tenant, [b"B's own"])  # B gets a key of its own
    _name, sealed = stored_object(tenant, ref.digest)
    row_a = db.session.scalars(select(StreamBlob).where(StreamBlob.tenant_id == tenant)).one()
    forged = StreamBlob(tenant_id=other_tenant, sha256=ref.digest, size=row_a.size, stored_size=row_a.stored_size,
                        chunk_size=row_a.chunk_size, chunk_count=row_a.chunk_count, salt=row_a.salt,
                        object_name="f" * 32, backend=row_a.backend)
    db.session.add(forged)
    db.session.commit()
    overwrite_object(other_tenant, "f" * 32, sealed)

    received, error = read_until_error(other_tenant, ref.digest)
    assert error is not None and "failed authentication" in str(error) and received == b""


def test_can_a_snapshot_of_another_tenant_not_hold_a_tenants_blob(tenant: int, other_tenant: int) -> None:
    theirs = SnapshotWriter.begin(other_tenant, None, app_version="t", format_version=1)
    with pytest.raises(ForeignSnapshot, match=f"expected a snapshot of tenant {tenant}, found one of tenant"):
        put_stream(tenant, [b"x"], snapshot_id=theirs.snapshot_id)
    assert db.session.execute(select(func.count()).select_from(StreamBlob)).scalar() == 0


@pytest.mark.parametrize("bad", ["", "abc", "A" * 64, "../" + "a" * 61, "g" * 64])
def test_is_a_malformed_address_refused(tenant: int, bad: str) -> None:
    with pytest.raises(BadDigest, match="lower-case sha256 hex digest"):
        open_stream(tenant, bad)


# -- keys ------------------------------------------------------------------------------------------------------------

def test_are_blobs_readable_with_the_new_key_alone_after_rotation(ctx: Flask, tenant: int) -> None:
    data = os.urandom(2 * CHUNK + 5)
    ref = put_stream(tenant, [data])
    old = ctx.config["ENCRYPTION_KEYS"]
    new = crypto.Fernet.generate_key().decode()
    ctx.config["ENCRYPTION_KEYS"] = f"{new},{old}"
    crypto.init_app(ctx)
    _name, sealed_before = stored_object(tenant, ref.digest)

    result = ctx.test_cli_runner().invoke(args=["keys", "rotate"])  # what an operator runs

    assert result.exit_code == 0 and "0 unreadable" in result.output, result.output
    ctx.config["ENCRYPTION_KEYS"] = new
    crypto.init_app(ctx)
    assert read_all(tenant, ref.digest) == data
    assert stored_object(tenant, ref.digest)[1] == sealed_before  # the blob's bytes were never rewritten


def test_is_a_blob_unreadable_once_its_tenant_key_cannot_be_unwrapped(ctx: Flask, tenant: int) -> None:
    ref = put_stream(tenant, [b"x" * 10])
    ctx.config["ENCRYPTION_KEYS"] = crypto.Fernet.generate_key().decode()
    crypto.init_app(ctx)
    with pytest.raises(crypto.DecryptionError):
        open_stream(tenant, ref.digest)


# -- configuration snapshots on the same backend --------------------------------------------------------------------

def test_do_configuration_snapshots_still_round_trip_on_the_backend(tenant: int, blob_backend: str) -> None:
    writer = SnapshotWriter.begin(tenant, None, app_version="t", format_version=1)
    writer.put("statuses", "Done", "3", {"id": "3", "name": "Done"})
    writer.set_type_status("statuses", "complete", 1)
    writer.finish(api_calls=1, duration_seconds=0.1)

    assert list(SnapshotReader(writer.snapshot_id).objects("statuses")) == [{"id": "3", "name": "Done"}]
    if blob_backend == "s3":
        assert isinstance(blob_store(), S3BlobStore)
    assert db.session.get(Snapshot, writer.snapshot_id) is not None
