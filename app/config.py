"""Configuration from environment variables, with embedded defaults so a newcomer needs nothing else."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
    }
