"""What a BACKUP_STORAGE_URL names (database, directory or S3 bucket), parsed and checked without touching it.

Pure: no Flask, no database, no network, so the configuration can refuse a bad URL at startup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlparse

# S3's rules for new bucket names (3-63 characters, lower case, digits, dots, hyphens; letter or digit at each end).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_DATABASE_SPELLINGS = frozenset({"", "db", "database", "db://"})


class StorageUrlError(ValueError):
    """A BACKUP_STORAGE_URL (or S3 setting) that names no usable place; the message says what was expected."""


class StorageKind(StrEnum):
    DATABASE = "db"
    FILE = "file"
    S3 = "s3"


@dataclass(frozen=True)
class StorageLocation:
    """Where backup blobs live: the kind, and the directory or the bucket and key prefix."""

    kind: StorageKind
    path: Path | None = None
    bucket: str = ""
    prefix: str = ""  # no leading or trailing slash; "" for the bucket's root


def parse_storage_url(url: str | None) -> StorageLocation:
    """The location a BACKUP_STORAGE_URL names: empty or ``db`` → database, ``file:///path``, ``s3://bucket/prefix``.

    :raises StorageUrlError: with the expected forms and what was received.
    """
    raw = (url or "").strip()
    if raw in _DATABASE_SPELLINGS:
        return StorageLocation(StorageKind.DATABASE)
    parsed = urlparse(raw)
    if parsed.scheme == "file":
        return _file_location(raw, parsed.netloc, parsed.path)
    if parsed.scheme == "s3":
        return _s3_location(raw, parsed.netloc, parsed.path, parsed.query)
    raise StorageUrlError(f"BACKUP_STORAGE_URL must be empty or 'db' (the database), file:///path or "
                          f"s3://bucket/prefix, got scheme {parsed.scheme!r} in {_shown(raw)!r}")


def _file_location(raw: str, netloc: str, path: str) -> StorageLocation:
    if netloc not in ("", "localhost"):
        raise StorageUrlError(f"BACKUP_STORAGE_URL file URLs name a local directory (file:///path), got {raw!r}")
    if not path or path == "/":
        raise StorageUrlError(f"BACKUP_STORAGE_URL file URLs need a directory other than '/', got {raw!r}")
    return StorageLocation(StorageKind.FILE, path=Path(unquote(path)))


def _s3_location(raw: str, netloc: str, path: str, query: str) -> StorageLocation:
    shown = _shown(raw)
    if "@" in netloc:
        # Credentials in the URL would end up in logs and error messages: they belong in the AWS variables.
        raise StorageUrlError("BACKUP_STORAGE_URL must not carry credentials: set AWS_ACCESS_KEY_ID and "
                              "AWS_SECRET_ACCESS_KEY (or BACKUP_S3_ACCESS_KEY_ID / BACKUP_S3_SECRET_ACCESS_KEY)")
    if not _BUCKET.match(netloc) or ".." in netloc:
        raise StorageUrlError(f"BACKUP_STORAGE_URL s3 URLs are s3://bucket/prefix with a valid bucket name "
                              f"(3-63 lower-case letters, digits, dots or hyphens), got bucket {netloc!r} in {shown!r}")
    if query:
        raise StorageUrlError(f"BACKUP_STORAGE_URL s3 URLs take no query string (the endpoint and region are "
                              f"BACKUP_S3_ENDPOINT_URL and BACKUP_S3_REGION), got {shown!r}")
    prefix = unquote(path).strip("/")
    if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        raise StorageUrlError(f"BACKUP_STORAGE_URL s3 prefix must be plain path segments, got {prefix!r}")
    return StorageLocation(StorageKind.S3, bucket=netloc, prefix=prefix)


def _shown(raw: str) -> str:
    """The URL as safe to print: anything before an '@' (a password, perhaps) is masked."""
    parsed = urlparse(raw)
    if "@" in parsed.netloc:
        return raw.replace(parsed.netloc, "***@" + parsed.netloc.rsplit("@", 1)[1], 1)
    return raw


def check_endpoint_url(url: str) -> str:
    """An S3 endpoint setting, checked: empty (AWS itself) or an http(s) URL with a host and no credentials."""
    value = url.strip().rstrip("/")
    if not value:
        return ""
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise StorageUrlError(f"BACKUP_S3_ENDPOINT_URL must be an http(s) URL such as https://s3.example.com, "
                              f"got {_shown(value)!r}")
    if "@" in parsed.netloc:
        raise StorageUrlError("BACKUP_S3_ENDPOINT_URL must not carry credentials")
    return value
