"""What both admin front doors (the Connect pages and the Forge JSON API) show: fixed notice texts, action labels,
the connection sides' state and allowed actions, the backup schedule and a failed backup's alert in words, the audit
log, the restore selection and progress — built from the domain only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..backups import schedule as backup_schedule
from ..backups import service as backup_service
from ..backups.models import Snapshot
from ..clock import utcnow
from ..extensions import db
from ..quota.figures import job_points
from ..recovery import activity, audit
from ..recovery import connections as rc
from ..recovery.actions import offered_actions
from ..recovery.connections import Action, ConnectionState, RecoveryConnection, Side
from ..restore import service as restore_service
from ..restore.models import RestoreRun
from ..restore.plan import Selection
from ..tenants import Tenant
from . import people

ACTION_LABELS = {
    "generate": "Generate token", "refresh": "Refresh token", "reset": "Reset token",
    "activate": "Activate connection", "release": "Release connection", "deactivate": "Deactivate connection",
}


def action_label(action: Action, state: ConnectionState) -> str:
    """The button's text ("Generate new token" once a connection was released)."""
    if action is Action.GENERATE and state is ConnectionState.RELEASED:
        return "Generate new token"
    return ACTION_LABELS[action.value]


# What to do when the token is lost, per source status: the words name exactly the button the status offers.
LOST_TOKEN_HINTS: dict[ConnectionState, str] = {
    ConnectionState.PENDING: "Lost the token before a destination used it? Refresh token issues a new one; the lost "
                             "one stops working.",
    ConnectionState.ACTIVE: "Lost the token? Reset token issues a new one for this connection and keeps it active; "
                            "the lost one stops working.",
    ConnectionState.RELEASED: "Lost the token? Reset token issues a new one; the lost one stops working.",
}

# Which side of the page comes first: the one the site already uses; a brand-new site is shown both choices.
SITUATION_NEW, SITUATION_SOURCE, SITUATION_DESTINATION = "new", "source", "destination"


@dataclass(frozen=True)
class ConnectionSides:
    """Both sides of a tenant's disaster-recovery connections, as the page shows them."""

    source_conn: RecoveryConnection | None
    source_state: ConnectionState
    source_actions: list[Action]
    dest_conn: RecoveryConnection | None
    dest_state: ConnectionState
    dest_actions: list[Action]
    active_source: Tenant | None

    @property
    def source_hint(self) -> str | None:
        """The lost-token advice, only when the status offers the action it names."""
        hint = LOST_TOKEN_HINTS.get(self.source_state)
        wanted = Action.REFRESH if self.source_state is ConnectionState.PENDING else Action.RESET
        return hint if hint and wanted in self.source_actions else None

    @property
    def situation(self) -> str:
        """``destination`` for a site that activated (or activates) a source's token and protects nothing yet,
        ``source`` for a site with a connection of its own, ``new`` for a site with neither."""
        if self.dest_conn is not None and self.source_conn is None:
            return SITUATION_DESTINATION
        if self.source_conn is not None:
            return SITUATION_SOURCE
        return SITUATION_NEW


def connection_sides(tenant: Tenant) -> ConnectionSides:
    """The tenant's source and destination connections, their states and the actions each state allows."""
    source_conn = rc.latest_source_connection(tenant)
    source_state = source_conn.state if source_conn else ConnectionState.NOT_CONNECTED
    dest_conn = rc.destination_connection(tenant)
    dest_state = dest_conn.state if dest_conn else ConnectionState.NOT_CONNECTED
    active_source = rc.active_source_for(tenant)
    dest_actions = offered_actions(Side.DESTINATION, dest_conn, dest_state, active_here=active_source is not None)
    return ConnectionSides(source_conn, source_state, offered_actions(Side.SOURCE, source_conn, source_state),
                           dest_conn, dest_state, dest_actions, active_source)


def selection_from(scope: str | None, types: list[str], projects: str | list[str] | None,
                   jql: str | None = None) -> Selection:
    """The restore selection from the page's choices: everything, or some types and/or projects (keys), and the
    issues a JQL query chooses in the backup."""
    if (scope or "all") == "all":
        return Selection(jql=jql or "")  # typed JQL still narrows the issues (the page can't untype it)
    if isinstance(projects, str):
        projects = projects.split(",")
    return Selection(types=[t for t in types if t], projects=[p.strip() for p in projects or [] if p.strip()],
                     jql=jql or "")


def restore_progress(run: RestoreRun) -> dict[str, Any]:
    """Where a run stands (overall and per type, current step), for polling."""
    job = restore_service.job_of(run)
    per_type = restore_service.counts_by_type([r for r in restore_service.items(run) if r.selected], "outcome")
    return {"status": run.status, "step": job.step if job else None, "done": job.progress_done if job else 0,
            "total": job.progress_total if job else None, "fidelity": run.fidelity,
            "types": [{"type": t.type_key, "title": t.title, "total": t.total,
                       "done": t.total - t.counts.get("pending", 0) - t.counts.get("creating", 0)}
                      for t in per_type]}


# -- times in words ------------------------------------------------------------------------------------------------

def relative_words(when: datetime, now: datetime | None = None) -> str:
    """"in 3 hours", "5 minutes ago", "in 2 days", "now" (the nearest whole unit, as people say it)."""
    now = now or utcnow()
    seconds = (when - now).total_seconds()
    size = abs(seconds)
    if size < 60:
        return "now"
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if size >= length:
            count = round(size / length)
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {words}" if seconds > 0 else f"{words} ago"
    return "now"


