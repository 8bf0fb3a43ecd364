"""Issue changes Jira announced by webhook, per tenant, until the next incremental issue pass consumes them.

One row per delivery (``X-Atlassian-Webhook-Identifier`` unique per tenant: a retried or duplicated delivery
records once). ``deleted`` rows name issues gone from Jira; the others name issues to read again (a comment,
worklog, attachment or link deleted changes its issue without always moving its ``updated``). Webhooks get lost,
so the pass still compares id sets periodically: these rows make a deletion or change visible sooner, never less.

A pass marks the rows it read ``consumed_by`` its snapshot in the commit that completes its issue data; the rows go
only once that snapshot has finished well (complete or partial: ``settle``, at the start of the next pass and on
each retention sweep). A snapshot that failed after its pass consumed them gives them back, so the next pass reads
them again; a snapshot still running keeps them marked (a resumed pass doesn't read them twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..backups.models import Snapshot, SnapshotStatus
from ..clock import utcnow
from ..extensions import Model, affected_rows, db

DELETED = "deleted"
CHANGED = "changed"


class IssueChange(Model):
    """One webhook delivery's news about one issue of a tenant (a link's delivery names both of its issues)."""

    __tablename__ = "issue_webhook_changes"
    __table_args__ = (UniqueConstraint("tenant_id", "identifier", "issue_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    identifier: Mapped[str] = mapped_column(String(128))  # X-Atlassian-Webhook-Identifier
    event: Mapped[str] = mapped_column(String(64))
    issue_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # DELETED | CHANGED
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    consumed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the snapshot whose pass used it


@dataclass(frozen=True)
class PendingChanges:
    """What webhooks said since the last consumed pass: ids deleted, ids changed, and the last row read."""

    deleted: frozenset[str]
    changed: frozenset[str]
    upto: int  # highest row id read; rows after it arrived during the pass and wait for the next one


def record(tenant_id: int, identifier: str, event: str, issue_ids: list[str], kind: str) -> bool:
    """Record one delivery (one row per issue it names); False when this identifier was already recorded for the
    tenant (a retry or a duplicate)."""
    if db.session.scalar(select(IssueChange.id).where(IssueChange.tenant_id == tenant_id,
                                                      IssueChange.identifier == identifier).limit(1)) is not None:
        return False
    for issue_id in sorted(set(issue_ids)):
        db.session.add(IssueChange(tenant_id=tenant_id, identifier=identifier, event=event, issue_id=issue_id,
                                   kind=kind))
    try:
        db.session.commit()
    except IntegrityError:  # the same delivery twice at once: the other one recorded it
        db.session.rollback()
        return False
    return True


def pending(tenant_id: int) -> PendingChanges:
    """The tenant's unconsumed changes, oldest first."""
    rows = db.session.execute(select(IssueChange.id, IssueChange.issue_id, IssueChange.kind).where(
        IssueChange.tenant_id == tenant_id, IssueChange.consumed_by.is_(None)).order_by(IssueChange.id)).all()
    deleted = frozenset(r.issue_id for r in rows if r.kind == DELETED)
    changed = frozenset(r.issue_id for r in rows if r.kind != DELETED) - deleted
    return PendingChanges(deleted, changed, max((r.id for r in rows), default=0))


def consume(tenant_id: int, upto: int, snapshot_id: int) -> None:
    """Mark the tenant's changes up to row ``upto`` as used by ``snapshot_id``'s pass (in the caller's commit)."""
    if upto <= 0:
        return
    db.session.execute(update(IssueChange).where(
        IssueChange.tenant_id == tenant_id, IssueChange.id <= upto, IssueChange.consumed_by.is_(None))
        .values(consumed_by=snapshot_id))


@dataclass(frozen=True)
class Settled:
    """What ``settle`` did: rows deleted (their snapshot finished well) and rows given back (it failed or went)."""

    pruned: int
    released: int


_GOOD = (SnapshotStatus.COMPLETE.value, SnapshotStatus.PARTIAL.value)


def settle(tenant_id: int) -> Settled:
    """Delete the tenant's rows a finished, usable snapshot consumed; give back those of a failed or deleted one.

    Crash-safe: a row goes only when the snapshot that used it is committed as complete or partial (so a restore
    from it, or the next incremental pass starting from it, already reflects the row). Commits.
    """
    finished_well = select(Snapshot.id).where(Snapshot.tenant_id == tenant_id, Snapshot.status.in_(_GOOD))
    pruned = affected_rows(db.session.execute(delete(IssueChange).where(
        IssueChange.tenant_id == tenant_id, IssueChange.consumed_by.in_(finished_well))
        .execution_options(synchronize_session=False)))
    alive = select(Snapshot.id).where(Snapshot.tenant_id == tenant_id,
                                      Snapshot.status != SnapshotStatus.FAILED.value)
    released = affected_rows(db.session.execute(update(IssueChange).where(
        IssueChange.tenant_id == tenant_id, IssueChange.consumed_by.is_not(None),
        IssueChange.consumed_by.not_in(alive)).values(consumed_by=None)
        .execution_options(synchronize_session=False)))
    db.session.commit()
    return Settled(pruned, released)
