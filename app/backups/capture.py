"""The ``backup`` job: reads every catalogue type from the tenant's Jira and streams it into a snapshot.

Several types are read side by side (their requests under one per-tenant bound) and stream through one queue
into the snapshot, written on the job's own thread. Checkpoints after each type (snapshot id, types done, types in
progress, calls and time so far), so a crashed run resumes with the same snapshot: types that were half-written are
reset and read again, finished types are kept.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from flask import current_app

from ..extensions import db
from ..jira.errors import JiraError, JiraUnavailable, NeedsAuthorisation, RateLimited
from ..jobs.journal import ReadJournal, journaled_reads
from ..jobs.runtime import JobCancelled, JobContext, JobFailed, LeaseLost, RetryLater
from ..jobs.threads import app_context_initializer
from ..tenant_access import jira_access
from ..tenants import Tenant
from .catalogue import CATALOGUE, Item, ObjectType, Reader, ordered_types
from .lanes import PriorityGate, PriorityPool
from .snapshots import SnapshotWriter

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
JOB_KIND = "backup"
DEFAULT_CONCURRENCY = 4
TYPE_WIDTH = 12  # types read side by side; their requests still share the per-tenant bound
QUEUE_SIZE = 1000  # objects read but not yet written: what bounds memory when Jira answers faster than we store
# Types whose read uses a fact another type's read memoises (the custom field list, the role ids): they start after.
CAPTURE_NEEDS: dict[str, tuple[str, ...]] = {"fieldContexts": ("customFields",), "projects": ("projectRoles",)}
# Types served first, in this order: what others wait for (the field list, the role ids), then the reads with the
# most requests and the longest chains of them; the rest (a page or two each) fill the gaps in restore order.
CAPTURE_FIRST: tuple[str, ...] = ("customFields", "projectRoles", "fieldContexts", "fieldConfigurations", "projects",
                                  "screens", "dashboards", "boards", "issueSecuritySchemes")


@dataclass(frozen=True)
class TypeOutcome:
    status: str  # complete | partial | unreadable
    count: int
    reason: str | None
    api_calls: int


def concurrency_for(tenant: Tenant) -> int:
    """Parallel Jira calls for one tenant's backup: the tenant's own setting, else ``BACKUP_CONCURRENCY``."""
    from .schedule import BackupSchedule

    schedule = db.session.get(BackupSchedule, tenant.id)
    if schedule is not None and schedule.concurrency:
        return max(1, schedule.concurrency)
    return max(1, int(current_app.config.get("BACKUP_CONCURRENCY", DEFAULT_CONCURRENCY)))


def unreadable_reason(missing: list[Any], fix: str) -> str:
    ops = ", ".join(f"{op.method} {op.template}" for op in missing)
    return f"Connect apps can't call {ops}. {fix}"


def read_type(otype: ObjectType, reader: Reader, emit: Callable[[Item], None]) -> TypeOutcome:
    """Stream one type's objects to ``emit``; Jira's refusals become an ``unreadable`` outcome with the reason.

    ``reader`` must be the type's own (``Reader.for_type``): its request count is the type's ``api_calls``.
    :raises RateLimited: passed on (the job requeues itself); anything ``emit`` raises passes on too.
    """
    count = 0
    try:
        with closing(otype.read(reader)) as items:
            for item in items:
                emit(item)
                count += 1
    except RateLimited:
        raise
    except NeedsAuthorisation as exc:
        return TypeOutcome("unreadable", 0, f"Connect apps can't call {exc.method} {exc.path}. {exc.fix}",
                           reader.calls)
    except JiraUnavailable as exc:
        return TypeOutcome("unreadable", 0, f"Jira kept failing while reading this type ({exc.describe()}); "
                           "the next backup will try again.", reader.calls)
    except JiraError as exc:
        return TypeOutcome("unreadable", 0, f"Jira refused to give this type: {exc.describe()}.", reader.calls)
    return TypeOutcome("complete", count, None, reader.calls)


def record_outcome(writer: SnapshotWriter, type_key: str, outcome: TypeOutcome) -> None:
    if outcome.status == "unreadable":
        writer.reset_type(type_key)  # a type is whole or absent: never a silent half
    writer.set_type_status(type_key, outcome.status, outcome.count, outcome.reason, outcome.api_calls)


class _Stopped(Exception):
    """The run is over (finished, failed or crashed): a type's reader thread leaves without a word."""


