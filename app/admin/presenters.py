"""What both admin front doors (the Connect pages and the Forge JSON API) show: fixed notice texts, action labels,
the connection sides' state and allowed actions, the restore selection and progress — built from the domain only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..connect.tenants import Tenant
from ..recovery import connections as rc
from ..recovery.connections import Action, ConnectionState, RecoveryConnection, RecoveryError, Side
from ..restore import service as restore_service
from ..restore.models import RestoreRun
from ..restore.plan import Selection

URL_HINT = ("Enter only the site's address, for example https://your-site.atlassian.net "
            "(no user name, page path or query).")
FORMAT_HINT = "That isn't a complete recovery token: copy all of it, from JDR1- to the end."

# Fixed texts for the codes an action may answer with: (kind, text). Never built from input.
NOTICES: dict[str, tuple[str, str]] = {
    "activated": ("success", "Connection activated. This site can now read the source site's backups."),
    "released-reusable": ("success", "Connection released. The token can be used again to activate a destination."),
    "released-retired": ("success", "Connection released. The token no longer works: generate a new one "
                                    "before activating a destination."),
    "deactivated": ("success", "Connection deactivated. The source's data can no longer be recovered through it."),
    "activation-refused": ("error", rc.ACTIVATION_REFUSED_TEXT),
    "invalid-token": ("error", FORMAT_HINT),
    "invalid-url": ("error", URL_HINT),
    "not-found": ("error", rc.ConnectionNotFound().message),
    "token-stored": ("info", "The token is no longer shown anywhere. If it is lost, reset it."),
    "token-issued": ("info", "Copy this token now and keep it somewhere safe outside this Jira site, such as your "
                             "organisation's password manager. You'll need it to recover this site's configuration "
                             "into a new site. It won't be shown again."),
    "token-replaced": ("info", "The previous token no longer works."),
}

# The confirmation step for the two actions that can't be taken back (the Connect page's texts).
CONFIRMATIONS: dict[str, dict[str, str]] = {
    "release": {"title": "Release the connection?",
                "text": "The destination site will no longer be linked to the source. Can the token be used again "
                        "in future, for example to activate another destination?",
                "yes": "Yes, the token can be used again", "no": "No, a new token must be generated"},
    "deactivate": {"title": "Deactivate the connection?",
                   "text": "The source's data can no longer be recovered through this connection. This is final: "
                           "it can't be undone, and the token stops working.",
                   "confirm": "Deactivate connection"},
}

ACTION_LABELS = {
    "generate": "Generate token", "refresh": "Refresh token", "reset": "Reset token",
    "activate": "Activate connection", "release": "Release connection", "deactivate": "Deactivate connection",
}

SOURCE_ACTIONS = {a.value: a for a in (Action.GENERATE, Action.REFRESH, Action.RESET, Action.RELEASE,
                                       Action.DEACTIVATE)}
DESTINATION_ACTIONS = {a.value: a for a in (Action.ACTIVATE, Action.RELEASE, Action.DEACTIVATE)}


def action_label(action: Action, state: ConnectionState) -> str:
    """The button's text ("Generate new token" once a connection was released)."""
    if action is Action.GENERATE and state is ConnectionState.RELEASED:
        return "Generate new token"
    return ACTION_LABELS[action.value]


@dataclass(frozen=True)
class Notice:
    """A message for the page: a fixed code, its kind and text (texts come from enums and constants only)."""

    code: str
    kind: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "kind": self.kind, "text": self.text}


def notice(code: str) -> Notice:
    kind, text = NOTICES[code]
    return Notice(code, kind, text)


def refusal_notice(err: RecoveryError) -> Notice:
    """The notice a refused connection action shows (the same text as the error's own safe message)."""
    if isinstance(err, rc.TransitionRefused):
        return Notice("refused", "error", rc.refusal_message(err.action, err.state))
    if isinstance(err, rc.ActivationThrottled):  # the site's own lock-out, or the service-wide safety stop
        return Notice("throttled", "error", type(err).text(err.retry_minutes))
    if isinstance(err, rc.ActivationRefused):
        return notice("activation-refused")
    if isinstance(err, rc.InvalidActivationInput):
        return notice("invalid-token" if err.field == "token" else "invalid-url")
    return notice("not-found")


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


def _ordered(side: Side, state: ConnectionState, order: dict[str, Action]) -> list[Action]:
    allowed = rc.allowed_actions(side, state)
    return [a for a in order.values() if a in allowed]


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
    return ConnectionSides(source_conn, source_state, _ordered(Side.SOURCE, source_state, SOURCE_ACTIONS),
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
