"""The Flask application factory for the Jira disaster-recovery app."""

from __future__ import annotations

import logging
from importlib import metadata
from pathlib import Path
from typing import Any

from flask import Flask

from . import config as config_mod
from . import crypto, http_input
from .extensions import db, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"  # package data, so an installed wheel migrates too


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``test_config`` overrides settings read from the environment."""
    app = Flask(__name__, instance_relative_config=True)  # templates/ and static/ inside the package
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config_mod.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    app.config["APP_VERSION"] = installed_version()
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    http_input.init_app(app)  # bounded <int:...> ids and JSON nesting, before any route exists
    crypto.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    # runners, periodic tasks, sections, credentials, operations; its imports bring every model to the metadata
    from .wiring import init_app as wiring_init_app

    wiring_init_app(app)
    from .jobs import dispatch as job_dispatch

    job_dispatch.init_app(app)
    from .admin import backups_views, before_views, restore_views
    from .admin import views as admin_views
    from .connect import descriptor, lifecycle
    from .errors import register_error_handlers
    from .forge import api as forge_api
    from .forge import init_app as forge_init_app
    from .forge import issue_events as forge_issue_events
    from .forge import issue_panel as forge_issue_panel
    from .forge import lifecycle as forge_lifecycle
    from .health import bp as health_bp
    from .home import bp as home_bp
    from .issuedata import webhooks as issue_webhooks
    from .oauth import views as oauth_views
    from .schema import ensure_schema

    app.register_blueprint(descriptor.bp)
    app.register_blueprint(lifecycle.bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(home_bp)  # "/" and the descriptor's "/docs"
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(backups_views.bp)
    app.register_blueprint(oauth_views.bp)
    app.register_blueprint(restore_views.bp)
    app.register_blueprint(before_views.bp)  # the "Before the restore" issue panel (the descriptor's webPanels)
    app.register_blueprint(issue_webhooks.bp)  # Jira's issue-data webhooks (the descriptor's webhooks module)
    app.register_blueprint(forge_lifecycle.bp)
    forge_init_app(app)
    app.register_blueprint(forge_api.bp)
    app.register_blueprint(forge_issue_panel.bp)  # the Forge issue panel's remote call
    app.register_blueprint(forge_issue_events.bp)  # Jira's issue events through the Forge trigger
    register_error_handlers(app)
    from .web_security import init_app as web_security_init_app  # no-store, no-referrer, frame-ancestors
    web_security_init_app(app)

    from .cli import register_cli

    register_cli(app)
    ensure_schema(app)
    _start_sweeper(app)
    return app


def installed_version() -> str:
    """The version pyproject.toml declares, as the installed distribution reports it (the only place it is written)."""
    try:
        return metadata.version("jira-dr")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


def _start_sweeper(app: Flask) -> None:
    """In embedded mode the web process runs jobs too, so it also re-dispatches stalled ones and ticks schedules."""
    if app.config["JOBS_MODE"] == "thread" and app.config["JOBS_SWEEPER"] and not app.config.get("TESTING"):
        from .jobs.sweeper import Sweeper

        sweeper = Sweeper(app, app.config["JOBS_SWEEP_SECONDS"])
        app.extensions["job_sweeper"] = sweeper
        sweeper.start()
