"""Does the ledger hold across processes: limits never passed by several workers at once, and a worker killed with a
request in flight leaving its draw counted once (not lost, not twice)?"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
from typing import Any

import pytest
from sqlalchemy import create_engine

from app.extensions import db
from app.quota.ledger import APP_KEY, Grant, Limits, RedisLedger, SqlLedger
from app.quota.priorities import Priority, tenant_key
from tests.quota.conftest import REDIS_URL

WINDOW = 3600
NOW = 1_800_000_000.0


def _open(where: tuple[str, str]) -> SqlLedger | RedisLedger:
    kind, target = where
    if kind == "redis":
        from redis import Redis

        return RedisLedger(Redis.from_url(REDIS_URL), prefix=target)
    return SqlLedger(create_engine(target))


def _hammer(where: tuple[str, str], seed: int, out: Any) -> None:
    ledger = _open(where)
    rng = random.Random(seed)
    granted: dict[str, int] = {}
    for _ in range(40):
        key, points = tenant_key(rng.randint(0, 2)), rng.randint(1, 4)
        if isinstance(ledger.draw(key, Priority.RESTORE, points, Limits(tenant=40, app=100), NOW, WINDOW), Grant):
            granted[key] = granted.get(key, 0) + points
    out.put(granted)


def _killed_mid_request(where: tuple[str, str], ready: Any) -> None:
    """Four requests answered (drawn at 10, settled at 4), then a fifth drawn and in flight when the kill comes."""
    ledger = _open(where)
    limits = Limits(tenant=1000, app=1000)
    for _ in range(4):
        grant = ledger.draw(tenant_key(1), Priority.RESTORE, 10, limits, NOW, WINDOW)
        ledger.settle(grant, 4)
    ledger.draw(tenant_key(1), Priority.RESTORE, 10, limits, NOW, WINDOW)
    ready.set()
    signal.pause()  # the request is in flight


@pytest.fixture(params=["database", "redis"])
def where(request, app) -> tuple[str, str]:
    """Where the child processes find the ledger: this test's database, or a fresh prefix on Redis."""
    if request.param == "redis":
        from redis import Redis

        prefix = f"test-quota-proc-{os.getpid()}-{random.random()}"
        for key in Redis.from_url(REDIS_URL).scan_iter(f"{prefix}:*"):
            Redis.from_url(REDIS_URL).delete(key)
        return "redis", prefix
    with app.app_context():
        return "database", db.engine.url.render_as_string(hide_password=False)


def test_worker_processes_never_exceed_a_tenants_or_the_apps_limit(where) -> None:
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    workers = [spawn.Process(target=_hammer, args=(where, n, out)) for n in range(3)]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    granted = {k: sum(r.get(k, 0) for r in results) for k in {k for r in results for k in r}}
    assert all(points <= 40 for points in granted.values()), granted
    assert 100 - 3 * 4 <= sum(granted.values()) <= 100, granted  # contended up to the app's limit, never past it
    ledger = _open(where)
    assert ledger.usage(APP_KEY, NOW, WINDOW)[0] == sum(granted.values())


def test_a_killed_workers_in_flight_draw_is_counted_once(where) -> None:
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Event()
    worker = spawn.Process(target=_killed_mid_request, args=(where, ready))
    worker.start()
    assert ready.wait(120)
    os.kill(worker.pid, signal.SIGKILL)
    worker.join(timeout=30)
    ledger = _open(where)
    assert ledger.usage(tenant_key(1), NOW, WINDOW)[0] == 4 * 4 + 10  # the in-flight draw stands at its estimate
    # the job's next worker carries on drawing from the same count: nothing replayed, nothing lost
    grant = ledger.draw(tenant_key(1), Priority.RESTORE, 3, Limits(tenant=1000, app=1000), NOW, WINDOW)
    assert isinstance(grant, Grant)
    assert ledger.usage(tenant_key(1), NOW, WINDOW)[0] == 29
    assert ledger.usage(APP_KEY, NOW, WINDOW)[0] == 29
    assert ledger.total(APP_KEY) == ledger.total(tenant_key(1)) == 29
