"""The Forge Remote front door: its typed errors (answered by ``app.errors`` from ``app.answers``) and the "Forge is
off" guard.

Modules: ``fit`` (verifying Forge Invocation Tokens), ``installations`` (Forge installations as tenants),
``tokens`` (the freshest app system token per tenant), ``credential`` (Jira access through it), ``scopes``,
``auth`` (decorators for views), ``lifecycle`` (installed/upgraded, pre-uninstall, hourly trigger).
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue

FORGE_PREFIX = "/forge/"


class ForgeError(Exception):
    """Base of the Forge door's errors: ``status`` and a stable ``code``; the message is safe to show."""

    status = 400
    code = "bad-request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ForgeForbidden(ForgeError):
    """A valid invocation that may not do this (no principal, not a Jira administrator, uninstalled)."""

    status = 403
    code = "forbidden"


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def forge_enabled() -> bool:
    return bool(current_app.config.get("FORGE_APP_ID"))


def init_app(app: Flask) -> None:
    """Close every ``/forge`` route when no app id is configured (its errors are answered by ``app.errors``)."""

    @app.before_request
    def forge_door_closed() -> ResponseReturnValue | None:
        if request.path.startswith(FORGE_PREFIX) and not forge_enabled():
            return jsonify(error_body("forge-not-configured", "Forge is not configured")), 404
        return None
