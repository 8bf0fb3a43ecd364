"""The Restore views: start a preview, the preview/progress/report page of a run, start and cancel a restore,
a JSON progress endpoint for polling, and the report downloads (JSON, CSV).

Every view takes the page's context token (iframes can't keep cookies) and checks ADMINISTER on the server; the
destination must hold an Active connection (checked again by the jobs).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ..answers import answer_for
from ..connect.auth import admin_required, context_jwt_required, current, mint_context_token
from ..extensions import db
from ..http_input import InvalidId, parse_id
from ..presenters import restore as rp
from ..presenters.connections import restore_progress, selection_from
from ..recovery import actions
from ..recovery.connections import active_source_for
from ..restore import service
from ..restore.models import RestoreRun, RunStatus
from ..restore.plan import Selection
from ..restore.restorers import load
from ..tenants import Tenant
from .sections import PageSection

bp = Blueprint("restore", __name__, url_prefix="/admin/restore")


def section_context(tenant: Tenant) -> dict[str, Any]:
    """The Restore section: previews and restores on a destination whose connection is Active, and the history of
    this site's restores whenever it has one (kept after the connection is released or deactivated)."""
    source = active_source_for(tenant)
    runs = list(db.session.scalars(select(RestoreRun).where(RestoreRun.tenant_id == tenant.id)
                                   .order_by(RestoreRun.id.desc()).limit(10)))
    if source is None and not runs:
        return {"restore": None}
    people = rp.people_for(tenant, runs)
    return {"restore": {"source": source, "snapshots": service.restorable_snapshots(tenant) if source else [],
                        "runs": runs, "history": [rp.history_row(r, people) for r in runs]}}


SECTION = PageSection("restore", "admin/_restore.html", section_context, order=40)  # listed in app/wiring.py


def _refused(exc: service.RestoreRefused) -> ResponseReturnValue:
    """The refusal page, with the status and words of the one error table (``app.answers``) the Forge API uses."""
    ctx = current()
    answer = answer_for(exc)
    return render_template("admin/restore_refused.html", tenant=ctx.tenant, context_token=mint_context_token(ctx),
                           message=answer.text, code=answer.code,
                           run_id=(request.view_args or {}).get("run_id")), answer.status


def _run_url(run_id: int, **extra: Any) -> str:
    return url_for("restore.run_page", run_id=run_id, jwt=mint_context_token(current()), **extra)


@bp.post("/preview")
@context_jwt_required
@admin_required
def start_preview() -> ResponseReturnValue:
    """Plan a snapshot against this site (nothing is written), then show the run (post/redirect/get)."""
    ctx = current()
    try:
        snapshot_id = parse_id(request.form.get("snapshot_id", ""), "snapshot_id")
    except InvalidId:
        return _refused(service.RestoreRefused("Choose a snapshot to restore.", 400))
    try:
        run = service.start_preview(ctx.tenant, snapshot_id, ctx.account_id)
    except service.RestoreRefused as exc:
        return _refused(exc)
    return redirect(_run_url(run.id), code=303)


def _selection_from(args: Any) -> Selection:
    return selection_from(args.get("scope", "all"), args.getlist("type"), args.get("projects"), args.get("jql"))


