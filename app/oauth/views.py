"""The OAuth views: start (admin, context token), Atlassian's callback (bound by ``state``), remove; and the page
section showing where the authorisation stands."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..admin.sections import PageSection
from ..clock import utcnow
from ..connect.auth import admin_required, context_jwt_required, current, mint_context_token
from ..tenants import Tenant
from . import credential  # noqa: F401  (registers the OAuth credential source)
from .flow import (
    FlowRefused,
    complete_authorisation,
    grant_for,
    missing_settings,
    remove_grant,
    requested_scopes,
    start_authorisation,
)
from .models import GrantState

log = logging.getLogger(__name__)

bp = Blueprint("oauth", __name__)

# What the consent unlocks, in the words of the page (Connect apps can't call these parts of Jira's API).
UNLOCKS = (
    "Statuses",
    "Workflows, with their transitions and rules",
    "Priority schemes",
    "Creating priorities and resolutions",
    "Notification scheme and issue security scheme changes",
)
# The callback page and the authorize redirect carry one-time values: keep them out of caches and Referer headers.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.post("/admin/oauth/start")
@context_jwt_required
@admin_required
def start() -> ResponseReturnValue:
    """Send the admin (in a new tab: the consent screen can't run in Jira's iframe) to Atlassian's consent screen."""
    ctx = current()
    missing = missing_settings()
    if missing:
        if request.accept_mimetypes.best == "application/json":
            return jsonify(error=_not_configured_text(missing), missing=missing, status=409), 409
        return render_template("oauth/result.html", ok=False, code="not-configured",
                               message=_not_configured_text(missing)), 409, PRIVATE_HEADERS
    url = start_authorisation(ctx.tenant, ctx.account_id or "")
    if request.accept_mimetypes.best == "application/json":
        return jsonify(authorizeUrl=url), 200, PRIVATE_HEADERS
    return redirect(url, code=303), PRIVATE_HEADERS


@bp.get("/oauth/callback")
def callback() -> ResponseReturnValue:
    """Atlassian redirects here after consent; ``state`` says which tenant and admin asked."""
    try:
        grant = complete_authorisation(request.args)
    except FlowRefused as refusal:
        log.info("oauth callback refused: %s", refusal.code)  # the code only: never the query string
        return render_template("oauth/result.html", ok=False, code=refusal.code, message=refusal.message), \
            refusal.status, PRIVATE_HEADERS
    return render_template("oauth/result.html", ok=True, code="authorised", grant=grant,
                           message=f"Full backup and restore is authorised for {grant.site_url}. You can close "
                                   f"this tab and reload the Disaster recovery page in Jira."), 200, PRIVATE_HEADERS


@bp.post("/admin/oauth/revoke")
@context_jwt_required
@admin_required
def revoke() -> ResponseReturnValue:
    """Forget the grant's tokens; the page then offers to authorise again."""
    ctx = current()
    removed = remove_grant(ctx.tenant, ctx.account_id or "")
    if request.accept_mimetypes.best == "application/json":
        return jsonify(removed=removed)
    page = _page_rule()
    if page is not None:
        # The page's own PRG target takes a fresh context token, since iframes can't keep cookies.
        return redirect(url_for(page, jwt=mint_context_token(ctx)) + "#oauth", code=303)
    return render_template("oauth/result.html", ok=True, code="removed",
                           message="The app's OAuth access was removed. Reload the Disaster recovery page."), \
        200, PRIVATE_HEADERS


def _page_rule() -> str | None:
    """The endpoint re-rendering the Disaster recovery page from a context token, if the page offers one."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule == "/admin/recovery/view" and "GET" in (rule.methods or ()):
            return rule.endpoint
    return None


def _not_configured_text(missing: list[str]) -> str:
    return ("Full backup and restore needs an OAuth 2.0 integration registered in Atlassian's developer console. "
            "The operator of this app must set " + ", ".join(missing) + ".")


# -- the page section -----------------------------------------------------------------------------------------


@dataclass
class OAuthSection:
    """What the page shows about the tenant's OAuth access."""

    status: str  # not-configured, not-authorised, authorised, expired, revoked
    missing: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)
    unlocks: tuple[str, ...] = UNLOCKS
    site_url: str | None = None
    account_id: str | None = None
    authorised_at: datetime | None = None
    scopes: list[str] = field(default_factory=list)
    reason: str | None = None


def section_context(tenant: Tenant) -> dict[str, Any]:
    """The section's context for ``tenant``: ``{"oauth": OAuthSection}``."""
    missing = missing_settings()
    if missing:
        return {"oauth": OAuthSection("not-configured", missing=missing)}
    view = OAuthSection("not-authorised", requested=requested_scopes())
    grant = grant_for(tenant)
    if grant is None:
        return {"oauth": view}
    view.site_url, view.account_id, view.authorised_at = grant.site_url, grant.account_id, grant.authorised_at
    view.scopes, view.reason = sorted(grant.scope_set), grant.reason
    state = grant.grant_state
    if state is GrantState.ACTIVE and not grant.refresh_token_enc and grant.access_expires_at \
            and grant.access_expires_at <= utcnow():
        state = GrantState.EXPIRED  # noticed on the next call; shown now
    view.status = {GrantState.ACTIVE: "authorised", GrantState.EXPIRED: "expired",
                   GrantState.REVOKED: "revoked"}[state]
    return {"oauth": view}


SECTION = PageSection("oauth", "admin/_oauth.html", section_context, order=50)  # listed in app/wiring.py
