"""Reads of the destination a restore run pays for once: the preview's answers replayed by the restore that follows
it while they are recent, and a run that writes nothing verified from the answers its planning read.

Why: since 2026 Jira charges reads per object returned, and a full site's read costs about an hour of quota. Before,
a second identical run read the whole destination three times (preview, the restore's planning, verification).
What is replayed is still Jira's answer about the destination (never the restore's id map), read within
``PREVIEW_FRESH_SECONDS`` of the restore and with no write of ours in between.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ..clock import utcnow
from ..extensions import db
from ..jobs.journal import MISSING, ReadJournal, request_key
from ..jobs.models import Job

PREVIEW_KIND = "restore-preview"
# A preview's answers older than this are read again: the destination may have changed since the admin looked.
PREVIEW_FRESH_SECONDS = 15 * 60


class RememberedReads:
    """This attempt's answers of the destination, in memory: what planning read, for a verification that follows
    with no write in between (never journaled apart from the job's journal, never kept past the attempt)."""

    def __init__(self) -> None:
        self._answers: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.replayed = 0

    def lookup(self, method: str, url: str, params: dict[str, Any] | None, json_body: Any) -> Any:
        with self._lock:
            raw = self._answers.get(request_key(method, url, params, json_body))
            if raw is None:
                return MISSING
            self.replayed += 1
        return json.loads(raw)

    def keep(self, method: str, url: str, params: dict[str, Any] | None, json_body: Any, raw: bytes) -> None:
        with self._lock:
            self._answers.setdefault(request_key(method, url, params, json_body), raw)


class ChainedJournal:
    """A job's read journal that first looks in this attempt's remembered answers and an earlier job's journal
    (read only): answers kept go to the job's own journal (and are remembered)."""

    def __init__(self, own: ReadJournal, earlier: ReadJournal | None,
                 remembered: RememberedReads | None = None) -> None:
        self.own = own
        self.earlier = earlier
        self.remembered = remembered

    def lookup(self, method: str, url: str, params: dict[str, Any] | None, json_body: Any) -> Any:
        """This attempt's answer of this read, else the earlier job's, else this job's, else ``MISSING``."""
        if self.remembered is not None:
            kept = self.remembered.lookup(method, url, params, json_body)
            if kept is not MISSING:
                return kept
        if self.earlier is not None:
            kept = self.earlier.lookup(method, url, params, json_body)
            if kept is not MISSING:
                return kept
        return self.own.lookup(method, url, params, json_body)

    def keep(self, method: str, url: str, params: dict[str, Any] | None, json_body: Any, raw: bytes) -> None:
        """Journal a read's answer in this job's journal (and remember it for this attempt)."""
        self.own.keep(method, url, params, json_body, raw)
        if self.remembered is not None:
            self.remembered.keep(method, url, params, json_body, raw)

    def flush(self) -> None:
        self.own.flush()

    @property
    def replayed(self) -> int:
        return (self.own.replayed + (self.earlier.replayed if self.earlier is not None else 0)
                + (self.remembered.replayed if self.remembered is not None else 0))


def recent_preview(run_id: int, tenant_id: int, fresh_seconds: float = PREVIEW_FRESH_SECONDS) -> ReadJournal | None:
    """The journal of the run's preview when it succeeded within ``fresh_seconds`` (its answers are then reused)."""
    since = utcnow() - timedelta(seconds=fresh_seconds)
    jobs = db.session.scalars(select(Job).where(Job.tenant_id == tenant_id, Job.kind == PREVIEW_KIND,
                                                Job.state == "succeeded", Job.finished_at >= since)
                              .order_by(Job.finished_at.desc())).all()
    found = next((job for job in jobs if _run_of(job) == run_id), None)
    db.session.commit()  # no transaction stays open while the restore reads Jira
    return ReadJournal(found.id) if found is not None else None


def _run_of(job: Job) -> int | None:
    try:
        return int(json.loads(job.params_json or "{}").get("run_id"))
    except (TypeError, ValueError):
        return None
