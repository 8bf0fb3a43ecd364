"""The budget a Jira client draws from before each request: the configured limits, the wait, the ledger behind it.

``before`` draws an estimate (waiting in place while the wait is short, else ``QuotaExhausted`` so the job requeues
itself); ``after`` corrects the draw by what the answer actually cost and learns the limits Jira advertises. When no
limit applies to a draw there is nothing to refuse: its points are added to the ledger in batches (once a second),
so counting costs no round trip per request.

A site's limit is the configured one (``QUOTA_TENANT_POINTS``) or, by default, the one Jira advertises in its answers
(``Beta-RateLimit-Policy``). A learned limit is kept in the ledger, so every worker holds the site to it (each re-reads
it every ``LEARNED_REFRESH_SECONDS``), and it is never trusted blindly: a policy for another window, a number too
large to be a quota or not a number at all is ignored, and a limit below ``QUOTA_LEARNED_FLOOR`` is held at the floor
(a header saying 1 point an hour would otherwise stop every job on the site; Jira's own 429s still apply).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context

from .ledger import DEFAULT_CLOCK, Grant, Ledger, Limits, QuotaExhausted, RedisLedger, SqlLedger, window_start
from .priorities import Priority

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 3600
DEFAULT_RESERVES = {Priority.RESTORE: 0.0, Priority.INTERACTIVE: 0.0, Priority.ON_DEMAND_BACKUP: 0.1,
                    Priority.SCHEDULED_BACKUP: 0.3}
EXTENSION = "quota_budget"
_NUMBER = re.compile(r"[0-9]{1,10}")  # ASCII digits only, and no more than a quota can be (the ledger's column)
MAX_LEARNED = 2**31 - 1
DEFAULT_LEARNED_FLOOR = 10_000  # points per window: a tenth of the 100,100 Jira advertised on real sites in 2026
LEARNED_REFRESH_SECONDS = 30.0  # how often a worker re-reads the limits other workers learned (one read per site)
REFUSALS = {"tenant": "this site's points for the window are spent",
            "app": "the app's points for the window (all sites together) are spent",
            "priority": "more urgent work on another site goes first"}


class QuotaBudget:
    """Limits and waiting in front of a ``Ledger``. One per app (``budget_for``); safe from every thread."""

    def __init__(self, ledger: Ledger, *, window: int = DEFAULT_WINDOW, tenant_limit: int | None = None,
                 app_limit: int | None = None, reserves: dict[Priority, float] | None = None,
                 enforce_learned: bool = True, learned_floor: int = DEFAULT_LEARNED_FLOOR,
                 clock: Callable[[], float] = DEFAULT_CLOCK,
                 sleep: Callable[[float], None] = time.sleep, poll: float = 0.25, flush_seconds: float = 1.0) -> None:
        self.ledger = ledger
        self.window = window
        self.tenant_limit = tenant_limit
        self.app_limit = app_limit
        self.reserves = {**DEFAULT_RESERVES, **(reserves or {})}
        self.enforce_learned = enforce_learned
        self.learned_floor = learned_floor
        self.clock = clock
        self.sleep = sleep
        self.poll = poll
        self.flush_seconds = flush_seconds
        self.learned: dict[str, int] = {}  # what Jira advertised per key, as this worker last knew it
        self._learned_read: dict[str, float] = {}  # when each key's learned limit was last read from the ledger
        self._costs: dict[str, int] = {}  # what each endpoint cost last time: the next read's estimate
        self._pending: Counter[str] = Counter()
        self._flushed = clock()
        self._lock = threading.Lock()

    # -- limits ------------------------------------------------------------------------------------------------

    def limits_for(self, key: str, priority: Priority) -> Limits:
        tenant = self.tenant_limit or (self.learned_limit(key) if self.enforce_learned else None)
        return Limits(tenant=tenant or None, app=self.app_limit or None, reserve=self.reserves.get(priority, 0.0))

    def learned_limit(self, key: str) -> int | None:
        """The limit Jira advertised for ``key``, learned by any worker, held at the floor (None: never advertised)."""
        learned = self._shared_learned(key)
        return None if learned is None else max(learned, self.learned_floor)

    def _shared_learned(self, key: str) -> int | None:
        """What this worker knows, re-read from the ledger when older than ``LEARNED_REFRESH_SECONDS``."""
        now = self.clock()
        with self._lock:
            if now - self._learned_read.get(key, -LEARNED_REFRESH_SECONDS) < LEARNED_REFRESH_SECONDS:
                return self.learned.get(key)
            self._learned_read[key] = now
        try:
            shared = self.ledger.usage(key, now, self.window)[1]
        except Exception:  # the limit stays as this worker knew it; the next refresh tries again
            log.warning("quota: could not read the limit learned for %s", key, exc_info=True)
            shared = None
        with self._lock:
            if shared is not None and 0 < shared <= MAX_LEARNED:
                self.learned[key] = shared
            return self.learned.get(key)

    def learn(self, key: str, limit: int, window: int) -> None:
        """Jira said this site's quota is ``limit`` points per ``window`` seconds: kept in the ledger for every
        worker. A limit for another window than ours, or outside 1..``MAX_LEARNED``, is not a quota we can hold a
        site to: ignored."""
        if window != self.window or not 0 < limit <= MAX_LEARNED:
            log.warning("quota: ignored an advertised limit for %s: expected 1..%s points per %s s, got %s per %s s",
                        key, MAX_LEARNED, self.window, limit, window)
            return
        with self._lock:
            if self.learned.get(key) == limit:
                return
            self.learned[key] = limit
            self._learned_read[key] = self.clock()
        try:
            self.ledger.learn(key, limit, window)
        except Exception:  # learning is a courtesy: never fail a request over it
            log.warning("quota: could not record the limit learned for %s", key, exc_info=True)

    def learn_from_headers(self, key: str, headers: Any) -> None:
        """Read ``Beta-RateLimit-Policy: "tenant-app-quota";q=N;w=S`` (and a quota 429's ``X-RateLimit-Limit``)."""
        if headers is None:
            return
        advertised = advertised_quota(headers.get("Beta-RateLimit-Policy") or "")
        if advertised is not None:
            self.learn(key, *advertised)
        elif "quota" in (headers.get("RateLimit-Reason") or "") and _NUMBER.fullmatch(
                headers.get("X-RateLimit-Limit") or ""):
            self.learn(key, int(headers["X-RateLimit-Limit"]), self.window)

    # -- estimates ---------------------------------------------------------------------------------------------

    def last_cost(self, endpoint: str) -> int | None:
        return self._costs.get(endpoint)

    def remember_cost(self, endpoint: str, points: int) -> None:
        self._costs[endpoint] = points

    # -- drawing -----------------------------------------------------------------------------------------------

    def before(self, key: str, priority: Priority, points: int, max_wait: float) -> Grant | None:
        """Draw ``points`` for one request; None when no limit applies (``after`` counts it).

        :raises QuotaExhausted: the points won't be there within ``max_wait`` seconds.
        """
        limits = self.limits_for(key, priority)
        if limits.tenant is None and limits.app is None:
            return None
        waited = 0.0
        while True:
            now = self.clock()
            result = self.ledger.draw(key, priority, points, limits, now, self.window)
            if isinstance(result, Grant):
                return result
            to_window_end = window_start(now, self.window) + self.window - now
            pause = self.poll if result.reason == "priority" else min(self.poll, max(to_window_end, 0.01))
            if waited + pause > max_wait:
                retry = self.poll if result.reason == "priority" else to_window_end
                raise QuotaExhausted(result.key, REFUSALS[result.reason], max(retry, 0.01))
            if result.reason != "priority" and to_window_end > max_wait:
                raise QuotaExhausted(result.key, REFUSALS[result.reason], to_window_end)
            self.sleep(pause)
            waited += pause

    def after(self, grant: Grant | None, key: str, actual: int) -> None:
        """Correct a draw by what the answer cost (or count an undrawn request's points)."""
        if grant is not None:
            self.ledger.settle(grant, actual)
            return
        if actual <= 0:
            return
        with self._lock:
            self._pending[key] += actual
            due = self.clock() - self._flushed >= self.flush_seconds
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the batched points of undrawn requests to the ledger."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
            self._flushed = self.clock()
        for key, points in pending.items():
            try:
                self.ledger.add(key, points, self.clock(), self.window)
            except Exception:
                log.warning("quota: could not record %s points for %s", points, key, exc_info=True)

    def usage(self, key: str) -> tuple[int, int | None]:
        """Points spent in the current window by ``key`` and the limit that applies to it (configured or learned,
        held at the floor)."""
        used, _ = self.ledger.usage(key, self.clock(), self.window)
        return used, self.tenant_limit or self.learned_limit(key)


def advertised_quota(policy: str) -> tuple[int, int] | None:
    """``(q, w)`` of the quota policy in a ``Beta-RateLimit-Policy`` value (``"tenant-app-quota";q=N;w=S``, one of
    several comma-separated policies); None when there is none or its numbers aren't plain numbers."""
    for item in policy.split(","):
        name, _, params = item.strip().partition(";")
        if "quota" not in name.strip().strip('"'):
            continue  # a burst or other policy: not the hourly quota
        values = {k.strip(): v.strip() for k, _, v in (part.partition("=") for part in params.split(";"))}
        q, w = values.get("q", ""), values.get("w", "")
        if _NUMBER.fullmatch(q) and _NUMBER.fullmatch(w):
            return int(q), int(w)
    return None


def _reserve(app: Flask, name: str, default: float) -> float:
    value = float(app.config.get(name, default))
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be at least 0 and below 1, got {value}")
    return value


def _floor(app: Flask) -> int:
    value = int(app.config.get("QUOTA_LEARNED_FLOOR", DEFAULT_LEARNED_FLOOR))
    if value < 1:
        raise ValueError(f"QUOTA_LEARNED_FLOOR must be at least 1 point, got {value}")
    return value


def make_ledger(app: Flask) -> Ledger:
    """Redis when ``QUOTA_REDIS_URL`` is set (or ``QUOTA_LEDGER=redis`` with ``REDIS_URL``), else the database."""
    from ..extensions import db

    redis_url = app.config.get("QUOTA_REDIS_URL") or (
        app.config.get("REDIS_URL") if app.config.get("QUOTA_LEDGER") == "redis" else None)
    if redis_url:
        from redis import Redis

        return RedisLedger(Redis.from_url(redis_url))
    with app.app_context():
        return SqlLedger(db.engine)


def build_budget(app: Flask, **overrides: Any) -> QuotaBudget:
    """A budget from the app's ``QUOTA_*`` settings (see the README's table); ``overrides`` for tests and benches."""
    settings: dict[str, Any] = {
        "window": int(app.config.get("QUOTA_WINDOW_SECONDS", DEFAULT_WINDOW)),
        "tenant_limit": int(app.config.get("QUOTA_TENANT_POINTS", 0)) or None,
        "app_limit": int(app.config.get("QUOTA_APP_POINTS", 0)) or None,
        "enforce_learned": bool(int(app.config.get("QUOTA_ENFORCE_LEARNED", 1))),
        "learned_floor": _floor(app),
        "reserves": {Priority.ON_DEMAND_BACKUP: _reserve(app, "QUOTA_RESERVE_ON_DEMAND", 0.1),
                     Priority.SCHEDULED_BACKUP: _reserve(app, "QUOTA_RESERVE_SCHEDULED", 0.3)},
    }
    settings.update(overrides)
    ledger = settings.pop("ledger", None) or make_ledger(app)
    return QuotaBudget(ledger, **settings)


def budget_for(app: Flask) -> QuotaBudget | None:
    """The app's budget, built on first use (None when ``QUOTA_LEDGER=off``)."""
    if app.config.get("QUOTA_LEDGER") == "off":
        return None
    budget = app.extensions.get(EXTENSION)
    if budget is None:
        budget = app.extensions.setdefault(EXTENSION, build_budget(app))
    return budget


def current_budget() -> QuotaBudget | None:
    """The budget of the app whose context is active (None outside one: a bare client counts nothing)."""
    if not has_app_context():
        return None
    return budget_for(current_app._get_current_object())  # type: ignore[attr-defined]
