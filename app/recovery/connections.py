"""Disaster-recovery connections: their models, the one state machine, the tokens issued for them, activation.

A *source* site protects itself with a token; a *destination* site uses that token (and the source's base URL)
to reach the source's backups, which works while the source is down, uninstalled or deleted: only our DB is read.

The one transitions table (``TRANSITIONS``), keyed by (side, current state, action); anything else is refused
with ``TransitionRefused`` naming the current state. For ``activate`` the state is that of the connection the
token names; the destination itself must not already be Active with another connection.

    side         from                action      to                   token
    source       Not connected       generate    Activation pending   a new connection and token
    source       Deactivated         generate    Activation pending   a new connection (the old stays final)
    source       Released            generate    Activation pending   same connection, new token, old one dies
    source       Activation pending  refresh     Activation pending   new token, old one dies
    source       Active              reset       Active               new token, lost one dies, activation kept
    source       Released            reset       Released             new token, lost one dies
    source       Active              release     Released             kept if "reusable", else it dies
    source       Activation pending  deactivate  Deactivated          dies (final)
    source       Active              deactivate  Deactivated          dies (final)
    source       Released            deactivate  Deactivated          dies (final)
    destination  Activation pending  activate    Active               kept (usable again after a reusable release)
    destination  Released            activate    Active               kept
    destination  Active              release     Released             kept if "reusable", else it dies
    destination  Active              deactivate  Deactivated          dies (final)

"Not connected" is the absence of any connection row. Every move is an atomic conditional UPDATE on the row's
``version`` (and state), so of two concurrent moves (e.g. two activations of one token) exactly one wins.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import ceil
from typing import Any

from flask import current_app
from sqlalchemy import Enum as SAEnum
from sqlalchemy import ForeignKey, Index, String, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import Model, affected_rows, db
from ..restore.attempt import STOPPED_DEACTIVATED, STOPPED_RELEASED
from ..restore.service import stop_queued_runs
from ..tenants import Tenant
from . import audit, messages
from .tokens import MalformedToken, ParsedToken, hash_secret, matches, new_token, parse_token
from .urls import InvalidBaseUrl, matches_any, normalise_base_url


class ConnectionState(enum.Enum):
    NOT_CONNECTED = "not_connected"  # never stored: no connection row
    PENDING = "pending"
    ACTIVE = "active"
    RELEASED = "released"
    DEACTIVATED = "deactivated"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_STATE_LABELS = {
    ConnectionState.NOT_CONNECTED: "Not connected",
    ConnectionState.PENDING: "Activation pending",
    ConnectionState.ACTIVE: "Active",
    ConnectionState.RELEASED: "Released",
    ConnectionState.DEACTIVATED: "Deactivated",
}


class Side(enum.Enum):
    SOURCE = "source"
    DESTINATION = "destination"


class Action(enum.Enum):
    GENERATE = "generate"
    REFRESH = "refresh"
    RESET = "reset"
    ACTIVATE = "activate"
    RELEASE = "release"
    DEACTIVATE = "deactivate"

    @property
    def phrase(self) -> str:
        """What the action does, to complete "Can't …"."""
        return _ACTION_PHRASES[self]


_ACTION_PHRASES = {
    Action.GENERATE: "generate a token",
    Action.REFRESH: "refresh the token",
    Action.RESET: "reset the token",
    Action.ACTIVATE: "activate a connection",
    Action.RELEASE: "release the connection",
    Action.DEACTIVATE: "deactivate the connection",
}

S, A, St = Side, Action, ConnectionState
TRANSITIONS: dict[tuple[Side, ConnectionState, Action], ConnectionState] = {
    (S.SOURCE, St.NOT_CONNECTED, A.GENERATE): St.PENDING,
    (S.SOURCE, St.DEACTIVATED, A.GENERATE): St.PENDING,
    (S.SOURCE, St.RELEASED, A.GENERATE): St.PENDING,
    (S.SOURCE, St.PENDING, A.REFRESH): St.PENDING,
    (S.SOURCE, St.ACTIVE, A.RESET): St.ACTIVE,
    (S.SOURCE, St.RELEASED, A.RESET): St.RELEASED,
    (S.SOURCE, St.ACTIVE, A.RELEASE): St.RELEASED,
    (S.SOURCE, St.PENDING, A.DEACTIVATE): St.DEACTIVATED,
    (S.SOURCE, St.ACTIVE, A.DEACTIVATE): St.DEACTIVATED,
    (S.SOURCE, St.RELEASED, A.DEACTIVATE): St.DEACTIVATED,
    (S.DESTINATION, St.PENDING, A.ACTIVATE): St.ACTIVE,
    (S.DESTINATION, St.RELEASED, A.ACTIVATE): St.ACTIVE,
    (S.DESTINATION, St.ACTIVE, A.RELEASE): St.RELEASED,
    (S.DESTINATION, St.ACTIVE, A.DEACTIVATE): St.DEACTIVATED,
}
del S, A, St

# Why a token stopped working, as the audit log tells it.
RETIRED_REFRESHED = "refreshed"
RETIRED_RESET = "reset"
RETIRED_REGENERATED = "replaced by a newly generated token"
RETIRED_RELEASED = "released as not reusable"
RETIRED_DEACTIVATED = "connection deactivated"


# -- errors ------------------------------------------------------------------------------------------------------

class RecoveryError(Exception):
    """Base of the connection errors; ``message`` is safe to show on the page (never a token)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def refusal_message(action: Action, state: ConnectionState) -> str:
    """The page's text for an action the current state doesn't allow (built only from the two enums)."""
    return f"Can't {action.phrase} while the status is {state.label}."


