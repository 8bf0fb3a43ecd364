"""Can a destination activate a source's token with only our database, is every refusal the same to the attempting
site (with the precise reason in the audit log), are strangers throttled without locking the real connection, and
does exactly one of two concurrent activations win?"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from app import tenants as tenant_store
from app.connect import installs
from app.extensions import db
from app.recovery import audit
from app.recovery import connections as rc
from app.recovery.connections import ConnectionState, RecoveryConnection, Side
from tests.recovery.test_connections import ADMIN, DEST_ADMIN, SOURCE_URL, make_tenant

St = ConnectionState


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def source(ctx):
    return make_tenant("source", old_urls=("https://old-name.atlassian.net",))


@pytest.fixture
def dest(ctx):
    return make_tenant("dest")


@pytest.mark.parametrize("typed_url", ["https://source.atlassian.net", "source.atlassian.net/jira/",
                                       "HTTPS://Source.Atlassian.Net:443", "https://old-name.atlassian.net"])
def test_activation_accepts_any_form_of_the_sources_current_or_former_address(source, dest, typed_url) -> None:
    issued = rc.generate_token(source, ADMIN)
    conn = rc.activate(dest, DEST_ADMIN, f"\n  {issued.token.lower()}  \n", typed_url)
    assert conn.state is St.ACTIVE and conn.activated_by == DEST_ADMIN
    assert rc.active_source_for(dest).id == source.id


def test_activation_works_while_the_source_site_is_uninstalled(source, dest) -> None:
    issued = rc.generate_token(source, ADMIN)
    installs.mark_uninstalled(source)
    rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    assert rc.active_source_for(dest).id == source.id


def _wrong_inputs(issued: rc.IssuedToken, source) -> dict[str, tuple[str, str, str]]:
    token = issued.token
    secret_flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    lookup_flipped = token[:5] + ("0" if token[5] != "0" else "1") + token[6:]
    return {
        "unknown token": (lookup_flipped, SOURCE_URL, "No such token"),
        "wrong secret": (secret_flipped, SOURCE_URL, "secret part is wrong"),
        "wrong site": (token, "https://someone-else.atlassian.net", "isn't the token's source site"),
    }


@pytest.mark.parametrize("case", ["unknown token", "wrong secret"])
def test_a_guess_learns_nothing_whether_its_look_up_id_exists(source, dest, case) -> None:
    """Does a wrong token tell the guesser anything? No: an unknown token and a wrong secret read the same, in the
    banner and in the attempting site's own log; only the source's log keeps the precise reason."""
    issued = rc.generate_token(source, ADMIN)
    token, url, precise = _wrong_inputs(issued, source)[case]
    with pytest.raises(rc.ActivationRefused) as caught:
        rc.activate(dest, DEST_ADMIN, token, url)
    assert caught.value.reason == "unknown" and caught.value.reason_text == rc.ACTIVATION_REFUSED_TEXT
    entry = audit.entries_for(dest.id)[0]
    assert (entry.side, entry.action, entry.outcome, entry.account_id) == ("destination", "activate", "refused",
                                                                          DEST_ADMIN)
    assert entry.detail == f"Activation refused: {rc.ACTIVATION_REFUSED_TEXT}" and entry.connection_id is None
    assert precise not in entry.detail
    if case == "wrong secret":
        assert precise in audit.entries_for(source.id)[0].detail
    assert rc.source_state(source) is St.PENDING


def test_the_holder_of_a_real_token_is_told_the_address_is_wrong(source, dest) -> None:
    """Does the banner say what's wrong once the token verifies? Yes, with the same words as the site's log."""
    issued = rc.generate_token(source, ADMIN)
    with pytest.raises(rc.ActivationRefused) as caught:
        rc.activate(dest, DEST_ADMIN, issued.token, "https://someone-else.atlassian.net")
    assert caught.value.reason == "wrong-site"
    assert "isn't the site it was generated on" in caught.value.message
    assert caught.value.reason_text in audit.entries_for(dest.id)[0].detail
    assert "someone-else" in audit.entries_for(source.id)[0].detail  # the source's log: precise, with the address


@pytest.mark.parametrize(("spent", "words"), [
    ("refreshed", "it was refreshed"), ("released as not reusable", "released as not reusable"),
    ("connection deactivated", "its connection was deactivated")])
def test_a_spent_token_is_refused_saying_why(source, dest, spent, words) -> None:
    issued = rc.generate_token(source, ADMIN)
    if spent == "refreshed":
        rc.refresh_token(source, ADMIN, issued.connection.id)
    elif spent == "released as not reusable":
        rc.activate(make_tenant("first"), DEST_ADMIN, issued.token, SOURCE_URL)
        rc.release(source, Side.SOURCE, ADMIN, issued.connection.id, reusable=False)
    else:
        rc.deactivate(source, Side.SOURCE, ADMIN, issued.connection.id)
    with pytest.raises(rc.ActivationRefused) as caught:
        rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    assert caught.value.reason == "retired" and words in caught.value.message
    assert words in audit.entries_for(dest.id)[0].detail
    # The source's admins see that someone tried their token, and from where.
    assert "https://dest.atlassian.net" in audit.entries_for(source.id)[0].detail
    assert f"({spent})" in audit.entries_for(source.id)[0].detail


def test_each_refusal_says_how_many_attempts_are_left_before_the_lock(app, source, dest) -> None:
    app.config.update(ACTIVATION_MAX_FAILURES=3, ACTIVATION_WINDOW_MINUTES=15)
    lefts = []
    for _ in range(3):
        with pytest.raises(rc.ActivationRefused) as caught:
            rc.activate(dest, DEST_ADMIN, WRONG_TOKEN, SOURCE_URL)
        lefts.append(caught.value.attempts_left)
    assert lefts == [2, 1, 0]
    assert "1 attempt left before failed activations from this site are locked for 15 minutes" in \
        rc.ActivationRefused(attempts_left=1, window_minutes=15).message


def test_a_site_cannot_activate_its_own_token(source) -> None:
    issued = rc.generate_token(source, ADMIN)
    with pytest.raises(rc.ActivationRefused):
        rc.activate(source, ADMIN, issued.token, SOURCE_URL)
    assert "own token" in audit.entries_for(source.id)[0].detail


@pytest.mark.parametrize(("token", "url"), [("not a token", SOURCE_URL),
                                            ("JDR1-0000000000-00000000000000000000000000", "ftp://x.example")])
def test_malformed_input_says_precisely_what_is_wrong_and_is_not_throttled(dest, token, url) -> None:
    for _ in range(8):
        with pytest.raises(rc.InvalidActivationInput):
            rc.activate(dest, DEST_ADMIN, token, url)
    assert audit.entries_for(dest.id)[0].outcome == audit.INVALID


def test_repeated_failures_throttle_the_attempting_site(app, source, dest) -> None:
    app.config.update(ACTIVATION_MAX_FAILURES=3, ACTIVATION_WINDOW_MINUTES=10)
    issued = rc.generate_token(source, ADMIN)
    start = rc.utcnow()
    for i in range(3):
        with pytest.raises(rc.ActivationRefused):
            rc.activate(dest, DEST_ADMIN, issued.token, "https://wrong.example", now=start + timedelta(minutes=i))
    # A guess is not looked at now.
    with pytest.raises(rc.ActivationThrottled) as caught:
        rc.activate(dest, DEST_ADMIN, WRONG_TOKEN, SOURCE_URL, now=start + timedelta(minutes=3))
    assert caught.value.retry_minutes == 7
    assert "Try again in 7 minutes" in caught.value.message
    assert audit.entries_for(dest.id)[0].outcome == audit.THROTTLED
    assert rc.source_state(source) is St.PENDING
    # Once the oldest failure leaves the window, one more guess is checked.
    with pytest.raises(rc.ActivationRefused):
        rc.activate(dest, DEST_ADMIN, WRONG_TOKEN, SOURCE_URL, now=start + timedelta(minutes=10, seconds=1))


def test_a_lock_never_refuses_a_valid_token(app, source, dest) -> None:
    """Locked out by typos, is the admin stuck with a freshly generated, valid token? No: it verifies, it works."""
    app.config.update(ACTIVATION_MAX_FAILURES=3, ACTIVATION_WINDOW_MINUTES=15)
    for _ in range(3):
        with pytest.raises(rc.ActivationRefused):
            rc.activate(dest, DEST_ADMIN, WRONG_TOKEN, SOURCE_URL)
    with pytest.raises(rc.ActivationThrottled):
        rc.activate(dest, DEST_ADMIN, WRONG_TOKEN, SOURCE_URL)
    fresh = rc.generate_token(source, ADMIN)
    conn = rc.activate(dest, DEST_ADMIN, fresh.token, SOURCE_URL)
    assert conn.state is St.ACTIVE and conn.destination_tenant_id == dest.id
    assert _outcomes(dest.id)[0] == audit.SUCCEEDED


def test_default_throttle_is_5_failures_per_15_minutes(source, dest) -> None:
    for _ in range(5):
        with pytest.raises(rc.ActivationRefused):
            rc.activate(dest, DEST_ADMIN, "JDR1-0000000000-00000000000000000000000000", SOURCE_URL)
    with pytest.raises(rc.ActivationThrottled, match="Try again in 15 minutes"):
        rc.activate(dest, DEST_ADMIN, "JDR1-0000000000-00000000000000000000000000", SOURCE_URL)


def test_a_strangers_guesses_never_lock_the_real_connection(source, dest) -> None:
    """Can a stranger's guesses lock a connection? No: only the stranger is throttled."""
    issued = rc.generate_token(source, ADMIN)
    stranger = make_tenant("stranger")
    lookup_guess = issued.token[:16] + "0" * 26  # even with the real look-up id
    for _ in range(10):
        with pytest.raises((rc.ActivationRefused, rc.ActivationThrottled)):
            rc.activate(stranger, "557058:stranger", lookup_guess, SOURCE_URL)
    with pytest.raises(rc.ActivationThrottled):
        rc.activate(stranger, "557058:stranger", lookup_guess, SOURCE_URL)
    conn = rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    assert conn.state is St.ACTIVE and conn.destination_tenant_id == dest.id