class TypeReaders:
    """Reads several types at once, each on its own thread, all streaming into one bounded queue.

    Types start in ``capture_order``, at most ``width`` at a time, a type whose read uses a fact another type's read
    memoises (``CAPTURE_NEEDS``) only once that one is done. Their requests share the reader's gate, so the
    per-tenant bound holds whatever the number of types in flight; the overlap fills the gaps a single type leaves
    (its first page read alone, a page's bulk look-ups, the last few objects). The queue is what keeps memory
    flat: a reader ahead of the writer waits for it (``blocked`` says how long, summed over readers).
    """

    def __init__(self, reader: Reader, width: int, queue_size: int = QUEUE_SIZE) -> None:
        self.reader = reader
        self.width = max(1, width)
        self.queue: queue.Queue[tuple[str, str, Any]] = queue.Queue(maxsize=queue_size)
        self.stop = threading.Event()
        self.threads: dict[str, threading.Thread] = {}
        self.blocked = 0.0  # seconds readers waited for the writer: non-zero means storing, not Jira, set the pace

    def can_start(self, otype: ObjectType, waiting: set[str]) -> bool:
        return len(self.threads) < self.width and not (set(CAPTURE_NEEDS.get(otype.key, ())) & waiting)

    def start(self, otype: ObjectType) -> None:
        reader = self.reader.for_type(capture_priority(otype.key))
        thread = threading.Thread(target=self._read, args=(otype, reader, app_context_initializer()),
                                  name=f"backup-type-{otype.key}", daemon=True)
        self.threads[otype.key] = thread
        thread.start()

    def next(self) -> tuple[str, str, Any]:
        """The next message: ``("item", type, Item)``, ``("done", type, TypeOutcome)`` or ``("error", type, exc)``."""
        message = self.queue.get()
        if message[0] != "item":
            self.threads.pop(message[1]).join()
        return message

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads.values():
            thread.join()
        self.threads.clear()

    def _put(self, message: tuple[str, str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
            return
        except queue.Full:
            pass
        started = time.monotonic()
        try:
            while not self.stop.is_set():
                try:
                    self.queue.put(message, timeout=0.2)
                    return
                except queue.Full:
                    continue
        finally:
            self.blocked += time.monotonic() - started  # a race between readers loses a little: it's a diagnostic
        raise _Stopped()

    def _read(self, otype: ObjectType, reader: Reader, enter_app: Callable[[], None]) -> None:
        enter_app()  # credentials backed by the database (an OAuth grant's refresh) need the app's context
        try:
            outcome = read_type(otype, reader, lambda item: self._put(("item", otype.key, item)))
            self._put(("done", otype.key, outcome))
        except _Stopped:
            return
        except BaseException as exc:  # a crash too: the runner's thread raises it as its own
            try:
                self._put(("error", otype.key, exc))
            except _Stopped:
                return


def _issue_data_enabled() -> bool:
    """Whether backups include issue data (``BACKUP_ISSUES``, on unless set false)."""
    return str(current_app.config.get("BACKUP_ISSUES", "true")).lower() not in {"0", "false", "no", "off"}


def run_issue_pass(writer: SnapshotWriter, access: Any, tenant_id: int) -> None:
    """The issue data of the same point in time, after the configuration (``app.issuedata.backup``)."""
    from ..issuedata.backup import IssuePass
    from ..issuedata.records import ISSUE_TYPE

    try:
        outcome = IssuePass(writer, access, tenant_id).run()
    except RateLimited:
        raise  # the job requeues itself and the pass resumes where it stopped
    except NeedsAuthorisation as exc:
        record_outcome(writer, ISSUE_TYPE, TypeOutcome(
            "unreadable", 0, f"Connect apps can't call {exc.method} {exc.path}. {exc.fix}", access.calls))
        return
    except JiraError as exc:
        record_outcome(writer, ISSUE_TYPE, TypeOutcome(
            "unreadable", 0, f"Jira refused to give issue data: {exc.describe()}.", access.calls))
        return
    log.info("backup of tenant %s: issues %s (%d read, %d carried, %d deleted)", tenant_id, outcome.mode,
             outcome.read, outcome.carried, outcome.deleted)


def capture_priority(type_key: str) -> int:
    """Where a type's requests queue (lower first): ``CAPTURE_FIRST`` in its order, then the rest."""
    return CAPTURE_FIRST.index(type_key) if type_key in CAPTURE_FIRST else len(CAPTURE_FIRST)


def capture_order(types: list[ObjectType]) -> list[ObjectType]:
    """The order types start in: by priority, restore order within one (``sorted`` is stable)."""
    return sorted(types, key=lambda t: capture_priority(t.key))


def _pool(concurrency: int) -> PriorityPool:
    # Twice the bound: fanned-out functions of several types share it, and the gate keeps the requests bounded.
    return PriorityPool(2 * concurrency, initializer=app_context_initializer(), name="backup-read")


def _in_progress(checkpoint: dict[str, Any]) -> list[str]:
    """Types a crash cut short (``current`` was one key before types were read side by side)."""
    current = checkpoint.get("current") or []
    return [current] if isinstance(current, str) else list(current)


def run_backup(ctx: JobContext) -> dict[str, Any]:
    """Take (or carry on taking) one snapshot of the tenant's configuration."""
    started = time.monotonic()
    tenant = db.session.get(Tenant, ctx.tenant_id)
    if tenant is None or not tenant.is_installed:
        raise JobFailed("The app is no longer installed on this Jira site, so it can't read its configuration.")
    checkpoint = dict(ctx.checkpoint)
    if not checkpoint.get("snapshot_id") and not tenant.enabled:
        # Queued before the site's admin disabled the app: no new backup starts (one already under way finishes).
        raise JobFailed("The app was disabled on this Jira site before this backup started, so it didn't run; it "
                        "runs again on schedule once an admin enables the app in Manage apps.")
    if checkpoint.get("snapshot_id"):
        writer = SnapshotWriter.resume(checkpoint["snapshot_id"])
    else:
        writer = SnapshotWriter.begin(tenant.id, ctx.job_id, app_version=current_app.config["APP_VERSION"],
                                      format_version=FORMAT_VERSION)
        checkpoint = {"snapshot_id": writer.snapshot_id, "done": [], "api_calls": 0, "elapsed": 0.0}
        ctx.save_checkpoint(checkpoint, done=0)
    access = jira_access(tenant)
    concurrency = concurrency_for(tenant)
    db.session.commit()  # no transaction stays open while we wait on Jira
    types = ordered_types()
    done: list[str] = list(checkpoint.get("done") or [])
    cut_short = set(_in_progress(checkpoint))
    base_calls = int(checkpoint.get("api_calls") or 0)
    base_elapsed = float(checkpoint.get("elapsed") or 0.0)
    waiting = [t for t in capture_order(types) if t.key not in done]

    def save(readers: TypeReaders, step: str) -> None:
        checkpoint.update(done=done, current=sorted(readers.threads), api_calls=base_calls + access.calls,
                          elapsed=base_elapsed + time.monotonic() - started)
        ctx.save_checkpoint(checkpoint, done=len(done), step=step)

    def launch(readers: TypeReaders) -> None:
        """Start what may start now; types no credential can read are recorded at once."""
        labels = []
        for otype in list(waiting):
            if not readers.can_start(otype, {t.key for t in waiting} | set(readers.threads)):
                continue
            waiting.remove(otype)
            if otype.key in cut_short:
                writer.reset_type(otype.key)  # the crash cut it short: read it again from the start
            missing = otype.missing_operations(access)
            if missing:
                record_outcome(writer, otype.key, TypeOutcome("unreadable", 0, unreadable_reason(missing, access.fix),
                                                              0))
                done.append(otype.key)
                continue
            readers.start(otype)
            labels.append(otype.label)
        if labels:
            save(readers, "Reading " + ", ".join(labels))

    # Reads are journaled: a type cut short by Jira's hourly quota is read again from the start on the next attempt,
    # and one type can cost more than an hour's quota (a large site's field configuration items), so without the
    # journal replaying the pages already paid for, such a backup would never finish.
    journal = ReadJournal(ctx.job_id)
    ctx.progress(len(done), len(types), "Starting")
    try:
        with journaled_reads(access, journal), _pool(concurrency) as pool:
            readers = TypeReaders(Reader(access, pool, concurrency, gate=PriorityGate(concurrency)),
                                  width=TYPE_WIDTH)
            try:
                launch(readers)
                while readers.threads:
                    kind, type_key, payload = readers.next()
                    if kind == "item":
                        writer.put(type_key, payload.natural_key, payload.source_id, payload.obj)
                        continue
                    if kind == "error":
                        raise payload
                    record_outcome(writer, type_key, payload)
                    done.append(type_key)
                    launch(readers)
                    save(readers, f"Read {CATALOGUE[type_key].label}")
                    ctx.check_cancelled()
            finally:
                readers.close()
                log.info("backup %s: readers waited %.1f s for the writer", ctx.job_id, readers.blocked)
        if _issue_data_enabled():
            ctx.progress(len(done), len(types), "Reading issues")
            run_issue_pass(writer, access, tenant.id)
    except RateLimited as exc:
        wait = exc.retry_after or 60.0
        raise RetryLater(wait, f"Jira asked us to slow down ({exc.path}); carrying on in {wait:.0f} s.") from None
    except (RetryLater, LeaseLost):
        raise  # the snapshot stays running: the next run (or the new lease holder) carries on with it
    except JobCancelled:
        writer.fail("Cancelled by an administrator.")
        journal.clear()
        raise
    except JobFailed as exc:
        writer.fail(str(exc))
        journal.clear()
        raise
    except Exception as exc:
        writer.fail(f"The backup stopped on an internal error ({type(exc).__name__}).")
        journal.clear()
        raise
    journal.clear()  # every read is in the snapshot now (or will be read again by the next backup)
    if writer.complete_types() == 0:
        # Not one type read whole (Jira down throughout, or refusing everything): that is no backup, and calling it
        # a "partial" success would let an admin believe they have one.
        message = ("No part of the configuration could be read: Jira kept failing or refused every read. Nothing "
                   "usable was captured; the next backup will try again.")
        writer.fail(message)
        raise JobFailed(message)
    total_calls = base_calls + access.calls
    duration = base_elapsed + time.monotonic() - started
    writer.finish(api_calls=total_calls, duration_seconds=duration)
    return {"snapshot_id": writer.snapshot_id, "api_calls": total_calls, "duration_seconds": round(duration, 3)}