def utc_words(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC") if when is not None else ""


# -- the backup schedule -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScheduleView:
    """The tenant's backup schedule as both doors show and edit it."""

    enabled: bool
    interval_hours: int
    retention_daily: int
    retention_weekly: int
    next_run_at: datetime | None  # None: automatic backups are off
    next_words: str  # "in 3 hours (2026-05-04 14:00 UTC)", or why there is none
    interval_words: str
    retention_words: str
    protected: bool  # a destination is connected: every backup is kept whatever the retention says

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "intervalHours": self.interval_hours,
                "retentionDaily": self.retention_daily, "retentionWeekly": self.retention_weekly,
                "nextRunAt": self.next_run_at.isoformat() + "Z" if self.next_run_at else None,
                "nextWords": self.next_words, "intervalWords": self.interval_words,
                "retentionWords": self.retention_words, "protected": self.protected,
                "limits": {"intervalHours": backup_schedule.INTERVAL_RANGE,
                           "retentionDaily": backup_schedule.DAILY_RANGE,
                           "retentionWeekly": backup_schedule.WEEKLY_RANGE}}


def schedule_view(tenant: Tenant, now: datetime | None = None) -> ScheduleView:
    """When the next automatic backup runs (in words), how often, and what retention keeps."""
    now = now or utcnow()
    settings = backup_schedule.current_settings(tenant)
    row = backup_schedule.schedule_for(tenant, now)
    next_at = row.next_run_at if settings.enabled else None
    if next_at is None:
        next_words = "None: automatic backups are off. Back up now still works."
    elif not tenant.enabled:
        next_words = f"Paused while the app is disabled on this site (slot {utc_words(next_at)})."
    else:
        next_words = f"{relative_words(next_at, now).capitalize()} ({utc_words(next_at)})"
    hours = settings.interval_hours
    interval = (f"Every {hours} hours" if hours % 24 else
                ("Every day" if hours == 24 else f"Every {hours // 24} days")) if hours != 1 else "Every hour"
    retention = (f"The newest backup of each of the last {settings.retention_daily} "
                 f"day{'s' if settings.retention_daily != 1 else ''} with one, and of each of the last "
                 f"{settings.retention_weekly} week{'s' if settings.retention_weekly != 1 else ''}; the newest "
                 "complete backup is always kept.")
    conn = rc.connection_for_source(tenant)
    protected = conn is not None and conn.state is ConnectionState.ACTIVE
    return ScheduleView(settings.enabled, hours, settings.retention_daily, settings.retention_weekly, next_at,
                        next_words, interval, retention, protected)


# -- a failed backup -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BackupFailure:
    """The last backup failed: shown on the Backups section and at the top of the page until a backup succeeds."""

    title: str
    text: str
    failed_at: datetime | None
    scheduled: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "text": self.text, "scheduled": self.scheduled, "reason": self.reason,
                "at": self.failed_at.isoformat() + "Z" if self.failed_at else None}


def backup_failure(tenant: Tenant, now: datetime | None = None) -> BackupFailure | None:
    """The alert for a last backup that failed (None when it didn't, or while a new one runs)."""
    last = backup_service.last_backup_job(tenant)
    if last is None or last.state != "failed" or backup_service.running_backup(tenant) is not None:
        return None
    now = now or utcnow()
    scheduled = last.requested_by == "schedule"
    failed_at = last.finished_at or last.updated_at
    what = "The scheduled backup" if scheduled else "The last backup"
    title = f"{what} failed {relative_words(failed_at, now)}" if failed_at else f"{what} failed"
    reason = last.message or "No reason was recorded."
    view = schedule_view(tenant, now)
    nxt = (f"The next automatic backup is {view.next_words[0].lower()}{view.next_words[1:]}. "
           if view.next_run_at else "")
    text = (f"It stopped on {utc_words(failed_at)}: {reason} {nxt}Back up now to try again at once. "
            "This message stays until a backup succeeds.")
    return BackupFailure(title, text, failed_at, scheduled, reason)


# -- a backup's points ---------------------------------------------------------------------------------------------

def snapshot_spend(tenant_id: int, snapshot_id: int) -> dict[str, Any] | None:
    """Jira's points the backup that took ``snapshot_id`` spent (total, per phase and type, in words), or None when
    its job recorded none (a backup from before points were counted, or a job since removed)."""
    snapshot = db.session.get(Snapshot, snapshot_id)
    if snapshot is None or snapshot.tenant_id != tenant_id:
        return None
    points = job_points(snapshot.job_id)
    if points is None:
        return None
    return {**points, "text": f"{int(points['points']):,} points of Jira's hourly quota"}


# -- the audit log -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditPage:
    """One page of the tenant's audit log, newest first, with the people named."""

    entries: list[audit.AuditEntry]
    names: dict[str, str]
    total: int
    offset: int
    limit: int

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    def who(self, entry: audit.AuditEntry) -> str:
        found = people.person(entry.account_id, self.names)
        return found.name if found else "—"

    def rows(self) -> list[dict[str, Any]]:
        """The entries as both doors render them."""
        return [{"at": e.created_at.isoformat() + "Z", "side": e.side, "sideLabel": e.side_label,
                 "action": e.action, "actionLabel": e.action_label, "outcome": e.outcome,
                 "outcomeLabel": e.outcome_label, "outcomeAppearance": e.outcome_appearance,
                 "accountId": e.account_id, "who": self.who(e), "detail": e.detail} for e in self.entries]


def audit_page(tenant: Tenant, offset: int = 0, limit: int = 10) -> AuditPage:
    """The log brought up to date with the tenant's jobs, then one page of it (both doors show this)."""
    activity.catch_up(tenant.id)
    entries = audit.entries_for(tenant.id, limit=limit, offset=offset)
    names = people.display_names(tenant, [e.account_id for e in entries])
    return AuditPage(entries, names, audit.count_for(tenant.id), offset, limit)
