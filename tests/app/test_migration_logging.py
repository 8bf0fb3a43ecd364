"""Do the app's own INFO logs survive AUTO_MIGRATE (Alembic's env.py used to reset logging while migrating)?"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import logging, sys
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1], "AUTO_MIGRATE": True,
                      "ENCRYPTION_KEYS": sys.argv[2], "JOBS_SWEEPER": False, "JOBS_MODE": "thread",
                      "LOG_LEVEL": "INFO"})
    assert app.test_client().get("/healthz").status_code == 200  # the first request migrates the fresh file
    logging.getLogger("app.probe").info("app-info-after-migrate")
""")


def test_app_logger_still_emits_info_after_auto_migrate(tmp_path: Path) -> None:
    """With SQLite's default AUTO_MIGRATE, is an app logger's INFO line still printed after the migration ran?"""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "LOG_LEVEL", "REDIS_URL")}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "fresh.sqlite3"),
                           Fernet.generate_key().decode()],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Running upgrade" in done.stderr  # the migration really ran (and Alembic still says so)
    assert "app-info-after-migrate" in done.stderr
