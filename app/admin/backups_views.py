"""The Backups views: "Back up now" (POST, PRG), the schedule form (POST, confirmed when it deletes backups), the
snapshot list and detail pages, and a JSON progress endpoint.

Every view takes the page's context token (iframes can't keep cookies) and checks ADMINISTER on the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from ..answers import answer_for
from ..backups import schedule as backup_schedule
from ..backups import service
from ..backups.catalogue import CATALOGUE
from ..backups.models import Snapshot
from ..connect.auth import admin_required, context_jwt_required, current, mint_context_token
from ..extensions import db
from ..jobs.models import Job
from ..presenters import connections as p
from ..presenters import people
from ..tenants import Tenant
from .sections import PageSection

bp = Blueprint("backups", __name__, url_prefix="/admin/backups")


SECTION_ROWS = 5  # the main page shows the newest few; the Backups page pages through all of them
PAGE_ROWS = 20


@dataclass(frozen=True)
class BackupHistory:
    """One page of a tenant's snapshots, newest first, with who started each (a person, or the schedule)."""

    snapshots: list[service.SnapshotView]
    started_by: dict[int, people.Person | None]
    total: int
    page: int
    per_page: int
    points: dict[int, dict[str, Any] | None] = field(default_factory=dict)  # each backup's Jira points spent

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def backup_history(tenant: Tenant, page: int = 1, per_page: int = PAGE_ROWS) -> BackupHistory:
    """The snapshots of page ``page`` (1-based) and who started them; both doors show this."""
    total = db.session.scalar(select(func.count()).select_from(Snapshot).where(Snapshot.tenant_id == tenant.id)) or 0
    rows = db.session.execute(
        select(Snapshot.id, Job.requested_by).outerjoin(Job, Job.id == Snapshot.job_id)
        .where(Snapshot.tenant_id == tenant.id).order_by(Snapshot.taken_at.desc(), Snapshot.id.desc())
        .offset((page - 1) * per_page).limit(per_page)).all()
    names = people.display_names(tenant, [who for _, who in rows])
    return BackupHistory([service.snapshot_detail(tenant, snapshot_id) for snapshot_id, _ in rows],
                         {snapshot_id: people.person(who, names) for snapshot_id, who in rows}, total, page, per_page,
                         {snapshot_id: p.snapshot_spend(tenant.id, snapshot_id) for snapshot_id, _ in rows})


def section_context(tenant: Tenant, page: int = 1, per_page: int = SECTION_ROWS, *,
                    on_main_page: bool = True) -> dict[str, Any]:
    """What the Backups section shows for ``tenant``: snapshots, the running job, the last job's failure (until a
    backup succeeds) and the schedule. ``on_main_page``: the newest few and a link to all of them; else a pager."""
    history = backup_history(tenant, page, per_page)
    return {"backups": {"snapshots": history.snapshots, "history": history, "on_main_page": on_main_page,
                        "running": service.running_backup(tenant), "last_job": service.last_backup_job(tenant),
                        "failing": p.backup_failure(tenant), "schedule": p.schedule_view(tenant),
                        "limits": {"interval": backup_schedule.INTERVAL_RANGE, "daily": backup_schedule.DAILY_RANGE,
                                   "weekly": backup_schedule.WEEKLY_RANGE}}}


SECTION = PageSection("backups", "admin/_backups.html", section_context, order=20)  # listed in app/wiring.py


@bp.get("/view")
@context_jwt_required
@admin_required
def backups_page() -> ResponseReturnValue:
    """The Backups tab, re-rendered from a context token (the target of "Back up now")."""
    ctx = current()
    page = request.args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        abort(400)
    return render_template("admin/backup_list.html", tenant=ctx.tenant, context_token=mint_context_token(ctx),
                           **section_context(ctx.tenant, int(page), PAGE_ROWS, on_main_page=False))


SCHEDULE_FIELDS = ("interval_hours", "retention_daily", "retention_weekly")


def _whole_number(field: str, bounds: tuple[int, int]) -> int:
    """A form field as a whole number (digits only, a few of them); :raises ScheduleError: anything else."""
    raw = request.form.get(field, "")
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise backup_schedule.ScheduleError(field, f"a whole number from {bounds[0]} to {bounds[1]}", raw)
    return backup_schedule.check_range(field, int(text), bounds)


def _wanted_schedule() -> backup_schedule.Settings:
    """The schedule the form asks for. :raises ScheduleError: the first field out of range (in the form's order)."""
    return backup_schedule.Settings(
        enabled=request.form.get("enabled") == "on",
        interval_hours=_whole_number("interval_hours", backup_schedule.INTERVAL_RANGE),
        retention_daily=_whole_number("retention_daily", backup_schedule.DAILY_RANGE),
        retention_weekly=_whole_number("retention_weekly", backup_schedule.WEEKLY_RANGE))


def _schedule_page(status: int, **extra: Any) -> ResponseReturnValue:
    ctx = current()
    typed = {f: request.form.get(f, "")[:20] for f in SCHEDULE_FIELDS}
    typed["enabled"] = "on" if request.form.get("enabled") == "on" else ""
    html = render_template("admin/schedule_edit.html", tenant=ctx.tenant, context_token=mint_context_token(ctx),
                           typed=typed, back=_back_to(), schedule=p.schedule_view(ctx.tenant),
                           limits={"interval": backup_schedule.INTERVAL_RANGE, "daily": backup_schedule.DAILY_RANGE,
                                   "weekly": backup_schedule.WEEKLY_RANGE}, **extra)
    return html, status, {"Cache-Control": "no-store"}


def _back_to() -> str:
    return "backups" if request.form.get("back") == "backups" else "main"


@bp.post("/schedule")
@context_jwt_required
@admin_required
def save_schedule() -> ResponseReturnValue:
    """Save the schedule (interval, on/off, retention): 400 on a value out of range, a confirmation first when the
    new retention deletes backups, then back to the page it came from (post/redirect/get)."""
    ctx = current()
    confirmed = request.form.get("confirmed_deletions", "")
    try:
        change = backup_schedule.change_schedule(
            ctx.tenant, ctx.account_id, _wanted_schedule(),
            confirmed_deletions=int(confirmed) if confirmed.isascii() and confirmed.isdigit() else None)
    except backup_schedule.ScheduleError as err:
        answer = answer_for(err)  # the table's status, code and words, as the Forge API answers
        return _schedule_page(answer.status, error=answer.text, error_field=err.field, code=answer.code)
    except backup_schedule.ConfirmDeletions as ask:
        answer = answer_for(ask)
        return _schedule_page(answer.status, confirm={"count": len(ask.doomed), "words": answer.text},
                              code=answer.code)
    token = mint_context_token(ctx)
    deleted = change.deleted
    if _back_to() == "backups":
        return redirect(url_for("backups.backups_page", jwt=token, schedule="saved", deleted=deleted), code=303)
    return redirect(url_for("admin.recovery_view", jwt=token, notice="schedule-saved"), code=303)


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
    snapshot = service.snapshot_detail(ctx.tenant, snapshot_id)  # another site's or none: 404 (``app.answers``)
    type_key = request.args.get("type") or next((t.key for t in snapshot.types if t.count), None)
    entries = service.snapshot_contents(ctx.tenant, snapshot_id, type_key) if type_key else []
    return render_template("admin/backup_detail.html", tenant=ctx.tenant, context_token=mint_context_token(ctx),
                           snapshot=snapshot, type_key=type_key, entries=entries, catalogue=CATALOGUE,
                           points=p.snapshot_spend(ctx.tenant.id, snapshot_id))
