"""BACKUP_STORAGE_URL and the S3 settings: good ones parsed, bad ones refused at startup with the fix in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import config as config_mod
from app.backups.storage import DatabaseBlobStore, FileBlobStore, S3BlobStore, store_from_url
from app.backups.storage_url import StorageKind, StorageUrlError, parse_storage_url


@pytest.mark.parametrize(("url", "kind", "where"), [
    ("", StorageKind.DATABASE, ""),
    ("db", StorageKind.DATABASE, ""),
    ("file:///var/lib/jira-dr/blobs", StorageKind.FILE, "/var/lib/jira-dr/blobs"),
    ("s3://my-backups", StorageKind.S3, "my-backups:"),
    ("s3://my-backups/jira/prod/", StorageKind.S3, "my-backups:jira/prod"),
])
def test_does_a_storage_url_name_its_place(url: str, kind: StorageKind, where: str) -> None:
    location = parse_storage_url(url)
    assert location.kind is kind
    if kind is StorageKind.FILE:
        assert str(location.path) == where
    if kind is StorageKind.S3:
        assert f"{location.bucket}:{location.prefix}" == where


BAD_URLS = [
    ("ftp://host/x", "got scheme 'ftp'"),
    ("s3://", "valid bucket name"),
    ("s3://My_Bucket/x", "got bucket 'My_Bucket'"),
    ("s3://ab/x", "got bucket 'ab'"),
    ("s3://bucket/a/../b", "plain path segments"),
    ("s3://bucket/x?region=eu-west-1", "take no query string"),
    ("file://otherhost/path", "name a local directory"),
    ("file:///", "a directory other than '/'"),
]


@pytest.mark.parametrize(("url", "words"), BAD_URLS)
def test_does_the_app_refuse_to_start_with_a_bad_storage_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                              url: str, words: str) -> None:
    monkeypatch.setenv("BACKUP_STORAGE_URL", url)
    with pytest.raises(RuntimeError, match="BACKUP_STORAGE_URL") as caught:
        config_mod.from_environment(str(tmp_path))
    assert words in str(caught.value)


def test_is_a_password_in_the_storage_url_refused_without_being_repeated(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    monkeypatch.setenv("BACKUP_STORAGE_URL", "s3://AKIAEXAMPLE:hunter2secret@bucket/x")
    with pytest.raises(RuntimeError, match="must not carry credentials") as caught:
        config_mod.from_environment(str(tmp_path))
    assert "hunter2secret" not in str(caught.value)


@pytest.mark.parametrize(("name", "value", "words"), [
    ("BACKUP_S3_ENDPOINT_URL", "minio:9000", "must be an http(s) URL"),
    ("BACKUP_S3_ENDPOINT_URL", "http://key:secret@minio:9000", "must not carry credentials"),
    ("BACKUP_BLOB_CHUNK_BYTES", "12", "between 4096 and"),
    ("BACKUP_BLOB_CHUNK_BYTES", "lots", "must be an integer"),
    ("BACKUP_S3_PART_BYTES", "1048576", "between 5242880 and"),
])
def test_are_bad_s3_and_chunk_settings_refused_at_startup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           name: str, value: str, words: str) -> None:
    monkeypatch.setenv("BACKUP_STORAGE_URL", "s3://bucket/x")
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=name) as caught:
        config_mod.from_environment(str(tmp_path))
    assert words in str(caught.value) and "secret" not in str(caught.value)


def test_are_good_storage_settings_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BACKUP_STORAGE_URL", "s3://bucket/jira")
    monkeypatch.setenv("BACKUP_S3_ENDPOINT_URL", "http://127.0.0.1:9000/")
    monkeypatch.setenv("BACKUP_S3_REGION", "eu-west-1")
    monkeypatch.setenv("BACKUP_BLOB_CHUNK_BYTES", "65536")
    settings = config_mod.from_environment(str(tmp_path))
    assert settings["BACKUP_STORAGE_URL"] == "s3://bucket/jira"
    assert settings["BACKUP_S3_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert settings["BACKUP_S3_REGION"] == "eu-west-1"
    assert settings["BACKUP_BLOB_CHUNK_BYTES"] == 65536


def test_does_each_url_build_its_configuration_blob_store(tmp_path: Path) -> None:
    assert isinstance(store_from_url(""), DatabaseBlobStore)
    assert isinstance(store_from_url(f"file://{tmp_path}/b"), FileBlobStore)
    s3 = store_from_url("s3://bucket/jira", {"BACKUP_S3_ENDPOINT_URL": "http://127.0.0.1:9",
                                             "BACKUP_S3_ACCESS_KEY_ID": "k", "BACKUP_S3_SECRET_ACCESS_KEY": "s"})
    assert isinstance(s3, S3BlobStore)
    assert s3.key(7, "a" * 64) == f"jira/7/aa/{'a' * 64}"
    with pytest.raises(StorageUrlError, match="got scheme 'postgres'"):
        store_from_url("postgres://x/y")
