"""Restore runs and their per-object items: the plan, each outcome and the id map, saved as they happen."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import Model, affected_rows, db
from .engine import Outcome, Result
from .plan import Key, PlannedItem


class RunStatus(enum.StrEnum):
    PLANNING = "planning"  # the preview job is reading the destination
    PLANNED = "planned"  # the preview is ready; the admin chooses what to restore
    RESTORING = "restoring"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.PLANNING: frozenset({RunStatus.PLANNED, RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.PLANNED: frozenset({RunStatus.RESTORING, RunStatus.PLANNING, RunStatus.CANCELLED}),
    RunStatus.RESTORING: frozenset({RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.DONE: frozenset({RunStatus.RESTORING}),  # running the same restore again (idempotent)
    RunStatus.FAILED: frozenset({RunStatus.RESTORING, RunStatus.PLANNING}),
    RunStatus.CANCELLED: frozenset({RunStatus.RESTORING, RunStatus.PLANNING}),
}
LIVE = frozenset({RunStatus.PLANNING, RunStatus.RESTORING})


class IllegalRunTransition(Exception):
    """A status change the transitions table doesn't allow."""


class RestoreRun(Model):
    __tablename__ = "restore_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)  # destination
    source_tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))
    snapshot_id: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.PLANNING.value, index=True)
    job_id: Mapped[str | None] = mapped_column(String(36))
    selection_json: Mapped[str] = mapped_column(Text, default="{}")
    user_fallback: Mapped[str] = mapped_column(String(16), default="drop")  # "drop" | "admin"
    requested_by: Mapped[str | None] = mapped_column(String(128))
    missing_users_json: Mapped[str] = mapped_column(Text, default="[]")
    unsupported_types_json: Mapped[str] = mapped_column(Text, default="[]")
    summary_json: Mapped[str | None] = mapped_column(Text)
    verification_json: Mapped[str | None] = mapped_column(Text)
    fidelity: Mapped[float | None] = mapped_column()
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()

    @property
    def selection(self) -> dict[str, Any]:
        return json.loads(self.selection_json or "{}")

    @property
    def missing_users(self) -> list[str]:
        """The accountIds the plan found missing on this site."""
        return [str(p["accountId"]) for p in self.missing_people]

    @property
    def missing_people(self) -> list[dict[str, Any]]:
        """Each missing user as the snapshot shows them: accountId, displayName, email (where kept), and "leads"
        (the selected projects they lead). Runs planned before names were kept hold bare accountIds."""
        return [p if isinstance(p, dict) else {"accountId": str(p), "leads": []}
                for p in json.loads(self.missing_users_json or "[]")]

    @property
    def unsupported_types(self) -> list[str]:
        return json.loads(self.unsupported_types_json or "[]")

    @property
    def unread_types(self) -> list[str]:
        """Types the snapshot lacks because the backup couldn't read them (with why): nothing of them comes back."""
        return [t for t in self.unsupported_types if "(not read by the backup:" in t]

    @property
    def unrestorable_types(self) -> list[str]:
        """Types the backup holds that this version can't restore."""
        return [t for t in self.unsupported_types if t not in self.unread_types]

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads(self.summary_json) if self.summary_json else {}

    @property
    def verification(self) -> dict[str, Any] | None:
        return json.loads(self.verification_json) if self.verification_json else None


def move(run: RestoreRun, to: RunStatus, **values: Any) -> None:
    """Move a run to ``to`` if the table allows it, with a conditional update so racing workers can't both win."""
    current = RunStatus(run.status)
    if to != current and to not in TRANSITIONS[current]:
        raise IllegalRunTransition(f"restore run {run.id}: {current.value} -> {to.value} is not allowed")
    result = db.session.execute(update(RestoreRun).where(RestoreRun.id == run.id, RestoreRun.status == current.value)
                                .values(status=to.value, **values).execution_options(synchronize_session=False))
    db.session.commit()
    if affected_rows(result) != 1:
        raise IllegalRunTransition(f"restore run {run.id} changed under us (expected {current.value})")
    db.session.refresh(run)


def claim(run_id: int, to: RunStatus, **values: Any) -> bool:
    """Move the run to ``to`` from any state the table allows, in the caller's transaction (not committed).

    One conditional UPDATE: of concurrent claims of one run exactly one matches the row (the others wait for its
    transaction and then match nothing), so a losing caller has changed nothing and can roll back.
    """
    sources = [s.value for s, targets in TRANSITIONS.items() if to in targets and s != to]
    result = db.session.execute(update(RestoreRun).where(RestoreRun.id == run_id, RestoreRun.status.in_(sources))
                                .values(status=to.value, **values).execution_options(synchronize_session=False))
    return affected_rows(result) == 1


