"""The Disaster recovery connections page (views stay thin over the domain services)."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue

from ..connect.auth import (
    admin_required,
    context_jwt_required,
    current,
    mint_context_token,
    page_jwt_required,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/recovery")
@page_jwt_required
@admin_required
def recovery_page() -> ResponseReturnValue:
    ctx = current()
    return render_template("admin/recovery.html", tenant=ctx.tenant, context_token=mint_context_token(ctx))


@bp.get("/api/session")
@context_jwt_required
@admin_required
def session_refresh() -> ResponseReturnValue:
    """A fresh context token for a long-lived page (only a context token is accepted here)."""
    ctx = current()
    return jsonify(accountId=ctx.account_id, site=ctx.tenant.link_url, contextToken=mint_context_token(ctx))
