"""Does the shared ledger hold every tenant and the app to their limits, and serve a restore before routine backups?"""

from __future__ import annotations

import random
import threading

import pytest

from app.quota.budget import QuotaBudget
from app.quota.ledger import APP_KEY, Grant, Limits, QuotaExhausted, Refusal
from app.quota.priorities import Priority, tenant_key

WINDOW = 3600


def test_a_draw_beyond_the_tenants_limit_is_refused_and_changes_nothing(ledger, clock) -> None:
    limits = Limits(tenant=10, app=None)
    assert isinstance(ledger.draw("tenant:1", Priority.RESTORE, 6, limits, clock(), WINDOW), Grant)
    refused = ledger.draw("tenant:1", Priority.RESTORE, 5, limits, clock(), WINDOW)
    assert refused == Refusal("tenant:1", "tenant")
    assert ledger.usage("tenant:1", clock(), WINDOW)[0] == 6
    assert isinstance(ledger.draw("tenant:2", Priority.RESTORE, 5, limits, clock(), WINDOW), Grant)  # its own
    clock.now += WINDOW  # the window turns: the spend starts again, as Jira's does at the top of the hour
    assert ledger.usage("tenant:1", clock(), WINDOW)[0] == 0
    assert isinstance(ledger.draw("tenant:1", Priority.RESTORE, 10, limits, clock(), WINDOW), Grant)


def test_a_settled_draw_counts_what_the_answer_cost(ledger, clock) -> None:
    grant = ledger.draw("tenant:1", Priority.RESTORE, 51, Limits(tenant=100, app=100), clock(), WINDOW)
    ledger.settle(grant, 7)  # a page asked for 50 objects and got 6
    assert ledger.usage("tenant:1", clock(), WINDOW)[0] == 7
    assert ledger.usage(APP_KEY, clock(), WINDOW)[0] == 7


def test_a_restore_draws_before_queued_scheduled_backups_of_other_sites(ledger, clock) -> None:
    """The app's window is nearly spent by fifty sites' scheduled backups; a restore still gets its points, and when
    it too has to wait, it goes first as the window turns."""
    budget = QuotaBudget(ledger, window=WINDOW, app_limit=100, clock=clock, sleep=clock.sleep)
    clock.now = (clock.now // WINDOW + 1) * WINDOW - 30  # thirty seconds before the top of the hour
    drawn = 0
    for site in range(50):
        try:
            budget.before(tenant_key(100 + site), Priority.SCHEDULED_BACKUP, 5, max_wait=0)
            drawn += 5
        except QuotaExhausted as exc:
            assert exc.reason.startswith("the app's points")
    assert drawn == 70  # the scheduled backups leave the last 30 % of the window to more urgent work
    for _ in range(6):
        budget.before(tenant_key(1), Priority.RESTORE, 5, max_wait=0)  # no wait: the reserve is the restore's
    with pytest.raises(QuotaExhausted):
        budget.before(tenant_key(1), Priority.RESTORE, 5, max_wait=0)  # the window is spent, for everyone
    clock.now += 29.5
    with pytest.raises(QuotaExhausted):  # the restore still waits (it asks again every quarter of a second) ...
        budget.before(tenant_key(1), Priority.RESTORE, 5, max_wait=0)
    clock.now += 1  # ... when the hour turns
    with pytest.raises(QuotaExhausted) as aside:
        budget.before(tenant_key(100), Priority.SCHEDULED_BACKUP, 5, max_wait=0)
    assert aside.value.reason == "more urgent work on another site goes first"
    assert budget.before(tenant_key(1), Priority.RESTORE, 5, max_wait=0) is not None
    clock.now += 3  # the restore no longer waits: the backups have the rest of the hour
    assert budget.before(tenant_key(100), Priority.SCHEDULED_BACKUP, 5, max_wait=0) is not None


def test_a_waiting_restore_is_served_when_the_window_turns(ledger, clock) -> None:
    budget = QuotaBudget(ledger, window=60, app_limit=10, clock=clock, sleep=clock.sleep)
    start = clock.now
    budget.before(tenant_key(1), Priority.RESTORE, 10, max_wait=0)
    assert budget.before(tenant_key(1), Priority.RESTORE, 5, max_wait=60) is not None
    assert 0 < clock.now - start <= 60  # it waited in place for the next window, not longer


def _hammer(ledger, keys: list[str], limits: Limits, clock, granted: dict[str, int], lock: threading.Lock,
            seed: int, errors: list[BaseException]) -> None:
    rng = random.Random(seed)
    try:
        for _ in range(60):
            key, points = rng.choice(keys), rng.randint(1, 4)
            result = ledger.draw(key, Priority.RESTORE, points, limits, clock(), WINDOW)
            if isinstance(result, Grant):
                with lock:
                    granted[key] = granted.get(key, 0) + points
    except BaseException as exc:  # the test fails on it below
        errors.append(exc)


def test_concurrent_threads_never_exceed_a_tenants_or_the_apps_limit(ledger, clock) -> None:
    keys = [tenant_key(n) for n in range(3)]
    limits = Limits(tenant=40, app=100)
    granted: dict[str, int] = {}
    lock = threading.Lock()
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_hammer, args=(ledger, keys, limits, clock, granted, lock, n, errors))
               for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert all(granted[k] <= 40 for k in keys), granted
    assert sum(granted.values()) <= 100
    assert sum(granted.values()) >= 100 - 3 * 4  # and it was really contended: the limits were reached
    assert ledger.usage(APP_KEY, clock(), WINDOW)[0] == sum(granted.values())
    assert [ledger.usage(k, clock(), WINDOW)[0] for k in keys] == [granted[k] for k in keys]


def test_a_free_worker_takes_the_restore_before_older_queued_backups(app) -> None:
    from app.extensions import db
    from app.jobs.runtime import enqueue
    from app.jobs.sweeper import stalled_jobs
    from app.tenants import Tenant

    with app.app_context():
        sites = [Tenant(client_key=f"ck-{n}", base_url=f"https://s{n}.atlassian.net", shared_secret_enc="x")
                 for n in range(4)]
        db.session.add_all(sites)
        db.session.commit()
        scheduled = [enqueue(t.id, "backup", {}, requested_by="schedule", dispatch=False)[0].id for t in sites[:3]]
        on_demand = enqueue(sites[3].id, "backup", {}, requested_by="acc-1", dispatch=False)[0].id
        restore = enqueue(sites[0].id, "restore", {"run_id": 1}, requested_by="acc-2", dispatch=False)[0].id
        assert stalled_jobs() == [restore, on_demand, *scheduled]