class RestoreItem(Model):
    __tablename__ = "restore_items"
    __table_args__ = (UniqueConstraint("run_id", "type_key", "source_id", name="uq_restore_item"),
                      Index("ix_restore_items_run_type", "run_id", "type_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("restore_runs.id", ondelete="CASCADE"))
    type_key: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(255))
    natural_key: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(16))  # the plan's Action
    outcome: Mapped[str] = mapped_column(String(16), default=Outcome.PENDING.value)
    dest_id: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text)
    fix: Mapped[str | None] = mapped_column(Text)
    conflict: Mapped[bool] = mapped_column(default=False)
    selected: Mapped[bool] = mapped_column(default=True)
    pulled_in: Mapped[bool] = mapped_column(default=False)
    refs_json: Mapped[str] = mapped_column(Text, default="[]")  # [[type, source id, optional], ...]
    notes_json: Mapped[str | None] = mapped_column(Text)  # what the restorer noted on the outcome, a JSON list
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def refs(self) -> list[tuple[str, str, bool]]:
        return [tuple(r) for r in json.loads(self.refs_json or "[]")]

    @property
    def notes(self) -> list[str]:
        return json.loads(self.notes_json) if self.notes_json else []


class DatabaseState:
    """The engine's ``RunState`` over ``RestoreItem`` rows: every record commits at once (crash-safe), or, once the
    engine calls ``hold()``, at its next ``sync()`` (once per round, before that round's requests go out)."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self._held = self._dirty = False
        self._rows: dict[Key, RestoreItem] = {
            (r.type_key, r.source_id): r
            for r in db.session.scalars(select(RestoreItem).where(RestoreItem.run_id == run_id))}

    def recorded(self, key: Key) -> Result | None:
        row = self._rows.get(key)
        if row is None or row.outcome == Outcome.PENDING.value:
            return None
        return Result(Outcome(row.outcome), row.dest_id, row.reason or "", row.fix or "", row.notes)

    def record(self, item: PlannedItem, result: Result) -> None:
        row = self._rows.get(item.key)
        if row is None:
            row = self._rows[item.key] = _row_for(self.run_id, item)
            db.session.add(row)
        row.outcome = result.outcome.value
        row.dest_id = result.dest_id
        row.reason = result.reason or None
        row.fix = result.fix or None
        row.notes_json = json.dumps(result.notes) if result.notes else None
        if self._held:
            self._dirty = True
        else:
            db.session.commit()

    def hold(self) -> None:
        """From now on records wait for ``sync()``."""
        self._held = True

    def sync(self) -> None:
        """Make every record so far durable (one commit, none when nothing was recorded since the last)."""
        if self._dirty:
            db.session.commit()
            self._dirty = False

    def results(self) -> dict[Key, Result]:
        return {k: r for k in self._rows if (r := self.recorded(k)) is not None}


def _row_for(run_id: int, item: PlannedItem) -> RestoreItem:
    return RestoreItem(run_id=run_id, type_key=item.type_key, source_id=item.source_id,
                       natural_key=item.natural_key[:10000], name=item.name, action=item.action.value)


def earlier_ids(run: RestoreRun) -> dict[tuple[str, str], str]:
    """What earlier restores from the same source onto this destination mapped: (type, source id) -> destination id.

    Natural keys aren't unique for every type (custom fields: name and type), so a later run matching by key alone
    could take one of a source's same-named fields for another, then "update" the screens and contexts that name
    them onto the wrong field. An earlier run's map is the truth for what it put there. Later runs win.
    """
    if run.source_tenant_id is None:
        return {}
    rows = db.session.execute(
        select(RestoreItem.type_key, RestoreItem.source_id, RestoreItem.dest_id)
        .join(RestoreRun, RestoreRun.id == RestoreItem.run_id)
        .where(RestoreRun.tenant_id == run.tenant_id, RestoreRun.source_tenant_id == run.source_tenant_id,
               RestoreRun.id != run.id, RestoreItem.dest_id.is_not(None),
               RestoreItem.outcome.in_(["created", "reused", "updated", "incomplete"]))
        .order_by(RestoreRun.id, RestoreItem.id))
    return {(type_key, source_id): dest_id for type_key, source_id, dest_id in rows if dest_id is not None}


def save_plan(run_id: int, items: list[PlannedItem]) -> None:
    """Write (or refresh) the plan's rows, keeping outcomes already recorded by an earlier attempt."""
    rows = {(r.type_key, r.source_id): r
            for r in db.session.scalars(select(RestoreItem).where(RestoreItem.run_id == run_id))}
    for n, item in enumerate(items):
        row = rows.get(item.key)
        if row is None:
            row = _row_for(run_id, item)
            db.session.add(row)
        row.natural_key, row.name, row.action = item.natural_key[:10000], item.name, item.action.value
        row.conflict, row.selected, row.pulled_in = item.conflict, item.selected, item.pulled_in
        row.refs_json = json.dumps([[r.type_key, r.source_id, r.optional] for r in item.refs])
        if row.outcome in (None, Outcome.PENDING.value):  # None: a row added now, before its default applies
            row.dest_id, row.reason, row.fix = item.dest_id, item.reason or None, item.fix or None
        if n % 500 == 499:
            db.session.flush()
    db.session.commit()
