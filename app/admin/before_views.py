"""The "Before the restore" Connect web panel on the issue view: the original dates, people and history of a restored
issue, rendered on the server (no JavaScript needed), over ``app.issuedata.before``.

Jira loads the panel with a request-bound JWT (real qsh) whose signed URL names the issue, so the issue id can't be
swapped for another one; the tenant is the token's issuer, never a query parameter. The history's page links carry a
token the app mints the same way (bound to that link's URL, short-lived), since an iframe keeps no cookies.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, make_response, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..answers import answer_for, jira_trouble
from ..connect.auth import ConnectContext, current, page_jwt_required
from ..connect.qsh import qsh, relative_url
from ..connect.tokens import encode_hs256
from ..issuedata.before import BeforeError, BeforeTheRestore, before_the_restore, parse_issue_id, parse_page
from ..jira.errors import JiraError
from ..tenant_access import jira_access

bp = Blueprint("before_panel", __name__, url_prefix="/panels")
TEMPLATE = "panels/before_the_restore.html"


def format_when(value: str | None) -> str:
    """Jira's ``2023-01-09T16:41:12.393+0000`` as ``2023-01-09 16:41 UTC`` (anything else as it is)."""
    if not value:
        return ""
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, pattern).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        except ValueError:
            continue
    return value


def _link_token(ctx: ConnectContext, relative: str) -> str:
    """A token for one page link: signed with the site's secret, bound to that URL by its qsh, short-lived."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ctx.tenant.client_key, "iat": now, "qsh": qsh("GET", relative),
                              "exp": now + current_app.config["CONTEXT_TOKEN_TTL_SECONDS"]}
    if ctx.account_id:
        claims["sub"] = ctx.account_id
    return encode_hs256(claims, ctx.tenant.shared_secret)


def _page_link(ctx: ConnectContext, issue_id: str, page: int) -> str:
    path = url_for("before_panel.panel")
    query = urlencode({"issueId": issue_id, "page": str(page)})
    relative = relative_url(path, query, current_app.config["BASE_URL"])
    return f"{path}?{query}&{urlencode({'jwt': _link_token(ctx, relative)})}"


def _links(ctx: ConnectContext, view: BeforeTheRestore) -> dict[str, str | None]:
    return {"previous": _page_link(ctx, view.issue_id, view.page - 1) if view.page > 1 else None,
            "next": _page_link(ctx, view.issue_id, view.page + 1) if view.page < view.pages else None}


def _answer(status: int, **context: Any) -> ResponseReturnValue:
    html = render_template(TEMPLATE, format_when=format_when, **context)
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"  # page links carry tokens
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/before-the-restore")
@page_jwt_required
def panel() -> ResponseReturnValue:
    """The panel for ``issueId`` (Jira's ``{issue.id}``), history page ``page``."""
    ctx = current()
    try:
        issue_id = parse_issue_id(request.args.get("issueId"))
        page = parse_page(request.args.get("page"))
        view = before_the_restore(jira_access(ctx.tenant), ctx.tenant, issue_id, page=page)
    except BeforeError as err:
        answer = answer_for(err)
        return _answer(answer.status, refusal=answer.text, code=answer.code)
    except JiraError:
        answer = jira_trouble()
        return _answer(answer.status, refusal=answer.text, code=answer.code)
    return _answer(200, view=view, links=_links(ctx, view))
