"""Does the connection state machine allow exactly the moves the product brief describes, on both sides, and refuse
everything else with a message naming the current state (whatever a stale page showed)?"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from app.extensions import db
from app.presenters.connections import connection_sides
from app.recovery import audit
from app.recovery import connections as rc
from app.recovery.connections import (
    Action,
    ConnectionNotFound,
    ConnectionState,
    ConnectionToken,
    RecoveryConnection,
    Side,
    TransitionRefused,
)
from app.tenants import Tenant, TenantBaseUrl

St = ConnectionState
ADMIN = "557058:source-admin"
DEST_ADMIN = "557058:dest-admin"
SOURCE_URL = "https://source.atlassian.net"


def make_tenant(name: str, base_url: str | None = None, *, old_urls: tuple[str, ...] = ()) -> Tenant:
    """A tenant row as an install leaves it (URL history included)."""
    url = base_url or f"https://{name}.atlassian.net"
    tenant = Tenant(client_key=f"client-{name}", base_url=url, shared_secret=f"secret-{name}-" + "x" * 32)
    for old in (*old_urls, url):
        tenant.base_urls.append(TenantBaseUrl(base_url=old))
    db.session.add(tenant)
    db.session.commit()
    return tenant


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def source(ctx) -> Tenant:
    return make_tenant("source")


@pytest.fixture
def dest(ctx) -> Tenant:
    return make_tenant("dest")


def stored_state(conn_id: int) -> ConnectionState:
    db.session.expire_all()
    return db.session.get(RecoveryConnection, conn_id).state


def source_in(state: ConnectionState, source: Tenant, dest: Tenant) -> tuple[RecoveryConnection | None, str | None]:
    """Bring the source's connection into ``state`` through real actions; returns it and its live token."""
    if state is St.NOT_CONNECTED:
        return None, None
    issued = rc.generate_token(source, ADMIN)
    conn, token = issued.connection, issued.token
    if state is St.DEACTIVATED:
        rc.deactivate(source, Side.SOURCE, ADMIN, conn.id)
        return conn, None
    if state in (St.ACTIVE, St.RELEASED):
        rc.activate(dest, DEST_ADMIN, token, SOURCE_URL)
    if state is St.RELEASED:
        rc.release(source, Side.SOURCE, ADMIN, conn.id, reusable=True)
    assert stored_state(conn.id) is state
    return conn, token


def do_source(action: Action, source: Tenant, conn: RecoveryConnection | None):
    conn_id = conn.id if conn else None
    if action is Action.GENERATE:
        return rc.generate_token(source, ADMIN).connection
    if action is Action.REFRESH:
        return rc.refresh_token(source, ADMIN, conn_id).connection
    if action is Action.RESET:
        return rc.reset_token(source, ADMIN, conn_id).connection
    if action is Action.RELEASE:
        return rc.release(source, Side.SOURCE, ADMIN, conn_id, reusable=True)
    return rc.deactivate(source, Side.SOURCE, ADMIN, conn_id)


# The product brief's rules, written out independently of the module's table.
SOURCE_ALLOWED = {
    (St.NOT_CONNECTED, Action.GENERATE): St.PENDING,
    (St.PENDING, Action.REFRESH): St.PENDING,
    (St.PENDING, Action.DEACTIVATE): St.DEACTIVATED,
    (St.ACTIVE, Action.RESET): St.ACTIVE,
    (St.ACTIVE, Action.RELEASE): St.RELEASED,
    (St.ACTIVE, Action.DEACTIVATE): St.DEACTIVATED,
    (St.RELEASED, Action.GENERATE): St.PENDING,
    (St.RELEASED, Action.RESET): St.RELEASED,
    (St.RELEASED, Action.DEACTIVATE): St.DEACTIVATED,
    (St.DEACTIVATED, Action.GENERATE): St.PENDING,
}
SOURCE_ACTIONS = [Action.GENERATE, Action.REFRESH, Action.RESET, Action.RELEASE, Action.DEACTIVATE]
ALL_STATES = list(St)


@pytest.mark.parametrize(("state", "action"), list(itertools.product(ALL_STATES, SOURCE_ACTIONS)),
                         ids=lambda v: v.value)
def test_source_side_action_in_each_state(source, dest, state, action) -> None:
    conn, _ = source_in(state, source, dest)
    expected = SOURCE_ALLOWED.get((state, action))
    before = audit.count_since(source.id, side="source", action=action.value, outcome=audit.NOT_ALLOWED,
                               since=conn.created_at if conn else rc.utcnow())
    if expected is None:
        with pytest.raises(TransitionRefused) as caught:
            do_source(action, source, conn)
        assert caught.value.state is state
        assert caught.value.message == f"Can't {action.phrase} while the status is {state.label}."
        if conn is not None:
            assert stored_state(conn.id) is state  # nothing moved
        entries = audit.entries_for(source.id)
        assert entries[0].outcome == audit.NOT_ALLOWED and entries[0].action == action.value
        assert entries[0].detail == caught.value.message
    else:
        moved = do_source(action, source, conn)
        assert stored_state(moved.id) is expected
        assert rc.source_state(source) is expected
        assert audit.entries_for(source.id)[0].outcome == audit.SUCCEEDED
        assert before == 0


