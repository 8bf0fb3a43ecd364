"""What the Connect layer needs to know about the current Flask request: its URL relative to our base URL."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import current_app, request

from . import qsh


def raw_path() -> str:
    """The request path as it came over the wire (not percent-decoded), for the qsh."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        path = urlsplit(raw).path if raw.startswith(("http://", "https://")) else raw.split("?", 1)[0]
        if path:
            return path
    return quote(request.script_root + request.path, safe="/!$&'()*+,;=:@-._~")


def relative_request_url() -> str:
    """The current request as ``path?query`` relative to the app's ``BASE_URL`` path."""
    query = request.query_string.decode("latin-1")
    return qsh.relative_url(raw_path(), query, current_app.config["BASE_URL"])
