"""Does the Forge API show and change the backup schedule as the Connect page does (400 naming the field on a bad
value, 409 with the number before deleting backups, audited), page through the audit log of every action, and carry
a failed backup's alert until one succeeds?"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.backups.models import Snapshot
from app.backups.schedule import BackupSchedule
from app.clock import utcnow
from app.extensions import db
from app.jobs.models import Job
from app.recovery import audit
from tests.forge.api_fixtures import *  # noqa: F403

GOOD = {"enabled": True, "intervalHours": 12, "retentionDaily": 30, "retentionWeekly": 12}


@pytest.fixture
def site(forge_site_factory):
    return forge_site_factory("schedsite")


def row(app, tenant_id: int) -> tuple[bool, int, int | None, int | None]:
    with app.app_context():
        found = db.session.get(BackupSchedule, tenant_id)
        return (found.enabled, found.interval_hours, found.retention_daily, found.retention_weekly) if found else None


def test_the_schedule_is_shown_and_saved_and_audited(forge_app, site) -> None:
    schedule = site.api.ok("GET", "/backups")["schedule"]
    assert schedule["enabled"] is True and schedule["intervalHours"] == 24 and schedule["nextRunAt"].endswith("Z")
    assert schedule["nextWords"].startswith("In ") and schedule["intervalWords"] == "Every day"
    assert (schedule["retentionDaily"], schedule["retentionWeekly"]) == (30, 12)
    saved = site.api.ok("POST", "/backups/schedule", GOOD)
    assert saved["notice"]["text"] == "Backup schedule saved."
    assert saved["schedule"]["intervalWords"] == "Every 12 hours"
    assert row(forge_app, site.tenant_id) == (True, 12, 30, 12)
    entry = site.api.ok("GET", "/connections")["audit"][0]
    assert (entry["action"], entry["side"], entry["who"]) == ("schedule-changed", "schedule", "Site Admin")
    assert entry["actionLabel"] == "Schedule changed" and entry["detail"].startswith("Every 12 hours")


@pytest.mark.parametrize("change,field", [
    ({"intervalHours": 0}, "intervalHours"), ({"intervalHours": 169}, "intervalHours"),
    ({"intervalHours": "24"}, "intervalHours"), ({"intervalHours": 2.5}, "intervalHours"),
    ({"retentionDaily": 0}, "retentionDaily"), ({"retentionWeekly": 521}, "retentionWeekly"),
    ({"retentionWeekly": True}, "retentionWeekly"), ({"enabled": "yes"}, "enabled"),
    ({"retentionDaily": "<script>alert(1)</script>"}, "retentionDaily"),
    ({"confirmedDeletions": "all"}, "confirmedDeletions"),
])
def test_a_bad_value_is_a_400_naming_the_field_and_nothing_changes(forge_app, site, change, field) -> None:
    site.api.ok("GET", "/backups")
    before = row(forge_app, site.tenant_id)
    status, body = site.api.post("/backups/schedule", {**GOOD, **change})
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "bad-request", field)
    assert "<script>" not in body["error"]["message"]
    assert row(forge_app, site.tenant_id) == before
    with forge_app.app_context():
        assert not [e for e in audit.entries_for(site.tenant_id) if e.action == "schedule-changed"]


def test_a_retention_that_deletes_backups_needs_their_number(forge_app, site) -> None:
    with forge_app.app_context():
        now = utcnow()
        db.session.add_all([Snapshot(tenant_id=site.tenant_id, status="complete", app_version="1", format_version=1,
                                     taken_at=now - timedelta(days=d, hours=1)) for d in range(1, 7)])
        db.session.commit()
    shorter = {**GOOD, "retentionDaily": 2, "retentionWeekly": 0}
    status, body = site.api.post("/backups/schedule", shorter)
    assert (status, body["error"]["code"], body["error"]["deletions"]) == (409, "confirmation-required", 4)
    assert body["error"]["message"].startswith("This will delete 4 backups now")
    status, _ = site.api.post("/backups/schedule", {**shorter, "confirmedDeletions": 3})
    assert status == 409
    with forge_app.app_context():
        assert db.session.query(Snapshot).filter_by(tenant_id=site.tenant_id).count() == 6
    saved = site.api.ok("POST", "/backups/schedule", {**shorter, "confirmedDeletions": 4})
    assert saved["deleted"] == 4 and saved["notice"]["text"].endswith("4 backups deleted.")
    with forge_app.app_context():
        assert db.session.query(Snapshot).filter_by(tenant_id=site.tenant_id).count() == 2


def test_the_audit_log_pages_and_a_failed_backup_is_alerted(forge_app, site) -> None:
    with forge_app.app_context():
        for n in range(14):
            audit.record(site.tenant_id, side="schedule", action="schedule-changed", outcome="succeeded",
                         account_id=site.admin, detail=f"change {n}", now=utcnow() - timedelta(minutes=90 - n))
        db.session.add(Job(id="f" * 36, tenant_id=site.tenant_id, kind="backup", state="failed",
                           requested_by="schedule", message="Jira answered 503 for every call.",
                           created_at=utcnow() - timedelta(hours=2), finished_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    body = site.api.ok("GET", "/connections")
    # 14 recorded entries and the failed job's two (started by the schedule, failed).
    assert body["auditTotal"] == 16 and len(body["audit"]) == 10 and body["auditNext"] == 10
    newest = body["audit"][0]
    assert (newest["action"], newest["outcome"], newest["who"]) == ("backup-failed", "failed", "Scheduled backup")
    rest = site.api.ok("GET", "/audit", offset=10, limit=25)
    assert len(rest["entries"]) == 6 and rest["next"] is None and rest["total"] == 16
    failure = body["backupFailure"]
    assert failure["scheduled"] is True and failure["title"] == "The scheduled backup failed 1 hour ago"
    assert "Jira answered 503 for every call." in failure["text"]
    assert site.api.ok("GET", "/backups")["failure"] == failure
    with forge_app.app_context():
        db.session.add(Job(id="s" * 36, tenant_id=site.tenant_id, kind="backup", state="succeeded",
                           requested_by=site.admin, created_at=utcnow() - timedelta(minutes=20),
                           finished_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    assert site.api.ok("GET", "/connections")["backupFailure"] is None
