"""Turns the typed errors of every layer into responses, in one place, from the one table (``app.answers``).

Each door gets the same status, code and words in its own shape: a Forge call (``/forge/…``) gets
``{"error": {"code", "message", …}}``; a person's browser on the Connect pages gets the error page (the code as a
``data-code`` marker); any other API client ``{"error": message, "status", "code"}``.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError

from .answers import ANSWERED, Answer, answer_for, http_answer
from .forge import FORGE_PREFIX

log = logging.getLogger(__name__)

def is_forge_request() -> bool:
    return request.path.startswith(FORGE_PREFIX)


def _wants_html() -> bool:
    """A person's browser (page load or form post) gets a page; fetch() and API clients get JSON."""
    if "/api/" in request.path or is_forge_request():
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def respond(answer: Answer) -> ResponseReturnValue:
    """``answer`` in the shape of the door the request came through."""
    headers = dict(answer.headers)
    if is_forge_request():
        return jsonify(error=answer.body()), answer.status, headers | {"Cache-Control": "no-store"}
    if _wants_html():
        html = render_template("error.html", status=answer.status, message=answer.text, code=answer.code)
        return html, answer.status, headers
    return jsonify(error=answer.text, status=answer.status, code=answer.code), answer.status, headers


def _body_limit() -> int | None:
    """The body size that applied to this request (a door may set a smaller one than the app's)."""
    return request.max_content_length


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> ResponseReturnValue:
        status = err.code or 500
        if status == 413:  # one answer for an oversized body, whichever door and limit
            return respond(http_answer(413, body_limit=_body_limit()))
        if not is_forge_request():
            return err  # the Connect pages and Jira's callbacks keep werkzeug's plain answers
        return respond(http_answer(status))  # Forge's bridge expects JSON from every /forge answer

    @app.errorhandler(InternalServerError)
    def internal(err: InternalServerError) -> ResponseReturnValue:
        if not is_forge_request():
            return err
        log.exception("forge %s %s failed", request.method, request.path, exc_info=err.original_exception)
        return respond(http_answer(500))

    for error_class in ANSWERED:
        if not issubclass(error_class, HTTPException):
            app.register_error_handler(error_class, _answered)


def _answered(err: Exception) -> ResponseReturnValue:
    answer = answer_for(err)
    # The words are logged for operators and shown to the caller; they never contain a token or secret.
    log.info("refused %s %s: %s %s", request.method, request.path, answer.status, answer.code)
    return respond(answer)
