"""The restore jobs: ``restore-preview`` plans a run (read-only); ``restore`` restores it. Each runs one
``RestoreAttempt`` (``attempt.py``, where the work is) and turns how it ended into the job's outcome, in one place
(``_ending``): a wait keeps the reads journaled so far for the next attempt; any other end clears them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..clock import utcnow
from ..extensions import db
from ..jira.errors import JiraError, JiraUnavailable, RateLimited
from ..jobs.journal import ReadJournal
from ..jobs.runtime import JobCancelled, JobContext, JobFailed, RetryLater
from .attempt import JobReporter, RecoveryStopped, RestoreAttempt, progress_interval, summarise
from .engine import Cancelled, MustWait
from .models import LIVE, RestoreRun, RunStatus, move

PREVIEW_KIND = "restore-preview"
RESTORE_KIND = "restore"
# Jira unavailable beyond every retry (client and planner): the job requeues itself this many times, then fails.
UNAVAILABLE_REQUEUES = 5
UNAVAILABLE_PAUSE = 30.0  # seconds before the requeued job runs again
CANCELLED_BY_ADMIN = "Cancelled by an administrator"


def _fail(run: RestoreRun | int, message: str) -> None:
    db.session.rollback()
    found = db.session.get(RestoreRun, run if isinstance(run, int) else run.id, populate_existing=True)
    if found is not None and RunStatus(found.status) in LIVE:
        move(found, RunStatus.FAILED, message=message, finished_at=utcnow())


def crashed(ctx: JobContext, error: str) -> None:
    """A bug (an unexpected ``error``) ended the job: the run ends failed, saying so, and can be started again."""
    what = "preview" if ctx.kind == PREVIEW_KIND else "restore"
    kept = "nothing was written to Jira" if ctx.kind == PREVIEW_KIND else "what it restored so far is kept"
    _fail(int(ctx.params["run_id"]), f"The {what} stopped on an internal error ({error}); {kept}. Start it again; "
                                     "if it stops the same way, the team has the details.")
    ReadJournal(ctx.job_id).clear()  # the job won't resume: its journaled reads are of no use


def _stopped(run: RestoreRun, journal: ReadJournal, reason: str | None, *, summary: bool) -> JobCancelled:
    """End the run cancelled, saying why (an administrator's cancel, or ``reason``); the job's exception."""
    db.session.rollback()
    journal.clear()
    found = db.session.get(RestoreRun, run.id, populate_existing=True)
    why = f"Stopped: {reason}" if reason else CANCELLED_BY_ADMIN
    if found is not None and RunStatus(found.status) in LIVE:
        values: dict[str, Any] = {"finished_at": utcnow()}
        if summary:
            values["summary_json"] = json.dumps(summarise(found.id))
        move(found, RunStatus.CANCELLED, message=f"{why}; objects not reached are pending." if summary else f"{why}.",
             **values)
    return JobCancelled(f"{why}.")


@contextmanager
def _ending(attempt: RestoreAttempt, what: str, reporter: JobReporter | None = None) -> Iterator[None]:
    """How an attempt of the ``what`` ("preview" or "restore") ends, as the job's outcome.

    A wait (Jira's rate limit, Jira unavailable while requeues are left) raises ``RetryLater`` and keeps the reads
    journaled so far: the next attempt replays them. Every other end — a failure, a stop, a cancel — fails or cancels
    the run, saying why, and clears them: the job won't resume.
    """
    run, journal = attempt.run, attempt.journal
    try:
        yield
    except (MustWait, RateLimited) as exc:
        seconds = exc.seconds if isinstance(exc, MustWait) else (exc.retry_after or 60)
        raise RetryLater(seconds, f"Jira asked us to slow down; the {what} carries on in {seconds:.0f} s.") \
            from None
    except JiraUnavailable as exc:
        if attempt.ctx.attempt < UNAVAILABLE_REQUEUES:
            db.session.rollback()
            raise RetryLater(UNAVAILABLE_PAUSE, f"Jira is unavailable ({exc.describe()}); the {what} carries on "
                                                f"in {UNAVAILABLE_PAUSE:.0f} s.") from None
        raise _failed(run, journal, f"Jira stayed unavailable: {exc.describe()}") from None
    except JiraError as exc:
        raise _failed(run, journal, f"Jira refused a read: {exc.describe()}") from None
    except JobFailed as exc:
        raise _failed(run, journal, str(exc)) from None
    except Cancelled:
        raise _stopped(run, journal, reporter.stop_reason if reporter else None, summary=True) from None
    except RecoveryStopped as stop:
        raise _stopped(run, journal, stop.reason, summary=what == "restore") from None


def _failed(run: RestoreRun, journal: ReadJournal, message: str) -> JobFailed:
    """End the run failed with ``message`` (its journaled reads are of no use any more); the job's exception."""
    _fail(run, message)
    journal.clear()
    return JobFailed(message)


def run_preview(ctx: JobContext) -> dict[str, Any]:
    """Plan the run against the destination as it is now: nothing is written to Jira."""
    attempt = RestoreAttempt(ctx)
    with _ending(attempt, "preview"):
        return attempt.preview()


def run_restore(ctx: JobContext) -> dict[str, Any]:
    """Restore the run's selection: plan again (the destination may have changed), write, verify, report."""
    attempt = RestoreAttempt(ctx)
    reporter = JobReporter(ctx, attempt.restorers, progress_interval(), attempt.run)
    with _ending(attempt, "restore", reporter):
        return attempt.restore(reporter)