class TransitionRefused(RecoveryError):
    """The action isn't allowed in the connection's current state."""

    def __init__(self, action: Action, state: ConnectionState) -> None:
        super().__init__(refusal_message(action, state))
        self.action = action
        self.state = state


class ConnectionNotFound(RecoveryError):
    """No connection with that id on this side of this tenant (another tenant's ids look exactly like missing)."""

    def __init__(self) -> None:
        super().__init__(messages.NOT_FOUND_TEXT)


ACTIVATION_REFUSED_TEXT = messages.ACTIVATION_REASONS[messages.UNKNOWN]  # what a guess is always told


class ActivationRefused(RecoveryError):
    """A refused activation: ``reason`` is a code of ``messages.ACTIVATION_REASONS``, and ``message`` its words.

    Until the token's secret verifies, the reason is always ``unknown`` (no oracle for guessers); past that check
    the holder of the real token is told precisely what is wrong (see ``messages``). ``attempts_left`` counts the
    failed attempts this site may still make before it is locked (None: not counted, e.g. a lost race).
    """

    def __init__(self, reason: str = messages.UNKNOWN, text: str | None = None, *, attempts_left: int | None = None,
                 window_minutes: int = 15) -> None:
        words = text or messages.activation_reason(reason)
        if attempts_left is not None:
            words = f"{words} {messages.attempts_left_text(attempts_left, window_minutes)}"
        super().__init__(words)
        self.reason = reason
        self.reason_text = text or messages.activation_reason(reason)
        self.attempts_left = attempts_left


class ActivationThrottled(RecoveryError):
    """Too many refused activations from this (destination) site recently (a valid token still gets through)."""

    def __init__(self, retry_minutes: int) -> None:
        super().__init__(self.text(retry_minutes))
        self.retry_minutes = retry_minutes

    @staticmethod
    def text(retry_minutes: int) -> str:
        return messages.throttled_text(retry_minutes)


class ActivationPaused(ActivationThrottled):
    """Too many refused activations across all sites: a temporary stop for everyone (a guessing botnet)."""

    @staticmethod
    def text(retry_minutes: int) -> str:
        return messages.paused_text(retry_minutes)


