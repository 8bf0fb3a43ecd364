"""The shared ledger every web process and worker draws Jira's points from: a tenant's budget and the app's, per window.

One draw is atomic across processes and machines: on PostgreSQL the two rows (tenant, app) are locked in key order
and updated in one transaction; on SQLite (embedded mode, one process) an in-process lock serialises draws over the
same table; on Redis one Lua script checks and adds. A draw is recorded before the request is sent and corrected by
its actual cost when the answer comes (``settle``), so a worker killed mid-request leaves its last draw counted at
the estimate: never lost, never counted twice.

Limits are per window, aligned to the clock as Jira's are (the top of the hour). A draw at priority ``p`` may bring a
row's spend up to ``limit * (1 - reserve[p])``: the reserves keep the end of every window for the more urgent work.
A draw a row's limit refuses marks the row "urgent at p" for a moment; less urgent draws stand aside meanwhile, so a
waiting restore goes first when the window turns.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import case, create_engine, select, update
from sqlalchemy.engine import Connection, Engine

from .models import APP_KEY, QuotaCounter
from .priorities import Priority

URGENT_SECONDS = 2.0  # how long a refused draw's urgency holds less urgent draws back (renewed while it waits)


class QuotaError(Exception):
    """The family of the quota's errors."""


class QuotaExhausted(QuotaError):
    """No points are left for this draw before ``retry_after`` seconds (the window's end, or a more urgent waiter)."""

    def __init__(self, key: str, reason: str, retry_after: float) -> None:
        self.key = key
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"{key}: {reason}; retry after {retry_after:.0f} s")


@dataclass(frozen=True)
class Limits:
    """The limits one draw is held to (None: unlimited) and the reserve its priority leaves to more urgent work."""

    tenant: int | None
    app: int | None
    reserve: float = 0.0

    def ceiling(self, limit: int | None) -> float | None:
        return None if limit is None else limit * (1.0 - self.reserve)


@dataclass(frozen=True)
class Grant:
    """A draw the ledger accepted: what was drawn, from which rows and window (``settle`` corrects the same ones)."""

    keys: tuple[str, ...]
    window_start: int
    points: int


@dataclass(frozen=True)
class Refusal:
    """Why a draw was refused: ``tenant`` or ``app`` (limit reached) or ``priority`` (a more urgent draw waits)."""

    key: str
    reason: str


class Ledger(Protocol):
    """Where draws are recorded; shared by every process that calls Jira for the app."""

    def draw(self, key: str, priority: Priority, points: int, limits: Limits, now: float, window: int
             ) -> Grant | Refusal: ...

    def settle(self, grant: Grant, actual: int) -> None: ...

    def add(self, key: str, points: int, now: float, window: int) -> None: ...

    def learn(self, key: str, limit: int, window: int) -> None: ...

    def usage(self, key: str, now: float, window: int) -> tuple[int, int | None]: ...

    def total(self, key: str) -> int: ...


def window_start(now: float, window: int) -> int:
    """The start of the window ``now`` falls in (windows are aligned to the clock, as Jira's are)."""
    return int(math.floor(now / window) * window)


def _fits(used: int, points: int, ceiling: float | None) -> bool:
    """Whether ``points`` more stay under ``ceiling``; the first draw of a window always fits (a read estimated
    above the whole limit would otherwise wait forever)."""
    return ceiling is None or used == 0 or used + points <= ceiling


# -- PostgreSQL / SQLite ------------------------------------------------------------------------------------------

