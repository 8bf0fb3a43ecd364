"""Sharing one tenant's request budget between the types a backup reads side by side: a gate letting at most N
requests out at once, and a worker pool, both serving the most urgent type first.

Plain FIFO sharing starves the types everything else waits for: a type whose read is a few pages (the custom field
list, which the contexts' read needs) queued behind thousands of requests of a big type finished last. Here every
waiter carries its type's priority (lower first, FIFO within one), so the urgent chains go at full speed and the
other types fill the gaps they leave.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class PriorityGate:
    """At most ``limit`` holders at once; when one leaves, its slot goes straight to the waiter with the lowest
    priority number (FIFO within one). The hand-over wakes that waiter alone: waking every waiter to let the head
    through cost a context switch per waiter per request, which a backup's dozen readers turned into real CPU."""

    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self._free = max(1, limit)
        # Invariant: while anyone waits there is no free slot (release hands slots over instead of freeing them).
        self._waiting: list[tuple[int, int, threading.Event]] = []
        self._seq = itertools.count()

    def acquire(self, priority: int) -> None:
        with self._lock:
            if self._free > 0:
                self._free -= 1
                return
            ticket = threading.Event()
            heapq.heappush(self._waiting, (priority, next(self._seq), ticket))
        ticket.wait()  # set by release() once this waiter's turn comes; the slot is then already ours

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                heapq.heappop(self._waiting)[2].set()
            else:
                self._free += 1

    def hold(self, priority: int) -> _Held:
        """``with gate.hold(p): ...`` — one request's worth of the budget."""
        return _Held(self, priority)


class _Held:
    def __init__(self, gate: PriorityGate, priority: int) -> None:
        self.gate = gate
        self.priority = priority

    def __enter__(self) -> None:
        self.gate.acquire(self.priority)

    def __exit__(self, *exc: object) -> None:
        self.gate.release()


class PriorityPool:
    """A fixed set of worker threads running submitted calls in priority order (lower first, FIFO within one)."""

    def __init__(self, workers: int, initializer: Callable[[], None] | None = None, name: str = "lane") -> None:
        self._cond = threading.Condition()
        self._tasks: list[tuple[int, int, Future[Any], Callable[..., Any], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._closed = False
        self._initializer = initializer
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
                         for n in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, priority: int, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            heapq.heappush(self._tasks, (priority, next(self._seq), future, fn, args))
            self._cond.notify()
        return future

    def lane(self, priority: int) -> Lane:
        """A view submitting at one priority, with the ``submit(fn, *args)`` of an ``Executor``."""
        return Lane(self, priority)

    def shutdown(self) -> None:
        """Stop taking work, cancel what hasn't started, and wait for the workers to finish what has."""
        with self._cond:
            self._closed = True
            for _p, _s, future, _fn, _args in self._tasks:
                future.cancel()
            self._tasks.clear()
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> PriorityPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def _work(self) -> None:
        if self._initializer is not None:
            self._initializer()
        while True:
            with self._cond:
                while not self._tasks and not self._closed:
                    self._cond.wait()
                if not self._tasks:
                    return
                _p, _s, future, fn, args = heapq.heappop(self._tasks)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to whoever waits on the future, as an Executor does
                future.set_exception(exc)
            else:
                future.set_result(result)


class Lane:
    """One priority's door into a ``PriorityPool``."""

    def __init__(self, pool: PriorityPool, priority: int) -> None:
        self.pool = pool
        self.priority = priority

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        return self.pool.submit(self.priority, fn, *args)
