"""What both admin front doors (the Connect pages and the Forge JSON API) show: fixed notice texts, action labels,
the connection sides' state and allowed actions, the restore selection and progress — built from the domain only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..connect.tenants import Tenant
from ..recovery import connections as rc
from ..recovery import messages
from ..recovery.connections import Action, ConnectionState, RecoveryConnection, RecoveryError, Side
from ..restore import service as restore_service
from ..restore.models import RestoreRun
from ..restore.plan import Selection

# The texts live in one place for both doors (app.recovery.messages); re-exported here for the views.
URL_HINT, FORMAT_HINT, NOTICES, CONFIRMATIONS = (messages.URL_HINT, messages.FORMAT_HINT, messages.NOTICES,
                                                 messages.CONFIRMATIONS)
Notice, notice = messages.Notice, messages.notice

ACTION_LABELS = {
    "generate": "Generate token", "refresh": "Refresh token", "reset": "Reset token",
    "activate": "Activate connection", "release": "Release connection", "deactivate": "Deactivate connection",
}

SOURCE_ACTIONS = {a.value: a for a in (Action.GENERATE, Action.REFRESH, Action.RESET, Action.RELEASE,
                                       Action.DEACTIVATE)}
DESTINATION_ACTIONS = {a.value: a for a in (Action.ACTIVATE, Action.RELEASE, Action.DEACTIVATE)}
# Actions that end something (a token, a link) and so are confirmed first, on both doors.
CONFIRMED_SOURCE_ACTIONS = frozenset({Action.REFRESH, Action.RESET, Action.RELEASE, Action.DEACTIVATE})


def action_label(action: Action, state: ConnectionState) -> str:
    """The button's text ("Generate new token" once a connection was released)."""
    if action is Action.GENERATE and state is ConnectionState.RELEASED:
        return "Generate new token"
    return ACTION_LABELS[action.value]


@dataclass(frozen=True)
class Refusal:
    """How both doors answer a refused connection action: the notice, the HTTP status and the API's error code."""

    notice: Notice
    status: int
    code: str
    extra: dict[str, Any]


def refusal(err: RecoveryError) -> Refusal:
    """The one mapping from a connection error to what the page says (fixed texts and enum values only)."""
    if isinstance(err, rc.TransitionRefused):
        return Refusal(Notice("refused", "error", rc.refusal_message(err.action, err.state)), 409,
                       "transition-refused", {})
    if isinstance(err, rc.ActivationThrottled):  # the site's own lock-out, or the service-wide safety stop
        code = "activation-paused" if isinstance(err, rc.ActivationPaused) else "activation-throttled"
        return Refusal(Notice("throttled", "error", err.message), 429, code, {"retryMinutes": err.retry_minutes})
    if isinstance(err, rc.ActivationRefused):
        return Refusal(Notice("activation-refused", "error", err.message), 422, "activation-refused",
                       {"reason": err.reason, "attemptsLeft": err.attempts_left})
    if isinstance(err, rc.InvalidActivationInput):
        found = notice("invalid-token" if err.field == "token" else "invalid-url")
        return Refusal(found, 400, found.code, {"field": err.field})
    return Refusal(notice("not-found"), 404, "not-found", {})


def refusal_notice(err: RecoveryError) -> Notice:
    """The notice a refused connection action shows (the same text as the error's own safe message)."""
    return refusal(err).notice


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


def _ordered(side: Side, state: ConnectionState, order: dict[str, Action]) -> list[Action]:
    allowed = rc.allowed_actions(side, state)
    return [a for a in order.values() if a in allowed]


def _source_actions(conn: RecoveryConnection | None, state: ConnectionState) -> list[Action]:
    """The source's buttons: what the state allows, and of Generate/Reset on a Released connection only the one
    that fits (a live token: Reset it if lost; none: Generate a new one)."""
    actions = _ordered(Side.SOURCE, state, SOURCE_ACTIONS)
    if state is ConnectionState.RELEASED:
        pointless = Action.GENERATE if conn is not None and conn.live_token is not None else Action.RESET
        actions = [a for a in actions if a is not pointless]
    return actions


def connection_sides(tenant: Tenant) -> ConnectionSides:
    """The tenant's source and destination connections, their states and the actions each state allows."""
    source_conn = rc.latest_source_connection(tenant)
    source_state = source_conn.state if source_conn else ConnectionState.NOT_CONNECTED
    dest_conn = rc.destination_connection(tenant)
    dest_state = dest_conn.state if dest_conn else ConnectionState.NOT_CONNECTED
    active_source = rc.active_source_for(tenant)
    # Activation is offered whenever no connection is Active here (the page's form): the state that decides it is
    # that of the connection the token names, checked by the domain.
    dest_actions = (_ordered(Side.DESTINATION, dest_state, DESTINATION_ACTIONS) if active_source is not None
                    else [Action.ACTIVATE])
    return ConnectionSides(source_conn, source_state, _source_actions(source_conn, source_state),
                           dest_conn, dest_state, dest_actions, active_source)


def selection_from(scope: str | None, types: list[str], projects: str | list[str] | None) -> Selection:
    """The restore selection from the page's choices: everything, or some types and/or projects (keys)."""
    if (scope or "all") == "all":
        return Selection()
    if isinstance(projects, str):
        projects = projects.split(",")
    return Selection(types=[t for t in types if t], projects=[p.strip() for p in projects or [] if p.strip()])


def restore_progress(run: RestoreRun) -> dict[str, Any]:
    """Where a run stands (overall and per type, current step), for polling."""
    job = restore_service.job_of(run)
    per_type = restore_service.counts_by_type([r for r in restore_service.items(run) if r.selected], "outcome")
    return {"status": run.status, "step": job.step if job else None, "done": job.progress_done if job else 0,
            "total": job.progress_total if job else None, "fidelity": run.fidelity,
            "types": [{"type": t.type_key, "title": t.title, "total": t.total,
                       "done": t.total - t.counts.get("pending", 0) - t.counts.get("creating", 0)}
                      for t in per_type]}
