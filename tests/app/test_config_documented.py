"""Is every setting the app reads documented in the README's configuration table?"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INTERNAL = {"TESTING", "SCHEMA_CHECK", "APP_VERSION", "SQLALCHEMY_DATABASE_URI", "MAX_CONTENT_LENGTH",
            "JOBS_MODE_RESOLVED"}


def test_every_setting_is_in_the_readme() -> None:
    read = set()
    for path in (ROOT / "app").rglob("*.py"):
        text = path.read_text()
        read |= set(re.findall(r"config(?:\.get\(|\[)\"([A-Z][A-Z0-9_]+)\"", text))
        read |= set(re.findall(r"os\.environ\.get\(\"([A-Z][A-Z0-9_]+)\"", text))
        read |= set(re.findall(r"_(?:int|bool)\(\"([A-Z][A-Z0-9_]+)\"", text))
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in read - INTERNAL if f"`{name}`" not in readme)
    assert missing == []


def test_every_documented_setting_is_read_from_the_environment(monkeypatch) -> None:
    """The other way round: a variable the README's table documents must reach the app's configuration (four issue
    data settings were documented but never read, so an operator setting them silently got the defaults)."""
    from app.config import from_environment

    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", (ROOT / "README.md").read_text(), re.M))
    samples = {"DATABASE_URL": "sqlite:////tmp/x.sqlite3", "APP_KEY": "k", "BACKUP_STORAGE_URL": "file:///tmp/blobs",
               "ENCRYPTION_KEYS": "", "QUOTA_LEDGER": "database", "JOBS_MODE": "thread", "LOG_LEVEL": "INFO",
               "BACKUP_ISSUES": "false"}
    unread = []
    for name in sorted(documented):
        value = samples.get(name, "7")
        monkeypatch.setenv(name, value)
        try:
            config = from_environment("/tmp")
        except RuntimeError:
            config = {}  # a value of the wrong kind is refused: the variable is read
            continue
        finally:
            monkeypatch.delenv(name)
        if name not in config and not any(str(v) == value or str(v).startswith(value) for v in config.values()):
            unread.append(name)
    assert unread == []
