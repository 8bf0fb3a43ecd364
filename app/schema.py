"""Keeps the database schema and the code in step: migrate at start, or refuse to serve an old schema."""

from __future__ import annotations

import logging
import threading

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, Response, request
from flask_migrate import upgrade

from .extensions import db

log = logging.getLogger(__name__)

STALE_MESSAGE = ("The database schema is out of date: run 'flask --app app db upgrade' "
                 "(the Procfile's release step).")


def schema_is_current(app: Flask) -> bool:
    """Whether the database is at the newest migration."""
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        with db.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
        return current == set(script.get_heads())


def ensure_schema(app: Flask) -> None:
    """Before the first request: with AUTO_MIGRATE (the embedded SQLite default) apply pending migrations;
    otherwise check the schema and answer 503 with the fix until it is current.

    Done lazily, not in ``create_app``, so ``flask db ...`` commands work on any database.
    ``SCHEMA_CHECK=False`` (tests that build tables with ``create_all``) skips it.
    """
    if not app.config.get("SCHEMA_CHECK", True):
        return
    state: dict[str, bool] = {}
    lock = threading.Lock()

    @app.before_request
    def check_schema() -> Response | None:
        if state.get("current"):
            return None
        with lock:
            if not state.get("current"):
                if app.config.get("AUTO_MIGRATE"):
                    upgrade(directory=app.extensions["migrate"].directory)
                state["current"] = schema_is_current(app)
        if state["current"] or request.path == "/healthz":
            return None
        log.error(STALE_MESSAGE)
        return Response(STALE_MESSAGE + "\n", status=503, mimetype="text/plain")
