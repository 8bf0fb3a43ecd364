"""Security headers on our answers (no caching, no referrer, who may frame a page) and tokens kept out of access logs.

Connect pages live in Jira's iframe and carry a context token in their forms and links (an iframe has no cookies),
so every HTML or JSON answer is ``no-store`` and leaks no ``Referer``; a page of a tenant may be framed only by
that tenant's site. Access log lines (werkzeug's dev server, gunicorn) have their ``jwt=…`` query values redacted.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from flask import Flask, Response, g, request

# Jira Cloud's own hosts: where a refusal page with no verified tenant may still be shown (inside Jira's iframe),
# so the person reads why instead of a blank frame. Such a page holds no action and no token.
JIRA_CLOUD_FRAMERS = ("https://*.atlassian.net", "https://*.jira.com")
# Answers whose caching we leave alone: the public descriptor (Jira fetches it) and static assets.
CACHEABLE_ENDPOINTS = frozenset({"descriptor.descriptor", "static"})
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?")
_JWT_IN_QUERY = re.compile(r"((?:^|[?&;\s\"'])jwt=)[^&\s\"']*", re.IGNORECASE)


def redact_tokens(text: str) -> str:
    """``text`` with every ``jwt=<token>`` query value replaced by ``jwt=[redacted]``."""
    return _JWT_IN_QUERY.sub(r"\1[redacted]", text)


class RedactTokensFilter(logging.Filter):
    """Rewrites an access log record so the line it prints carries no token (the record is kept, never dropped)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_log_filters() -> None:
    """Attach the redacting filter (once) to werkzeug's and gunicorn's access loggers."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokensFilter) for f in logger.filters):
            logger.addFilter(RedactTokensFilter())


def _origin(url: str | None) -> str | None:
    """``scheme://host[:port]`` of a site URL (a CSP source with a path would match that exact path only)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def frame_ancestors() -> str:
    """The CSP ``frame-ancestors`` source list for the current answer: the verified tenant's site, else none."""
    tenant = g.get("connect_tenant")
    if tenant is None:
        return "'none'"
    sites = dict.fromkeys(o for o in (_origin(tenant.base_url), _origin(tenant.display_url)) if o)
    return " ".join(sites) or "'none'"


def add_security_headers(response: Response) -> Response:
    """``after_request``: no-store and no-referrer on HTML/JSON answers, and who may frame an HTML page."""
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.endpoint in CACHEABLE_ENDPOINTS:
        return response
    if response.mimetype in ("text/html", "application/json", "text/csv"):
        response.headers["Cache-Control"] = "no-store"
    if response.mimetype == "text/html" and "Content-Security-Policy" not in response.headers:
        ancestors = frame_ancestors()
        if ancestors == "'none'" and response.status_code >= 400:
            ancestors = " ".join(JIRA_CLOUD_FRAMERS)
        response.headers["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


def init_app(app: Flask) -> None:
    """Register the headers hook and the access-log filters."""
    app.after_request(add_security_headers)
    install_log_filters()
