"""Quota fixtures: a real ledger on the suite's database (SQLite or PostgreSQL) or on Redis, and a clock to drive."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from app.extensions import db
from app.quota.ledger import RedisLedger, SqlLedger

REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/14"


class Clock:
    """A clock the test moves; sleeping moves it too (so a budget's wait costs no real time)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def redis_ledger() -> RedisLedger:
    from redis import Redis

    client = Redis.from_url(REDIS_URL)
    prefix = f"test-quota-{os.getpid()}-{id(client)}"
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    return RedisLedger(client, prefix=prefix)


@pytest.fixture(params=["database", "redis"])
def ledger(request, app) -> Iterator[SqlLedger | RedisLedger]:
    """The ledger on the suite's database, then on Redis."""
    if request.param == "redis":
        yield redis_ledger()
        return
    with app.app_context():
        yield SqlLedger(db.engine)
