"""Does the audit log record every backup, preview and restore (who started it, when, how it ended), every grant
and removal of full access and every asked-for cancel — once each, and still after the connection is gone?"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from app.backups.models import Snapshot
from app.extensions import db
from app.jobs.models import Job
from app.oauth.flow import remove_grant, save_grant
from app.oauth.tokens import TokenSet
from app.recovery import activity, audit
from app.recovery import connections as rc
from app.recovery.connections import Side
from app.restore import service as restore
from app.restore.models import RestoreRun
from tests.recovery.test_connections import ADMIN, DEST_ADMIN, SOURCE_URL, make_tenant

T0 = datetime(2026, 5, 4, 2, 0, 0)


@pytest.fixture
def pair(app):
    with app.app_context():
        yield make_tenant("source"), make_tenant("dest")


def job(tenant_id: int, kind: str, state: str, *, by: str | None, minutes: int = 0, **fields) -> Job:
    row = Job(id=f"{kind}-{state}-{minutes}".ljust(36, "0")[:36], tenant_id=tenant_id, kind=kind, state=state,
              requested_by=by, created_at=T0 + timedelta(minutes=minutes),
              finished_at=T0 + timedelta(minutes=minutes + 5) if state != "running" else None, **fields)
    db.session.add(row)
    db.session.commit()
    return row


def log(tenant_id: int) -> list[tuple[str, str, str, str | None]]:
    return [(e.side, e.action, e.outcome, e.account_id) for e in reversed(audit.entries_for(tenant_id))]


def test_backups_are_logged_started_and_ended_with_who_and_when(pair) -> None:
    """Scheduled and on-demand backups: started, complete, and failed with the reason, each at the job's time."""
    source, _ = pair
    snapshot = Snapshot(tenant_id=source.id, status="complete", app_version="1", format_version=1, object_count=12)
    db.session.add(snapshot)
    db.session.commit()
    job(source.id, "backup", "succeeded", by=ADMIN, result_json=json.dumps({"snapshot_id": snapshot.id}))
    failed = job(source.id, "backup", "failed", by="schedule", minutes=60,
                 message="Jira answered 503 for two hours; the backup stopped.")
    job(source.id, "backup", "running", by="schedule", minutes=120)

    written = activity.catch_up(source.id)

    assert written == 5 and log(source.id) == [
        ("backups", "backup-started", "succeeded", ADMIN),
        ("backups", "backup-finished", "succeeded", ADMIN),
        ("backups", "backup-started", "succeeded", "schedule"),
        ("backups", "backup-failed", "failed", "schedule"),
        ("backups", "backup-started", "succeeded", "schedule"),
    ]
    entries = {(e.action, e.job_id): e for e in audit.entries_for(source.id)}
    assert entries[("backup-finished", "backup-succeeded-0".ljust(36, "0"))].detail == "Complete: 12 objects."
    failure = entries[("backup-failed", failed.id)]
    assert failure.detail == failed.message and failure.created_at == failed.finished_at
    assert entries[("backup-started", failed.id)].detail == "Started by the schedule."
    assert (failure.action_label, failure.outcome_label, failure.side_label) == ("Backup failed", "Failed", "Backups")


def test_catching_up_twice_writes_each_event_once(pair) -> None:
    source, _ = pair
    job(source.id, "backup", "failed", by="schedule", message="boom")
    assert activity.catch_up(source.id) == 2
    assert activity.catch_up(source.id) == 0 and activity.catch_up(None) == 0
    assert len(audit.entries_for(source.id)) == 2


def test_restores_are_logged_with_their_outcome_and_stay_after_deactivation(pair) -> None:
    """A preview and a restore that finished with differences, then the connection ends: the log keeps them."""
    source, dest = pair
    issued = rc.generate_token(source, ADMIN)
    rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    snapshot = Snapshot(tenant_id=source.id, status="complete", app_version="1", format_version=1,
                        taken_at=datetime(2026, 5, 1, 10, 15))
    db.session.add(snapshot)
    db.session.commit()
    run = RestoreRun(tenant_id=dest.id, source_tenant_id=source.id, snapshot_id=snapshot.id, status="done",
                     requested_by=DEST_ADMIN, selection_json=json.dumps({"types": [], "projects": ["WEB"]}))
    db.session.add(run)
    db.session.commit()
    job(dest.id, "restore-preview", "succeeded", by=DEST_ADMIN, params_json=json.dumps({"run_id": run.id}))
    job(dest.id, "restore", "succeeded", by=DEST_ADMIN, minutes=10,
        params_json=json.dumps({"run_id": run.id, "selection": {"types": [], "projects": ["WEB"]}}),
        result_json=json.dumps({"run_id": run.id, "fidelity": 0.875}))
    rc.deactivate(dest, Side.DESTINATION, DEST_ADMIN, issued.connection.id)

    activity.catch_up(dest.id)

    restore_rows = [r for r in log(dest.id) if r[0] == "restore"]
    assert restore_rows == [("restore", "preview-started", "succeeded", DEST_ADMIN),
                            ("restore", "preview-finished", "succeeded", DEST_ADMIN),
                            ("restore", "restore-started", "succeeded", DEST_ADMIN),
                            ("restore", "restore-finished", "differences", DEST_ADMIN)]
    finished = next(e for e in audit.entries_for(dest.id) if e.action == "restore-finished")
    assert finished.detail == (f"Restore #{run.id} of the backup of 2026-05-01 10:15 UTC: done with differences "
                               "from the backup (fidelity 87.5 %).")
    started = next(e for e in audit.entries_for(dest.id) if e.action == "restore-started")
    assert "projects WEB" in started.detail


def test_a_cancel_is_logged_with_who_asked(pair, app) -> None:
    """The restore's cancel records the caller the door authenticated (here a Connect context in ``g``)."""
    from flask import g

    source, dest = pair
    issued = rc.generate_token(source, ADMIN)
    rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    run = RestoreRun(tenant_id=dest.id, source_tenant_id=source.id, snapshot_id=1, status="restoring",
                     requested_by=DEST_ADMIN)
    db.session.add(run)
    db.session.commit()
    running = job(dest.id, "restore", "running", by=DEST_ADMIN, params_json=json.dumps({"run_id": run.id}))
    run.job_id = running.id
    db.session.commit()
    with app.test_request_context("/"):
        g.connect = type("Ctx", (), {"account_id": "557058:canceller"})()
        restore.cancel(dest, run.id)
    entry = audit.entries_for(dest.id)[0]
    assert (entry.side, entry.action, entry.account_id) == ("restore", "restore-cancel", "557058:canceller")
    assert entry.action_label == "Restore cancel asked"


def test_full_access_given_and_removed_is_logged(pair) -> None:
    source, _ = pair
    save_grant(source, ADMIN, "cloud-1", "https://source.atlassian.net/",
               TokenSet("at-Secret-1", "rt-Secret-2", 3600, ("read:jira-work",)))
    assert remove_grant(source, DEST_ADMIN)
    assert log(source.id) == [("authorisation", "authorisation-given", "succeeded", ADMIN),
                              ("authorisation", "authorisation-removed", "succeeded", DEST_ADMIN)]
    every = " ".join(e.detail for e in audit.entries_for(source.id))
    assert "Secret" not in every  # never a token