def test_destinations_read_only_their_active_source(source, dest) -> None:
    other_source = make_tenant("other-source")
    rc.generate_token(other_source, ADMIN)
    issued = rc.generate_token(source, ADMIN)
    assert rc.active_source_for(dest) is None  # pending: nothing to read yet
    rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    assert rc.active_source_for(dest).id == source.id
    assert rc.active_source_for(other_source) is None and rc.active_source_for(source) is None
    rc.release(source, Side.SOURCE, ADMIN, issued.connection.id, reusable=True)
    assert rc.active_source_for(dest) is None


# -- concurrency ---------------------------------------------------------------------------------------------------

def _race(app, n: int, attempt) -> list[object]:
    """Run ``attempt(i)`` in ``n`` threads released together, each with its own app context and DB session."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[i] = attempt(i)
            except Exception as exc:
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_of_concurrent_activations_of_one_token_exactly_one_wins(app, source) -> None:
    issued = rc.generate_token(source, ADMIN)
    conn_id, token = issued.connection.id, issued.token
    dest_ids = [make_tenant(f"racer{i}").id for i in range(6)]
    db.session.remove()  # the racing threads must not share this session

    def attempt(i: int) -> int:
        dest = db.session.get(tenant_store.Tenant, dest_ids[i])
        return rc.activate(dest, f"admin-{i}", token, SOURCE_URL).destination_tenant_id

    results = _race(app, len(dest_ids), attempt)
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, rc.ActivationRefused)]
    assert len(winners) == 1 and len(losers) == len(dest_ids) - 1, results
    conn = db.session.get(RecoveryConnection, conn_id)
    assert conn.state is St.ACTIVE and conn.destination_tenant_id == winners[0] and conn.version == 2
    assert sum(rc.active_source_for(db.session.get(tenant_store.Tenant, d)) is not None for d in dest_ids) == 1


def test_concurrent_generates_make_one_live_connection(app, source) -> None:
    source_id = source.id
    db.session.remove()

    def attempt(i: int) -> int:
        return rc.generate_token(db.session.get(tenant_store.Tenant, source_id), ADMIN).connection.id

    results = _race(app, 4, attempt)
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert all(isinstance(r, (int, rc.TransitionRefused)) for r in results), results
    live = db.session.scalars(db.select(RecoveryConnection).where(
        RecoveryConnection.state != St.DEACTIVATED)).all()
    assert len(live) == 1


WRONG_TOKEN = "JDR1-0000000000-00000000000000000000000000"  # well formed, matches nothing: a real guess


def _outcomes(tenant_id: int) -> list[str]:
    return [e.outcome for e in audit.entries_for(tenant_id, limit=1000)]


def test_a_burst_of_parallel_guesses_checks_no_more_than_the_limit(app, source) -> None:
    """Can a site check more guesses than ACTIVATION_MAX_FAILURES by sending them all at once? No."""
    app.config.update(ACTIVATION_MAX_FAILURES=3)
    rc.generate_token(source, ADMIN)
    dest_id = make_tenant("burst").id
    db.session.remove()

    def attempt(i: int) -> object:
        return rc.activate(db.session.get(tenant_store.Tenant, dest_id), f"admin-{i}", WRONG_TOKEN, SOURCE_URL)

    results = _race(app, 20, attempt)
    assert all(isinstance(r, (rc.ActivationRefused, rc.ActivationThrottled)) for r in results), results
    outcomes = _outcomes(dest_id)
    assert outcomes.count(audit.REFUSED) == 3, outcomes
    assert outcomes.count(audit.THROTTLED) == 17 == sum(isinstance(r, rc.ActivationThrottled) for r in results)
    assert len(outcomes) == 20  # one entry per attempt, none left half-recorded


def test_a_burst_of_guesses_from_many_sites_stops_at_the_global_cap(app, source) -> None:
    """Can a botnet of freshly installed sites guess at scale? No: past a global cap every site waits."""
    app.config.update(ACTIVATION_MAX_FAILURES=5, ACTIVATION_GLOBAL_MAX_FAILURES=6)
    rc.generate_token(source, ADMIN)
    site_ids = [make_tenant(f"bot{i}").id for i in range(10)]
    db.session.remove()

    def attempt(i: int) -> object:
        site = db.session.get(tenant_store.Tenant, site_ids[i % len(site_ids)])
        return rc.activate(site, f"bot-{i}", WRONG_TOKEN, SOURCE_URL)

    results = _race(app, 20, attempt)
    assert all(isinstance(r, (rc.ActivationRefused, rc.ActivationThrottled)) for r in results), results
    refused = db.session.scalar(db.select(db.func.count(audit.AuditEntry.id)).where(
        audit.AuditEntry.outcome == audit.REFUSED, audit.AuditEntry.side == Side.DESTINATION.value))
    assert refused == 6
    assert sum(isinstance(r, rc.ActivationPaused) for r in results) == 14


def test_the_global_cap_is_a_temporary_service_wide_stop_that_says_so(app, source, dest) -> None:
    app.config.update(ACTIVATION_MAX_FAILURES=5, ACTIVATION_GLOBAL_MAX_FAILURES=4, ACTIVATION_WINDOW_MINUTES=10)
    issued = rc.generate_token(source, ADMIN)
    start = rc.utcnow()
    for i in range(4):  # four strangers, one guess each: none of them is locked out on its own
        with pytest.raises(rc.ActivationRefused):
            rc.activate(make_tenant(f"stranger{i}"), "x", WRONG_TOKEN, SOURCE_URL, now=start + timedelta(minutes=i))

    with pytest.raises(rc.ActivationPaused) as caught:
        rc.activate(dest, DEST_ADMIN, WRONG_TOKEN, SOURCE_URL, now=start + timedelta(minutes=4))
    assert isinstance(caught.value, rc.ActivationThrottled)  # the doors answer it as a throttle (429)
    assert caught.value.retry_minutes == 6
    words = caught.value.message
    assert "temporar" in words and "whole service" in words and "not because of this site" in words
    assert "Try again in 6 minutes" in words
    assert _outcomes(dest.id) == [audit.THROTTLED] and rc.source_state(source) is St.PENDING
    # A valid token is never stopped: the stop is against guessing.
    conn = rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL, now=start + timedelta(minutes=5))
    assert conn.state is St.ACTIVE


def test_a_strangers_lock_out_never_blocks_a_valid_token_from_another_site(app, source, dest) -> None:
    """Does a site that locked itself out stop anyone else? No: the per-site limit is per site."""
    app.config.update(ACTIVATION_MAX_FAILURES=2)
    issued = rc.generate_token(source, ADMIN)
    stranger = make_tenant("stranger")
    for _ in range(5):
        with pytest.raises((rc.ActivationRefused, rc.ActivationThrottled)):
            rc.activate(stranger, "557058:stranger", WRONG_TOKEN, SOURCE_URL)
    assert _outcomes(stranger.id).count(audit.REFUSED) == 2
    assert rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL).state is St.ACTIVE


def test_an_attempt_is_one_audit_entry_whatever_its_outcome(source, dest) -> None:
    issued = rc.generate_token(source, ADMIN)
    with pytest.raises(rc.InvalidActivationInput):
        rc.activate(dest, DEST_ADMIN, "not a token", SOURCE_URL)
    with pytest.raises(rc.ActivationRefused):
        rc.activate(dest, DEST_ADMIN, WRONG_TOKEN, SOURCE_URL)
    rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    with pytest.raises(rc.TransitionRefused):
        rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    assert _outcomes(dest.id) == [audit.NOT_ALLOWED, audit.SUCCEEDED, audit.REFUSED, audit.INVALID]