def test_the_module_table_says_what_the_brief_says() -> None:
    source_table = {(st, a): to for (side, st, a), to in rc.TRANSITIONS.items() if side is Side.SOURCE}
    assert source_table == SOURCE_ALLOWED
    dest_table = {(st, a): to for (side, st, a), to in rc.TRANSITIONS.items() if side is Side.DESTINATION}
    assert dest_table == {(St.PENDING, Action.ACTIVATE): St.ACTIVE, (St.RELEASED, Action.ACTIVATE): St.ACTIVE,
                          (St.ACTIVE, Action.RELEASE): St.RELEASED, (St.ACTIVE, Action.DEACTIVATE): St.DEACTIVATED}


# -- destination side: release and deactivate act on the connection linked to the destination ----------------

def dest_in(state: ConnectionState, source: Tenant, dest: Tenant) -> RecoveryConnection | None:
    if state in (St.NOT_CONNECTED, St.PENDING):  # a pending connection is linked to no destination yet
        if state is St.PENDING:
            rc.generate_token(source, ADMIN)
        return None
    issued = rc.generate_token(source, ADMIN)
    rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    if state is St.RELEASED:
        rc.release(dest, Side.DESTINATION, DEST_ADMIN, issued.connection.id, reusable=True)
    if state is St.DEACTIVATED:
        rc.deactivate(source, Side.SOURCE, ADMIN, issued.connection.id)
    assert connection_sides(dest).dest_state is state
    return issued.connection


DEST_ALLOWED = {(St.ACTIVE, Action.RELEASE): St.RELEASED, (St.ACTIVE, Action.DEACTIVATE): St.DEACTIVATED}


@pytest.mark.parametrize(("state", "action"), list(itertools.product(ALL_STATES, [Action.RELEASE,
                                                                                   Action.DEACTIVATE])),
                         ids=lambda v: v.value)
def test_destination_side_release_and_deactivate_in_each_state(source, dest, state, action) -> None:
    dest_in(state, source, dest)
    seen = St.NOT_CONNECTED if state is St.PENDING else state  # the destination's own view
    expected = DEST_ALLOWED.get((seen, action))
    act = rc.release if action is Action.RELEASE else rc.deactivate
    kwargs = {"reusable": True} if action is Action.RELEASE else {}
    if expected is None:
        with pytest.raises(TransitionRefused) as caught:
            act(dest, Side.DESTINATION, DEST_ADMIN, None, **kwargs)
        assert caught.value.message == f"Can't {action.phrase} while the status is {seen.label}."
        assert connection_sides(dest).dest_state is seen
    else:
        act(dest, Side.DESTINATION, DEST_ADMIN, None, **kwargs)
        assert connection_sides(dest).dest_state is expected
        assert rc.source_state(source) is expected


@pytest.mark.parametrize("state", ALL_STATES, ids=lambda v: v.value)
def test_activation_of_a_connection_in_each_state(source, dest, state) -> None:
    """Activation is allowed from Activation pending and (reusable) Released only. A guess gets the one uniform
    refusal; the holder of a real token is told why it can't be used (it is theirs to know)."""
    other = make_tenant("other-dest")
    if state is St.NOT_CONNECTED:
        token = "JDR1-0000000000-00000000000000000000000000"
    elif state is St.DEACTIVATED:
        issued = rc.generate_token(source, ADMIN)
        rc.deactivate(source, Side.SOURCE, ADMIN, issued.connection.id)
        token = issued.token
    else:
        conn, token = source_in(state, source, other)
    if state in (St.PENDING, St.RELEASED):
        conn = rc.activate(dest, DEST_ADMIN, token, SOURCE_URL)
        assert stored_state(conn.id) is St.ACTIVE and conn.destination_tenant_id == dest.id
        assert rc.active_source_for(dest).id == source.id
    else:
        with pytest.raises(rc.ActivationRefused) as caught:
            rc.activate(dest, DEST_ADMIN, token, SOURCE_URL)
        expected = {St.NOT_CONNECTED: "unknown", St.DEACTIVATED: "retired", St.ACTIVE: "in-use"}[state]
        assert caught.value.reason == expected
        assert caught.value.message.startswith(caught.value.reason_text)
        assert rc.active_source_for(dest) is None


def test_an_active_destination_cannot_activate_a_second_source(source, dest) -> None:
    first = rc.generate_token(source, ADMIN)
    rc.activate(dest, DEST_ADMIN, first.token, SOURCE_URL)
    second_source = make_tenant("second")
    second = rc.generate_token(second_source, ADMIN)
    with pytest.raises(TransitionRefused, match="while the status is Active"):
        rc.activate(dest, DEST_ADMIN, second.token, second_source.base_url)
    assert stored_state(second.connection.id) is St.PENDING


