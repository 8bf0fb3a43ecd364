"""The Forge issue panel's remote call: ``GET /forge/api/v1/issues/<issueId>/before`` over ``app.issuedata.before``.

The panel (``jira:issuePanel`` in forge/manifest.yml) runs in the browser and names the issue itself, so unlike the
Connect panel (whose issue id Jira signs), the viewer must be a user Jira says may browse that issue. The tenant is
the verified invocation's installation; an issue of another site, one the viewer can't see, or one the app didn't
restore all get the same 404.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from ..answers import jira_trouble
from ..errors import respond
from ..issuedata.before import before_the_restore, parse_issue_id, parse_page
from ..jira.errors import JiraError
from ..tenant_access import jira_access
from . import ForgeForbidden
from .auth import forge_current, forge_invocation_required

log = logging.getLogger(__name__)

bp = Blueprint("forge_issue_panel", __name__, url_prefix="/forge/api/v1")


@bp.after_request
def _no_store(response: object) -> object:
    response.headers["Cache-Control"] = "no-store"  # type: ignore[attr-defined]
    return response


@bp.errorhandler(JiraError)
def _jira_trouble(err: JiraError) -> ResponseReturnValue:
    # Only the panel says Jira was the trouble (a 502): elsewhere a JiraError is a fault of ours or the job's.
    log.info("issue panel: Jira answered %s to %s %s", err.status, err.method, err.path)
    return respond(jira_trouble())


@bp.get("/issues/<issue_id>/before")
@forge_invocation_required
def before(issue_id: str) -> ResponseReturnValue:
    """What the issue was before the restore, with page ``page`` of its history (JSON)."""
    ctx = forge_current()
    if not ctx.account_id:
        raise ForgeForbidden("The issue panel is shown to signed-in users only (the call names no user).")
    view = before_the_restore(jira_access(ctx.tenant), ctx.tenant, parse_issue_id(issue_id),
                              page=parse_page(request.args.get("page")), viewer=ctx.account_id,
                              check_viewer=True)
    return jsonify(view.to_json())
