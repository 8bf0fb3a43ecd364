"""Hands job ids to something that runs them: in-process threads by default, RQ on Redis when REDIS_URL is set.

Either way the database row is the truth: a lost message only delays a job, since the sweeper re-dispatches
queued jobs that nobody claimed and running jobs whose worker stopped heart-beating.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app

log = logging.getLogger(__name__)

RQ_QUEUE = "jira-dr"


class InProcessDispatcher:
    """Runs jobs on a small thread pool inside the web process (the embedded default: no other server)."""

    def __init__(self, app: Flask, threads: int) -> None:
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="job")
        self._inflight: set[str] = set()
        self._lock = threading.Lock()

    def send(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._inflight:
                return
            self._inflight.add(job_id)
        self.pool.submit(self._run, job_id)

    def _run(self, job_id: str) -> None:
        from .runtime import run_job

        try:
            with self.app.app_context():
                run_job(job_id)
        except Exception:  # a crash here would be silent in a thread pool
            log.exception("in-process job runner failed for %s", job_id)
        finally:
            with self._lock:
                self._inflight.discard(job_id)


class RQDispatcher:
    """Puts job ids on an RQ queue; ``flask --app app worker`` runs them."""

    def __init__(self, redis_url: str) -> None:
        from redis import Redis
        from rq import Queue

        self.queue = Queue(RQ_QUEUE, connection=Redis.from_url(redis_url))

    def send(self, job_id: str) -> None:
        self.queue.enqueue("app.jobs.dispatch.rq_entry", job_id, job_id=f"job-{job_id}-{_nonce()}",
                           job_timeout=6 * 3600, result_ttl=0, failure_ttl=24 * 3600)


class ManualDispatcher:
    """Keeps ids for someone else to run (tests that drive jobs step by step)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, job_id: str) -> None:
        self.sent.append(job_id)


def _nonce() -> str:
    import uuid

    return uuid.uuid4().hex[:8]


def init_app(app: Flask) -> None:
    mode = app.config.get("JOBS_MODE") or ("rq" if app.config.get("REDIS_URL") else "thread")
    app.config["JOBS_MODE"] = mode
    dispatcher: Any
    if mode == "rq":
        dispatcher = RQDispatcher(app.config["REDIS_URL"])
    elif mode == "manual":
        dispatcher = ManualDispatcher()
    else:
        dispatcher = InProcessDispatcher(app, app.config.get("JOB_THREADS", 2))
    app.extensions["job_dispatcher"] = dispatcher


def dispatch(job_id: str) -> None:
    current_app.extensions["job_dispatcher"].send(job_id)


_worker_app: Flask | None = None


def rq_entry(job_id: str) -> str | None:
    """What the RQ worker runs: the app is built once per worker process."""
    global _worker_app
    from .runtime import run_job

    if _worker_app is None:
        from .. import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        return run_job(job_id)
