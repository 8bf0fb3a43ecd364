"""Configuration from environment variables, with embedded defaults so a newcomer needs nothing else."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .backups.storage_url import StorageUrlError, check_endpoint_url, parse_storage_url

DEFAULT_APP_KEY = "io.jira-dr.disaster-recovery"
DEFAULT_INSTALL_KEYS_URL = "https://connect-install-keys.atlassian.com"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from None


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: str) -> dict[str, Any]:
    """Settings read from the environment; every one is documented in the README's table."""
    db_default = "sqlite:///" + str(Path(instance_path) / "jira-dr.sqlite3")
    database_url = os.environ.get("DATABASE_URL") or db_default
    # Heroku-style URLs say postgres://; SQLAlchemy 2 wants a driver name.
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    app_key = os.environ.get("APP_KEY") or DEFAULT_APP_KEY
    if len(app_key) > 64:
        raise RuntimeError(f"APP_KEY must be at most 64 characters, got {len(app_key)}")
    return {
        "BASE_URL": (os.environ.get("BASE_URL") or "http://localhost:5000").rstrip("/"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ENCRYPTION_KEYS": os.environ.get("ENCRYPTION_KEYS") or "",
        "CONNECT_INSTALL_KEYS_URL": (os.environ.get("CONNECT_INSTALL_KEYS_URL")
                                     or DEFAULT_INSTALL_KEYS_URL).rstrip("/"),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "APP_KEY": app_key,
        "APP_NAME": os.environ.get("APP_NAME") or "Disaster Recovery for Jira",
        "UNINSTALL_RETENTION_DAYS": _int("UNINSTALL_RETENTION_DAYS", 30),
        "JWT_LEEWAY_SECONDS": _int("JWT_LEEWAY_SECONDS", 30),
        "CONTEXT_TOKEN_TTL_SECONDS": _int("CONTEXT_TOKEN_TTL_SECONDS", 900),
        # An absolute bound on a page session: context tokens re-minted from context tokens keep the first load's time.
        "CONTEXT_SESSION_MAX_SECONDS": _int("CONTEXT_SESSION_MAX_SECONDS", 8 * 3600),
        "ADMIN_CHECK_TTL_SECONDS": _int("ADMIN_CHECK_TTL_SECONDS", 60),
        "AUTO_MIGRATE": _bool("AUTO_MIGRATE", database_url.startswith("sqlite")),
        "MAX_CONTENT_LENGTH": _int("MAX_REQUEST_BYTES", 1024 * 1024),
        "JIRA_CONNECT_TIMEOUT": float(os.environ.get("JIRA_CONNECT_TIMEOUT") or 5),
        "JIRA_READ_TIMEOUT": float(os.environ.get("JIRA_READ_TIMEOUT") or 30),
        "JIRA_MAX_RETRIES": _int("JIRA_MAX_RETRIES", 4),
        "JIRA_MAX_RETRY_WAIT": float(os.environ.get("JIRA_MAX_RETRY_WAIT") or 60),
        "JIRA_RETRY_BASE_DELAY": float(os.environ.get("JIRA_RETRY_BASE_DELAY") or 5),
        # Jobs: "thread" (in-process, the embedded default), "rq" (Redis; the default when REDIS_URL is set).
        "JOBS_MODE": os.environ.get("JOBS_MODE") or None,
        "JOB_THREADS": _int("JOB_THREADS", 2),
        "JOBS_SWEEP_SECONDS": float(os.environ.get("JOBS_SWEEP_SECONDS") or 30),
        "JOBS_SWEEPER": _bool("JOBS_SWEEPER", True),
        **_oauth_settings(),
        **_forge_settings(),
        **_storage_settings(),
        **_optional_settings(),
    }


# Settings whose defaults live beside the code that uses them (it reads ``config.get(NAME, DEFAULT)``): the
# environment only overrides them, so each default is written once. The README's table lists them.
OPTIONAL_SETTINGS: dict[str, type] = {
    "ACTIVATION_MAX_FAILURES": int, "ACTIVATION_WINDOW_MINUTES": int, "ACTIVATION_GLOBAL_MAX_FAILURES": int,
    "BACKUP_CONCURRENCY": int, "BACKUP_RETENTION_DAILY": int,
    "BACKUP_RETENTION_WEEKLY": int, "BACKUP_PRUNE_INTERVAL_HOURS": float, "BACKUP_WRITE_BATCH": int,
    "BACKUP_READ_BATCH": int, "RESTORE_CONCURRENCY": int, "RESTORE_RATE_PER_SECOND": float,
    "RESTORE_PROGRESS_INTERVAL": float,
    # Jira's points quota (app.quota): where the shared ledger lives, the limits it holds every worker to
    "QUOTA_LEDGER": str, "QUOTA_REDIS_URL": str, "QUOTA_WINDOW_SECONDS": int, "QUOTA_TENANT_POINTS": int,
    "QUOTA_APP_POINTS": int, "QUOTA_ENFORCE_LEARNED": int, "QUOTA_LEARNED_FLOOR": int,
    "QUOTA_RESERVE_ON_DEMAND": float,
    "QUOTA_RESERVE_SCHEDULED": float,
    "OAUTH_STATE_TTL_SECONDS": int, "LOG_LEVEL": str,
    # issue data: whether backups include it, how incremental passes overlap and compare id sets; impersonation
    "BACKUP_ISSUES": str, "ISSUE_OVERLAP_MINUTES": int, "ISSUE_IDSET_DAYS": float, "CONNECT_IMPERSONATION_URL": str,
    # restricted comments: how many people the backup reads them as, how many comment ids it asks about in all
    "ISSUE_RESTRICTED_PEOPLE": int, "ISSUE_RESTRICTED_IDS": int,
}


def _optional_settings() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, kind in OPTIONAL_SETTINGS.items():
        raw = os.environ.get(name)
        if raw in (None, ""):
            continue
        try:
            out[name] = kind(raw)
        except ValueError:
            raise RuntimeError(f"{name} must be {kind.__name__}, got {raw!r}") from None
    return out


# -- OAuth 2.0 (3LO): an admin's consent for the operations Connect can't call (issue 6) -----------------------
DEFAULT_ATLASSIAN_AUTH_URL = "https://auth.atlassian.com"
DEFAULT_ATLASSIAN_API_URL = "https://api.atlassian.com"


def _oauth_settings() -> dict[str, Any]:
    """The OAuth 2.0 integration's credentials (empty: not configured) and Atlassian's endpoints."""
    return {
        "ATLASSIAN_OAUTH_CLIENT_ID": os.environ.get("ATLASSIAN_OAUTH_CLIENT_ID") or "",
        "ATLASSIAN_OAUTH_CLIENT_SECRET": os.environ.get("ATLASSIAN_OAUTH_CLIENT_SECRET") or "",
        "ATLASSIAN_AUTH_URL": (os.environ.get("ATLASSIAN_AUTH_URL") or DEFAULT_ATLASSIAN_AUTH_URL).rstrip("/"),
        "ATLASSIAN_API_URL": (os.environ.get("ATLASSIAN_API_URL") or DEFAULT_ATLASSIAN_API_URL).rstrip("/"),
    }


# -- Forge Remote: the second front door (issue 10) ------------------------------------------------------------
DEFAULT_FORGE_JWKS_URL = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"


def _forge_settings() -> dict[str, Any]:
    """The Forge app this service is the remote of (empty app id: the Forge door is closed) and FIT checks."""
    return {
        "FORGE_APP_ID": (os.environ.get("FORGE_APP_ID") or "").strip(),
        "FORGE_JWKS_URL": os.environ.get("FORGE_JWKS_URL") or DEFAULT_FORGE_JWKS_URL,
        "FORGE_FIT_LEEWAY": _int("FORGE_FIT_LEEWAY", 30),
    }


# -- Backup storage: where blobs live (issue 18) ---------------------------------------------------------------
MIB = 1024 * 1024
DEFAULT_BLOB_CHUNK_BYTES = MIB
DEFAULT_S3_PART_BYTES = 8 * MIB


def _bounded_int(name: str, default: int, low: int, high: int) -> int:
    value = _int(name, default)
    if not low <= value <= high:
        raise RuntimeError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _storage_settings() -> dict[str, Any]:
    """BACKUP_STORAGE_URL and the S3 settings, checked now: a bad URL stops the app at startup, not at 3 a.m."""
    url = (os.environ.get("BACKUP_STORAGE_URL") or "").strip()
    try:
        parse_storage_url(url)
        endpoint = check_endpoint_url(os.environ.get("BACKUP_S3_ENDPOINT_URL") or "")
    except StorageUrlError as exc:
        raise RuntimeError(str(exc)) from None
    return {
        "BACKUP_STORAGE_URL": url,
        "BACKUP_S3_ENDPOINT_URL": endpoint,
        "BACKUP_S3_REGION": (os.environ.get("BACKUP_S3_REGION") or "").strip(),
        # Empty: boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, instance roles).
        "BACKUP_S3_ACCESS_KEY_ID": os.environ.get("BACKUP_S3_ACCESS_KEY_ID") or "",
        "BACKUP_S3_SECRET_ACCESS_KEY": os.environ.get("BACKUP_S3_SECRET_ACCESS_KEY") or "",
        # S3's smallest multipart part is 5 MiB; a part is the most an upload holds in memory at once.
        "BACKUP_S3_PART_BYTES": _bounded_int("BACKUP_S3_PART_BYTES", DEFAULT_S3_PART_BYTES, 5 * MIB, 512 * MIB),
        # Plaintext bytes per encrypted chunk of a streamed blob: a read or write holds about one chunk.
        "BACKUP_BLOB_CHUNK_BYTES": _bounded_int("BACKUP_BLOB_CHUNK_BYTES", DEFAULT_BLOB_CHUNK_BYTES, 4096, 64 * MIB),
    }
