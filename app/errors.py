"""Turns the typed errors of every layer into responses, in one place."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from .connect.errors import ConnectError
from .http_input import InvalidInput

log = logging.getLogger(__name__)


def _wants_html() -> bool:
    """A person's browser (page load or form post) gets a page; fetch() and API clients get JSON."""
    if "/api/" in request.path or request.path.startswith("/forge/"):
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ConnectError)
    def connect_error(err: ConnectError) -> ResponseReturnValue:
        # The reason is logged for operators and shown to the caller; it never contains a token or secret.
        log.info("refused %s %s: %s %s", request.method, request.path, err.status, err.message)
        headers = {"WWW-Authenticate": 'JWT realm="jira"'} if err.status == 401 else {}
        if _wants_html():
            return render_template("error.html", status=err.status, message=err.message), err.status, headers
        return jsonify(error=err.message, status=err.status), err.status, headers

    @app.errorhandler(InvalidInput)
    def invalid_input(err: InvalidInput) -> ResponseReturnValue:
        # An id out of range, JSON nested too deep: the caller's mistake (or probing), said in the door's own shape.
        log.info("refused %s %s: %s %s", request.method, request.path, err.status, err.message)
        if request.path.startswith("/forge/"):
            return jsonify(error={"code": "bad-request", "message": err.message}), err.status
        if _wants_html():
            return render_template("error.html", status=err.status, message=err.message), err.status
        return jsonify(error=err.message, status=err.status), err.status

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(err: RequestEntityTooLarge) -> ResponseReturnValue:
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return jsonify(error=f"The request body is larger than the {limit} bytes allowed.", status=413), 413
