"""The Backups views: "Back up now" (POST, PRG), the snapshot list and detail pages, and a JSON progress endpoint.

Every view takes the page's context token (iframes can't keep cookies) and checks ADMINISTER on the server.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..backups import service
from ..backups.catalogue import CATALOGUE
from ..backups.snapshots import SnapshotNotFound
from ..connect.auth import admin_required, context_jwt_required, current, mint_context_token
from ..connect.tenants import Tenant
from .sections import PageSection, register_section

bp = Blueprint("backups", __name__, url_prefix="/admin/backups")


def section_context(tenant: Tenant) -> dict[str, Any]:
    """What the Backups section shows for ``tenant``: snapshots, the running job, and the last job's outcome."""
    return {"backups": {"snapshots": service.list_snapshots(tenant, limit=20),
                        "running": service.running_backup(tenant),
                        "last_job": service.last_backup_job(tenant)}}


register_section(PageSection("backups", "admin/_backups.html", section_context, order=20))


@bp.get("/view")
@context_jwt_required
@admin_required
def backups_page() -> ResponseReturnValue:
    """The Backups tab, re-rendered from a context token (the target of "Back up now")."""
    ctx = current()
    return render_template("admin/backup_list.html", tenant=ctx.tenant, context_token=mint_context_token(ctx),
                           **section_context(ctx.tenant))


@bp.post("/start")
@context_jwt_required
@admin_required
def back_up_now() -> ResponseReturnValue:
    """Queue a backup (one at a time per tenant), then redirect to the list (post/redirect/get)."""
    ctx = current()
    job, created = service.start_backup(ctx.tenant, ctx.account_id)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(jobId=job.id, created=created, state=job.state), 202 if created else 200
    return redirect(url_for("backups.backups_page", jwt=mint_context_token(ctx), started=int(created)), code=303)


@bp.get("/progress")
@context_jwt_required
@admin_required
def progress() -> ResponseReturnValue:
    """Where the tenant's backup stands, for the page's polling."""
    return jsonify(service.progress(current().tenant)), 200, {"Cache-Control": "no-store"}


@bp.get("/<int:snapshot_id>")
@context_jwt_required
@admin_required
def snapshot_page(snapshot_id: int) -> ResponseReturnValue:
    """One snapshot: its types with counts and status, and the contents of the chosen type."""
    ctx = current()
    try:
        snapshot = service.snapshot_detail(ctx.tenant, snapshot_id)
    except SnapshotNotFound:
        abort(404)
    type_key = request.args.get("type") or next((t.key for t in snapshot.types if t.count), None)
    entries = service.snapshot_contents(ctx.tenant, snapshot_id, type_key) if type_key else []
    return render_template("admin/backup_detail.html", tenant=ctx.tenant, context_token=mint_context_token(ctx),
                           snapshot=snapshot, type_key=type_key, entries=entries, catalogue=CATALOGUE)