@bp.get("/<int:run_id>")
@context_jwt_required
@admin_required
def run_page(run_id: int) -> ResponseReturnValue:
    """Preview (counts, selection, missing people, blockers), the confirmation step (``step=confirm``), progress, or
    report, by the run's status."""
    ctx = current()
    run = service.get_run(ctx.tenant, run_id)  # another site's or none: 404 (``app.answers``)
    rows = service.items(run)
    status = RunStatus(run.status)
    selection = _selection_from(request.args) if "scope" in request.args else Selection.from_dict(run.selection)
    fallback = request.args.get("user_fallback") or run.user_fallback or service.DEFAULT_FALLBACK
    people = rp.people_for(ctx.tenant, [run], extra=[ctx.account_id] if ctx.account_id else [])
    planned = status == RunStatus.PLANNED
    stale = service.stale_reason(run)
    chosen: list[Any] = []
    pulled: list[Any] = []
    confirm = None
    jql_error = None
    if planned and stale is None and selection.jql:
        try:  # said beside the field, with what was typed kept
            service.check_jql(run, selection)
        except service.RestoreRefused as exc:
            jql_error = str(exc)
    if planned and stale is None and jql_error is None:
        try:
            service.check_choices(run, selection, fallback)
        except service.RestoreRefused as exc:
            return _refused(exc)
        if not selection.everything:
            included = service.selected_rows(run, selection)
            chosen = [r for r, was_pulled in included if not was_pulled]
            pulled = [r for r, was_pulled in included if was_pulled]
        confirm = rp.confirmation(run, selection, fallback, ctx.tenant.link_url)
    step = "confirm" if confirm is not None and request.args.get("step") == "confirm" else None
    shown = rows if status in (RunStatus.PLANNING, RunStatus.PLANNED) else [r for r in rows if r.selected]
    return render_template(
        "admin/restore_run.html", tenant=ctx.tenant, context_token=mint_context_token(ctx), run=run,
        status=status.value, state=rp.run_state(run), lozenge=rp.lozenge(rp.run_state(run)), stale=stale,
        job=service.job_of(run), rows=[rp.item_view(r, people) for r in shown],
        plan_counts=service.counts_by_type([r for r in rows if r.selected or planned], "action"),
        outcome_counts=service.counts_by_type([r for r in rows if r.selected], "outcome"),
        conflicts=[r for r in rows if r.conflict], selection=selection, chosen=chosen, pulled=pulled,
        jql_error=jql_error,
        restorers=load(), verification=run.verification, step=step, confirm=confirm, fallback=fallback,
        fallbacks=rp.fallback_choices(people, ctx.account_id), missing=rp.missing_people(run, people),
        started_by=people.name(run.requested_by), created=rp.when(run.created_at),
        finished=rp.when(run.finished_at), snapshot=rp.snapshot_words(run.snapshot_id), spend=rp.run_spend(run),
        differences=[rp.difference_view(d, people) for d in (run.verification or {}).get("differences", [])])


@bp.post("/<int:run_id>/start")
@context_jwt_required
@admin_required
def start_restore(run_id: int) -> ResponseReturnValue:
    """Restore the chosen objects (dependencies pulled in) with the chosen fallback for missing users, once the
    admin has confirmed on the confirmation step (``confirmed=yes``) and nothing blocks it."""
    ctx = current()
    selection = _selection_from(request.form)
    fallback = request.form.get("user_fallback", "")
    unconfirmed = None if request.form.get("confirmed") == "yes" else "expected confirmed=yes"
    try:
        actions.start_restore(ctx.tenant, run_id, selection, fallback, ctx.account_id, unconfirmed=unconfirmed)
    except service.RestoreRefused as exc:
        return _refused(exc)
    return redirect(_run_url(run_id), code=303)


@bp.post("/<int:run_id>/cancel")
@context_jwt_required
@admin_required
def cancel(run_id: int) -> ResponseReturnValue:
    """Ask the run to stop between objects."""
    ctx = current()
    try:
        service.cancel(ctx.tenant, run_id)
    except service.RestoreRefused as exc:
        return _refused(exc)
    return redirect(_run_url(run_id, cancelling=1), code=303)


@bp.get("/<int:run_id>/progress")
@context_jwt_required
@admin_required
def progress(run_id: int) -> ResponseReturnValue:
    """Where the run stands (overall and per type, current step), for the page's polling."""
    ctx = current()
    run = service.get_run(ctx.tenant, run_id)  # another site's or none: 404 (``app.answers``)
    return jsonify(restore_progress(run)), 200, {"Cache-Control": "no-store"}


@bp.get("/<int:run_id>/report.<fmt>")
@context_jwt_required
@admin_required
def report(run_id: int, fmt: str) -> ResponseReturnValue:
    """The run's report: per object outcome, source id -> destination id, reason; summary and verification."""
    ctx = current()
    run = service.get_run(ctx.tenant, run_id)  # another site's or none: 404 (``app.answers``)
    name = f"restore-{run.id}-report"
    if fmt == "json":
        resp = jsonify(service.report_json(run))
    elif fmt == "csv":
        resp = Response(service.report_csv(run), mimetype="text/csv")
    else:
        abort(404)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
