"""Pacing a restore's calls to Jira's burst limit: a token bucket shared by the run's workers, and a ``JiraAccess``
wrapper that takes a token before each request (the client still honours Retry-After when a 429 comes anyway).

Jira's hourly points are not this module's: every request draws them from the shared ledger in the Jira client
(``app.quota``), across runs, sites and processes, at the restore's priority. This bucket only smooths a run's
requests per second (``RESTORE_RATE_PER_SECOND``; 0, the default, leaves it off) against the per-endpoint burst
limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..jira.access import JiraAccess
from ..jira.operations import Operation


class TokenBucket:
    """``rate`` requests a second on average, bursts up to ``capacity``; ``acquire`` blocks until a token is free."""

    def __init__(self, rate: float, capacity: float | None = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.sleep = sleep
        self.updated = clock()
        self.lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting, for the benchmark

    def acquire(self) -> None:
        while True:
            with self.lock:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            self.waited += wait
            self.sleep(wait)


class PacedAccess:
    """A ``JiraAccess`` whose every request first takes a token from the bucket (a ``SiteAccess``, as it is)."""

    def __init__(self, access: JiraAccess, bucket: TokenBucket | None) -> None:
        self.inner = access
        self.bucket = bucket
        self.fix = access.fix

    def _take(self) -> None:
        if self.bucket is not None:
            self.bucket.acquire()

    def can_call(self, op: Operation) -> bool:
        return self.inner.can_call(op)

    def credential_for(self, op: Operation) -> Any:
        return self.inner.credential_for(op)

    def call(self, op: Operation, **kwargs: Any) -> Any:
        self._take()
        return self.inner.call(op, **kwargs)

    def paginate(self, op: Operation, **kwargs: Any) -> Iterator[Any]:
        # One token per page: the pages are requested lazily, so take a token each time a page begins.
        page_size = kwargs.get("page_size", 50)
        for n, item in enumerate(self.inner.paginate(op, **kwargs)):
            if n % page_size == 0:
                self._take()
            yield item

    @property
    def calls(self) -> int:
        return self.inner.calls

    @property
    def points(self) -> int:
        """Jira's points the requests cost (``JiraAccess.points``)."""
        return self.inner.points
