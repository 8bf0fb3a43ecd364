"""Do the backup's shared gate and pool bound the requests and serve the most urgent type first?"""

from __future__ import annotations

import threading
import time

import pytest

from app.backups.lanes import PriorityGate, PriorityPool


def test_the_gate_never_lets_more_than_its_limit_through() -> None:
    gate = PriorityGate(3)
    lock = threading.Lock()
    inside = {"now": 0, "max": 0}

    def work(priority: int) -> None:
        with gate.hold(priority):
            with lock:
                inside["now"] += 1
                inside["max"] = max(inside["max"], inside["now"])
            time.sleep(0.005)
            with lock:
                inside["now"] -= 1

    threads = [threading.Thread(target=work, args=(n % 4,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inside["max"] == 3 and inside["now"] == 0


def test_the_gate_serves_waiters_by_priority_then_arrival() -> None:
    gate = PriorityGate(1)
    gate.acquire(0)  # held: everyone below queues
    order: list[str] = []
    threads = []
    for name, priority in [("late-low", 5), ("urgent", 0), ("mid", 2), ("urgent-2", 0)]:
        t = threading.Thread(target=lambda n=name, p=priority: (gate.acquire(p), order.append(n), gate.release()))
        t.start()
        threads.append(t)
        time.sleep(0.02)  # arrival order is the list's order
    gate.release()
    for t in threads:
        t.join()
    assert order == ["urgent", "urgent-2", "mid", "late-low"]


def test_the_pool_runs_queued_work_by_priority_and_hands_errors_to_the_future() -> None:
    started = threading.Event()
    release = threading.Event()
    order: list[int] = []
    with PriorityPool(1) as pool:
        blocker = pool.submit(0, lambda: (started.set(), release.wait(5)))
        started.wait(5)
        futures = [pool.lane(p).submit(order.append, p) for p in (3, 1, 2)]
        failing = pool.submit(9, lambda: 1 / 0)
        release.set()
        blocker.result(5)
        for f in futures:
            f.result(5)
        with pytest.raises(ZeroDivisionError):
            failing.result(5)
    assert order == [1, 2, 3]


def test_a_shut_down_pool_cancels_what_had_not_started_and_refuses_more() -> None:
    release = threading.Event()
    pool = PriorityPool(1)
    running = pool.submit(0, release.wait, 5)
    time.sleep(0.05)  # the one worker is busy with it
    waiting = pool.submit(1, lambda: "never")
    closer = threading.Thread(target=pool.shutdown)
    closer.start()
    time.sleep(0.05)  # shutdown has cancelled the queue and now waits for the running call
    release.set()
    closer.join(5)
    assert running.result(5) is True and waiting.cancelled()
    with pytest.raises(RuntimeError):
        pool.submit(0, lambda: None)
