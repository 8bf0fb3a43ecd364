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