class InvalidActivationInput(RecoveryError):
    """The token or URL isn't even shaped right (a format problem: safe to say precisely); ``field`` names which."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field  # "token" or "base_url"


class _Refusal(Exception):
    """Internal: why an activation was refused: ``reason`` precise (for the source's log), ``public`` the words
    the attempting site sees (a ``messages`` code and its text)."""

    def __init__(self, reason: str, connection: RecoveryConnection | None = None, *, public: str = messages.UNKNOWN,
                 public_text: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.connection = connection
        self.public = public
        self.public_text = public_text or messages.activation_reason(public)


# -- models ------------------------------------------------------------------------------------------------------

_STATE_TYPE = SAEnum(ConnectionState, native_enum=False, length=20, validate_strings=True,
                     values_callable=lambda cls: [m.value for m in cls])


class RecoveryConnection(Model):
    """A source site's connection: its state, and which destination (if any) it is or was linked to."""

    __tablename__ = "recovery_connections"
    __table_args__ = (
        # At most one live connection per source, and one Active connection per destination, even under races.
        Index("uq_recovery_live_source", "source_tenant_id", unique=True,
              sqlite_where=text("state <> 'deactivated'"), postgresql_where=text("state <> 'deactivated'")),
        Index("uq_recovery_active_destination", "destination_tenant_id", unique=True,
              sqlite_where=text("state = 'active'"), postgresql_where=text("state = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    destination_tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="SET NULL"), index=True, default=None)
    state: Mapped[ConnectionState] = mapped_column(_STATE_TYPE)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(default=None)
    activated_by: Mapped[str | None] = mapped_column(String(128), default=None)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    deactivated_at: Mapped[datetime | None] = mapped_column(default=None)

    source: Mapped[Tenant] = relationship(foreign_keys=[source_tenant_id])
    destination: Mapped[Tenant | None] = relationship(foreign_keys=[destination_tenant_id])
    tokens: Mapped[list[ConnectionToken]] = relationship(
        back_populates="connection", cascade="all, delete-orphan", order_by="ConnectionToken.id")

    @property
    def live_token(self) -> ConnectionToken | None:
        return next((t for t in self.tokens if t.retired_at is None), None)

    def __repr__(self) -> str:
        return f"<RecoveryConnection {self.id} {self.state.value} v{self.version}>"


class ConnectionToken(Model):
    """A token issued for a connection: only its look-up id and a hash are stored; retired ones stay for audit."""

    __tablename__ = "recovery_connection_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("recovery_connections.id", ondelete="CASCADE"),
                                               index=True)
    lookup: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(128))
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
    retired_reason: Mapped[str | None] = mapped_column(String(64), default=None)

    connection: Mapped[RecoveryConnection] = relationship(back_populates="tokens")


@dataclass(frozen=True)
class IssuedToken:
    """A newly issued token: ``token`` is shown once and never stored or logged."""

    connection: RecoveryConnection
    token: str = field(repr=False)


# -- the state machine -------------------------------------------------------------------------------------------

def transition(side: Side, state: ConnectionState, action: Action) -> ConnectionState:
    """The state ``action`` leads to from ``state`` on ``side``.

    :raises TransitionRefused: when the table has no such move.
    """
    target = TRANSITIONS.get((side, state, action))
    if target is None:
        raise TransitionRefused(action, state)
    return target


def allowed_actions(side: Side, state: ConnectionState) -> set[Action]:
    """The actions the table allows on ``side`` from ``state`` (what the page offers)."""
    return {action for (s, st, action) in TRANSITIONS if s is side and st is state}


def _move(conn: RecoveryConnection, side: Side, action: Action, now: datetime, **values: Any) -> ConnectionState:
    """Move ``conn`` by ``action``: the only place a stored connection changes state.

    The UPDATE is conditional on the version read, so a concurrent move makes this one match no row.
    """
    seen_state, seen_version = conn.state, conn.version
    target = transition(side, seen_state, action)
    result = db.session.execute(
        update(RecoveryConnection)
        .where(RecoveryConnection.id == conn.id, RecoveryConnection.version == seen_version,
               RecoveryConnection.state == seen_state)
        .values(state=target, version=seen_version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False))
    if affected_rows(result) != 1:
        db.session.rollback()
        fresh = db.session.get(RecoveryConnection, conn.id)
        raise TransitionRefused(action, fresh.state if fresh else ConnectionState.NOT_CONNECTED)
    db.session.refresh(conn)
    return target


# -- reading -----------------------------------------------------------------------------------------------------

def latest_source_connection(tenant: Tenant) -> RecoveryConnection | None:
    """The source's newest connection in any state (a Deactivated one is shown until a new one exists)."""
    return db.session.scalars(select(RecoveryConnection).where(RecoveryConnection.source_tenant_id == tenant.id)
                              .order_by(RecoveryConnection.id.desc()).limit(1)).first()


def source_state(tenant: Tenant) -> ConnectionState:
    conn = latest_source_connection(tenant)
    return conn.state if conn else ConnectionState.NOT_CONNECTED


def connection_for_source(tenant: Tenant) -> RecoveryConnection | None:
    """The source's live connection (Activation pending, Active or Released), if any."""
    conn = latest_source_connection(tenant)
    return conn if conn is not None and conn.state is not ConnectionState.DEACTIVATED else None


def destination_connection(tenant: Tenant) -> RecoveryConnection | None:
    """The connection this site most recently activated as destination (while it's still linked to it)."""
    return db.session.scalars(
        select(RecoveryConnection).where(RecoveryConnection.destination_tenant_id == tenant.id)
        .order_by(RecoveryConnection.activated_at.desc(), RecoveryConnection.id.desc()).limit(1)).first()


def active_source_for(destination: Tenant) -> Tenant | None:
    """The source site whose snapshots ``destination`` may read: only while their connection is Active."""
    conn = db.session.scalars(select(RecoveryConnection).where(
        RecoveryConnection.destination_tenant_id == destination.id,
        RecoveryConnection.state == ConnectionState.ACTIVE)).first()
    return conn.source if conn is not None else None


def _target(tenant: Tenant, side: Side, action: Action, connection_id: int | None) -> RecoveryConnection:
    """The connection an action on ``side`` applies to; ids from a form are untrusted.

    Without an id, the tenant's own current connection on that side. An id that isn't this tenant's on this
    side is indistinguishable from one that doesn't exist.
    :raises TransitionRefused: (Not connected) when there is no connection at all.
    :raises ConnectionNotFound: for an id that isn't this tenant's.
    """
    if connection_id is None:
        conn = latest_source_connection(tenant) if side is Side.SOURCE else destination_connection(tenant)
        if conn is None:
            raise TransitionRefused(action, ConnectionState.NOT_CONNECTED)
        return conn
    conn = db.session.get(RecoveryConnection, connection_id)
    owner = None if conn is None else (
        conn.source_tenant_id if side is Side.SOURCE else conn.destination_tenant_id)
    if conn is None or owner != tenant.id:
        raise ConnectionNotFound()
    return conn


# -- source actions ----------------------------------------------------------------------------------------------

def _issue(conn: RecoveryConnection, account_id: str | None, now: datetime) -> str:
    text_token, parsed = new_token()
    db.session.add(ConnectionToken(connection_id=conn.id, lookup=parsed.lookup, secret_hash=hash_secret(parsed),
                                   created_at=now, created_by=account_id))
    return text_token


def _retire_live_tokens(conn: RecoveryConnection, reason: str, now: datetime) -> None:
    db.session.execute(update(ConnectionToken)
                       .where(ConnectionToken.connection_id == conn.id, ConnectionToken.retired_at.is_(None))
                       .values(retired_at=now, retired_reason=reason)
                       .execution_options(synchronize_session=False))


def _refused(tenant: Tenant, side: Side, action: Action, account_id: str | None, err: RecoveryError,
             connection_id: int | None) -> None:
    """Record a refusal in the tenant's log (its own transaction: the refused change was rolled back)."""
    db.session.rollback()
    audit.record(tenant.id, side=side.value, action=action.value, outcome=audit.NOT_ALLOWED,
                 account_id=account_id, detail=err.message, connection_id=connection_id)
    db.session.commit()


def _target_or_refuse(tenant: Tenant, side: Side, action: Action, account_id: str | None,
                      connection_id: int | None) -> RecoveryConnection:
    try:
        return _target(tenant, side, action, connection_id)
    except RecoveryError as err:
        _refused(tenant, side, action, account_id, err, None)
        raise


def check(tenant: Tenant, side: Side, action: Action, account_id: str | None,
          connection_id: int | None) -> RecoveryConnection:
    """The connection ``action`` would apply to, if the action is allowed now; nothing changes (the doors call it
    before asking the admin to confirm, so a confirmation is never asked for what would be refused).

    :raises TransitionRefused: the current state doesn't allow it (recorded in the audit log, as the action would).
    :raises ConnectionNotFound: for an id that isn't this tenant's.
    """
    conn = _target_or_refuse(tenant, side, action, account_id, connection_id)
    try:
        transition(side, conn.state, action)
    except TransitionRefused as err:
        _refused(tenant, side, action, account_id, err, conn.id)
        raise
    return conn


def _succeeded(tenant_id: int, side: Side, action: Action, account_id: str | None, detail: str,
               conn: RecoveryConnection, now: datetime) -> None:
    audit.record(tenant_id, side=side.value, action=action.value, outcome=audit.SUCCEEDED, account_id=account_id,
                 detail=detail, connection_id=conn.id, now=now)


def generate_token(source: Tenant, account_id: str | None, *, now: datetime | None = None) -> IssuedToken:
    """Issue a token for the source: a new connection (Not connected/Deactivated) or a fresh one (Released)."""
    now = now or utcnow()
    current = latest_source_connection(source)
    try:
        if current is not None and current.state is ConnectionState.RELEASED:
            # The released destination's link ends here: the connection waits for a new activation.
            _move(current, Side.SOURCE, Action.GENERATE, now, released_at=None, destination_tenant_id=None)
            _retire_live_tokens(current, RETIRED_REGENERATED, now)
            conn = current
        else:
            state = current.state if current else ConnectionState.NOT_CONNECTED
            conn = RecoveryConnection(source_tenant_id=source.id, created_by=account_id, created_at=now,
                                      updated_at=now, state=transition(Side.SOURCE, state, Action.GENERATE))
            db.session.add(conn)
            db.session.flush()  # a concurrent generate trips the one-live-connection index here
        token = _issue(conn, account_id, now)
        _succeeded(source.id, Side.SOURCE, Action.GENERATE, account_id, "Generated a token.", conn, now)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        err = TransitionRefused(Action.GENERATE, source_state(source))
        _refused(source, Side.SOURCE, Action.GENERATE, account_id, err, None)
        raise err from None
    except TransitionRefused as err:
        _refused(source, Side.SOURCE, Action.GENERATE, account_id, err, current.id if current else None)
        raise
    return IssuedToken(conn, token)


def _replace_token(source: Tenant, account_id: str | None, connection_id: int | None, action: Action,
                   reason: str, detail: str, now: datetime | None) -> IssuedToken:
    now = now or utcnow()
    conn = _target_or_refuse(source, Side.SOURCE, action, account_id, connection_id)
    try:
        _move(conn, Side.SOURCE, action, now)
    except TransitionRefused as err:
        _refused(source, Side.SOURCE, action, account_id, err, conn.id)
        raise
    _retire_live_tokens(conn, reason, now)
    token = _issue(conn, account_id, now)
    _succeeded(source.id, Side.SOURCE, action, account_id, detail, conn, now)
    db.session.commit()
    return IssuedToken(conn, token)


def refresh_token(source: Tenant, account_id: str | None, connection_id: int | None, *,
                  now: datetime | None = None) -> IssuedToken:
    """A new token while Activation pending; the old one stops working."""
    return _replace_token(source, account_id, connection_id, Action.REFRESH, RETIRED_REFRESHED,
                          "Refreshed the token; the previous one no longer works.", now)


def reset_token(source: Tenant, account_id: str | None, connection_id: int | None, *,
                now: datetime | None = None) -> IssuedToken:
    """A new token for a lost one; the connection keeps its state and any activation."""
    return _replace_token(source, account_id, connection_id, Action.RESET, RETIRED_RESET,
                          "Reset the token; the previous one no longer works.", now)


# -- actions on both sides ---------------------------------------------------------------------------------------

def _other_side(conn: RecoveryConnection, side: Side) -> int | None:
    return conn.destination_tenant_id if side is Side.SOURCE else conn.source_tenant_id


def release(tenant: Tenant, side: Side, account_id: str | None, connection_id: int | None, *, reusable: bool,
            now: datetime | None = None) -> RecoveryConnection:
    """Unlink the destination; with ``reusable`` the token can activate a destination again, else it dies."""
    now = now or utcnow()
    conn = _target_or_refuse(tenant, side, Action.RELEASE, account_id, connection_id)
    other = _other_side(conn, side)
    destination = conn.destination_tenant_id  # Release only leaves Active: recovery through it ends
    try:
        _move(conn, side, Action.RELEASE, now, released_at=now)
    except TransitionRefused as err:
        _refused(tenant, side, Action.RELEASE, account_id, err, conn.id)
        raise
    if reusable:
        detail = "Released the connection; the token can be used again."
    else:
        _retire_live_tokens(conn, RETIRED_RELEASED, now)
        detail = "Released the connection; the token no longer works."
    _succeeded(tenant.id, side, Action.RELEASE, account_id, detail, conn, now)
    if other is not None:
        by = "source" if side is Side.SOURCE else "destination"
        _succeeded(other, Side.DESTINATION if side is Side.SOURCE else Side.SOURCE, Action.RELEASE, account_id,
                   f"The {by} site ({tenant.link_url}) released the connection.", conn, now)
    db.session.commit()
    if destination is not None:
        stop_queued_runs(destination, STOPPED_RELEASED)  # running ones stop by themselves between objects
    return conn


def deactivate(tenant: Tenant, side: Side, account_id: str | None, connection_id: int | None, *,
               now: datetime | None = None) -> RecoveryConnection:
    """End the connection for good: the source's data can no longer be recovered through it."""
    now = now or utcnow()
    conn = _target_or_refuse(tenant, side, Action.DEACTIVATE, account_id, connection_id)
    other = _other_side(conn, side)
    was_active, destination = conn.state is ConnectionState.ACTIVE, conn.destination_tenant_id
    try:
        _move(conn, side, Action.DEACTIVATE, now, deactivated_at=now)
    except TransitionRefused as err:
        _refused(tenant, side, Action.DEACTIVATE, account_id, err, conn.id)
        raise
    _retire_live_tokens(conn, RETIRED_DEACTIVATED, now)
    _succeeded(tenant.id, side, Action.DEACTIVATE, account_id, "Deactivated the connection (final).", conn, now)
    if other is not None:
        by = "source" if side is Side.SOURCE else "destination"
        _succeeded(other, Side.DESTINATION if side is Side.SOURCE else Side.SOURCE, Action.DEACTIVATE, account_id,
                   f"The {by} site ({tenant.link_url}) deactivated the connection (final).", conn, now)
    db.session.commit()
    if was_active and destination is not None:
        stop_queued_runs(destination, STOPPED_DEACTIVATED)  # running ones stop by themselves between objects
    return conn


# -- activation (destination) ------------------------------------------------------------------------------------

def _throttle_settings() -> tuple[int, int, int]:
    return (int(current_app.config.get("ACTIVATION_MAX_FAILURES", 5)),
            int(current_app.config.get("ACTIVATION_WINDOW_MINUTES", 15)),
            int(current_app.config.get("ACTIVATION_GLOBAL_MAX_FAILURES", 100)))


# Any fixed 64-bit number: the PostgreSQL advisory lock that serialises activation attempts' check-and-count.
_ACTIVATION_LOCK = 0x4A44_5231_4143_54  # "JDR1ACT"


def _lock_attempts() -> None:
    """Serialise the throttle's count-and-record with every other activation attempt until this transaction ends.

    PostgreSQL: a transaction-scoped advisory lock (one for all sites: the global cap counts them all, and the
    transaction holding it lasts two counts and an insert). SQLite has one writer at a time: the attempt's row is
    inserted *before* counting, so that insert takes the write lock and a parallel attempt's count waits for it.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ACTIVATION_LOCK})


def _retry_minutes(oldest: datetime | None, window: int, now: datetime) -> int:
    return max(1, ceil(((oldest or now) + timedelta(minutes=window) - now).total_seconds() / 60))


@dataclass(frozen=True)
class _Attempt:
    """An activation attempt recorded as pending: its audit entry, and the lock it met (None: not locked)."""

    entry_id: int
    lock: ActivationThrottled | None


def _failure_keys(since: datetime, exclude_id: int | None) -> dict[str, Any]:
    return {"side": Side.DESTINATION.value, "action": Action.ACTIVATE.value, "outcome": audit.FAILED_ACTIVATION,
            "since": since, "exclude_id": exclude_id}


def _claim_attempt(destination: Tenant, account_id: str | None, now: datetime) -> _Attempt:
    """Record an attempt as pending, and say whether a throttle is full (the attempt then needs a verified token).

    Record and count are one serialised transaction, so N parallel attempts count each other: a burst gets no
    more refusal reasons than the limit. Counted per attempting site, so a stranger's guesses only ever lock the
    stranger out; and across all sites against a global cap, so many fresh sites can't guess at scale.
    """
    max_failures, window, global_max = _throttle_settings()
    since = now - timedelta(minutes=window)
    _lock_attempts()
    entry = audit.record(destination.id, side=Side.DESTINATION.value, action=Action.ACTIVATE.value,
                         outcome=audit.PENDING, account_id=account_id, detail="Activation attempt", now=now)
    db.session.flush()
    keys = _failure_keys(since, entry.id)
    lock: ActivationThrottled | None = None
    if audit.count_since(destination.id, **keys) >= max_failures:
        lock = ActivationThrottled(_retry_minutes(audit.oldest_since(destination.id, **keys), window, now))
    elif audit.count_since(None, **keys) >= global_max:
        lock = ActivationPaused(_retry_minutes(audit.oldest_since(None, **keys), window, now))
    entry_id = entry.id
    db.session.commit()
    return _Attempt(entry_id, lock)


def _attempts_left(destination: Tenant, now: datetime) -> int:
    """Failed attempts this site may still make in the window before it is locked (after this one's refusal)."""
    max_failures, window, _ = _throttle_settings()
    used = audit.count_since(destination.id, **_failure_keys(now - timedelta(minutes=window), None))
    return max(0, max_failures - used)


def _token_verifies(token: ParsedToken) -> bool:
    """Is this a real token (look-up id and secret)? A lock never stops one: it is there against guessing."""
    row = db.session.scalars(select(ConnectionToken).where(ConnectionToken.lookup == token.lookup)).first()
    return row is not None and matches(token, row.secret_hash)


def _source_urls(source: Tenant) -> list[str]:
    """Every address the source site has had (sites get renamed), plus its custom domain."""
    urls = [u.base_url for u in source.base_urls] + [source.base_url]
    return urls + ([source.display_url] if source.display_url else [])


def _verify(destination: Tenant, token: ParsedToken, base_url: str) -> RecoveryConnection:
    """The connection ``token`` may activate for ``destination``, or a ``_Refusal`` with the precise reason.

    The secret is checked before anything else is said: past it, the caller holds the real token.
    """
    row = db.session.scalars(select(ConnectionToken).where(ConnectionToken.lookup == token.lookup)).first()
    if row is None:
        raise _Refusal("No such token (wrong or mistyped).")
    conn = row.connection
    if not matches(token, row.secret_hash):
        raise _Refusal("The token's secret part is wrong.", conn)
    if row.retired_at is not None:
        raise _Refusal(f"The token no longer works ({row.retired_reason}).", conn, public=messages.RETIRED,
                       public_text=messages.activation_reason(messages.RETIRED, retired_reason=row.retired_reason))
    if conn.source_tenant_id == destination.id:
        raise _Refusal("A site can't activate its own token.", conn, public=messages.SAME_SITE)
    if not matches_any(base_url, _source_urls(conn.source)):
        raise _Refusal(f"The site address {base_url} isn't the token's source site.", conn,
                       public=messages.WRONG_SITE)
    try:
        transition(Side.DESTINATION, conn.state, Action.ACTIVATE)
    except TransitionRefused:
        raise _Refusal(f"The connection is {conn.state.label}.", conn, public=messages.IN_USE,
                       public_text=messages.activation_reason(messages.IN_USE,
                                                              state_label=conn.state.label)) from None
    return conn


def _record_activation_refusal(destination: Tenant, attempt_id: int, account_id: str | None, refusal: _Refusal,
                               now: datetime) -> None:
    db.session.rollback()
    conn = refusal.connection
    # The attempting site's log says what its banner says, no more (see ``messages``); no connection id either:
    # it would tell a stranger a connection exists.
    audit.settle(attempt_id, outcome=audit.REFUSED, detail=f"Activation refused: {refusal.public_text}",
                 connection_id=None)
    if conn is not None:
        # The source's admins learn that someone tried their token, from where, and precisely why it failed.
        audit.record(conn.source_tenant_id, side=Side.SOURCE.value, action=Action.ACTIVATE.value,
                     outcome=audit.REFUSED, account_id=account_id,
                     detail=f"An activation attempt from {destination.link_url} was refused: {refusal.reason}",
                     connection_id=conn.id, now=now)
    db.session.commit()


def _refuse_activation(destination: Tenant, attempt_id: int, account_id: str | None, refusal: _Refusal,
                       now: datetime, *, counted: bool = True) -> ActivationRefused:
    _record_activation_refusal(destination, attempt_id, account_id, refusal, now)
    left = _attempts_left(destination, now) if counted else None
    return ActivationRefused(refusal.public, refusal.public_text, attempts_left=left,
                             window_minutes=_throttle_settings()[1])


def _settle_throttled(attempt: _Attempt) -> ActivationThrottled:
    assert attempt.lock is not None
    db.session.rollback()
    audit.settle(attempt.entry_id, outcome=audit.THROTTLED, detail=attempt.lock.message)
    db.session.commit()
    return attempt.lock


def activate(destination: Tenant, account_id: str | None, token_text: str, base_url_text: str, *,
             now: datetime | None = None) -> RecoveryConnection:
    """Link ``destination`` to the source the token names, reading only our database (the source may be gone).

    A site past its failure limit (or the service past its global cap) is still let through with a token that
    verifies: the lock is against guessing, and a real token is no guess.

    :raises ActivationThrottled: too many refusals from this site lately and the token doesn't verify
        (``ActivationPaused``: too many from all sites).
    :raises TransitionRefused: this site is already Active with another source.
    :raises InvalidActivationInput: the token or URL is malformed.
    :raises ActivationRefused: anything else wrong; its reason is precise only once the token's secret verified.
    """
    now = now or utcnow()
    attempt = _claim_attempt(destination, account_id, now)  # every outcome below settles this one entry
    attempt_id = attempt.entry_id
    own = destination_connection(destination)
    if own is not None and own.state is ConnectionState.ACTIVE:
        err = TransitionRefused(Action.ACTIVATE, ConnectionState.ACTIVE)
        db.session.rollback()
        audit.settle(attempt_id, outcome=audit.NOT_ALLOWED, detail=err.message, connection_id=own.id)
        db.session.commit()
        raise err
    try:
        parsed = parse_token(token_text)
        base_url = normalise_base_url(base_url_text)
    except (MalformedToken, InvalidBaseUrl) as exc:
        audit.settle(attempt_id, outcome=audit.INVALID, detail=str(exc))
        db.session.commit()
        field_name = "token" if isinstance(exc, MalformedToken) else "base_url"
        raise InvalidActivationInput(str(exc), field_name) from None
    if attempt.lock is not None and not _token_verifies(parsed):
        raise _settle_throttled(attempt)
    try:
        conn = _verify(destination, parsed, base_url)
        try:
            _move(conn, Side.DESTINATION, Action.ACTIVATE, now, destination_tenant_id=destination.id,
                  activated_at=now, activated_by=account_id, released_at=None)
        except TransitionRefused:
            raise _Refusal("Another activation of this token won the race.", conn, public=messages.RACE) from None
        except IntegrityError:
            raise _Refusal("This site became Active with another connection meanwhile.", conn,
                           public=messages.RACE) from None
        audit.settle(attempt_id, outcome=audit.SUCCEEDED, detail=f"Activated the connection to {conn.source.link_url}.",
                     connection_id=conn.id)
        _succeeded(conn.source_tenant_id, Side.SOURCE, Action.ACTIVATE, account_id,
                   f"{destination.link_url} activated the connection as destination.", conn, now)
        db.session.commit()
    except _Refusal as refusal:
        raise _refuse_activation(destination, attempt_id, account_id, refusal, now,
                                 counted=refusal.public != messages.RACE) from None
    except IntegrityError:
        raise _refuse_activation(destination, attempt_id, account_id,
                                 _Refusal("This site became Active with another connection meanwhile.",
                                          public=messages.RACE), now, counted=False) from None
    return conn
