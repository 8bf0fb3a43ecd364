"""The per-tenant audit log of every action: connections, backups, restores, authorisations, schedule changes.

Each entry says who, what, when, the outcome and the area it belongs to (``side``: the connection's side, or
backups, restore, authorisation, schedule). Entries are never deleted with a connection (release and deactivation
keep them); they go only with the tenant itself when its retention period ends. Details carry precise refusal
reasons for admins, never a token or secret. Job events (a backup or restore starting and ending) are recorded from
the jobs table by ``app.recovery.activity``, once per job and event (``job_id``).
"""

from __future__ import annotations

from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import ColumnElement, ForeignKey, Index, String, UniqueConstraint, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import Model, db

SUCCEEDED = "succeeded"
NOT_ALLOWED = "not_allowed"  # the state machine refused the action in the current state
REFUSED = "refused"  # counted by the activation throttle when the action is an activation
INVALID = "invalid"  # malformed input (token or URL shape): says nothing about real tokens, not throttled
THROTTLED = "throttled"
# An activation attempt recorded before its token is looked at, so parallel attempts count each other; it is
# settled to its real outcome in the same request. One left pending (the process died mid-attempt) counts as a
# failure: the guess may have been checked.
PENDING = "pending"
FAILED_ACTIVATION = (REFUSED, PENDING)  # what the activation throttle counts
FAILED = "failed"  # a backup or restore that ended without finishing
CANCELLED = "cancelled"
PARTIAL = "partial"  # a backup that left some types out
DIFFERENCES = "differences"  # a restore that finished with differences from the backup

OUTCOME_LABELS = {SUCCEEDED: "Succeeded", NOT_ALLOWED: "Not allowed", REFUSED: "Refused",
                  INVALID: "Invalid input", THROTTLED: "Throttled", PENDING: "Attempted (no outcome recorded)",
                  FAILED: "Failed", CANCELLED: "Cancelled", PARTIAL: "Partial", DIFFERENCES: "With differences"}
# Atlassian's lozenge appearance per outcome: green done, red refused or failed, yellow partly done, grey the rest.
OUTCOME_APPEARANCES = {SUCCEEDED: "success", REFUSED: "removed", THROTTLED: "removed", FAILED: "removed",
                       PARTIAL: "moved", DIFFERENCES: "moved"}

# The areas an entry belongs to (stored in ``side``): a connection's two sides, and the rest of the page.
BACKUPS, RESTORE, AUTHORISATION, SCHEDULE = "backups", "restore", "authorisation", "schedule"
SIDE_LABELS = {"source": "Source", "destination": "Destination", BACKUPS: "Backups", RESTORE: "Restore",
               AUTHORISATION: "Authorisation", SCHEDULE: "Schedule"}

ACTION_LABELS = {
    "generate": "Generate token", "refresh": "Refresh token", "reset": "Reset token",
    "activate": "Activate connection", "release": "Release connection", "deactivate": "Deactivate connection",
    "backup-started": "Backup started", "backup-finished": "Backup finished", "backup-failed": "Backup failed",
    "preview-started": "Preview started", "preview-finished": "Preview finished",
    "restore-started": "Restore started", "restore-cancel": "Restore cancel asked",
    "restore-finished": "Restore finished",
    "authorisation-given": "Full access authorised", "authorisation-removed": "Full access removed",
    "schedule-changed": "Schedule changed",
}


class AuditEntry(Model):
    """One thing an admin (or a stranger, for refused activations) did to a connection of this tenant."""

    __tablename__ = "recovery_audit_log"
    __table_args__ = (Index("ix_recovery_audit_tenant_time", "tenant_id", "created_at"),
                      UniqueConstraint("job_id", "action", name="uq_recovery_audit_job_action"))

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # Plain id, no foreign key: the entry outlives anything that happens to the connection row.
    connection_id: Mapped[int | None] = mapped_column(default=None)
    side: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The job an entry is about (a backup, preview or restore): each of its events is recorded once.
    job_id: Mapped[str | None] = mapped_column(String(36), default=None)

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)

    @property
    def outcome_appearance(self) -> str:
        return OUTCOME_APPEARANCES.get(self.outcome, "default")

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def side_label(self) -> str:
        return SIDE_LABELS.get(self.side, self.side)


