"""The blob backends: one contract for the database and the directory, chosen by BACKUP_STORAGE_URL."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask import Flask

from app.backups.storage import BlobStore, DatabaseBlobStore, FileBlobStore, blob_store, store_from_url
from app.connect.installs import save_installation
from app.extensions import db


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def tenant_id(app: Flask):
    with app.app_context():
        yield save_installation({"clientKey": "t", "baseUrl": "https://t.atlassian.net", "sharedSecret": "s" * 32}).id


@pytest.fixture(params=["db", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path, tenant_id: int) -> BlobStore:
    return DatabaseBlobStore() if request.param == "db" else FileBlobStore(tmp_path / "blobs")


def test_does_a_stored_blob_read_back_and_go_away_when_deleted(store: BlobStore, tenant_id: int) -> None:
    a, b, missing = digest("a"), digest("b"), digest("missing")
    store.put(tenant_id, a, b"payload-a")
    store.put(tenant_id, b, b"payload-b")
    db.session.commit()

    assert store.get_many(tenant_id, [a, b, missing]) == {a: b"payload-a", b: b"payload-b"}
    assert store.get_many(tenant_id + 1, [a]) == {}  # another tenant's namespace
    store.delete(tenant_id, [a, missing])
    db.session.commit()
    assert store.get_many(tenant_id, [a, b]) == {b: b"payload-b"}


def test_does_putting_again_overwrite_in_place(store: BlobStore, tenant_id: int) -> None:
    """Key rotation rewrites a blob under the same digest."""
    a = digest("a")
    store.put(tenant_id, a, b"old ciphertext")
    db.session.commit()
    store.put(tenant_id, a, b"new ciphertext")
    db.session.commit()
    assert store.get_many(tenant_id, [a]) == {a: b"new ciphertext"}


def test_does_a_batch_put_store_new_blobs_and_overwrite_known_ones(store: BlobStore, tenant_id: int) -> None:
    a, b = digest("a"), digest("b")
    store.put(tenant_id, a, b"old")
    db.session.commit()
    store.put_many(tenant_id, {a: b"new-a", b: b"new-b"})
    store.put_many(tenant_id, {})
    db.session.commit()
    assert store.get_many(tenant_id, [a, b]) == {a: b"new-a", b: b"new-b"}


def test_does_the_file_backend_leave_no_temporary_files(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")
    for i in range(5):
        store.put(7, digest(str(i)), b"x" * i)
    files = sorted(p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file())
    assert files == sorted(digest(str(i)) for i in range(5))
    assert store.path(7, digest("0")) == tmp_path / "blobs" / "7" / digest("0")[:2] / digest("0")


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABC", "g" * 64, digest("a").upper(), digest("a") + "/x"])
def test_does_the_file_backend_refuse_a_digest_that_is_not_a_sha256(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="not a sha256 hex digest"):
        FileBlobStore(tmp_path).path(1, bad)


@pytest.mark.parametrize("url", [None, "", "db", "database"])
def test_is_the_database_the_default_backend(url: str | None) -> None:
    assert isinstance(store_from_url(url), DatabaseBlobStore)


def test_does_a_file_url_name_a_directory(tmp_path: Path) -> None:
    store = store_from_url(f"file://{tmp_path}/my%20blobs")
    assert isinstance(store, FileBlobStore)
    assert store.root == tmp_path / "my blobs"
    assert store.root.is_dir()


@pytest.mark.parametrize(("url", "error"), [
    ("ftp://bucket/prefix", "must be empty or 'db' \\(the database\\), file:///path or s3://bucket/prefix"),
    ("postgres://x/y", "got scheme 'postgres'"),
    ("file://otherhost/path", "name a local directory"),
])
def test_is_an_unsupported_storage_url_refused(url: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        store_from_url(url)


def test_does_the_app_follow_backup_storage_url(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        assert isinstance(blob_store(), DatabaseBlobStore)
        app.config["BACKUP_STORAGE_URL"] = f"file://{tmp_path}/b"
        assert isinstance(blob_store(), FileBlobStore)
        assert blob_store() is blob_store()