class SqlLedger:
    """The ledger as rows of ``quota_ledger`` in the app's database.

    PostgreSQL: ``SELECT ... FOR UPDATE`` on the rows in key order, then the updates, in one transaction. SQLite: an
    engine of the ledger's own whose transactions begin ``IMMEDIATE`` (the file's write lock taken before reading, so
    two processes never both read the old spend), plus an in-process lock so this process's threads queue politely.
    """

    def __init__(self, engine: Engine) -> None:
        self.sqlite = engine.dialect.name == "sqlite"
        self.engine = engine
        if self.sqlite:
            self.engine = create_engine(engine.url, connect_args={"isolation_level": None, "timeout": 30})
        self._local = threading.Lock()
        self._known: set[str] = set()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        if not self.sqlite:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._local, self.engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    def _ensure(self, conn: Connection, keys: tuple[str, ...]) -> None:
        """Create the rows missing (another drawer may be creating them too: its row stands). Keys count as known
        once the transaction that saw them committed (``_committed``), never before another thread can see them."""
        missing = [k for k in keys if k not in self._known]
        if not missing:
            return
        if self.sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        conn.execute(insert(QuotaCounter).values([{"key": k, "window_start": 0, "used": 0, "total": 0}
                                                  for k in missing])
                     .on_conflict_do_nothing(index_elements=["key"]))

    def _locked_rows(self, conn: Connection, keys: tuple[str, ...]) -> dict[str, Any]:
        query = select(QuotaCounter.__table__).where(QuotaCounter.key.in_(keys)).order_by(QuotaCounter.key)
        if not self.sqlite:
            query = query.with_for_update()  # row locks, always taken in key order: no deadlock between drawers
        return {row.key: row for row in conn.execute(query)}

    def draw(self, key: str, priority: Priority, points: int, limits: Limits, now: float, window: int
             ) -> Grant | Refusal:
        start = window_start(now, window)
        keys = tuple(sorted({key, APP_KEY}))
        with self._transaction() as conn:
            self._ensure(conn, keys)
            rows = self._locked_rows(conn, keys)
            used = {k: (rows[k].used if rows[k].window_start == start else 0) for k in keys}
            refusal = self._refusal(conn, key, rows, used, priority, points, limits, now)
            if refusal is None:
                for row_key in keys:
                    conn.execute(update(QuotaCounter).where(QuotaCounter.key == row_key)
                                 .values(window_start=start, used=used[row_key] + points,
                                         total=QuotaCounter.total + points))
        self._known.update(keys)
        return refusal or Grant(keys, start, points)

    def _refusal(self, conn: Connection, key: str, rows: dict[str, Any], used: dict[str, int], priority: Priority,
                 points: int, limits: Limits, now: float) -> Refusal | None:
        """Why this draw can't be served now (None: it can): a more urgent waiter, or a limit it would pass."""
        app = rows[APP_KEY]
        if (app.urgent_priority is not None and app.urgent_until is not None and app.urgent_until > now
                and app.urgent_priority < priority):
            return Refusal(APP_KEY, "priority")
        for row_key, limit, reason in ((key, limits.tenant, "tenant"), (APP_KEY, limits.app, "app")):
            if not _fits(used[row_key], points, limits.ceiling(limit)):
                self._mark_urgent(conn, row_key, rows[row_key], priority, now)
                return Refusal(row_key, reason)
        return None

    def _mark_urgent(self, conn: Connection, key: str, row: Any, priority: Priority, now: float) -> None:
        """Say that ``priority`` waits on the app's limit (a tenant's own limit holds back that tenant alone)."""
        if key != APP_KEY:
            return
        current = row.urgent_priority if (row.urgent_until or 0) > now else None
        if current is None or priority <= current:
            conn.execute(update(QuotaCounter).where(QuotaCounter.key == key)
                         .values(urgent_priority=int(priority), urgent_until=now + URGENT_SECONDS))

    def settle(self, grant: Grant, actual: int) -> None:
        delta = actual - grant.points
        if delta == 0:
            return
        with self._transaction() as conn:
            for key in sorted(grant.keys):  # one row at a time, in key order as draws lock them: no deadlock
                conn.execute(update(QuotaCounter).where(QuotaCounter.key == key)
                             .values(used=case((QuotaCounter.window_start == grant.window_start,
                                                QuotaCounter.used + delta), else_=QuotaCounter.used),
                                     total=QuotaCounter.total + delta))

    def add(self, key: str, points: int, now: float, window: int) -> None:
        """Record ``points`` already spent (no limit to check), rolling the window when it turned."""
        start = window_start(now, window)
        keys = tuple(sorted({key, APP_KEY}))
        with self._transaction() as conn:
            self._ensure(conn, keys)
            rows = self._locked_rows(conn, keys)
            for row_key in keys:
                used = rows[row_key].used if rows[row_key].window_start == start else 0
                conn.execute(update(QuotaCounter).where(QuotaCounter.key == row_key)
                             .values(window_start=start, used=used + points, total=QuotaCounter.total + points))
        self._known.update(keys)

    def learn(self, key: str, limit: int, window: int) -> None:
        with self._transaction() as conn:
            self._ensure(conn, (key,))
            conn.execute(update(QuotaCounter).where(QuotaCounter.key == key)
                         .values(learned_limit=limit, learned_window=window))
        self._known.add(key)

    def usage(self, key: str, now: float, window: int) -> tuple[int, int | None]:
        """Points spent in the current window and the limit Jira advertised (None: never said)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(QuotaCounter.__table__).where(QuotaCounter.key == key)).first()
        if row is None:
            return 0, None
        return (row.used if row.window_start == window_start(now, window) else 0), row.learned_limit

    def total(self, key: str) -> int:
        """Points ever drawn by ``key`` (each draw settled at its actual cost)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(QuotaCounter.total).where(QuotaCounter.key == key)).scalar() or 0)