# -- tokens across the lifecycle -------------------------------------------------------------------------------

def test_only_a_hash_of_the_token_is_stored(source) -> None:
    issued = rc.generate_token(source, ADMIN)
    rows = db.session.scalars(select(ConnectionToken)).all()
    assert len(rows) == 1
    secret = issued.token.split("-")[2]
    assert all(secret not in str(v) for v in vars(rows[0]).values())
    assert issued.token not in repr(issued)
    assert all(secret not in e.detail for e in audit.entries_for(source.id))


@pytest.mark.parametrize(("replace", "reason"), [("refresh", "refreshed"), ("reset", "reset")])
def test_a_replaced_token_stops_working_and_the_new_one_works(source, dest, replace, reason) -> None:
    issued = rc.generate_token(source, ADMIN)
    if replace == "reset":
        rc.activate(make_tenant("first-dest"), DEST_ADMIN, issued.token, SOURCE_URL)
        new = rc.reset_token(source, ADMIN, issued.connection.id)
        assert stored_state(issued.connection.id) is St.ACTIVE  # reset keeps the activation
        rc.release(source, Side.SOURCE, ADMIN, issued.connection.id, reusable=True)
    else:
        new = rc.refresh_token(source, ADMIN, issued.connection.id)
    with pytest.raises(rc.ActivationRefused):
        rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    assert f"no longer works ({reason})" in audit.entries_for(source.id)[0].detail
    rc.activate(dest, DEST_ADMIN, new.token, SOURCE_URL)
    assert rc.active_source_for(dest).id == source.id


@pytest.mark.parametrize("reusable", [True, False], ids=["yes", "no"])
def test_release_yes_keeps_the_token_usable_and_no_retires_it(source, dest, reusable) -> None:
    issued = rc.generate_token(source, ADMIN)
    rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    rc.release(dest, Side.DESTINATION, DEST_ADMIN, issued.connection.id, reusable=reusable)
    assert rc.active_source_for(dest) is None
    again = make_tenant("another-dest")
    if reusable:
        rc.activate(again, DEST_ADMIN, issued.token, SOURCE_URL)
        assert rc.active_source_for(again).id == source.id
        assert connection_sides(dest).dest_state is St.NOT_CONNECTED  # the link moved to the new destination
    else:
        with pytest.raises(rc.ActivationRefused):
            rc.activate(again, DEST_ADMIN, issued.token, SOURCE_URL)
        fresh = rc.generate_token(source, ADMIN)  # "a new token must be generated"
        assert fresh.connection.id == issued.connection.id and stored_state(fresh.connection.id) is St.PENDING
        rc.activate(again, DEST_ADMIN, fresh.token, SOURCE_URL)


def test_deactivation_is_final_and_a_new_connection_starts_fresh(source, dest) -> None:
    issued = rc.generate_token(source, ADMIN)
    rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    rc.deactivate(source, Side.SOURCE, ADMIN, issued.connection.id)
    assert rc.active_source_for(dest) is None and rc.connection_for_source(source) is None
    assert connection_sides(dest).dest_state is St.DEACTIVATED
    with pytest.raises(rc.ActivationRefused):
        rc.activate(make_tenant("late"), DEST_ADMIN, issued.token, SOURCE_URL)
    fresh = rc.generate_token(source, ADMIN)
    assert fresh.connection.id != issued.connection.id
    assert stored_state(issued.connection.id) is St.DEACTIVATED
    assert rc.connection_for_source(source).id == fresh.connection.id


def test_allowed_actions_follow_the_table() -> None:
    assert rc.allowed_actions(Side.SOURCE, St.ACTIVE) == {Action.RESET, Action.RELEASE, Action.DEACTIVATE}
    assert rc.allowed_actions(Side.DESTINATION, St.RELEASED) == {Action.ACTIVATE}


# -- tenant isolation --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["refresh", "reset", "release", "deactivate"])
def test_a_tenant_cannot_act_on_another_tenants_connection_by_its_id(source, dest, action) -> None:
    victim = rc.generate_token(source, ADMIN)
    rc.activate(dest, DEST_ADMIN, victim.token, SOURCE_URL)
    attacker = make_tenant("attacker")
    calls = {
        "refresh": lambda side: rc.refresh_token(attacker, "x", victim.connection.id),
        "reset": lambda side: rc.reset_token(attacker, "x", victim.connection.id),
        "release": lambda side: rc.release(attacker, side, "x", victim.connection.id, reusable=True),
        "deactivate": lambda side: rc.deactivate(attacker, side, "x", victim.connection.id),
    }
    for side in (Side.SOURCE, Side.DESTINATION):
        with pytest.raises(ConnectionNotFound):
            calls[action](side)
    assert stored_state(victim.connection.id) is St.ACTIVE
    assert rc.active_source_for(dest).id == source.id
    # The source can't act as the destination of its own connection either.
    with pytest.raises(ConnectionNotFound):
        rc.release(source, Side.DESTINATION, ADMIN, victim.connection.id, reusable=True)
