"""The service's two public pages: ``/`` (what this is, where the descriptor is) and ``/docs`` (the descriptor's
documentation link): plain, static, no tenant data, so no authentication."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("home", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    """Say what the service is and how to install it (Jira reaches everything else through the descriptor)."""
    return render_template("home.html", app_name=current_app.config.get("APP_NAME") or "Disaster Recovery for Jira")


@bp.get("/docs")
def docs() -> ResponseReturnValue:
    """The short admin guide the descriptor's documentation link points at."""
    return render_template("docs.html", app_name=current_app.config.get("APP_NAME") or "Disaster Recovery for Jira")