def record(tenant_id: int, *, side: str, action: str, outcome: str, account_id: str | None, detail: str = "",
           connection_id: int | None = None, now: datetime | None = None) -> AuditEntry:
    """Add an entry to the session; the caller commits it with (or instead of) the change it describes."""
    entry = AuditEntry(tenant_id=tenant_id, side=side, action=action, outcome=outcome, account_id=account_id,
                       detail=detail[:500], connection_id=connection_id, created_at=now or utcnow())
    db.session.add(entry)
    return entry


def settle(entry_id: int, *, outcome: str, detail: str, connection_id: int | None = None) -> None:
    """Give a pending entry its outcome (in the caller's transaction, which commits it)."""
    db.session.execute(update(AuditEntry).where(AuditEntry.id == entry_id)
                       .values(outcome=outcome, detail=detail[:500], connection_id=connection_id)
                       .execution_options(synchronize_session=False))


def entries_for(tenant_id: int, limit: int = 50, offset: int = 0) -> list[AuditEntry]:
    """The tenant's newest entries first (``offset`` of them skipped)."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).offset(offset).limit(limit)))


def count_for(tenant_id: int) -> int:
    """How many entries the tenant's log holds."""
    return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.tenant_id == tenant_id)) or 0


def acting_account() -> str | None:
    """Who acts in the current request, on either door (None outside a request, or before authentication).

    For the one-line audit calls in domain code that isn't told who asked (a restore's cancel): both doors keep the
    authenticated caller in ``g`` (``connect`` or ``forge``), each with its ``account_id``.
    """
    if not has_request_context():
        return None
    ctx = g.get("connect") or g.get("forge")
    return getattr(ctx, "account_id", None)


def restore_cancel_asked(run: object) -> None:
    """Record that the current caller asked a restore (or preview) run to stop; commits."""
    run_id, tenant_id = getattr(run, "id", None), int(getattr(run, "tenant_id", 0))
    record(tenant_id, side=RESTORE, action="restore-cancel", outcome=SUCCEEDED, account_id=acting_account(),
           detail=f"Restore #{run_id}: asked to stop.")
    db.session.commit()


def authorisation_given(tenant_id: int, account_id: str | None, site_url: str) -> None:
    """Record an OAuth grant given (the caller commits it with the grant)."""
    record(tenant_id, side=AUTHORISATION, action="authorisation-given", outcome=SUCCEEDED, account_id=account_id,
           detail=f"Full backup and restore authorised for {site_url}.")


def authorisation_removed(tenant_id: int, account_id: str | None) -> None:
    """Record an OAuth grant removed from the page (the caller commits it with the removal)."""
    record(tenant_id, side=AUTHORISATION, action="authorisation-removed", outcome=SUCCEEDED,
           account_id=account_id, detail="The app's OAuth access was removed; its tokens were erased.")


def _matching(tenant_id: int | None, side: str, action: str, outcomes: str | tuple[str, ...], since: datetime,
              exclude_id: int | None) -> list[ColumnElement[bool]]:
    outcomes = (outcomes,) if isinstance(outcomes, str) else outcomes
    where = [AuditEntry.side == side, AuditEntry.action == action, AuditEntry.outcome.in_(outcomes),
             AuditEntry.created_at >= since]
    if tenant_id is not None:
        where.append(AuditEntry.tenant_id == tenant_id)
    if exclude_id is not None:
        where.append(AuditEntry.id != exclude_id)
    return where


def count_since(tenant_id: int | None, *, side: str, action: str, outcome: str | tuple[str, ...], since: datetime,
                exclude_id: int | None = None) -> int:
    """How many matching entries the tenant (None: every tenant) has since ``since`` (the throttle's counter)."""
    return db.session.scalar(select(func.count(AuditEntry.id)).where(
        *_matching(tenant_id, side, action, outcome, since, exclude_id))) or 0


def oldest_since(tenant_id: int | None, *, side: str, action: str, outcome: str | tuple[str, ...], since: datetime,
                 exclude_id: int | None = None) -> datetime | None:
    """The earliest matching entry since ``since`` (tells when the throttle window frees a slot)."""
    return db.session.scalar(select(func.min(AuditEntry.created_at)).where(
        *_matching(tenant_id, side, action, outcome, since, exclude_id)))
