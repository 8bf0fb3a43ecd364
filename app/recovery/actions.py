"""One entry point per recovery action, the one both doors call, and the ladder of which actions a status offers.

A door parses its input (a form, a JSON body), then calls ``perform``; it gets back an ``Acted`` (the notice to
show and, for generate/refresh/reset, the token shown once) or one of ``connections``' typed errors, which
``app.answers`` turns into status, code and words. The ladder (which buttons a status shows, in which order, and
which of them ask for a confirmation first) is written here once; the presenters of both doors read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..restore import service as restore_service
from ..restore.models import RestoreRun
from ..restore.plan import Selection
from ..tenants import Tenant
from . import connections as rc
from .connections import Action, ConnectionState, IssuedToken, RecoveryConnection, Side

# The buttons of each side, in the order the page shows them.
LADDERS: dict[Side, tuple[Action, ...]] = {
    Side.SOURCE: (Action.GENERATE, Action.REFRESH, Action.RESET, Action.RELEASE, Action.DEACTIVATE),
    Side.DESTINATION: (Action.ACTIVATE, Action.RELEASE, Action.DEACTIVATE),
}
# Actions that end something (a token, a link) and so are confirmed first, on both doors.
CONFIRMED: frozenset[Action] = frozenset({Action.REFRESH, Action.RESET, Action.RELEASE, Action.DEACTIVATE})


def action_named(side: Side, name: str) -> Action | None:
    """The action ``name`` names on ``side`` (None: no such action there, a 404 for both doors)."""
    return next((a for a in LADDERS[side] if a.value == name), None)


def needs_confirmation(action: Action) -> bool:
    return action in CONFIRMED


def offered_actions(side: Side, conn: RecoveryConnection | None, state: ConnectionState, *,
                    active_here: bool = True) -> list[Action]:
    """The buttons ``side`` shows in ``state``: what the transitions allow, in the ladder's order.

    Of Generate/Reset on a Released source only the one that fits is offered (a live token: Reset it if lost;
    none: Generate a new one). A destination with no Active connection is offered Activate whatever its last
    connection's state: the state that decides is that of the connection the token names, checked on activation.
    """
    if side is Side.DESTINATION and not active_here:
        return [Action.ACTIVATE]
    allowed = rc.allowed_actions(side, state)
    actions = [a for a in LADDERS[side] if a in allowed]
    if side is Side.SOURCE and state is ConnectionState.RELEASED:
        pointless = Action.GENERATE if conn is not None and conn.live_token is not None else Action.RESET
        actions = [a for a in actions if a is not pointless]
    return actions


@dataclass(frozen=True)
class Choice:
    """What the admin chose or typed for an action: the connection (an untrusted id), Yes/No of a reusable
    token on release, and the token and source address on activation."""

    connection_id: int | None = None
    reusable: bool | None = None
    token: str = field(default="", repr=False)
    source_url: str = ""


@dataclass(frozen=True)
class Acted:
    """What both doors render after an action: a notice code of ``messages.NOTICES`` and, for a token that was
    just issued, the token (shown once) and whether it replaced a previous one."""

    notice: str
    issued: IssuedToken | None = None
    replaced: bool = False


class ChoiceMissing(ValueError):
    """The action needs a choice the request didn't make (release: whether the token stays usable)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def generate(tenant: Tenant, account_id: str | None) -> Acted:
    """Generate the source's token (a new connection, or a fresh token for a Released one)."""
    return Acted("token-issued", rc.generate_token(tenant, account_id))


def refresh(tenant: Tenant, account_id: str | None, connection_id: int | None) -> Acted:
    """A new token while Activation pending; the old one stops working."""
    return Acted("token-issued", rc.refresh_token(tenant, account_id, connection_id), replaced=True)


def reset(tenant: Tenant, account_id: str | None, connection_id: int | None) -> Acted:
    """A new token for a lost one; the connection keeps its status."""
    return Acted("token-issued", rc.reset_token(tenant, account_id, connection_id), replaced=True)


def release(tenant: Tenant, side: Side, account_id: str | None, connection_id: int | None, *,
            reusable: bool) -> Acted:
    """Unlink the destination; Yes keeps the token usable, No retires it."""
    rc.release(tenant, side, account_id, connection_id, reusable=reusable)
    return Acted("released-reusable" if reusable else "released-retired")


def deactivate(tenant: Tenant, side: Side, account_id: str | None, connection_id: int | None) -> Acted:
    """End the connection for good."""
    rc.deactivate(tenant, side, account_id, connection_id)
    return Acted("deactivated")


def activate(tenant: Tenant, account_id: str | None, token: str, source_url: str) -> Acted:
    """Link this (destination) site to the source the token names."""
    rc.activate(tenant, account_id, token, source_url)
    return Acted("activated")


def check(tenant: Tenant, side: Side, action: Action, account_id: str | None, connection_id: int | None) -> None:
    """Refuse now what the action would be refused (a door calls it before asking to confirm); nothing changes.

    Activation is checked by activating: nothing about it is known before the token is read.
    """
    if action is not Action.ACTIVATE:
        rc.check(tenant, side, action, account_id, connection_id)


def perform(tenant: Tenant, side: Side, action: Action, account_id: str | None, choice: Choice) -> Acted:
    """Take ``action`` on ``side`` with the admin's ``choice``: the one way in from either door.

    :raises ChoiceMissing: a release without the Yes/No choice.
    :raises RecoveryError: whatever the domain refuses (``app.answers`` says how).
    """
    conn_id = choice.connection_id
    if action is Action.GENERATE:
        return generate(tenant, account_id)
    if action is Action.REFRESH:
        return refresh(tenant, account_id, conn_id)
    if action is Action.RESET:
        return reset(tenant, account_id, conn_id)
    if action is Action.ACTIVATE:
        return activate(tenant, account_id, choice.token, choice.source_url)
    if action is Action.RELEASE:
        if choice.reusable is None:
            raise ChoiceMissing("Choose whether the token can be used again.")
        return release(tenant, side, account_id, conn_id, reusable=choice.reusable)
    return deactivate(tenant, side, account_id, conn_id)


def start_restore(tenant: Tenant, run_id: int, selection: Selection, user_fallback: str, account_id: str | None, *,
                  unconfirmed: str | None) -> RestoreRun:
    """Start a previewed restore of this site's run once the admin confirmed and nothing blocks it.

    ``unconfirmed``: None when the admin confirmed; else what the door expected and received, in its own terms.
    :raises RestoreRefused: another site's run, choices it can't take, no confirmation, a blocker (and the rest
        ``restore.service.start_restore`` refuses).
    """
    run = restore_service.get_run(tenant, run_id)
    restore_service.check_choices(run, selection, user_fallback)
    if unconfirmed is not None:
        raise restore_service.RestoreRefused("Confirm the restore first: its last step says what it will create on "
                                             f"this site ({unconfirmed}).", 400)
    blockers = restore_service.consequences(run, selection, user_fallback).blockers
    if blockers and restore_service.stale_reason(run) is None:
        raise restore_service.RestoreRefused(f"{blockers[0].text} {blockers[0].fix}", 409)
    return restore_service.start_restore(tenant, run_id, selection, user_fallback, account_id)
