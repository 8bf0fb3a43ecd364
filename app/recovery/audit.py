"""The per-tenant audit log of disaster-recovery connection actions: who, what, when, outcome, which side.

Entries are never deleted with a connection (deactivation keeps them); they go only with the tenant itself when
its retention period ends. Details carry precise refusal reasons for admins, never a token or secret.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, Index, String, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..connect.tenants import utcnow
from ..extensions import db

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

OUTCOME_LABELS = {SUCCEEDED: "Succeeded", NOT_ALLOWED: "Not allowed", REFUSED: "Refused",
                  INVALID: "Invalid input", THROTTLED: "Throttled", PENDING: "Attempted (no outcome recorded)"}
SIDE_LABELS = {"source": "Source", "destination": "Destination"}


class AuditEntry(db.Model):
    """One thing an admin (or a stranger, for refused activations) did to a connection of this tenant."""

    __tablename__ = "recovery_audit_log"
    __table_args__ = (Index("ix_recovery_audit_tenant_time", "tenant_id", "created_at"),)

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

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)

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


def entries_for(tenant_id: int, limit: int = 50) -> list[AuditEntry]:
    """The tenant's newest entries first."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)))


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
