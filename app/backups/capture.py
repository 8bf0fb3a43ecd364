"""The ``backup`` job: reads every catalogue type from the tenant's Jira and streams it into a snapshot.

Checkpoints after each type (snapshot id, types done, calls and time so far), so a crashed run resumes with the same
snapshot: the type that was half-written is reset and read again, finished types are kept.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from flask import current_app

from ..connect.tenants import Tenant
from ..extensions import db
from ..jira.access import JiraAccess
from ..jira.errors import JiraError, JiraUnavailable, NeedsAuthorisation, RateLimited
from ..jobs.runtime import JobCancelled, JobContext, JobFailed, LeaseLost, RetryLater, runner
from ..jobs.threads import app_context_initializer
from ..tenant_access import jira_access
from .catalogue import ObjectType, Reader, ordered_types
from .snapshots import SnapshotWriter

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
JOB_KIND = "backup"
DEFAULT_CONCURRENCY = 4


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


def capture_type(writer: SnapshotWriter, reader: Reader, otype: ObjectType) -> TypeOutcome:
    """Read one type into the snapshot and record its status; never leaves it silently missing.

    :raises RateLimited: Jira asked for a longer wait than the client will sleep (the job requeues itself).
    """
    access: JiraAccess = reader.access
    missing = otype.missing_operations(access)
    if missing:
        outcome = TypeOutcome("unreadable", 0, unreadable_reason(missing, access.fix), 0)
        writer.set_type_status(otype.key, outcome.status, 0, outcome.reason, 0)
        return outcome
    before = access.calls
    count = 0
    try:
        for item in otype.read(reader):
            writer.put(otype.key, item.natural_key, item.source_id, item.obj)
            count += 1
    except RateLimited:
        raise
    except NeedsAuthorisation as exc:
        outcome = TypeOutcome("unreadable", 0, f"Connect apps can't call {exc.method} {exc.path}. {exc.fix}",
                              access.calls - before)
    except JiraUnavailable as exc:
        outcome = TypeOutcome("unreadable", 0, f"Jira kept failing while reading this type ({exc.describe()}); "
                              "the next backup will try again.", access.calls - before)
    except JiraError as exc:
        outcome = TypeOutcome("unreadable", 0, f"Jira refused to give this type: {exc.describe()}.",
                              access.calls - before)
    else:
        outcome = TypeOutcome("complete", count, None, access.calls - before)
    if outcome.status == "unreadable":
        writer.reset_type(otype.key)  # a type is whole or absent: never a silent half
    writer.set_type_status(otype.key, outcome.status, outcome.count, outcome.reason, outcome.api_calls)
    return outcome


def _pool(concurrency: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="backup-read",
                              initializer=app_context_initializer())


@runner(JOB_KIND)
def run_backup(ctx: JobContext) -> dict[str, Any]:
    """Take (or carry on taking) one snapshot of the tenant's configuration."""
    started = time.monotonic()
    tenant = db.session.get(Tenant, ctx.tenant_id)
    if tenant is None or not tenant.is_installed:
        raise JobFailed("The app is no longer installed on this Jira site, so it can't read its configuration.")
    checkpoint = dict(ctx.checkpoint)
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
    base_calls = int(checkpoint.get("api_calls") or 0)
    base_elapsed = float(checkpoint.get("elapsed") or 0.0)

    def save(current: str | None, step: str) -> None:
        checkpoint.update(done=done, current=current, api_calls=base_calls + access.calls,
                          elapsed=base_elapsed + time.monotonic() - started)
        ctx.save_checkpoint(checkpoint, done=len(done), step=step)

    ctx.progress(len(done), len(types), "Starting")
    try:
        with _pool(concurrency) as pool:
            reader = Reader(access, pool, concurrency)
            for otype in types:
                if otype.key in done:
                    continue
                if checkpoint.get("current") == otype.key:
                    writer.reset_type(otype.key)  # the crash cut it short: read it again from the start
                save(otype.key, f"Reading {otype.label}")
                capture_type(writer, reader, otype)
                done.append(otype.key)
                save(None, f"Read {otype.label}")
                ctx.check_cancelled()
    except RateLimited as exc:
        wait = exc.retry_after or 60.0
        raise RetryLater(wait, f"Jira asked us to slow down ({exc.path}); carrying on in {wait:.0f} s.") from None
    except (RetryLater, LeaseLost):
        raise  # the snapshot stays running: the next run (or the new lease holder) carries on with it
    except JobCancelled:
        writer.fail("Cancelled by an administrator.")
        raise
    except JobFailed as exc:
        writer.fail(str(exc))
        raise
    except Exception as exc:
        writer.fail(f"The backup stopped on an internal error ({type(exc).__name__}).")
        raise
    total_calls = base_calls + access.calls
    duration = base_elapsed + time.monotonic() - started
    writer.finish(api_calls=total_calls, duration_seconds=duration)
    return {"snapshot_id": writer.snapshot_id, "api_calls": total_calls, "duration_seconds": round(duration, 3)}

