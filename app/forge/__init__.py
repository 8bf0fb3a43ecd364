"""The Forge Remote front door: its typed errors, the JSON answers they become, and the "Forge is off" guard.

Modules: ``fit`` (verifying Forge Invocation Tokens), ``installations`` (Forge installations as tenants),
``tokens`` (the freshest app system token per tenant), ``credential`` (Jira access through it), ``scopes``,
``auth`` (decorators for views), ``lifecycle`` (installed/upgraded, pre-uninstall, hourly trigger).
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

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


class ForgeNotConfigured(ForgeError):
    status = 404
    code = "forge-not-configured"


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def forge_enabled() -> bool:
    return bool(current_app.config.get("FORGE_APP_ID"))


def init_app(app: Flask) -> None:
    """Register the Forge door's error answers and close every ``/forge`` route when no app id is configured."""
    from .tokens import ForgeTokenUnavailable

    @app.before_request
    def forge_door_closed() -> ResponseReturnValue | None:
        if request.path.startswith(FORGE_PREFIX) and not forge_enabled():
            return jsonify(error_body("forge-not-configured", "Forge is not configured")), 404
        return None

    @app.errorhandler(ForgeError)
    def forge_error(err: ForgeError) -> ResponseReturnValue:
        # Never a token here: messages name claims and expectations only.
        log.info("forge refused %s %s: %s %s", request.method, request.path, err.status, err.code)
        return jsonify(error_body(err.code, err.message)), err.status

    @app.errorhandler(ForgeTokenUnavailable)
    def token_unavailable(err: ForgeTokenUnavailable) -> ResponseReturnValue:
        return jsonify(error_body("system-token-unavailable", err.reason)), 503, {"Retry-After": "60"}

    @app.errorhandler(HTTPException)
    def forge_http_error(err: HTTPException) -> ResponseReturnValue:
        # Forge's UI bridge expects JSON from every /forge answer, 404 and 405 included.
        if not request.path.startswith(FORGE_PREFIX) or err.code is None:
            return err
        return jsonify(error_body(_http_code(err.code), err.description or err.name)), err.code


def _http_code(status: int) -> str:
    return {404: "not-found", 405: "method-not-allowed", 413: "request-too-large", 415: "unsupported-media-type"
            }.get(status, "bad-request" if status < 500 else "server-error")