# -- Redis -------------------------------------------------------------------------------------------------------

# KEYS: tenant counter, app counter, urgency hash, tenant total, app total. ARGV: points, tenant ceiling, app
# ceiling (-1: none), priority, now, urgent seconds, counter TTL. Answers {1}, or {0, "tenant"|"app"|"priority"}.
_DRAW = """
local points = tonumber(ARGV[1])
local ceilings = {tonumber(ARGV[2]), tonumber(ARGV[3])}
local priority = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
for p = 0, priority - 1 do
  local until_ = tonumber(redis.call('HGET', KEYS[3], tostring(p)) or '0')
  if until_ > now then return {0, 'priority'} end
end
local reasons = {'tenant', 'app'}
for i = 1, 2 do
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  if ceilings[i] >= 0 and used > 0 and used + points > ceilings[i] then
    if i == 2 then redis.call('HSET', KEYS[3], tostring(priority), tostring(now + tonumber(ARGV[6]))) end
    return {0, reasons[i]}
  end
end
for i = 1, 2 do
  redis.call('INCRBY', KEYS[i], points)
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[7]))
  redis.call('INCRBY', KEYS[i + 3], points)
end
return {1}
"""


class RedisLedger:
    """The ledger on Redis: a counter per budget and window (expiring after two windows), checked by one script."""

    def __init__(self, redis: Any, prefix: str = "jiradr:quota") -> None:
        self.redis = redis
        self.prefix = prefix
        self._draw = redis.register_script(_DRAW)

    def _counter(self, key: str, start: int) -> str:
        return f"{self.prefix}:{key}:{start}"

    def _total(self, key: str) -> str:
        return f"{self.prefix}:{key}:total"

    def draw(self, key: str, priority: Priority, points: int, limits: Limits, now: float, window: int
             ) -> Grant | Refusal:
        start = window_start(now, window)
        keys = [self._counter(key, start), self._counter(APP_KEY, start), f"{self.prefix}:urgent",
                self._total(key), self._total(APP_KEY)]
        ceilings = [limits.ceiling(limits.tenant), limits.ceiling(limits.app)]
        answer = self._draw(keys=keys, args=[points, *(-1 if c is None else c for c in ceilings), int(priority),
                                             now, URGENT_SECONDS, 2 * window])
        if int(answer[0]) == 1:
            return Grant(tuple(sorted({key, APP_KEY})), start, points)
        reason = answer[1].decode() if isinstance(answer[1], bytes) else str(answer[1])
        return Refusal(APP_KEY if reason != "tenant" else key, reason)

    def settle(self, grant: Grant, actual: int) -> None:
        delta = actual - grant.points
        if delta:
            pipe = self.redis.pipeline(transaction=True)
            for key in grant.keys:
                pipe.incrby(self._counter(key, grant.window_start), delta)
                pipe.incrby(self._total(key), delta)
            pipe.execute()

    def add(self, key: str, points: int, now: float, window: int) -> None:
        start = window_start(now, window)
        pipe = self.redis.pipeline(transaction=True)
        for row_key in sorted({key, APP_KEY}):
            pipe.incrby(self._counter(row_key, start), points)
            pipe.expire(self._counter(row_key, start), 2 * window)
            pipe.incrby(self._total(row_key), points)
        pipe.execute()

    def learn(self, key: str, limit: int, window: int) -> None:
        self.redis.hset(f"{self.prefix}:learned", key, f"{limit},{window}")

    def usage(self, key: str, now: float, window: int) -> tuple[int, int | None]:
        used = int(self.redis.get(self._counter(key, window_start(now, window))) or 0)
        learned = self.redis.hget(f"{self.prefix}:learned", key)
        limit = int(learned.decode().split(",")[0]) if learned else None
        return used, limit

    def total(self, key: str) -> int:
        return int(self.redis.get(self._total(key)) or 0)


Clock = Callable[[], float]
DEFAULT_CLOCK: Clock = time.time
